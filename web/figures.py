"""The dashboard's figures kept per scope until the ledger changes (computed by models.read.figures)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from models.read.figures import Figures, build_figures
from models.read.filters import plain_rows, scope_units
from models.tables import Document, Item, ItemEvent, Person


@dataclass
class _Entry:
    stamp: tuple[Any, ...]
    at: float
    figures: Figures


class FiguresCache:
    """Dashboard figures, kept until the ledger changes (a new event or item), the day turns, or `ttl` passes.

    Every change of an item writes an ItemEvent, so the newest event id tells whether the counts
    can have moved. While one request recomputes, concurrent ones get the previous figures
    rather than queueing behind it; the request that found them stale waits for fresh ones.
    """

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self._locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def fresh(self, session: Session, person: Person, now: datetime, tz: ZoneInfo) -> Figures | None:
        """The figures if they are known and still hold, else None (one small query)."""
        entry = self._entries.get((_scope(person), now.astimezone(tz).date()))
        if entry is not None and entry.stamp == _ledger_stamp(session) and time.monotonic() - entry.at < self.ttl:
            return entry.figures
        return None

    def get(self, session: Session, person: Person, now: datetime, tz: ZoneInfo) -> Figures:
        key = (_scope(person), now.astimezone(tz).date())
        stamp = _ledger_stamp(session)
        entry = self._entries.get(key)
        if entry is not None and entry.stamp == stamp and time.monotonic() - entry.at < self.ttl:
            return entry.figures
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=entry is None):
            return entry.figures  # type: ignore[union-attr]  # someone is recomputing them right now
        try:
            latest = self._entries.get(key)
            if latest is not None and latest is not entry and latest.stamp == stamp:
                return latest.figures  # computed while this request waited for the lock
            figures = build_figures(session, person, now, tz)
            self._entries[key] = _Entry(stamp, time.monotonic(), figures)
            return figures
        finally:
            lock.release()


def _scope(person: Person) -> tuple[Any, ...]:
    """People who see the same items see the same figures."""
    units = scope_units(person)
    return ("all",) if units is None else (str(person.role), tuple(sorted(units)))


_NEWEST = select(*(select(func.max(model.id)).scalar_subquery() for model in (ItemEvent, Item, Document)))


def _ledger_stamp(session: Session) -> tuple[Any, ...]:
    """The newest event, item and document ids (built once: this runs on every dashboard request)."""
    return tuple(plain_rows(session).execute(_NEWEST).one())
