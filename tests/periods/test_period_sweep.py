"""The sweep treats each period of a recurring item like an item (SQLite and PostgreSQL): reminded
before its due day, flagged missing after it, escalated, each once, keyed by (item, period)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from config.calendar import WorkCalendar, load_calendar
from config.policy import DEFAULT_POLICY_FILE, Policy, load_policy
from models.deadlines import start_of_day
from models.ledger.apply import import_ledger
from models.lifecycle import Action, apply
from models.periods import schedule_periods
from models.queries import find_item, find_person
from models.schedule import Schedule
from models.sweep import SweepResult, sweep
from models.tables import ItemEvent, ItemPeriod, Notification, Role
from tests.conftest import TZ
from tests.factories import make_document, make_item, make_person, make_unit
from tests.periods.test_periods import MID_YEAR, ROWS, SHANGHAI, files
from tests.sweep.conftest import sweeps_at_once

CALENDAR_FILE = Path(__file__).parents[2] / "config" / "calendar.yaml"
QUARTERLY = "新时代意见/1"


@pytest.fixture
def policy() -> Policy:
    return load_policy(DEFAULT_POLICY_FILE)


@pytest.fixture
def calendar() -> WorkCalendar:
    return load_calendar(CALENDAR_FILE)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def run(session: Session, at: datetime, policy: Policy, calendar: WorkCalendar) -> SweepResult:
    result = sweep(session, now=at, policy=policy, calendar=calendar, tz=TZ, after_batch=session.commit)
    session.commit()
    return result


def period_events(session: Session, ref: str) -> list[tuple[str, str, str]]:
    """(kind, period, threshold) of the item's period events, in order."""
    item = find_item(session, ref)
    return [(e.kind, e.payload["period"], e.payload.get("threshold", "")) for e in session.exec(
        select(ItemEvent).where(ItemEvent.item_id == item.id, col(ItemEvent.kind).startswith("period_"))
        .order_by(col(ItemEvent.id)))]


def period_notices(session: Session, ref: str) -> list[tuple[str, list[str], list[str]]]:
    item = find_item(session, ref)
    return [(n.kind, n.to_addrs, n.cc_addrs) for n in session.exec(
        select(Notification).where(Notification.item_id == item.id, col(Notification.kind).startswith("period_"))
        .order_by(col(Notification.id)))]


def quarters(session: Session, ref: str) -> list[ItemPeriod]:
    item = find_item(session, ref)
    return list(session.exec(select(ItemPeriod).where(ItemPeriod.item_id == item.id).order_by(col(ItemPeriod.starts))))


Q3, Q4 = "2024-07-01 – 2024-09-30", "2024-10-01 – 2024-12-31"


def test_a_quarterly_item_imported_mid_year_is_reminded_flagged_fulfilled_late_and_its_q4_scheduled(
        session, tmp_path, policy, calendar):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    q3, q4 = quarters(session, QUARTERLY)
    # Each period is swept from its first threshold: seven working days before its due day.
    assert q3.next_action_at == start_of_day(calendar.add_workdays(date(2024, 9, 30), -7), TZ)
    assert q4.next_action_at == start_of_day(calendar.add_workdays(date(2024, 12, 31), -7), TZ)

    run(session, local("2024-07-16T09:00"), policy, calendar)
    assert period_events(session, QUARTERLY) == []

    run(session, local("2024-09-25T09:00"), policy, calendar)
    assert period_events(session, QUARTERLY) == [("period_reminder", Q3, "before-7")]
    assert period_notices(session, QUARTERLY) == [("period_reminder", ["fgw@example.gov.cn"], [])]
    again = run(session, local("2024-09-25T09:00"), policy, calendar)
    assert again.periods == 0 and len(period_events(session, QUARTERLY)) == 1

    # After the National Day holidays: the last reminder and the due day have passed unreported.
    run(session, local("2024-10-08T09:00"), policy, calendar)
    assert period_events(session, QUARTERLY)[1:] == [("period_reminder", Q3, "before-1"),
                                                     ("period_missed", Q3, "overdue")]
    assert period_notices(session, QUARTERLY)[1:] == [("period_missed", ["fgw@example.gov.cn"], [])]
    run(session, local("2024-10-08T18:00"), policy, calendar)
    assert len(period_events(session, QUARTERLY)) == 3

    # The lead unit reports late: Q3 is fulfilled late (once), and is chased no more.
    item = find_item(session, QUARTERLY)
    apply(session, item, Action.REPORT_PROGRESS, find_person(session, "fgw@example.gov.cn"),
          local("2024-10-09T10:00"), text="已报送三季度情况")
    session.commit()
    run(session, local("2024-10-21T09:00"), policy, calendar)  # past escalation level 1 of Q3
    kinds = Counter(kind for kind, _, _ in period_events(session, QUARTERLY))
    assert kinds == {"period_reminder": 2, "period_missed": 1, "period_late": 1}
    late = session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id, ItemEvent.kind == "period_late")).one()
    assert late.payload["period"] == Q3 and late.payload["period_due"] == "2024-09-30"
    assert late.actor_label and late.payload["days_overdue"] == 9
    q3, q4 = quarters(session, QUARTERLY)
    assert q3.fulfilled_at is not None and q3.next_action_at is None and q3.level == 0
    assert q4.fulfilled_at is None and q4.next_action_at == start_of_day(
        calendar.add_workdays(date(2024, 12, 31), -7), TZ)

    # Q4, its obligation scheduled, is reminded in its turn.
    run(session, local("2024-12-23T09:00"), policy, calendar)
    assert period_events(session, QUARTERLY)[-1] == ("period_reminder", Q4, "before-7")


