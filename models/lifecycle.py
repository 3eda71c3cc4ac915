"""The item lifecycle, declared once: states, the transition table, and `apply`.

Every interface (CLI, web, API, flows) changes an item's state through `apply`; nothing else
sets `item.status`. `apply` checks the state and the actor, makes the change, writes exactly one
ItemEvent and queues the notifications the change causes, all in the caller's transaction,
which the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from models.edits import comment_recipients, edit_effect, notify_edit
from models.errors import ConflictError, DubanError, Forbidden, InvalidInput, InvalidTransition
from models.notices import People
from models.tables import (
    Document,
    ExtensionRequest,
    ExtensionStatus,
    Item,
    ItemAcknowledgement,
    ItemCoUnit,
    ItemEvent,
    Notification,
    Person,
    ProgressReport,
    Role,
    Status,
)


class Action(StrEnum):
    REPORT_PROGRESS = "report_progress"
    SUBMIT = "submit"
    SIGN_OFF = "sign_off"
    RETURN = "return"
    CANCEL = "cancel"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    ACKNOWLEDGE = "acknowledge"  # 签收
    URGE = "urge"  # 催办
    EDIT = "edit"  # a supervisor changes an open item (models/edits.py)
    INSTRUCT = "instruct"  # 批示: a leader's instruction on an item
    COMMENT = "comment"  # 留言: anyone who can see the item


class Who(StrEnum):
    LEAD_OFFICER = "officers of the lead unit"
    UNIT_OFFICER = "officers of the lead unit or a co-unit"
    SUPERVISOR = "the item's supervisor (any supervisor if it has none) or an admin"
    URGER = "a supervisor, a leader or an admin"
    LEADER = "a leader"
    VIEWER = "anyone who can see the item (officers: of its lead unit or a co-unit)"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None  # None: the state stays as it is
    who: Who
    event: str
    requires: tuple[str, ...] = ()


_WORKING = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})
URGER_ROLES = frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN})  # who may 催办 (Who.URGER)
_OPEN = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED})

TRANSITIONS: dict[Action, Transition] = {
    Action.REPORT_PROGRESS: Transition(_WORKING, Status.IN_PROGRESS, Who.UNIT_OFFICER, "progress_reported", ("text",)),
    Action.SUBMIT: Transition(_WORKING, Status.SUBMITTED, Who.LEAD_OFFICER, "submitted", ("evidence",)),
    Action.SIGN_OFF: Transition(frozenset({Status.SUBMITTED}), Status.SIGNED_OFF, Who.SUPERVISOR, "signed_off"),
    Action.RETURN: Transition(frozenset({Status.SUBMITTED}), Status.IN_PROGRESS, Who.SUPERVISOR, "returned", ("reason",)),
    Action.CANCEL: Transition(_OPEN, Status.CANCELLED, Who.SUPERVISOR, "cancelled", ("reason",)),
    Action.REQUEST_EXTENSION: Transition(_WORKING, None, Who.LEAD_OFFICER, "extension_requested", ("reason", "deadline")),
    Action.APPROVE_EXTENSION: Transition(_OPEN, None, Who.SUPERVISOR, "extension_approved"),
    Action.REJECT_EXTENSION: Transition(_OPEN, None, Who.SUPERVISOR, "extension_rejected", ("reason",)),
    Action.ACKNOWLEDGE: Transition(_WORKING, None, Who.UNIT_OFFICER, "acknowledged"),
    Action.URGE: Transition(_WORKING, None, Who.URGER, "urged", ("text",)),
    Action.EDIT: Transition(_OPEN, None, Who.SUPERVISOR, "edited"),
    Action.INSTRUCT: Transition(_OPEN, None, Who.LEADER, "instructed", ("text",)),
    Action.COMMENT: Transition(_OPEN, None, Who.VIEWER, "commented", ("text",)),  # final states stay final
}
# Acting on an item acknowledges it for the actor's unit (签收 implied by doing the work).
_ACKNOWLEDGING = frozenset({Action.REPORT_PROGRESS, Action.SUBMIT, Action.REQUEST_EXTENSION})


def item_ref(session: Session, item: Item) -> str:
    """How people write an item: DOCUMENT/NUMBER."""
    document = session.get(Document, item.document_id)
    return f"{document.short_name if document else item.document_id}/{item.number}"


def co_unit_ids(session: Session, item: Item) -> set[int]:
    return set(session.exec(select(ItemCoUnit.unit_id).where(ItemCoUnit.item_id == item.id)).all())


def may_act(item: Item, who: Who, actor: Person, co_units: set[int]) -> bool:
    if not actor.active:
        return False
    if who is Who.URGER:
        return actor.role in URGER_ROLES
    if who is Who.LEADER:
        return actor.role == Role.LEADER
    if who is Who.VIEWER and actor.role != Role.OFFICER:
        return True
    if who is Who.SUPERVISOR:
        if actor.role == Role.ADMIN:
            return True
        return actor.role == Role.SUPERVISOR and item.supervisor_id in (None, actor.id)
    if actor.role != Role.OFFICER or actor.unit_id is None:
        return False
    if who is Who.LEAD_OFFICER:
        return actor.unit_id == item.lead_unit_id
    return actor.unit_id == item.lead_unit_id or actor.unit_id in co_units


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: the error to raise, its English reason, its message code."""

    error: type[DubanError]
    reason: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def _refusal(action: Action, item: Item, actor: Person, co_units: set[int]) -> Refusal | None:
    """Why `actor` may not take `action` on `item` now, or None when it may."""
    transition = TRANSITIONS[action]
    if item.status not in transition.sources:
        allowed = sorted(transition.sources)
        return Refusal(InvalidTransition,
                       f"it is {item.status}; {action} is allowed only when it is {', '.join(allowed)}",
                       code="action.wrong_state", params={"status": item.status, "allowed": allowed})
    if not may_act(item, transition.who, actor, co_units):
        reason = f"{action} may be done only by {transition.who}"
        if transition.who is Who.LEAD_OFFICER:
            return Refusal(Forbidden, reason, code="action.lead_unit_only")
        if transition.who is Who.UNIT_OFFICER:
            return Refusal(Forbidden, reason, code="action.unit_only")
        if transition.who is Who.URGER:
            return Refusal(Forbidden, reason, code="action.urger_only")
        if transition.who is Who.LEADER:
            return Refusal(Forbidden, reason, code="action.leader_only")
        if transition.who is Who.VIEWER:
            return Refusal(Forbidden, reason, code="action.unit_only")
        return Refusal(Forbidden, reason, code="action.supervisor_only")
    if action is Action.SIGN_OFF and actor.unit_id is not None and actor.unit_id == item.lead_unit_id:
        return Refusal(Forbidden, "nobody signs off an item whose lead unit is their own unit",
                       code="action.own_unit_sign_off")
    return None


