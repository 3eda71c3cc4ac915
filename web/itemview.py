"""One item as the item page and /api/v1/items/{id} show it, and the payload each action takes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.attachments import as_listed, attachments_of
from models.deadlines import due_state
from models.errors import InvalidInput
from models.lifecycle import Action, allowed_actions, item_ref
from models.queries import timeline
from models.tables import (
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Item,
    ItemCoUnit,
    Person,
    ProgressReport,
    Unit,
)
from web.calendar import light


def item_detail(session: Session, person: Person, item: Item, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    document = session.get(Document, item.document_id)
    lead = session.get(Unit, item.lead_unit_id)
    supervisor = session.get(Person, item.supervisor_id) if item.supervisor_id else None
    co_units = session.exec(
        select(Unit.id, Unit.name).join(ItemCoUnit, col(ItemCoUnit.unit_id) == Unit.id)
        .where(ItemCoUnit.item_id == item.id).order_by(col(Unit.name))
    ).all()
    reports = session.exec(
        select(ProgressReport, Unit.name, Person.name)
        .join(Unit, col(Unit.id) == ProgressReport.unit_id)
        .join(Person, col(Person.id) == ProgressReport.person_id)
        .where(ProgressReport.item_id == item.id).order_by(col(ProgressReport.at).desc(), col(ProgressReport.id).desc())
    ).all()
    pending = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.item_id == item.id, ExtensionRequest.status == ExtensionStatus.PENDING
        )
    ).first()
    return {
        "id": item.id, "ref": item_ref(session, item), "document": document.short_name if document else "",
        "document_title": document.title if document else "", "number": item.number, "title": item.title,
        "category": item.category, "notes": item.notes, "lead_unit": lead.name if lead else "",
        "co_units": [name for _, name in co_units],
        "supervisor": supervisor.name if supervisor else None,
        "supervisor_email": supervisor.email if supervisor else None,
        "original_deadline": item.original_deadline, "deadline": item.deadline,
        "status": item.status, "due_state": due_state(item.status, item.deadline, now, tz),
        "light": light(item.status, item.deadline, now, tz),
        "escalation_level": item.escalation_level, "version": item.version,
        "timeline": [
            {"id": e.id, "kind": e.kind, "at": e.at, "actor": e.actor_label, "from": e.from_status,
             "to": e.to_status, "payload": e.payload}
            for e in reversed(timeline(session, item))
        ],
        "progress_reports": [
            {"at": r.at, "unit": unit, "person": who, "text": r.text, "percent": r.percent}
            for r, unit, who in reports
        ],
        "pending_extension": None if pending is None else {
            "requested_deadline": pending.requested_deadline, "reason": pending.reason,
            "requested_at": pending.requested_at,
        },
        "attachments": list(as_listed(attachments_of(session, item))),
        "actions": [str(a) for a in allowed_actions(item, person, {unit_id for unit_id, _ in co_units if unit_id is not None})],
    }


def as_json(detail: dict[str, Any]) -> dict[str, Any]:
    """Dates and instants as ISO 8601 strings."""
    def plain(value: Any) -> Any:
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in detail.items()}


def action_payload(action: Action, fields: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments `apply` takes for `action`, from a form or a JSON body."""
    def text(name: str) -> str:
        return str(fields.get(name) or "").strip()

    if action is Action.REPORT_PROGRESS:
        percent = fields.get("percent")
        if percent in (None, ""):
            return {"text": text("text"), "percent": None}
        try:
            return {"text": text("text"), "percent": int(percent)}
        except (TypeError, ValueError):
            raise InvalidInput(f"percent must be a whole number from 0 to 100, not {percent!r}",
                               code="progress.percent_invalid", params={"percent": str(percent)}) from None
    if action is Action.SUBMIT:
        return {"evidence": text("evidence")}
    if action is Action.REQUEST_EXTENSION:
        raw = fields.get("deadline")
        if isinstance(raw, date):
            return {"deadline": raw, "reason": text("reason")}
        try:
            return {"deadline": date.fromisoformat(str(raw or "").strip()), "reason": text("reason")}
        except ValueError:
            raise InvalidInput(f"the new deadline must be a date like 2024-09-30, not {raw!r}",
                               code="extension.bad_date", params={"deadline": str(raw or "")}) from None
    if action is Action.SIGN_OFF:
        return {"comment": text("comment") or None}
    return {"reason": text("reason")}
