"""The dashboard's figures: per document and per unit, escalation counts, the weekly rate trend.

The counts are models.report.count_items (as `duban report`: cancelled items left out,
rate = signed off / total), limited to the items the person may see.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from models.deadlines import ACTIVE_STATUSES, start_of_day
from models.report import count_items, names_of, rate
from models.tables import Document, Item, ItemEvent, Person, Status, Unit
from web.access import sees_everything, visible_clause
from web.calendar import due_soon_until

TREND_WEEKS = 8


@dataclass
class Row:
    name: str
    total: int = 0
    signed_off: int = 0
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    trend: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return rate(self.signed_off, self.total)

    @property
    def light(self) -> str:
        return "red" if self.overdue else "yellow" if self.due_soon else "green"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "total": self.total, "signed_off": self.signed_off, "rate": self.rate,
                "open": self.open, "due_soon": self.due_soon, "overdue": self.overdue, "light": self.light,
                **({"trend": self.trend} if self.trend else {})}


@dataclass
class Figures:
    as_of: datetime
    overall: Row
    documents: list[Row]
    units: list[Row]
    escalation: dict[int, int]
    week_starts: list[date]


def week_starts(today: date, weeks: int = TREND_WEEKS) -> list[date]:
    """Mondays of the past `weeks` weeks, oldest first; the last is this week's."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]


def build_figures(session: Session, person: Person, now: datetime, tz: ZoneInfo) -> Figures:
    today = now.astimezone(tz).date()
    visible = visible_clause(person)
    scope = [visible] if visible is not None else []
    soon = due_soon_until(today)

    def grouped(key: Any, model: Any) -> dict[Any, Row]:
        counts = count_items(session, key, today=today, where=scope, due_soon_until=soon)
        names = names_of(session, model, counts)
        return {k: Row(names.get(k, str(k)), c.total, c.signed_off, c.open, c.due_soon, c.overdue)
                for k, c in counts.items()}

    documents = grouped(Item.document_id, Document)
    units = grouped(Item.lead_unit_id, Unit)
    overall = Row("", *(sum(getattr(r, f) for r in documents.values())
                        for f in ("total", "signed_off", "open", "due_soon", "overdue")))
    # Filtering on the state would pick the (status, deadline) index and visit rows one by one;
    # counting the active ones among all escalated rows is one plain scan.
    active = col(Item.status).in_(list(ACTIVE_STATUSES))
    escalation = {level: int(n) for level, n in session.exec(
        select(Item.escalation_level, func.sum(case((active, 1), else_=0)))
        .where(*scope, col(Item.escalation_level) > 0)
        .group_by(Item.escalation_level).order_by(Item.escalation_level)
    ).all() if n}
    starts = week_starts(today)
    _add_trend(session, [Item.status != Status.CANCELLED, *scope], starts[1:], tz, documents, overall)
    return Figures(
        as_of=now, overall=overall,
        documents=sorted(documents.values(), key=lambda r: r.name),
        units=sorted(units.values(), key=lambda r: (-r.overdue, -r.due_soon, r.name)),
        escalation=escalation, week_starts=starts,
    )


def _add_trend(session: Session, scope: list[Any], boundaries: list[date], tz: ZoneInfo,
               documents: dict[Any, Row], overall: Row) -> None:
    """The rate at the end of each past week, among the items that existed then.

    Signing off is final, so an item signed off now and before the boundary was signed off then,
    unless its one `signed_off` event is later. Items imported as signed off count from their
    import. Items cancelled since are not taken back (a cancellation keeps no earlier status).
    """
    instants = [start_of_day(day, tz) for day in boundaries]
    existed = [func.sum(case((col(Item.created_at) < at, 1), else_=0)) for at in instants]
    done = [func.sum(case((and_(col(Item.created_at) < at, Item.status == Status.SIGNED_OFF), 1), else_=0))
            for at in instants]
    past = {row[0]: [int(v or 0) for v in row[1:]] for row in session.execute(
        select(Item.document_id, *existed, *done).where(*scope, col(Item.created_at) < instants[-1])
        .group_by(Item.document_id)
    ).all()}
    later = [func.sum(case((and_(col(ItemEvent.at) >= at, col(Item.created_at) < at), 1), else_=0))
             for at in instants]
    since = {row[0]: [int(v or 0) for v in row[1:]] for row in session.execute(
        select(Item.document_id, *later).select_from(ItemEvent)
        .join(Item, col(Item.id) == ItemEvent.item_id)
        .where(ItemEvent.kind == "signed_off", col(ItemEvent.at) >= instants[0], *scope)
        .group_by(Item.document_id)
    ).all()}
    n = len(instants)
    zero = [0] * (2 * n)
    totals, signed = [0] * n, [0] * n
    for document_id, row in documents.items():
        values, after = past.get(document_id, zero), since.get(document_id, zero[:n])
        row.trend = [rate(values[n + i] - after[i], values[i]) for i in range(n)] + [row.rate]
        for i in range(n):
            totals[i] += values[i]
            signed[i] += values[n + i] - after[i]
    overall.trend = [rate(signed[i], totals[i]) for i in range(n)] + [overall.rate]


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
    return ("all",) if sees_everything(person) else (str(person.role), person.unit_id)


def _ledger_stamp(session: Session) -> tuple[Any, ...]:
    newest = [select(func.max(model.id)).scalar_subquery() for model in (ItemEvent, Item, Document)]
    return tuple(session.exec(select(*newest)).one())


def ranked(units: list[Row]) -> list[Row]:
    """Units by rate, best first; at equal rates fewer overdue items first, then by name."""
    return sorted(units, key=lambda u: (-u.rate, u.overdue, u.name))


def rank_numbers(rates: list[float]) -> list[int]:
    """Competition ranking of rates sorted best first: equal rates share a rank (1, 2, 2, 4)."""
    numbers: list[int] = []
    for i, value in enumerate(rates):
        numbers.append(numbers[-1] if i and value == rates[i - 1] else i + 1)
    return numbers


def ranking(units: list[Row]) -> list[tuple[int, Row]]:
    """Every unit with its place, best rate first (the dashboard's ranking and its spreadsheet)."""
    by_rate = ranked(units)
    return list(zip(rank_numbers([u.rate for u in by_rate]), by_rate, strict=True))