def allowed_actions(item: Item, actor: Person, co_units: set[int]) -> list[Action]:
    """The actions `actor` may take on `item` now (for pages that offer only those)."""
    return [action for action in Action if _refusal(action, item, actor, co_units) is None]


def check(session: Session, item: Item, action: Action, actor: Person, now: datetime,
          payload: dict[str, Any]) -> DubanError | None:
    """The error `apply` would refuse `action` with before changing anything (state, actor, a
    required field, a 催办 too soon after the last), or None. Bulk decisions (models/approvals.py)
    report it per item instead."""
    ref = item_ref(session, item)
    refusal = _refusal(action, item, actor, co_unit_ids(session, item))
    if refusal is not None:
        return refusal.error(f"{ref}: {actor.email} ({actor.role}) cannot {action}: {refusal.reason}",
                             code=refusal.code, params={"ref": ref, "actor": actor.email, "role": actor.role,
                                                        "action": action, **refusal.params})
    for key in TRANSITIONS[action].requires:
        if not str(payload.get(key) or "").strip():
            return InvalidInput(f"{ref}: {action} needs a {key}", code="action.field_required",
                                params={"ref": ref, "action": action, "field": key})
    if action is Action.URGE:
        return _urged_too_soon(session, item, ref, now)
    return None


def _urged_too_soon(session: Session, item: Item, ref: str, now: datetime) -> DubanError | None:
    """催办 at most once in `urge_interval_hours` (settings) per item and lead unit: a later urge of the
    same unit is refused, naming the last one; a new lead unit may be urged at once."""
    from config.settings import get_settings

    settings = get_settings()
    hours = settings.urge_interval_hours
    if not hours:
        return None
    recent = session.exec(
        select(ItemEvent).where(ItemEvent.item_id == item.id, ItemEvent.kind == "urged",
                                ItemEvent.at > now - timedelta(hours=hours))
        .order_by(col(ItemEvent.at).desc(), col(ItemEvent.id).desc())
    ).all()
    # Urges recorded before the unit was kept in the event count as the present lead unit's.
    last = next((e for e in recent if e.payload.get("unit_id", item.lead_unit_id) == item.lead_unit_id), None)
    if last is None:
        return None
    at = last.at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    return InvalidTransition(f"{ref} was urged by {last.actor_label} at {at} ({settings.timezone}); its lead unit is "
                         f"urged at most once in {hours:g} hours, so nothing was done",
                         code="urge.too_soon", params={"ref": ref, "by": last.actor_label, "at": at, "hours": f"{hours:g}"})


