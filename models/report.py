"""The office's figures: per document and per lead unit, total / signed off / rate / open / overdue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from models.deadlines import ACTIVE_STATUSES
from models.tables import Document, Item, Status, Unit


def rate(signed_off: int, total: int) -> float:
    """Percent with one decimal, as offices write it (53 of 103 -> 51.5)."""
    return round(100.0 * signed_off / total, 1) if total else 0.0


def build_report(session: Session, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Cancelled items are left out of every count; rate = signed off / total."""
    last_ended_day = now.astimezone(tz).date() - timedelta(days=1)
    signed = func.sum(case((Item.status == Status.SIGNED_OFF, 1), else_=0))
    overdue = func.sum(case(
        (col(Item.status).in_(list(ACTIVE_STATUSES)) & (col(Item.deadline) <= last_ended_day), 1), else_=0,
    ))
    counted = Item.status != Status.CANCELLED

    def rows(name_col: Any, join_on: Any, model: Any) -> list[dict[str, Any]]:
        query = (
            select(name_col, func.count(), signed, overdue)
            .select_from(Item).join(model, join_on).where(counted)
            .group_by(name_col).order_by(name_col)
        )
        out = []
        for name, total, signed_off, overdue_count in session.exec(query).all():
            signed_off, overdue_count = int(signed_off or 0), int(overdue_count or 0)
            out.append({
                "total": total, "signed_off": signed_off, "rate": rate(signed_off, total),
                "open": total - signed_off, "overdue": overdue_count, "_name": name,
            })
        return out

    documents = rows(Document.short_name, col(Document.id) == Item.document_id, Document)
    units = rows(Unit.name, col(Unit.id) == Item.lead_unit_id, Unit)
    return {
        "as_of": now.astimezone(tz).isoformat(),
        "documents": [{"document": r.pop("_name"), **r} for r in documents],
        "units": [{"unit": r.pop("_name"), **r} for r in units],
    }
