"""SQLite connections as duban's engine makes them (WAL, foreign keys, busy timeout), without
SQLAlchemy: the CLI's report reads through one (models.read.counts.sqlite_report)."""

from __future__ import annotations

import sqlite3

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=30000",
           "PRAGMA synchronous=NORMAL")
TIMEOUT_S = 30  # what the engine passes to sqlite3.connect (models.db.make_engine)


def sqlite_file(url: str) -> str | None:
    """The file a plain `sqlite:///path` URL names; None for any other URL (PostgreSQL, in memory,
    options in a query string, percent-escapes), which only SQLAlchemy reads."""
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
    if not path or path == ":memory:" or any(c in path for c in "?%#"):
        return None
    return path


def set_pragmas(connection: sqlite3.Connection) -> None:
    cursor = connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def connect(path: str) -> sqlite3.Connection:
    """A connection to the SQLite file `path` as the engine opens it (sqlite3's own errors raised)."""
    connection = sqlite3.connect(path, timeout=TIMEOUT_S)
    try:
        set_pragmas(connection)
    except BaseException:
        connection.close()
        raise
    return connection