def apply(
    session: Session,
    item: Item,
    action: Action,
    actor: Person,
    now: datetime,
    **payload: Any,
) -> ItemEvent:
    """Check and apply one action; write its event and notifications. The caller commits.

    Raises InvalidTransition, Forbidden, InvalidInput or ConflictError, having changed nothing.
    """
    transition = TRANSITIONS[action]
    ref, who = item_ref(session, item), actor.email
    error = check(session, item, action, actor, now, payload)
    if error is not None:
        raise error

    deadline_version = item.deadline_version
    details = _EFFECTS.get(action, _no_effect)(session, item, actor, now, payload)
    if action in _ACKNOWLEDGING:
        acknowledge_unit(session, item, actor, now)
    from_status = item.status
    if transition.target is not None:
        item.status = transition.target
    if item.status in (Status.SIGNED_OFF, Status.CANCELLED, Status.SUBMITTED):
        item.next_action_at = None  # no reminders: final, or waiting on the supervisor
    elif from_status == Status.SUBMITTED or item.deadline_version != deadline_version:
        item.next_action_at = now  # the sweep recomputes; thresholds already behind do not fire
    item.updated_at = now  # always: every action bumps the version, so races are detected
    event = ItemEvent(
        item_id=item.id,  # type: ignore[arg-type]
        kind=transition.event,
        at=now,
        actor_id=actor.id,
        actor_label=actor.label(),
        from_status=from_status,
        to_status=item.status,
        payload={k: _plain(v) for k, v in {**payload, **details}.items() if v is not None},
    )
    session.add(item)
    session.add(event)
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(
            f"{ref} was changed by someone else while {who} "
            f"tried to {action}; nothing was applied. Reload the item and try again.",
            code="item.changed", params={"ref": ref, "action": action},
        ) from None
    if item.frequency and action in (Action.REPORT_PROGRESS, Action.SUBMIT) and actor.unit_id == item.lead_unit_id:
        _fulfil_period(session, item, event, now)
    _notify(session, item, event)
    return event


def _fulfil_period(session: Session, item: Item, event: ItemEvent, now: datetime) -> None:
    """频次: the lead unit's report or submission fulfils the item's oldest open period (models.periods),
    with a `period_late` event when after its due day."""
    from config.settings import get_settings
    from models.periods import fulfil_period

    assert event.id is not None
    fulfil_period(session, item, event, now, get_settings().tz)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _no_effect(session: Session, item: Item, actor: Person, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {}


def _report_progress(session: Session, item: Item, actor: Person, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    percent = payload.get("percent")
    if percent is not None and not 0 <= int(percent) <= 100:
        ref = item_ref(session, item)
        raise InvalidInput(f"{ref}: percent must be between 0 and 100, not {percent}",
                           code="progress.percent_range", params={"ref": ref, "percent": percent})
    session.add(ProgressReport(
        item_id=item.id, unit_id=actor.unit_id, person_id=actor.id,  # type: ignore[arg-type]
        text=payload["text"].strip(), percent=percent, at=now,
    ))
    return {}


def _pending_extension(session: Session, item: Item) -> ExtensionRequest | None:
    return session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.item_id == item.id, ExtensionRequest.status == ExtensionStatus.PENDING
        )
    ).first()


