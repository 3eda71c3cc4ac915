"""Editing an open item on the desk (Action.EDIT), and who hears of 批示 and 留言.

`apply(..., Action.EDIT, ...)` (models/lifecycle.py) calls `edit_effect`: it checks every field
first and changes nothing when one is refused, then changes the item and returns the changes as
`{field: {"old": ..., "new": ...}}` for the one `edited` event. A new deadline is a new
deadline version (the original deadline stays in `original_deadline`; the sweep recomputes the
schedule, as for an approved extension). A new lead unit must acknowledge the item afresh (签收) and
gets an assignment notice; the old lead unit hears of the edit too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from models.errors import InvalidInput
from models.notices import People, Recipients
from models.tables import Item, ItemCoUnit, ItemEvent, Notification, Person, Role, Unit

FIELDS = ("title", "deadline", "lead_unit", "co_units", "supervisor", "category", "frequency")


def _refuse(ref: str, message: str, *, code: str, **params: Any) -> InvalidInput:
    return InvalidInput(f"{ref}: {message}", code=code, params={"ref": ref, **params})


def edit_effect(session: Session, item: Item, actor: Person, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    """Check and make the edit asked for in `payload` (its field inputs are taken out of it)."""
    from models.lifecycle import co_unit_ids, item_ref

    ref = item_ref(session, item)
    asked = {name: payload.pop(name) for name in FIELDS if payload.get(name) is not None}
    changes: dict[str, dict[str, Any]] = {}
    old_lead_id = item.lead_unit_id
    if "title" in asked:
        title = str(asked["title"]).strip()
        if not title:
            raise _refuse(ref, "the title cannot be empty", code="edit.title_empty")
        if title != item.title:
            changes["title"] = {"old": item.title, "new": title}
    if "category" in asked and str(asked["category"]).strip() != item.category:
        changes["category"] = {"old": item.category, "new": str(asked["category"]).strip()}
    if "deadline" in asked and asked["deadline"] != item.deadline:
        _check_deadline(ref, item, asked["deadline"], str(payload.get("reason") or ""), now)
        changes["deadline"] = {"old": item.deadline.isoformat(), "new": asked["deadline"].isoformat()}
    lead = _unit(session, asked["lead_unit"]) if "lead_unit" in asked else None
    if lead is not None and lead.id != item.lead_unit_id:
        changes["lead_unit"] = {"old": _unit_name(session, item.lead_unit_id), "new": lead.name}
    lead_id = lead.id if lead is not None else item.lead_unit_id
    current_co = co_unit_ids(session, item)
    new_co = current_co - {lead_id}
    if "co_units" in asked:
        units = [_unit(session, name) for name in asked["co_units"] if str(name).strip()]
        new_co = {unit.id for unit in units if unit.id is not None} - {lead_id}
    if new_co != current_co:
        changes["co_units"] = {"old": _unit_names(session, current_co), "new": _unit_names(session, new_co)}
    supervisor = _supervisor(session, ref, asked["supervisor"]) if "supervisor" in asked else None
    if supervisor is not None and supervisor.id != item.supervisor_id:
        old = session.get(Person, item.supervisor_id) if item.supervisor_id else None
        changes["supervisor"] = {"old": old.email if old else None, "new": supervisor.email}
    if "frequency" in asked:
        frequency = _frequency(ref, asked["frequency"])
        if frequency != item.frequency:
            changes["frequency"] = {"old": item.frequency, "new": frequency}
    if not changes:
        raise _refuse(ref, "the edit changes nothing", code="edit.nothing")

    if "title" in changes:
        item.title = changes["title"]["new"]
    if "category" in changes:
        item.category = changes["category"]["new"]
    if "deadline" in changes:
        from models.lifecycle import change_deadline

        change_deadline(item, asked["deadline"])
    if "lead_unit" in changes:
        _new_lead(session, item, lead_id, now)  # type: ignore[arg-type]
    if "co_units" in changes:
        session.exec(delete(ItemCoUnit).where(col(ItemCoUnit.item_id) == item.id))  # type: ignore[call-overload]
        session.add_all(ItemCoUnit(item_id=item.id, unit_id=unit_id) for unit_id in sorted(new_co))  # type: ignore[arg-type]
    if "supervisor" in changes:
        item.supervisor_id = supervisor.id  # type: ignore[union-attr]
    if "frequency" in changes:
        item.frequency = changes["frequency"]["new"]
    if {"frequency", "deadline"} & changes.keys() and (item.frequency or "frequency" in changes):
        from models.periods import reschedule_periods

        reschedule_periods(session, item)
    # Each field as {"old", "new"} at the top, as the import's changes are (the timeline shows both alike).
    extra = {"old_lead_unit_id": old_lead_id} if "lead_unit" in changes else {}
    return {**changes, "summary": summary(changes), **extra}


def summary(changes: dict[str, dict[str, Any]]) -> str:
    """One line naming each change, old → new (the mail's and the timeline's short form)."""
    def shown(value: Any) -> str:
        return "、".join(value) if isinstance(value, list) else str(value or "—")

    return "; ".join(f"{name}: {shown(c['old'])} → {shown(c['new'])}" for name, c in changes.items())


def _check_deadline(ref: str, item: Item, deadline: date, reason: str, now: datetime) -> None:
    from config.settings import get_settings

    today = now.astimezone(get_settings().tz).date()
    if deadline < today:
        raise _refuse(ref, f"the deadline {deadline} is in the past", code="edit.deadline_past", deadline=deadline)
    if not reason.strip():
        raise _refuse(ref, f"moving the deadline from {item.deadline} to {deadline} needs a reason",
                      code="edit.deadline_reason", deadline=deadline, current=item.deadline)


def _frequency(ref: str, text: Any) -> str | None:
    """The stored (English) form of a frequency typed in either language; None (empty) clears it."""
    from models.frequency import EXAMPLES, FrequencyError, parse_frequency

    try:
        frequency = parse_frequency(text)
    except FrequencyError as exc:
        examples = " / ".join(EXAMPLES)
        raise _refuse(ref, f"{exc}; write one of {examples}, or leave it empty for an item that does not recur",
                      code="edit.frequency_unknown", text=str(text).strip(), examples=examples) from None
    return frequency.code if frequency else None


def _unit(session: Session, text: str) -> Unit:
    from models.read.filters import match_unit  # refused with the closest names when none matches

    return match_unit(session, str(text))


def _unit_name(session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    return unit.name if unit else str(unit_id)


def _unit_names(session: Session, ids: set[int]) -> list[str]:
    return sorted(_unit_name(session, unit_id) for unit_id in ids)


def _supervisor(session: Session, ref: str, email: str) -> Person:
    person = session.exec(select(Person).where(Person.email == str(email).strip().lower())).first()
    if person is None:
        raise _refuse(ref, f"no person with email {email!r}", code="person.not_found", email=email)
    if person.role not in (Role.SUPERVISOR, Role.ADMIN) or not person.active:
        raise _refuse(ref, f"{person.email} is not an active supervisor or admin", code="edit.supervisor_role",
                      email=person.email)
    return person


def _new_lead(session: Session, item: Item, lead_id: int, now: datetime) -> None:
    from config.yamlfile import ConfigFileError
    from models.lifecycle import require_acknowledgement
    from models.schedule import Schedule

    try:
        due = Schedule.configured().acknowledge_due_at(now)
    except ConfigFileError:
        due = None  # a broken policy file must not block the edit; `duban doctor` reports it
    item.lead_unit_id = lead_id
    require_acknowledgement(session, item, lead_id, due)


def notify_edit(session: Session, item: Item, event: ItemEvent) -> None:
    """A new lead unit's assignment notice, and the edit told to the old lead unit (the `edited`
    notice itself, to the lead unit and co-units, is the NOTICES table's row)."""
    old_lead_id = event.payload.get("old_lead_unit_id")
    if old_lead_id is None:
        return
    people = People(session)
    assigned = people.for_event("assigned", item)
    old = [e for e in _contacts(session, old_lead_id) if assigned is None or e not in assigned.to]
    for key, kind, to, cc in (
        ("assigned", "assigned", assigned.to if assigned else [], assigned.cc if assigned else []),
        ("old_lead", "edited", old, []),
    ):
        if not to:
            continue
        session.add(Notification(
            key=f"event:{event.id}:{key}", item_id=item.id, kind=kind,  # type: ignore[arg-type]
            deadline_version=item.deadline_version, to_addrs=to, cc_addrs=cc, unreached=False,
            payload={"event_id": event.id, **event.payload}, created_at=event.at,
        ))


def _contacts(session: Session, unit_id: int) -> list[str]:
    unit = session.get(Unit, unit_id)
    return [e.strip().lower() for e in unit.contact_emails if e.strip()] if unit else []


def comment_recipients(session: Session, item: Item, event: ItemEvent, recipients: Recipients) -> Recipients:
    """A 留言's recipients: the table's (lead unit, supervisor) and everyone who commented before,
    less the commenter. The outbox groups them per address and delivery run, so a busy thread is
    one mail a run, not one a comment."""
    commenter = session.get(Person, event.actor_id) if event.actor_id else None
    ids = set(session.exec(select(ItemEvent.actor_id).where(
        ItemEvent.item_id == item.id, ItemEvent.kind == "commented", col(ItemEvent.actor_id).is_not(None),
    )).all()) - {event.actor_id}
    earlier = session.exec(select(Person.email).where(col(Person.id).in_(ids), col(Person.active))).all() if ids else []
    mine = commenter.email.lower() if commenter else ""
    to = [e for e in dict.fromkeys([*recipients.to, *(e.lower() for e in earlier)]) if e != mine]
    return Recipients(to, [e for e in recipients.cc if e != mine and e not in to], recipients.fallback)
