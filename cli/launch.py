"""The `duban` console script: a read command goes to the preloaded process when asked to
(DUBAN_PRELOAD=1, cli/preload.py); a plain command line of `items`, `show`, `report` or `run` runs
here without Typer (`plain_command`); everything else goes through Typer (cli.main)."""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

# The plain command lines: each command's flags, options taking a value and how many ITEM arguments,
# as cli/view_cmds.py and cli/sweep.py declare them for Typer (tests/cli/test_launch.py compares), and
# the module whose function of the command's name runs it.
PLAIN: dict[str, tuple[dict[str, str], dict[str, str], int]] = {
    "items": ({"--json": "as_json", "--archived": "archived"}, {"--now": "now", "--limit": "limit"}, 0),
    "show": ({"--json": "as_json"}, {"--now": "now"}, 1),
    "report": ({"--json": "as_json"}, {"--now": "now"}, 0),
    "run": ({"--json": "as_json"}, {"--now": "now", "--engine": "engine"}, 0),
}
RUNS = {"items": "cli.views", "show": "cli.views", "report": "cli.views", "run": "cli.job"}
ENGINES = ("auto", "local", "prefect")  # `run --engine`: any other, Typer's path refuses (cli/sweep.py)


def plain_command(argv: list[str], environ: Any = os.environ) -> tuple[str, dict[str, Any]] | None:
    """The command and its arguments when `argv` (sys.argv) is a command line that Typer would run
    as given: each known option at most once, a value that is no option, a whole --limit, a --now
    that parses, a known --engine, no --help, no shell completion asked for. None for anything else,
    which Typer parses (and words its errors) as ever: importing Typer costs a read command 0.03-0.05 s."""
    if len(argv) < 2 or argv[1] not in PLAIN or any(name.endswith("_COMPLETE") for name in environ):
        return None
    flags, valued, wanted = PLAIN[argv[1]]
    given: dict[str, Any] = {}
    positional: list[str] = []
    words = iter(argv[2:])
    for word in words:
        found: Any
        name, equals, value = word.partition("=")
        if word in flags:
            key, found = flags[word], True
        elif word in valued:
            key, found = valued[word], next(words, None)
            if found is None or found.startswith("-"):
                return None
        elif equals and name in valued and not value.startswith("-"):
            key, found = valued[name], value
        elif word.startswith("-") or len(positional) == wanted:
            return None
        else:
            positional.append(word)
            continue
        if key in given:
            return None
        given[key] = found
    if len(positional) != wanted:
        return None
    if "limit" in given:
        if not given["limit"].isascii() or not given["limit"].isdigit():
            return None
        given["limit"] = int(given["limit"])
    if given.get("engine", "auto") not in ENGINES:
        return None
    if "now" in given:
        from config.clock import parse_instant

        try:
            parse_instant(given["now"])
        except ValueError:  # Typer's path words it (cli.common.resolve_now)
            return None
    if positional:
        given["item_ref"] = positional[0]
    return argv[1], given


def run_plain(name: str, arguments: dict[str, Any]) -> None:
    """Run command `name` as Typer's command group would: a user's mistake as cli.main shows it,
    a closed pipe and Ctrl-C as Typer ends them (exit 1 and 130)."""
    import errno

    from cli.common import reporting_errors

    command = getattr(sys.modules[RUNS[name]], name)

    def run() -> None:
        try:
            command(**arguments)
        except KeyboardInterrupt:
            sys.exit(130)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            from typer._click.utils import PacifyFlushWrapper

            sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
            sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
            sys.exit(1)

    reporting_errors(run)


# True once the console script runs (`main`): the process ends when its one command does. A command
# may then leave what it made to the exit (`duban run`: cli/job.py); tests call cli.main in process.
script = False


def main() -> None:
    global script
    script = True
    if os.environ.get("DUBAN_PRELOAD", "") == "1":  # cli.preload imports socket and hashlib: only when asked
        from cli import preload

        if preload.enabled(sys.argv):
            code = preload.run(sys.argv)
            if code is not None:
                sys.exit(code)
    # The modules imported here live as long as the process: the collector need not walk them,
    # neither while they are imported nor each time the command's objects trigger a collection
    # (a quarter of `duban items --json`'s CPU time on 10k items; docs/benchmarks.md).
    gc.disable()
    try:
        plain = plain_command(sys.argv)
        if plain is not None:
            __import__(RUNS[plain[0]])
        else:
            from cli.main import main as run_here
    finally:
        gc.freeze()
        gc.enable()
    if plain is not None:
        run_plain(*plain)
    else:
        run_here()