def _request_extension(session: Session, item: Item, actor: Person, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    ref = item_ref(session, item)
    requested: date = payload["deadline"]
    if requested <= item.deadline:
        raise InvalidInput(
            f"{ref}: the requested deadline {requested} is not later than the current deadline {item.deadline}",
            code="extension.not_later", params={"ref": ref, "requested": requested, "current": item.deadline},
        )
    if _pending_extension(session, item) is not None:
        raise InvalidInput(f"{ref}: an extension request is already waiting for a decision",
                           code="extension.already_waiting", params={"ref": ref})
    session.add(ExtensionRequest(
        item_id=item.id, requested_deadline=requested, reason=payload["reason"].strip(),  # type: ignore[arg-type]
        requester_id=actor.id, requested_at=now,  # type: ignore[arg-type]
    ))
    return {"old_deadline": item.deadline}


def _decide_extension(approve: bool):  # type: ignore[no-untyped-def]
    def effect(session: Session, item: Item, actor: Person, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        request = _pending_extension(session, item)
        if request is None:
            ref = item_ref(session, item)
            raise InvalidInput(f"{ref}: there is no extension request waiting for a decision",
                               code="extension.none_waiting", params={"ref": ref})
        request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        request.decider_id, request.decided_at = actor.id, now
        request.decision_reason = str(payload.get("reason") or "").strip()
        session.add(request)
        details: dict[str, Any] = {"requested_deadline": request.requested_deadline, "request_id": request.id}
        if approve:
            details |= {"old_deadline": item.deadline, "new_deadline": request.requested_deadline}
            change_deadline(item, request.requested_deadline)
            if item.frequency:  # 频次: the periods follow the new end date
                from models.periods import reschedule_periods

                reschedule_periods(session, item)
        return details

    return effect


def change_deadline(item: Item, new_deadline: date, now: datetime | None = None) -> None:
    """A new deadline starts a new deadline version: escalation starts again from level 0.

    Callers outside `apply` (the import) pass `now`: the next sweep recomputes from that instant.
    """
    item.deadline = new_deadline
    item.deadline_version += 1
    item.escalation_level = 0
    if now is not None and item.status in (Status.ASSIGNED, Status.IN_PROGRESS):
        item.next_action_at = now


def acknowledgements(session: Session, item: Item) -> dict[int, ItemAcknowledgement]:
    """The item's 签收 rows by unit id."""
    rows = session.exec(select(ItemAcknowledgement).where(ItemAcknowledgement.item_id == item.id)).all()
    return {row.unit_id: row for row in rows}


def acknowledge_unit(session: Session, item: Item, actor: Person, now: datetime) -> bool:
    """Record that `actor`'s unit acknowledged `item` (once per unit); True when it had not yet."""
    if actor.unit_id is None or actor.unit_id in acknowledgements(session, item):
        return False
    session.add(ItemAcknowledgement(item_id=item.id, unit_id=actor.unit_id, person_id=actor.id, at=now))  # type: ignore[arg-type]
    if actor.unit_id == item.lead_unit_id:
        item.acknowledge_due_at = None  # the sweep's 签收 reminder is no longer due
    return True


def require_acknowledgement(session: Session, item: Item, unit_id: int, due_at: datetime | None) -> None:
    """`unit_id` (a new lead unit) must acknowledge `item` afresh; its reminder falls at `due_at`."""
    row = session.get(ItemAcknowledgement, (item.id, unit_id))
    if row is not None:
        session.delete(row)
    item.acknowledge_due_at = due_at


def _acknowledge(session: Session, item: Item, actor: Person, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    ref = item_ref(session, item)
    late = item.acknowledge_due_at is not None and now >= item.acknowledge_due_at and actor.unit_id == item.lead_unit_id
    if not acknowledge_unit(session, item, actor, now):
        raise InvalidInput(f"{ref}: your unit has already acknowledged it", code="acknowledge.already",
                           params={"ref": ref})
    return {"unit_id": actor.unit_id, **({"late": True} if late else {})}


def _urge(session: Session, item: Item, actor: Person, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    # The unit urged, for the limit on urging it again (`_urged_too_soon`). A leader's 催办 copies
    # the lead unit's leaders too (models/notices.py, `urged_by_leader`).
    return {"unit_id": item.lead_unit_id, **({"by_leader": True} if actor.role == Role.LEADER else {})}


_EFFECTS = {
    Action.ACKNOWLEDGE: _acknowledge,
    Action.URGE: _urge,
    Action.EDIT: edit_effect,
    Action.REPORT_PROGRESS: _report_progress,
    Action.REQUEST_EXTENSION: _request_extension,
    Action.APPROVE_EXTENSION: _decide_extension(True),
    Action.REJECT_EXTENSION: _decide_extension(False),
}

def _notify(session: Session, item: Item, event: ItemEvent) -> None:
    """Queue the notice this event causes, if any: models/notices.py says who is told."""
    kind = "urged_by_leader" if event.kind == "urged" and event.payload.get("by_leader") else event.kind
    recipients = People(session).for_event(kind, item)
    if recipients is None:
        return
    if kind == "commented":  # earlier commenters hear of it too; the commenter does not
        recipients = comment_recipients(session, item, event, recipients)
    session.add(Notification(
        key=f"event:{event.id}", item_id=item.id, kind=event.kind,  # type: ignore[arg-type]
        deadline_version=item.deadline_version, to_addrs=recipients.to, cc_addrs=recipients.cc,
        unreached=recipients.unreached, payload={"event_id": event.id, **event.payload, **recipients.notes()},
        created_at=event.at,
    ))
    if kind == "edited":
        notify_edit(session, item, event)
