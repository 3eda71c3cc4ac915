"""What every command shares: settings, a database session, `--now`, output helpers."""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cli.words import _, error_text
from config import clock
from config.settings import get_settings
from migrations.runner import head_revision
from models.sqlite import connect, sqlite_file

if TYPE_CHECKING:  # SQLAlchemy is imported when a command opens a session, not before (`report`: never)
    from rich.console import Console
    from rich.text import Text
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from config.settings import Settings

    console: Console  # Rich's consoles for stdout and stderr, made on first use (`consoles`)
    err_console: Console


def __getattr__(name: str) -> Any:
    if name in ("console", "err_console"):
        return consoles()[name == "err_console"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def consoles() -> tuple[Console, Console]:
    """`console` and `err_console`, made when first asked for: `duban items --json` prints nothing
    through Rich and imports none of it (0.02 s of its start)."""
    made = globals()
    if "console" not in made:
        from rich.console import Console

        made["console"], made["err_console"] = Console(**AS_WRITTEN), Console(stderr=True, **AS_WRITTEN)
    return made["console"], made["err_console"]


# What duban prints is shown as written: a title, a unit's name or an error naming a ledger cell may hold
# "[...]" or ":name:", which Rich would otherwise read as markup (dropping the text, or failing on a stray
# "[/]") or as an emoji. Colours are given as styles (rich.text.Text), never as markup.
AS_WRITTEN = {"markup": False, "emoji": False}


def reset_consoles() -> None:
    """Make both consoles afresh, in place: Rich reads the terminal's width (COLUMNS), colour
    settings (NO_COLOR, FORCE_COLOR, TERM) and whether it writes to a terminal when a console is
    made. The preloaded process (cli/preload.py) calls this in each command's child."""
    out, err = consoles()
    out.__init__(**AS_WRITTEN)  # type: ignore[misc]
    err.__init__(stderr=True, **AS_WRITTEN)  # type: ignore[misc]


class CliError(Exception):
    """Shown as a one-line message on stderr, exit code 1."""


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return clock.parse_instant(value)
    except ValueError:
        pass
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        import typer  # not imported by a read command given a good --now (cli.launch.plain_command)

        raise typer.BadParameter(_("{value!r} is not an ISO 8601 time; write e.g. 2024-06-30T09:00+08:00",
                                   value=value)) from None
    import typer

    raise typer.BadParameter(_("{value!r} has no UTC offset; write e.g. 2024-06-30T09:00+08:00", value=value))


def resolve_now(value: str | None) -> datetime:
    """The instant a command acts at: --now if given, else the clock (read once)."""
    return _parse_now(value) or clock.now()


def settings() -> Settings:
    """The settings as commands read them: without pydantic when they can be (config.settings_plain)."""
    return get_settings(plain=True)


_engines: dict[str, Engine] = {}


def engine() -> Engine:
    """The command's engine for the configured database, closed when the process exits: SQLite folds
    its write-ahead log back into the file only when the last connection closes, so a command that
    left one open would leave recent changes in duban.db-wal, where a copy of duban.db alone misses them."""
    from models.db import make_engine

    url = settings().sqlalchemy_url
    if url not in _engines:
        _engines[url] = make_engine(url)
        atexit.register(_engines[url].dispose)
    return _engines[url]


def revision(eng: Engine) -> str | None:
    """The database's schema revision; a database that cannot be reached is the user's to fix."""
    from sqlalchemy.exc import OperationalError

    from migrations.runner import current_revision

    try:
        return current_revision(eng)
    except OperationalError as exc:
        raise _cannot_connect(exc.orig or exc) from None


def _cannot_connect(exc: BaseException) -> CliError:
    reason = str(exc).strip().splitlines()[0]
    return CliError(_(
        "cannot connect to the database at {database}: {reason}; check DUBAN_DATABASE_URL "
        "(and DUBAN_DATABASE_PASSWORD_FILE) and that the server is running",
        database=settings().database_display, reason=reason))


@contextlib.contextmanager
def open_session() -> Iterator[Session]:
    """A session on the configured database; the command commits, anything else rolls back."""
    from sqlmodel import Session

    eng = engine()
    if revision(eng) != head_revision():
        raise _not_up_to_date()
    with Session(eng) as session:
        yield session


def _not_up_to_date() -> CliError:
    return CliError(_("the database at {database} is not initialised or not up to date; run `duban init`",
                      database=settings().database_display))


def sqlite_path() -> str | None:
    """The configured database's file when it is a plain SQLite file (models.sqlite.sqlite_file),
    for commands that read it through `open_sqlite`; None otherwise (they open a session)."""
    configured = settings()
    return sqlite_file(configured.database_url) if configured.database_password is None else None


@contextlib.contextmanager
def open_sqlite(path: str) -> Iterator[sqlite3.Connection]:
    """A plain connection to the SQLite file `path`, checked as `open_session` checks (the same
    messages), without SQLAlchemy: the reading commands that need no ORM (`duban report`)."""
    try:
        connection = connect(path)
    except sqlite3.OperationalError as exc:  # what the engine's connect raises as OperationalError
        raise _cannot_connect(exc) from None
    try:
        try:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:  # as migrations.runner.current_revision: never migrated
            found = None
        if (found[0] if found else None) != head_revision():
            raise _not_up_to_date()
        yield connection
    finally:
        connection.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data) + "\n")


