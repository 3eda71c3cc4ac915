"""Editing an item on the desk, leaders' 批示 and 留言: refusals, events and notices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from models.errors import Forbidden, InvalidInput
from models.lifecycle import Action, acknowledgements, apply, co_unit_ids
from models.tables import Item, ItemEvent, Notification, Role, Status
from tests.factories import make_item, make_person, make_unit

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def cast(session: Session) -> dict[str, Any]:
    lead = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"])
    co = make_unit(session, "市财政局", contact_emails=["czj@example.gov.cn"])
    other = make_unit(session, "市商务局", contact_emails=["swj@example.gov.cn"])
    people = {
        "lead": make_person(session, Role.OFFICER, lead, email="officer@fgw.gov.cn"),
        "co": make_person(session, Role.OFFICER, co, email="officer@czj.gov.cn"),
        "stranger": make_person(session, Role.OFFICER, other),
        "sup": make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn"),
        "sup2": make_person(session, Role.SUPERVISOR, email="sup2@dc.gov.cn"),
        "leader": make_person(session, Role.LEADER, email="leader@gov.cn"),
    }
    item = make_item(session, lead_unit=lead, co_units=(co,), supervisor=people["sup"], deadline=date(2024, 6, 30))
    session.commit()
    return {"item": item, "lead_unit": lead, "co_unit": co, "other_unit": other, **people}


def _notes(session: Session, kind: str) -> list[Notification]:
    return list(session.exec(select(Notification).where(Notification.kind == kind).order_by(Notification.id)).all())


def test_an_edit_is_one_event_naming_old_and_new_values(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    event = apply(session, item, Action.EDIT, cast["sup"], NOW, title="新标题", category="营商环境",
                  deadline=date(2024, 7, 31), reason="上级调整安排", supervisor="sup2@dc.gov.cn")
    session.commit()
    assert event.kind == "edited"
    assert {k: v for k, v in event.payload.items() if k not in ("reason", "summary")} == {
        "title": {"old": "推动政策落地见效", "new": "新标题"},
        "category": {"old": "", "new": "营商环境"},
        "deadline": {"old": "2024-06-30", "new": "2024-07-31"},
        "supervisor": {"old": "sup@dc.gov.cn", "new": "sup2@dc.gov.cn"},
    }
    assert event.payload["reason"] == "上级调整安排"
    assert (item.title, item.deadline, item.original_deadline) == ("新标题", date(2024, 7, 31), date(2024, 6, 30))
    assert item.deadline_version == 2 and item.next_action_at == NOW, "a new deadline version: the sweep recomputes"
    [note] = _notes(session, "edited")
    assert note.to_addrs == ["fgw@example.gov.cn"] and note.cc_addrs == ["czj@example.gov.cn"]
    assert "deadline: 2024-06-30 → 2024-07-31" in note.payload["summary"]


def test_a_new_lead_unit_is_assigned_and_must_acknowledge(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    apply(session, item, Action.ACKNOWLEDGE, cast["lead"], NOW)
    event = apply(session, item, Action.EDIT, cast["sup"], NOW, lead_unit="商务", co_units=["市发改委"])
    session.commit()
    assert event.payload["lead_unit"]["new"] == "市商务局"
    assert event.payload["co_units"] == {"old": ["市财政局"], "new": ["市发改委"]}
    assert item.lead_unit_id == cast["other_unit"].id
    assert co_unit_ids(session, item) == {cast["lead_unit"].id}
    assert cast["other_unit"].id not in acknowledgements(session, item)
    assert item.acknowledge_due_at is not None, "the new lead unit is reminded to acknowledge"
    [assigned] = _notes(session, "assigned")
    assert assigned.to_addrs == ["swj@example.gov.cn"]
    told = sorted(a for n in _notes(session, "edited") for a in n.to_addrs)
    assert told == ["fgw@example.gov.cn", "swj@example.gov.cn"], "the old and the new lead unit hear of it"


@pytest.mark.parametrize(("change", "code"), [
    ({"deadline": date(2024, 5, 1), "reason": "x"}, "edit.deadline_past"),
    ({"deadline": date(2024, 6, 20)}, "edit.deadline_reason"),
    ({"deadline": date(2024, 7, 20), "reason": "  "}, "edit.deadline_reason"),
    ({"lead_unit": "市发改局"}, "unit.not_found_close"),
    ({"supervisor": "officer@fgw.gov.cn"}, "edit.supervisor_role"),
    ({"title": "推动政策落地见效"}, "edit.nothing"),
    ({"title": "  "}, "edit.title_empty"),
])
def test_bad_edits_are_refused_and_change_nothing(
    session: Session, cast: dict[str, Any], change: dict[str, Any], code: str,
) -> None:
    item = cast["item"]
    with pytest.raises(InvalidInput) as refused:
        apply(session, item, Action.EDIT, cast["sup"], NOW, title="另一个标题", **change) if code not in (
            "edit.nothing", "edit.title_empty") else apply(session, item, Action.EDIT, cast["sup"], NOW, **change)
    session.rollback()
    assert refused.value.code == code
    again = session.get(Item, item.id)
    assert again is not None and again.title == "推动政策落地见效" and again.deadline == date(2024, 6, 30)
    assert session.exec(select(ItemEvent).where(ItemEvent.kind == "edited")).first() is None


def test_the_closest_unit_names_are_suggested(session: Session, cast: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        apply(session, cast["item"], Action.EDIT, cast["sup"], NOW, lead_unit="市发改局")
    assert "市发改委" in str(refused.value)


def test_only_supervisors_edit_open_items(session: Session, cast: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        apply(session, cast["item"], Action.EDIT, cast["lead"], NOW, title="x")
    with pytest.raises(Forbidden):
        apply(session, cast["item"], Action.EDIT, cast["leader"], NOW, title="x")
    closed = make_item(session, lead_unit=cast["lead_unit"], status=Status.SIGNED_OFF)
    with pytest.raises(Exception, match="edit is allowed only"):
        apply(session, closed, Action.EDIT, cast["sup"], NOW, title="x")


def test_a_leaders_instruction_goes_to_the_lead_unit_and_the_supervisor(session: Session, cast: dict[str, Any]) -> None:
    event = apply(session, cast["item"], Action.INSTRUCT, cast["leader"], NOW, text="要加快进度，月底前见成效")
    session.commit()
    assert event.kind == "instructed" and event.payload == {"text": "要加快进度，月底前见成效"}
    [note] = _notes(session, "instructed")
    assert note.to_addrs == ["fgw@example.gov.cn", "sup@dc.gov.cn"]


@pytest.mark.parametrize("who", ["sup", "lead", "stranger"])
def test_only_leaders_write_instructions(session: Session, cast: dict[str, Any], who: str) -> None:
    with pytest.raises(Forbidden) as refused:
        apply(session, cast["item"], Action.INSTRUCT, cast[who], NOW, text="x")
    assert refused.value.code == "action.leader_only"


def test_comments_tell_the_other_parties_and_earlier_commenters(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    apply(session, item, Action.COMMENT, cast["co"], NOW, text="财政资金已到位")
    apply(session, item, Action.COMMENT, cast["sup"], NOW + timedelta(minutes=1), text="收到")
    session.commit()
    first, second = _notes(session, "commented")
    assert first.to_addrs == ["fgw@example.gov.cn", "sup@dc.gov.cn"]
    assert second.to_addrs == ["fgw@example.gov.cn", "officer@czj.gov.cn"], "not the commenter; the earlier one"
    with pytest.raises(Forbidden):
        apply(session, item, Action.COMMENT, cast["stranger"], NOW, text="x")
    with pytest.raises(InvalidInput):
        apply(session, item, Action.COMMENT, cast["lead"], NOW, text=" ")


def test_rejecting_an_extension_needs_a_reason(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    apply(session, item, Action.REQUEST_EXTENSION, cast["lead"], NOW, deadline=date(2024, 8, 1), reason="资金未到")
    with pytest.raises(InvalidInput) as refused:
        apply(session, item, Action.REJECT_EXTENSION, cast["sup"], NOW)
    assert refused.value.code == "action.field_required"
