"""The sweep on a real database: events, notifications, recipients, idempotence, catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from config.policy import DEFAULT_POLICY_FILE, load_policy
from models.ledger.apply import import_ledger
from models.lifecycle import Action, apply
from models.queries import find_item
from models.schedule import Schedule
from models.tables import Item, ItemEvent, Notification, Role, Status
from tests.conftest import TZ
from tests.factories import make_item, make_person, make_unit
from tests.ledger.conftest import LEDGER_HEADER, UNITS, UNITS_HEADER, write_csv
from tests.sweep.conftest import ledger_state, run_sweep


def local(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=TZ).astimezone(UTC)


def cast(session, deadline=date(2024, 10, 8), created=local(2024, 9, 1)):  # type: ignore[no-untyped-def]
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"], leader_emails=["boss@fgw.gov.cn"])
    co = make_unit(session, contact_emails=["co@czj.gov.cn"], leader_emails=[])
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    item = make_item(session, lead_unit=lead, co_units=(co,), supervisor=supervisor, deadline=deadline,
                     next_action_at=created, created_at=created, updated_at=created)
    session.commit()
    return item, supervisor


SWEEP_KINDS = {"reminder", "overdue", "repeat_reminder", "escalated"}


def notes(session):  # type: ignore[no-untyped-def]
    """The notifications the sweep queued (not those of lifecycle actions)."""
    return [n for n in session.exec(select(Notification).order_by(Notification.id)) if n.kind in SWEEP_KINDS]


def kinds(session):  # type: ignore[no-untyped-def]
    return [(e.kind, e.payload["threshold"]) for e in session.exec(select(ItemEvent).order_by(ItemEvent.id))]


def test_reminder_seven_working_days_before_goes_to_lead_unit_with_co_units_in_cc(session, policy, calendar):
    item, _ = cast(session)
    result = run_sweep(session, local(2024, 9, 23, 0, 5), policy, calendar)
    assert result.examined == 1 and result.events == {"reminder": 1} and result.notifications == 1
    [note] = notes(session)
    assert note.key == f"reminder:{item.id}:v1:before-7"
    assert note.to_addrs == ["lead@fgw.gov.cn"] and note.cc_addrs == ["co@czj.gov.cn"]
    assert note.payload["threshold"] == "before-7" and note.payload["deadline"] == "2024-10-08"
    session.refresh(item)
    assert item.next_action_at == local(2024, 9, 30)  # 1 working day before: National Day starts Oct 1


def test_second_sweep_at_same_time_writes_nothing(session, policy, calendar):
    cast(session)
    at = local(2024, 10, 21, 9)
    first = run_sweep(session, at, policy, calendar)
    assert first.notifications == 3  # level 2 to the leadership, level 1 to the unit's leaders, overdue to the unit
    before = ledger_state(session)
    second = run_sweep(session, at, policy, calendar)
    assert second.examined == 0 and second.notifications == 0 and not second.events
    assert ledger_state(session) == before


def test_catch_up_records_every_crossed_threshold_and_tells_each_address_the_most_severe(session, policy, calendar):
    item, _ = cast(session)
    result = run_sweep(session, local(2024, 10, 21, 9), policy, calendar)  # 10 working days overdue
    assert kinds(session) == [  # of the repeats missed, only the latest
        ("reminder", "before-7"), ("reminder", "before-1"), ("overdue", "overdue"), ("escalated", "level-1"),
        ("repeat_reminder", "repeat-10"), ("escalated", "level-2"),
    ]
    note, level1, overdue = notes(session)
    assert note.kind == "escalated" and note.payload["level"] == 2
    assert note.to_addrs == ["mayor@example.gov.cn"] and note.cc_addrs == ["sup@dc.gov.cn"]
    assert note.payload["caught_up"] == ["before-7", "before-1", "overdue", "level-1", "repeat-10"]
    # the lead unit's own overdue notice is not dropped, nor its leaders' escalation (issue 13)
    assert (level1.kind, level1.to_addrs, level1.cc_addrs) == ("escalated", ["boss@fgw.gov.cn"], [])
    assert (overdue.kind, overdue.to_addrs, overdue.cc_addrs) == ("overdue", ["lead@fgw.gov.cn"], ["co@czj.gov.cn"])
    session.refresh(item)
    assert item.escalation_level == 2 and result.events["escalated"] == 2


def test_level_one_goes_to_the_unit_leaders_with_the_supervisor_in_cc(session, policy, calendar):
    cast(session)
    run_sweep(session, local(2024, 10, 10, 9), policy, calendar)  # overdue notice
    run_sweep(session, local(2024, 10, 11, 0, 1), policy, calendar)
    overdue, level1 = notes(session)
    assert overdue.kind == "overdue" and overdue.cc_addrs == ["co@czj.gov.cn", "sup@dc.gov.cn"]
    assert level1.kind == "escalated" and level1.to_addrs == ["boss@fgw.gov.cn"] and level1.cc_addrs == ["sup@dc.gov.cn"]


def test_schedule_restarted_after_thresholds_does_not_fire_them(session, policy, calendar):
    # next_action_at = t is how a deadline change or a return restarts the schedule at t
    cast(session, created=local(2024, 10, 9, 10))  # restarted the day after its deadline
    run_sweep(session, local(2024, 10, 9, 10, 15), policy, calendar)
    assert kinds(session) == []
    run_sweep(session, local(2024, 10, 11, 9), policy, calendar)
    assert [n.kind for n in notes(session)] == ["escalated"]


def test_deadline_change_starts_a_new_version_and_does_not_fire_thresholds_behind(session, policy, calendar):
    item, supervisor = cast(session, deadline=date(2024, 6, 28), created=local(2024, 6, 1))
    officer = make_person(session, Role.OFFICER, unit=None)
    officer.unit_id = item.lead_unit_id
    run_sweep(session, local(2024, 7, 4, 9), policy, calendar)  # 4 working days overdue: level 1
    session.refresh(item)
    assert item.escalation_level == 1
    apply(session, item, Action.REQUEST_EXTENSION, officer, local(2024, 7, 4, 10), reason="需协调", deadline=date(2024, 7, 10))
    apply(session, item, Action.APPROVE_EXTENSION, supervisor, local(2024, 7, 4, 11))
    session.commit()
    assert item.deadline_version == 2 and item.escalation_level == 0 and item.next_action_at == local(2024, 7, 4, 11)
    run_sweep(session, local(2024, 7, 4, 11, 15), policy, calendar)  # 7 wd before Jul 10 is behind: nothing
    assert [n.kind for n in notes(session) if n.deadline_version == 2] == []
    run_sweep(session, local(2024, 7, 9, 9), policy, calendar)
    [reminder] = [n for n in notes(session) if n.deadline_version == 2]
    assert reminder.key == f"reminder:{item.id}:v2:before-1"


def test_submitted_item_gets_no_reminders_and_is_recomputed_when_returned(session, policy, calendar):
    item, supervisor = cast(session)
    officer = make_person(session, Role.OFFICER, unit=None)
    officer.unit_id = item.lead_unit_id
    apply(session, item, Action.SUBMIT, officer, local(2024, 9, 20), evidence="已完成")
    session.commit()
    assert item.next_action_at is None
    assert run_sweep(session, local(2024, 10, 12, 9), policy, calendar).examined == 0
    apply(session, item, Action.RETURN, supervisor, local(2024, 10, 12, 10), reason="材料不全")
    session.commit()
    assert item.status == Status.IN_PROGRESS and item.next_action_at == local(2024, 10, 12, 10)
    run_sweep(session, local(2024, 10, 14, 9), policy, calendar)  # repeat-5 falls on Oct 14
    assert [n.key.split(":")[-1] for n in notes(session)] == ["repeat-5"]


def test_signed_off_items_are_never_swept(session, policy, calendar):
    item, _ = cast(session)
    item.status, item.next_action_at = Status.SIGNED_OFF, None
    session.add(item)
    session.commit()
    assert run_sweep(session, local(2025, 1, 1), policy, calendar).examined == 0


def test_unit_without_contacts_sends_to_the_cc_instead(session, policy, calendar):
    lead = make_unit(session, contact_emails=[], leader_emails=[])
    supervisor = make_person(session, Role.SUPERVISOR, email="sup2@dc.gov.cn")
    make_item(session, lead_unit=lead, supervisor=supervisor, deadline=date(2024, 10, 8), next_action_at=local(2024, 10, 8))
    session.commit()
    run_sweep(session, local(2024, 10, 9, 9), policy, calendar)
    [note] = notes(session)
    assert note.to_addrs == ["sup2@dc.gov.cn"] and note.cc_addrs == []


def test_sweep_handles_more_items_than_one_batch(session, policy, calendar):
    from models.sweep import sweep
    lead = make_unit(session)
    for _ in range(7):
        make_item(session, lead_unit=lead, deadline=date(2024, 10, 8), next_action_at=local(2024, 10, 8))
    session.commit()
    result = sweep(session, now=local(2024, 10, 9, 9), policy=policy, calendar=calendar, tz=TZ, batch_size=3)
    session.commit()
    assert result.examined == 7 and result.batches == 3 and result.notifications == 7
    assert all(i.next_action_at == local(2024, 10, 11) for i in session.exec(select(Item)))


def test_uncovered_year_is_warned_once_per_run_and_logged(session, policy, calendar):
    from models.sweep_tables import SweepRun

    lead = make_unit(session)
    for _ in range(3):
        make_item(session, lead_unit=lead, deadline=date(2027, 3, 1), next_action_at=local(2027, 1, 1))
    session.commit()
    result = run_sweep(session, local(2027, 3, 2, 9), policy, calendar)
    assert len(result.warnings) == 1 and "2027" in result.warnings[0] and "complete_years" in result.warnings[0]
    run = session.exec(select(SweepRun)).one()
    assert run.warnings == result.warnings and run.examined == 3 and run.notifications == 3


def test_document_override_changes_the_thresholds_of_its_items(session, policy, calendar):
    from dataclasses import replace

    from tests.factories import make_document

    special = make_document(session, "建设方案")
    item = make_item(session, document=special, deadline=date(2024, 10, 8), next_action_at=local(2024, 9, 1))
    session.commit()
    overridden = replace(policy, documents={"建设方案": replace(policy.default, reminders_before=(3,))})
    run_sweep(session, local(2024, 9, 23, 9), overridden, calendar)  # the default's 7 wd before: not for it
    assert kinds(session) == []
    run_sweep(session, local(2024, 9, 27, 9), overridden, calendar)  # Sep 30, Sep 29 (make-up), Sep 27
    assert [n.key for n in notes(session)] == [f"reminder:{item.id}:v1:before-3"]
    session.refresh(item)
    assert item.next_action_at == local(2024, 10, 9)


def test_ledger_imported_late_catches_up_so_overdue_items_are_escalated(session, policy, calendar, tmp_path):
    units = write_csv(tmp_path / "units.csv", [UNITS_HEADER, *UNITS])
    ledger = write_csv(tmp_path / "ledger.csv", [
        LEDGER_HEADER,
        ["意见", "1", "逾期十个工作日", "", "市发改委", "市财政局", "2024-10-08", "sup1@example.gov.cn", ""],
        ["意见", "2", "还有三个工作日", "", "市商务局", "", "2024-10-24", "", ""],
        ["意见", "3", "已经销号", "", "市商务局", "", "2024-09-30", "", "已销号"],
    ])
    at = local(2024, 10, 21, 9)  # Monday: 10 working days past 8 October, 3 before 24 October
    import_ledger(session, [units, ledger], now=at - timedelta(hours=1), schedule=Schedule(policy, calendar, TZ))
    session.commit()
    assert find_item(session, "意见/1").next_action_at == local(2024, 9, 23)  # 7 working days before, over National Day
    assert find_item(session, "意见/3").next_action_at is None  # signed off: never reminded
    result = run_sweep(session, at, policy, calendar)
    assert result.examined == 2
    overdue, soon = find_item(session, "意见/1"), find_item(session, "意见/2")
    assert [(e.kind, e.payload["threshold"]) for e in session.exec(
        select(ItemEvent).where(ItemEvent.item_id == overdue.id, ItemEvent.actor_label == "duban sweep").order_by(ItemEvent.id)
    )] == [
        ("reminder", "before-7"), ("reminder", "before-1"), ("overdue", "overdue"), ("escalated", "level-1"),
        ("repeat_reminder", "repeat-10"), ("escalated", "level-2"),  # of the repeats, the latest
    ]
    assert overdue.escalation_level == 2 and soon.escalation_level == 0
    by_item = {(n.item_id, n.payload["threshold"]): n for n in notes(session)}
    assert {item for item, _ in by_item} == {overdue.id, soon.id}
    assert by_item[overdue.id, "level-2"].to_addrs == ["mayor@example.gov.cn"]
    # imported already late: the lead unit is told it is overdue, not that it has a new item
    assert by_item[overdue.id, "overdue"].to_addrs == ["fgw@example.gov.cn"]
    assert by_item[soon.id, "before-7"].to_addrs == ["swj@example.gov.cn"]
    assert "assigned" not in {n.kind for n in session.exec(select(Notification).where(Notification.item_id == overdue.id))}
    assert run_sweep(session, at, policy, calendar).examined == 0


def test_escalation_to_an_empty_leadership_goes_to_the_supervisor(session, calendar):
    # The built-in policy's leadership_emails is empty: level 2 used to tell nobody (issue 13).
    cast(session)
    run_sweep(session, local(2024, 10, 21, 9), load_policy(DEFAULT_POLICY_FILE), calendar)
    level2 = next(n for n in notes(session) if n.payload["threshold"] == "level-2")
    assert level2.to_addrs == ["sup@dc.gov.cn"] and level2.payload["fallback"] == "supervisor"
    assert not level2.unreached and level2.cc_addrs == []