# A flat row's members, one a line, as `indent=2` lays them out inside a list.
_encode_row = json.JSONEncoder(ensure_ascii=False, separators=(",\n    ", ": "), default=str).encode


def json_text(data: Any) -> str:
    """`json.dumps(data, ensure_ascii=False, indent=2, default=str)`, the same characters.

    With an indent the standard library encodes in Python: 0.10 s CPU for `duban items --json`'s
    10k rows. A list of flat rows (no value a list, tuple or dict) is encoded row by row in C
    instead, 0.055 s; tests/cli/test_json_text.py compares the two.
    """
    if _flat_rows(data):
        return "[\n  " + ",\n  ".join("{\n    " + _encode_row(row)[1:-1] + "\n  }" for row in data) + "\n]"
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def _flat_rows(data: Any) -> bool:
    """A non-empty list of non-empty dicts, no value of which is a list, tuple or dict. The values'
    types are gathered in C (160k values in 10k rows: a Python test of each cost 0.03 s)."""
    if not isinstance(data, list) or not data or set(map(type, data)) != {dict} or not all(data):
        return False
    kinds = set(map(type, itertools.chain.from_iterable(map(dict.values, data))))
    return not any(issubclass(kind, (list, tuple, dict)) for kind in kinds)


def local(at: datetime | None) -> str:
    """An instant shown in the configured timezone."""
    if at is None:
        return ""
    return at.astimezone(settings().tz).strftime("%Y-%m-%d %H:%M")


def reporting_errors(run: Callable[[], Any]) -> None:
    """`run()` a command, a user's mistake, a database that went away or a path that cannot be read
    or written shown as one line on stderr and exit 1 (cli.main, and cli.launch's plain read commands)."""
    from config.settings import SettingsError
    from config.yamlfile import ConfigFileError
    from models.errors import DubanError, database_detail

    try:
        run()
    except (DubanError, CliError, SettingsError, ConfigFileError) as exc:
        consoles()[1].print(_error(error_text(exc)), highlight=False, soft_wrap=True)
        sys.exit(1)
    except _database_errors() as exc:
        # the database went away or refused: one line, never a traceback (sqlite3's own errors from
        # the commands that read a SQLite file without SQLAlchemy: open_sqlite)
        consoles()[1].print(_error(_("database error: {detail}", detail=database_detail(exc))),
                          highlight=False, soft_wrap=True)
        sys.exit(1)
    except OSError as exc:  # a path the user gave that cannot be written or read, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        consoles()[1].print(_error(f"{where}{exc.strerror or exc}"), highlight=False, soft_wrap=True)
        sys.exit(1)


def _database_errors() -> tuple[type[Exception], ...]:
    """sqlite3's errors, and SQLAlchemy's when a command has imported it (`report` on SQLite never does)."""
    errors = sys.modules.get("sqlalchemy.exc")
    return (sqlite3.Error, errors.SQLAlchemyError) if errors is not None else (sqlite3.Error,)


def _error(message: str) -> Text:
    """The message after a red "error:" ("错误：" needs no space after it)."""
    from rich.text import Text

    word = _("error:")
    return Text.assemble((word, "bold red"), "" if word.endswith("：") else " ", message)
