"""Period events and notices name their period by its first day (`period_starts`), beside the display
string; events written before that are still read by the display string."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import col, select

from config.calendar import load_calendar
from config.policy import DEFAULT_POLICY_FILE, load_policy
from models.lifecycle import Action, apply
from models.periods import period_named, period_starts, schedule_periods
from models.schedule import Schedule
from models.sweep import sweep
from models.tables import ItemEvent, ItemPeriod, Notification, Role
from tests.conftest import TZ
from tests.factories import make_document, make_item, make_person, make_unit

CALENDAR = load_calendar(Path(__file__).parents[2] / "config" / "calendar.yaml")


def test_old_and_new_payloads_name_the_same_period() -> None:
    new = {"period": "2024-07-01 – 2024-09-30", "period_starts": "2024-07-01", "period_due": "2024-10-10"}
    old = {"period": "2024-07-01 – 2024-09-30", "period_due": "2024-10-10"}
    assert period_starts(new) == period_starts(old) == date(2024, 7, 1)
    assert period_named(7, new) == period_named(7, old) == (7, date(2024, 7, 1), date(2024, 10, 10))
    assert period_starts({"period": "someday"}) is None and period_named(7, {}) is None
    assert period_starts({"period_starts": "2024-07-01", "period": "garbled"}) == date(2024, 7, 1)


def test_swept_and_late_period_events_carry_their_periods_first_day(session) -> None:
    policy = load_policy(DEFAULT_POLICY_FILE)
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"])
    officer = make_person(session, Role.OFFICER, lead)
    item = make_item(session, document=make_document(session), lead_unit=lead, deadline=date(2024, 12, 31),
                     frequency="monthly", created_at=datetime(2024, 7, 1, 1, tzinfo=UTC), next_action_at=None)
    schedule_periods(session, [item], Schedule(policy, CALENDAR, TZ))
    session.commit()
    sweep(session, now=datetime(2024, 9, 2, 1, tzinfo=UTC), policy=policy, calendar=CALENDAR, tz=TZ)
    apply(session, item, Action.REPORT_PROGRESS, officer, datetime(2024, 9, 3, 1, tzinfo=UTC), text="七月报告")
    session.commit()
    starts = {p.starts for p in session.exec(select(ItemPeriod).where(ItemPeriod.item_id == item.id))}
    events = list(session.exec(select(ItemEvent).where(col(ItemEvent.kind).startswith("period_"))))
    assert {e.kind for e in events} >= {"period_missed", "period_late"}
    for event in events:
        assert date.fromisoformat(event.payload["period_starts"]) in starts
        assert event.payload["period"].startswith(event.payload["period_starts"])
    notices = list(session.exec(select(Notification).where(col(Notification.kind).startswith("period_"))))
    assert notices and all(date.fromisoformat(n.payload["period_starts"]) in starts for n in notices)
