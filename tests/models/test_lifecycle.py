"""The lifecycle: who may do what from which state, the audit trail, and lost races."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from models.errors import ConflictError, Forbidden, InvalidInput, InvalidTransition
from models.lifecycle import TRANSITIONS, Action, allowed_actions, apply
from models.tables import (
    ExtensionRequest,
    Item,
    ItemEvent,
    Notification,
    ProgressReport,
    Role,
    Status,
)
from tests.factories import make_item, make_person, make_unit


@pytest.fixture
def cast(session: Session):  # type: ignore[no-untyped-def]
    lead, co, other = make_unit(session, "市发改委"), make_unit(session, "市财政局"), make_unit(session, "市商务局")
    people = {
        "lead": make_person(session, Role.OFFICER, lead),
        "co": make_person(session, Role.OFFICER, co),
        "other": make_person(session, Role.OFFICER, other),
        "sup": make_person(session, Role.SUPERVISOR),
        "sup2": make_person(session, Role.SUPERVISOR),
        "admin": make_person(session, Role.ADMIN),
        "leader": make_person(session, Role.LEADER),
        "sup_of_lead": make_person(session, Role.SUPERVISOR, lead),
    }
    item = make_item(session, lead_unit=lead, co_units=(co,), supervisor=people["sup"])
    session.commit()
    return item, people


def events(session: Session, item: Item) -> list[str]:
    return [e.kind for e in session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id))]


def test_full_path_writes_one_event_per_change(session, cast, now):
    item, p = cast
    apply(session, item, Action.REPORT_PROGRESS, p["co"], now, text="已召开协调会", percent=30)
    assert item.status == Status.IN_PROGRESS
    apply(session, item, Action.SUBMIT, p["lead"], now, evidence="文件已印发")
    apply(session, item, Action.RETURN, p["sup"], now, reason="缺少印发文号")
    assert item.status == Status.IN_PROGRESS
    apply(session, item, Action.SUBMIT, p["lead"], now, evidence="附文号")
    apply(session, item, Action.SIGN_OFF, p["sup"], now, comment="同意销号")
    session.commit()
    assert item.status == Status.SIGNED_OFF and item.next_action_at is None
    assert events(session, item) == ["progress_reported", "submitted", "returned", "submitted", "signed_off"]
    assert session.exec(select(ProgressReport)).one().percent == 30
    kinds = sorted(n.kind for n in session.exec(select(Notification)))
    assert kinds == ["returned", "signed_off", "submitted", "submitted"]


def test_submit_allowed_straight_from_assigned(session, cast, now):
    item, p = cast
    apply(session, item, Action.SUBMIT, p["lead"], now, evidence="已完成")
    assert item.status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("action", "actor", "payload"),
    [
        (Action.SUBMIT, "co", {"evidence": "x"}),
        (Action.SUBMIT, "sup", {"evidence": "x"}),
        (Action.REPORT_PROGRESS, "other", {"text": "x"}),
        (Action.REPORT_PROGRESS, "leader", {"text": "x"}),
        (Action.REQUEST_EXTENSION, "co", {"reason": "x", "deadline": date(2024, 9, 30)}),
        (Action.CANCEL, "sup2", {"reason": "x"}),
        (Action.CANCEL, "lead", {"reason": "x"}),
    ],
)
def test_refused_actor_changes_nothing(session, cast, now, action, actor, payload):
    item, p = cast
    with pytest.raises(Forbidden) as refused:
        apply(session, item, action, p[actor], now, **payload)
    message = str(refused.value)
    assert "/" in message and p[actor].email in message and action in message
    session.rollback()
    session.refresh(item)
    assert item.status == Status.ASSIGNED and item.version == 1 and events(session, item) == []


def test_wrong_state_names_item_state_and_allowed_states(session, cast, now):
    item, p = cast
    with pytest.raises(InvalidTransition, match=r"it is assigned; sign_off is allowed only when it is submitted"):
        apply(session, item, Action.SIGN_OFF, p["sup"], now)


def test_final_states_allow_nothing(session, cast, now):
    item, p = cast
    apply(session, item, Action.CANCEL, p["admin"], now, reason="政策调整")
    for actor in p.values():
        assert allowed_actions(item, actor, set()) == []


def test_nobody_signs_off_their_own_units_item(session, cast, now):
    item, p = cast
    item.supervisor_id = None  # any supervisor may act
    apply(session, item, Action.SUBMIT, p["lead"], now, evidence="done")
    with pytest.raises(Forbidden, match="their own unit"):
        apply(session, item, Action.SIGN_OFF, p["sup_of_lead"], now)
    apply(session, item, Action.SIGN_OFF, p["sup2"], now)


def test_reason_and_evidence_are_required(session, cast, now):
    item, p = cast
    with pytest.raises(InvalidInput, match="needs a evidence"):
        apply(session, item, Action.SUBMIT, p["lead"], now, evidence="  ")
    apply(session, item, Action.SUBMIT, p["lead"], now, evidence="ok")
    with pytest.raises(InvalidInput, match="needs a reason"):
        apply(session, item, Action.RETURN, p["sup"], now)


def test_extension_approved_keeps_original_deadline_and_starts_new_version(session, cast, now):
    item, p = cast
    item.escalation_level = 2
    apply(session, item, Action.REQUEST_EXTENSION, p["lead"], now, deadline=date(2024, 9, 30), reason="等待省里批复")
    with pytest.raises(InvalidInput, match="already waiting"):
        apply(session, item, Action.REQUEST_EXTENSION, p["lead"], now, deadline=date(2024, 10, 30), reason="x")
    event = apply(session, item, Action.APPROVE_EXTENSION, p["sup"], now + timedelta(hours=1))
    session.commit()
    assert (item.original_deadline, item.deadline) == (date(2024, 6, 30), date(2024, 9, 30))
    assert item.deadline_version == 2 and item.escalation_level == 0
    assert event.payload["old_deadline"] == "2024-06-30" and event.payload["new_deadline"] == "2024-09-30"
    assert session.exec(select(ExtensionRequest)).one().status == "approved"


def test_extension_must_move_deadline_later_and_reject_needs_a_request(session, cast, now):
    item, p = cast
    with pytest.raises(InvalidInput, match="not later than the current deadline 2024-06-30") as refused:
        apply(session, item, Action.REQUEST_EXTENSION, p["lead"], now, deadline=date(2024, 6, 1), reason="x")
    ref = refused.value.params["ref"]
    assert refused.value.code == "extension.not_later"
    assert refused.value.params == {"ref": ref, "requested": "2024-06-01", "current": "2024-06-30"}
    with pytest.raises(InvalidInput, match="no extension request waiting"):
        apply(session, item, Action.REJECT_EXTENSION, p["sup"], now, reason="x")


def test_events_are_append_only_in_the_database(session, cast, now):
    item, p = cast
    apply(session, item, Action.SUBMIT, p["lead"], now, evidence="ok")
    session.commit()
    for statement in ("UPDATE item_event SET kind = 'x'", "DELETE FROM item_event"):
        with pytest.raises(Exception, match="append-only"):
            session.exec(text(statement))  # type: ignore[call-overload]
        session.rollback()
    assert events(session, item) == ["submitted"]


def test_two_supervisors_racing_one_wins_one_gets_a_conflict(engine, cast, now):
    item, p = cast
    with Session(engine) as s:
        apply(s, s.get(Item, item.id), Action.SUBMIT, s.get(type(p["lead"]), p["lead"].id), now, evidence="ok")
        s.commit()
    a, b = Session(engine), Session(engine)
    try:
        item_a, item_b = a.get(Item, item.id), b.get(Item, item.id)  # both read version 2
        sup_a, sup_b = a.get(type(p["sup"]), p["sup"].id), b.get(type(p["admin"]), p["admin"].id)
        apply(a, item_a, Action.SIGN_OFF, sup_a, now)
        a.commit()
        with pytest.raises(ConflictError, match="changed by someone else"):
            apply(b, item_b, Action.RETURN, sup_b, now, reason="材料不全")
        b.rollback()
    finally:
        a.close()
        b.close()
    with Session(engine) as s:
        assert s.get(Item, item.id).status == Status.SIGNED_OFF
        assert events(s, item) == ["submitted", "signed_off"]


def test_every_transition_names_its_event_and_sources():
    for action, transition in TRANSITIONS.items():
        assert transition.sources and transition.event, action


def test_refusals_carry_a_code_and_plain_params_for_other_languages(session, cast, now):
    item, p = cast
    with pytest.raises(Forbidden) as refused:
        apply(session, item, Action.SUBMIT, p["co"], now, evidence="x")
    assert refused.value.code == "action.lead_unit_only"
    assert {k: refused.value.params[k] for k in ("action", "role")} == {"action": "submit", "role": "officer"}
    assert "cannot submit: submit may be done only by officers of the lead unit" in str(refused.value)
    apply(session, item, Action.SUBMIT, p["lead"], now, evidence="x")
    with pytest.raises(InvalidTransition) as refused:
        apply(session, item, Action.REPORT_PROGRESS, p["lead"], now, text="x")
    assert refused.value.code == "action.wrong_state"
    assert (refused.value.params["status"], refused.value.params["allowed"]) == ("submitted", ["assigned", "in_progress"])
    item.supervisor_id = None  # any supervisor may sign off, but not one of the lead unit
    with pytest.raises(Forbidden) as refused:
        apply(session, item, Action.SIGN_OFF, p["sup_of_lead"], now)
    assert refused.value.code == "action.own_unit_sign_off"
