"""The `duban` application: registers each group of commands and turns user errors into exit 1."""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from types import UnionType
from typing import Any, get_args, get_origin

import typer
import typer.core
import typer.main
from typer._coercion import RuntimeParam, TypeDescriptor

from cli.common import reporting_errors

HELP = "督办 duban: supervise policy items with owners, deadlines, reminders, escalation and sign-off."

# Each command (or group of commands) and the module in cli/ that registers it, in --help's order.
# A command line naming one of them imports that module alone, not all fifteen with what they
# import (approvals, schedules, progress bars ...); tests/cli/test_main.py checks this table.
COMMANDS = {
    "init": "ops", "import": "ledger", "demo": "ledger", "items": "view_cmds", "show": "view_cmds",
    "report": "view_cmds",
    **dict.fromkeys(("progress", "submit", "sign-off", "return", "cancel", "acknowledge", "urge", "extension"),
                    "lifecycle_cmds"),
    "edit": "edit_cmds", "instruct": "edit_cmds", "comment": "edit_cmds",
    **dict.fromkeys(("sweep", "run", "forecast", "doctor", "calendar"), "sweep"),
    "serve": "serve", **dict.fromkeys(("deliver", "outbox", "digest", "mailcatcher"), "mail"),
    "user": "users", "token": "users", "document": "documents", "deploy": "deploy", "score": "score",
    "ical": "score", "notice": "notice", "periods": "periods", "schedules": "schedules",
}
MODULES = tuple(dict.fromkeys(COMMANDS.values()))


@dataclass(frozen=True)
class _AsGiven(RuntimeParam):
    """A parameter's value kept as click gives it when it already has the parameter's type.

    typer 0.29 coerces every parameter's value through a pydantic TypeAdapter made on first use:
    importing pydantic and making them cost 0.12 s of each command's start (`duban report` does not
    otherwise import pydantic; docs/benchmarks.md). For a str given to a str parameter, a member to
    an Enum one, a whole number to an int one without limits (a default, or click's conversion),
    typer's adapter returns the value itself; every other value is coerced typer's way.
    tests/cli/test_as_given.py checks both against typer's.
    """

    descriptor: TypeDescriptor | None = None

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if as_given(self.descriptor, value):
            return value
        return _typer_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)


_typer_runtime_param = typer.core.build_runtime_param


def as_given(descriptor: Any, value: Any) -> bool:
    """Whether typer's coercion of `value` for the parameter `descriptor` gives `value` itself."""
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if info.parser is not None or descriptor.is_file:
        return False
    if get_origin(annotation) is UnionType and len(get_args(annotation)) == 2 and type(None) in get_args(annotation):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if annotation is str or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return type(value) is annotation
    if annotation is int:
        return type(value) is int and info.min is None and info.max is None and not info.clamp
    return False


typer.core.build_runtime_param = lambda descriptor: _AsGiven(descriptor.parameter_info, descriptor.annotation,
                                                             descriptor)


def app(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    """The Typer application with the commands of `modules` (cli/<module>.py) registered."""
    made = typer.Typer(name="duban", help=HELP, no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False)
    for module in modules:
        importlib.import_module(f"cli.{module}").register(made)
    return made


@functools.cache
def command(name: str | None = None) -> Callable[[], Any]:
    """The Click group for a command line whose first word is `name`: only that command's module
    registered when `name` is one of COMMANDS, every module otherwise (`duban --help`, a mistyped
    command). Made once a process: the preloaded process (cli/preload.py) makes the read commands'
    before forking, 0.03 s a command. A group even with one command, so the command's name is read."""
    return typer.main.get_group(app((COMMANDS[name],) if name in COMMANDS else MODULES))


def main() -> None:
    # psycopg warns on stderr about connections it closes after the server cut them ("error ignored
    # terminating ..."): noise beside the one line that says what happened.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # Click handles usage errors itself (exit 2); a user's mistake ends here (exit 1).
    reporting_errors(lambda: command(sys.argv[1] if len(sys.argv) > 1 else None)())
