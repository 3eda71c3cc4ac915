"""The `duban` application: registers each group of commands and turns user errors into exit 1."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import typer
import typer.main

from cli import (
    deploy,
    documents,
    edit_cmds,
    ledger,
    lifecycle_cmds,
    mail,
    notice,
    ops,
    periods,
    schedules,
    score,
    serve,
    sweep,
    users,
    views,
)
from cli.common import CliError, err_console
from cli.words import _, error_text

app = typer.Typer(
    name="duban",
    help="督办 duban: supervise policy items with owners, deadlines, reminders, escalation and sign-off.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (ops, ledger, views, lifecycle_cmds, edit_cmds, sweep, serve, mail, users, documents, deploy, score,
               notice, periods, schedules):
    module.register(app)


@functools.cache
def command() -> Callable[[], Any]:
    """The Click command Typer makes of `app` (what `app()` would make on every call), made once a
    process: the preloaded process (cli/preload.py) makes it before forking, 0.03 s a command."""
    return typer.main.get_command(app)


def main() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from config.settings import SettingsError
    from config.yamlfile import ConfigFileError
    from models.errors import DubanError, database_detail

    # psycopg warns on stderr about connections it closes after the server cut them ("error ignored
    # terminating ..."): noise beside the one line that says what happened.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # Click handles usage errors itself (exit 2); a user's mistake ends here (exit 1).
    try:
        command()()
    except (DubanError, CliError, SettingsError, ConfigFileError) as exc:
        err_console.print(f"{_error()}{error_text(exc)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except SQLAlchemyError as exc:  # the database went away or refused: one line, never a traceback
        err_console.print(f"{_error()}{_('database error: {detail}', detail=database_detail(exc))}",
                          highlight=False, soft_wrap=True)
        sys.exit(1)
    except OSError as exc:  # a path the user gave that cannot be written or read, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(f"{_error()}{where}{exc.strerror or exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


def _error() -> str:
    """The red "error:" before a message ("错误：" needs no space after it)."""
    word = _("error:")
    return f"[bold red]{word}[/]" + ("" if word.endswith("：") else " ")
