"""Engines, sessions and the column types every table shares (UTC instants, JSON lists)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from json.encoder import JSONEncoder, c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from json.scanner import make_scanner  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import JSON, DateTime, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from models.sqlite import TIMEOUT_S, set_pragmas


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants as naive UTC, hands them back timezone-aware; refuses naive input."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


JSONList = JSON().with_variant(JSON(), "postgresql")

# json.dumps with its default settings makes a new C encoder at every call: about half of the time it
# takes for a small payload, and the sweep of 10k items writes some 33,000 (events, notifications,
# address lists). One encoder made once writes the same text. It does not check for cycles (nothing
# stored has one; a cyclic value fails with RecursionError instead of ValueError).
_ENCODER = (c_make_encoder(None, JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False, False, True)
            if c_make_encoder is not None else None)


def json_text(value: Any) -> str:
    """`json.dumps(value)`, the same text, faster: every JSON column's serializer (`make_engine`)."""
    if _ENCODER is None:
        return json.dumps(value)
    return "".join(_ENCODER(value, 0))


_SCAN = make_scanner(json.JSONDecoder())


def json_value(text: Any) -> Any:
    """`json.loads(text)`, the same value, faster for text as `json_text` writes it: one scan, without
    the checks loads and decode make around it for whitespace and a BOM (grouping reads ~20,000 JSON
    values of the 10k reminder job); any other text goes through json.loads, as PostgreSQL's bytes do."""
    if type(text) is not str:
        return json.loads(text)
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        return json.loads(text)  # leading whitespace, or no JSON: loads says which
    return value if end == len(text) else json.loads(text)


def make_engine(url: str, *, sqlite_mmap_bytes: int = 0, **kwargs: Any) -> Engine:
    """An engine with the settings duban relies on (SQLite: WAL, foreign keys, busy timeout).

    `sqlite_mmap_bytes`: SQLite reads up to that much of the file through a memory map rather than
    read() calls into each connection's own page cache (the web app: docs/benchmarks.md).
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("json_serializer", json_text)
    kwargs.setdefault("json_deserializer", json_value)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": TIMEOUT_S}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if sqlite_mmap_bytes:
            event.listen(engine, "connect", lambda connection, _record: connection.execute(
                f"PRAGMA mmap_size={int(sqlite_mmap_bytes)}"))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    set_pragmas(dbapi_connection)


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"
