"""签收 (units acknowledge an item) and 催办 (supervisors and leaders urge the lead unit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from config.calendar import load_calendar
from config.policy import load_policy
from models.acknowledge import remind_unacknowledged
from models.errors import Forbidden, InvalidInput, InvalidTransition
from models.lifecycle import Action, acknowledgements, apply
from models.schedule import Schedule
from models.tables import ItemEvent, Notification, Role, Status
from tests.conftest import TZ
from tests.factories import make_item, make_person, make_unit

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def cast(session: Session) -> dict[str, Any]:
    lead = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"], leader_emails=["boss@fgw.gov.cn"])
    co = make_unit(session, "市财政局", contact_emails=["czj@example.gov.cn"])
    people = {
        "lead": make_person(session, Role.OFFICER, lead), "co": make_person(session, Role.OFFICER, co),
        "other": make_person(session, Role.OFFICER, make_unit(session, "市商务局")),
        "sup": make_person(session, Role.SUPERVISOR), "leader": make_person(session, Role.LEADER),
    }
    due = Schedule(load_policy(), load_calendar(), TZ).acknowledge_due_at(NOW)
    item = make_item(session, lead_unit=lead, co_units=(co,), supervisor=people["sup"], acknowledge_due_at=due)
    session.commit()
    return {"item": item, "lead": lead, "co": co, **people}


def test_each_unit_acknowledges_once_and_the_timeline_says_so(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    event = apply(session, item, Action.ACKNOWLEDGE, cast["lead"], NOW)
    apply(session, item, Action.ACKNOWLEDGE, cast["co"], NOW)
    session.commit()
    assert event.kind == "acknowledged" and item.status == Status.ASSIGNED
    assert set(acknowledgements(session, item)) == {cast["lead"].unit_id, cast["co"].unit_id}
    assert item.acknowledge_due_at is None, "the lead unit's acknowledgement ends the reminder"
    with pytest.raises(InvalidInput) as again:
        apply(session, item, Action.ACKNOWLEDGE, cast["lead"], NOW)
    assert again.value.code == "acknowledge.already"
    with pytest.raises(Forbidden):
        apply(session, item, Action.ACKNOWLEDGE, cast["other"], NOW)


def test_reporting_progress_acknowledges_for_the_unit(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    apply(session, item, Action.REPORT_PROGRESS, cast["lead"], NOW, text="已召开协调会")
    session.commit()
    assert cast["lead"].unit_id in acknowledgements(session, item) and item.acknowledge_due_at is None


def test_a_late_acknowledgement_is_marked_late_for_the_scores(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    late = item.acknowledge_due_at + timedelta(hours=1)
    assert apply(session, item, Action.ACKNOWLEDGE, cast["lead"], late).payload == {"unit_id": cast["lead"].unit_id,
                                                                                    "late": True}


def test_supervisors_and_leaders_urge_the_lead_unit_in_words(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    apply(session, item, Action.URGE, cast["sup"], NOW, text="请本周内报送进展")
    apply(session, item, Action.URGE, cast["leader"], NOW + timedelta(days=1), text="抓紧推进")  # 24 h on: see the limit below
    session.commit()
    notes = session.exec(select(Notification).where(Notification.kind == "urged").order_by(Notification.id)).all()
    assert [n.to_addrs for n in notes] == [["fgw@example.gov.cn"], ["fgw@example.gov.cn"]]
    assert notes[0].cc_addrs == ["czj@example.gov.cn"]
    assert notes[1].cc_addrs == ["czj@example.gov.cn", "boss@fgw.gov.cn"], "a leader's urging copies the unit's leaders"
    assert notes[0].payload["text"] == "请本周内报送进展"
    kinds = session.exec(select(ItemEvent.kind).where(ItemEvent.item_id == item.id)).all()
    assert kinds.count("urged") == 2


def test_urging_is_refused_to_officers_on_closed_items_and_without_words(session: Session, cast: dict[str, Any]) -> None:
    item = cast["item"]
    with pytest.raises(Forbidden) as officer:
        apply(session, item, Action.URGE, cast["lead"], NOW, text="x")
    assert officer.value.code == "action.urger_only"
    with pytest.raises(InvalidInput):
        apply(session, item, Action.URGE, cast["sup"], NOW, text="  ")
    closed = make_item(session, lead_unit=cast["lead"], status=Status.SIGNED_OFF)
    with pytest.raises(InvalidTransition):
        apply(session, closed, Action.URGE, cast["sup"], NOW, text="请推进")


def test_an_unacknowledged_item_is_reminded_once_after_two_working_days(session: Session, cast: dict[str, Any]) -> None:
    item, policy = cast["item"], load_policy()
    assert item.acknowledge_due_at == datetime(2024, 6, 5, tzinfo=TZ), "Wednesday 00:00: two working days on"
    assert remind_unacknowledged(session, datetime(2024, 6, 4, 12, tzinfo=TZ), policy) == 0
    assert remind_unacknowledged(session, datetime(2024, 6, 5, 9, tzinfo=TZ), policy) == 1
    session.commit()
    assert remind_unacknowledged(session, datetime(2024, 6, 6, 9, tzinfo=TZ), policy) == 0
    note = session.exec(select(Notification).where(Notification.kind == "acknowledge_reminder")).one()
    assert note.to_addrs == ["fgw@example.gov.cn"]
    event = session.exec(select(ItemEvent).where(ItemEvent.kind == "acknowledge_reminded")).one()
    assert event.item_id == item.id


def test_an_acknowledged_item_is_not_reminded(session: Session, cast: dict[str, Any]) -> None:
    apply(session, cast["item"], Action.ACKNOWLEDGE, cast["lead"], NOW)
    session.commit()
    assert remind_unacknowledged(session, datetime(2024, 6, 10, tzinfo=TZ), load_policy()) == 0


def test_the_reminder_falls_on_working_days() -> None:
    schedule = Schedule(load_policy(), load_calendar(), TZ)
    friday = datetime(2024, 6, 7, 10, tzinfo=TZ)
    # Monday 10 June 2024 is 端午节: the two working days are Tuesday 11 and Wednesday 12.
    assert schedule.acknowledge_due_at(friday) == datetime(2024, 6, 12, tzinfo=TZ)
