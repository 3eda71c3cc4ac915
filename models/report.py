"""The office's figures: per document and per lead unit, total / signed off / rate / open / overdue.

One computation (`count_items`) serves `duban report`, the web dashboard (scoped to what a person
may see, with "due soon") and anything else that counts items: cancelled items are left out of
every count, rate = signed off / total, overdue = still worked on after the deadline day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from models.deadlines import ACTIVE_STATUSES
from models.tables import Document, Item, Status, Unit


def rate(signed_off: int, total: int) -> float:
    """Percent with one decimal, as offices write it (53 of 103 -> 51.5)."""
    return round(100.0 * signed_off / total, 1) if total else 0.0


@dataclass(frozen=True)
class Counts:
    total: int = 0
    signed_off: int = 0
    due_soon: int = 0  # worked on, deadline between today and `due_soon_until` (when asked for)
    overdue: int = 0  # worked on, deadline day ended

    @property
    def open(self) -> int:
        return self.total - self.signed_off

    @property
    def rate(self) -> float:
        return rate(self.signed_off, self.total)


def count_items(
    session: Session, key: Any, *, today: date, where: Iterable[Any] = (), due_soon_until: date | None = None
) -> dict[Any, Counts]:
    """Items grouped by the column `key` (e.g. Item.document_id), cancelled ones left out, within `where`."""
    active = col(Item.status).in_(list(ACTIVE_STATUSES))
    due_soon: Any = func.sum(case(
        (and_(active, col(Item.deadline) >= today, col(Item.deadline) <= due_soon_until), 1), else_=0,
    )) if due_soon_until is not None else func.sum(0)
    rows = session.exec(
        select(
            key, func.count(), func.sum(case((Item.status == Status.SIGNED_OFF, 1), else_=0)), due_soon,
            func.sum(case((and_(active, col(Item.deadline) < today), 1), else_=0)),
        ).where(Item.status != Status.CANCELLED, *where).group_by(key)
    ).all()
    return {k: Counts(total, int(signed or 0), int(soon or 0), int(late or 0)) for k, total, signed, soon, late in rows}


def names_of(session: Session, model: Any, ids: Iterable[int]) -> dict[int, str]:
    """Display names by id: documents' short names, units' names."""
    name = model.short_name if model is Document else model.name
    return dict(session.exec(select(model.id, name).where(col(model.id).in_(list(ids)))).all())


def build_report(session: Session, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Per document and per lead unit, sorted by name."""
    today = now.astimezone(tz).date()

    def rows(key: Any, model: Any, label: str) -> list[dict[str, Any]]:
        counts = count_items(session, key, today=today)
        names = names_of(session, model, counts)
        return [
            {label: names[k], "total": c.total, "signed_off": c.signed_off, "rate": c.rate, "open": c.open,
             "overdue": c.overdue}
            for k, c in sorted(counts.items(), key=lambda kc: names[kc[0]])
        ]

    return {
        "as_of": now.astimezone(tz).isoformat(),
        "documents": rows(Item.document_id, Document, "document"),
        "units": rows(Item.lead_unit_id, Unit, "unit"),
    }