def test_a_catch_up_records_every_threshold_once_and_tells_each_address_the_most_severe(
        session, tmp_path, policy, calendar):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    first = run(session, local("2024-10-14T09:00"), policy, calendar)  # the sweep was down since July
    assert period_events(session, QUARTERLY) == [
        ("period_reminder", Q3, "before-7"), ("period_reminder", Q3, "before-1"),
        ("period_missed", Q3, "overdue"), ("period_escalated", Q3, "level-1")]
    # Escalation level 1 to the unit's leaders (the lead unit copied); the lead unit, only copied
    # there, still hears that its report is missing.
    assert period_notices(session, QUARTERLY) == [
        ("period_escalated", ["fsz-wang@example.gov.cn"], ["fgw@example.gov.cn"]),
        ("period_missed", ["fgw@example.gov.cn"], [])]
    q3, _ = quarters(session, QUARTERLY)
    assert q3.level == 1 and q3.next_action_at is not None and q3.next_action_at > local("2024-10-14T09:00")
    assert first.events["period_missed"] >= 1
    before = (period_events(session, QUARTERLY), period_notices(session, QUARTERLY))
    second = run(session, local("2024-10-14T09:00"), policy, calendar)
    assert second.periods == 0 and not any(k.startswith("period_") for k in second.events)
    assert (period_events(session, QUARTERLY), period_notices(session, QUARTERLY)) == before


def test_a_period_made_before_the_sweep_existed_is_caught_up_after_0015_as_one_scheduled_then(
        session, tmp_path, policy, calendar):
    """0015 gives a never-scheduled period an instant before any threshold: the next sweep records
    exactly what it does for a period swept from its first threshold (the catch-up above)."""
    from importlib import import_module

    from sqlalchemy import update

    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.execute(update(ItemPeriod).values(  # what 0015 sets a period the import left unscheduled to
        next_action_at=import_module("migrations.versions.0015_period_schedule").BEFORE_ANY_THRESHOLD))
    session.commit()
    run(session, local("2024-10-14T09:00"), policy, calendar)
    assert period_events(session, QUARTERLY) == [
        ("period_reminder", Q3, "before-7"), ("period_reminder", Q3, "before-1"),
        ("period_missed", Q3, "overdue"), ("period_escalated", Q3, "level-1")]
    q3, q4 = quarters(session, QUARTERLY)
    assert q3.level == 1 and q3.next_action_at is not None and q3.next_action_at > local("2024-10-14T09:00")
    assert q4.next_action_at == start_of_day(calendar.add_workdays(date(2024, 12, 31), -7), TZ)  # its first threshold

def test_each_period_of_a_monthly_item_is_flagged_once(session, tmp_path, policy, calendar):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    for day in ("2024-07-26", "2024-08-27", "2024-08-28", "2024-09-26"):
        run(session, local(f"{day}T09:00"), policy, calendar)
    missed = [period for kind, period, _ in period_events(session, "新时代意见/2") if kind == "period_missed"]
    assert missed == ["2024-07-01 – 2024-07-31", "2024-08-01 – 2024-08-31", "2024-09-01 – 2024-09-30"]


def test_the_periods_of_a_cancelled_item_are_chased_no_more(session, tmp_path, policy, calendar):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    item = find_item(session, QUARTERLY)
    apply(session, item, Action.CANCEL, make_person(session, Role.ADMIN), MID_YEAR, reason="合并办理")
    session.commit()
    run(session, local("2024-10-21T09:00"), policy, calendar)
    run(session, local("2025-01-10T09:00"), policy, calendar)  # past every threshold of Q3 and Q4
    assert period_events(session, QUARTERLY) == []
    assert all(p.next_action_at is None for p in quarters(session, QUARTERLY))


def test_a_changed_due_day_starts_the_period_afresh(session, tmp_path, policy, calendar):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    session.commit()
    run(session, local("2024-09-25T09:00"), policy, calendar)
    rows = [list(r) for r in ROWS]
    rows[0][-1] = "每季度首月10日前"  # Q3's report now due 10 October
    import_ledger(session, files(tmp_path / "changed", rows), now=MID_YEAR)
    session.commit()
    q3 = quarters(session, QUARTERLY)[0]
    assert q3.due == date(2024, 10, 10) and q3.level == 0
    run(session, local("2024-10-08T09:00"), policy, calendar)
    assert [k for k, _, _ in period_events(session, QUARTERLY)] == ["period_reminder", "period_reminder"]


def test_two_sweeps_at_once_handle_each_period_once(db_url, session, policy, calendar):
    lead, document = make_unit(session, contact_emails=["lead@example.gov.cn"]), make_document(session)
    items = [make_item(session, document=document, lead_unit=lead, deadline=date(2024, 9, 30), frequency="monthly",
                       created_at=datetime(2024, 7, 1, 1, tzinfo=UTC), next_action_at=None) for _ in range(60)]
    schedule_periods(session, items, Schedule(policy, calendar, TZ))
    session.commit()
    results = sweeps_at_once(db_url, now=local("2024-10-21T09:00"), policy=policy, calendar=calendar, batch_size=16)
    events = Counter((e.item_id, e.payload["period"], e.payload["threshold"]) for e in session.exec(
        select(ItemEvent).where(col(ItemEvent.kind).startswith("period_"))))
    assert len(events) == 60 * 3 * 5 and max(events.values()) == 1  # before-7, before-1, overdue, level-1, level-2
    notes = list(session.exec(select(Notification).where(col(Notification.kind).startswith("period_"))))
    assert len(notes) == sum(r.notifications for r in results)
    assert Counter(n.kind for n in notes) == {"period_escalated": 180, "period_missed": 180}
