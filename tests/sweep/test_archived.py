"""An archived document's open items (and their periods) are not reminded or escalated while it is
archived; unarchived, the next sweep catches up as after downtime (docs/sweep.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import col, select

from models.admin import archive_document
from models.forecast import forecast
from models.periods import schedule_periods
from models.schedule import Schedule
from models.tables import Document, Item, ItemEvent, Notification, Role
from tests.conftest import TZ
from tests.factories import make_document, make_item, make_person, make_unit
from tests.sweep.conftest import run_sweep

CREATED = datetime(2024, 9, 1, 1, tzinfo=UTC)
OVERDUE = datetime(2024, 10, 21, 1, tzinfo=UTC)  # 10 working days after 8 October, 09:00 in Shanghai


def _two_documents(session):  # type: ignore[no-untyped-def]
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"], leader_emails=["boss@fgw.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    old, current = make_document(session, "旧方案"), make_document(session, "新方案")
    items = {doc.short_name: make_item(session, document=doc, lead_unit=lead, supervisor=supervisor,
                                       deadline=date(2024, 10, 8), next_action_at=CREATED, created_at=CREATED)
             for doc in (old, current)}
    archive_document(session, CREATED, "cli", old)
    session.commit()
    return old, items


def _events(session, item):  # type: ignore[no-untyped-def]
    return [e.kind for e in session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id))]


def _notified(session, item):  # type: ignore[no-untyped-def]
    return [n.kind for n in session.exec(select(Notification).where(Notification.item_id == item.id))]


def test_an_archived_documents_items_are_not_reminded_and_the_sweep_says_how_many(session, policy, calendar):
    old, items = _two_documents(session)
    result = run_sweep(session, OVERDUE, policy, calendar)
    assert _events(session, items["旧方案"]) == [] and _notified(session, items["旧方案"]) == []
    assert "escalated" in _events(session, items["新方案"]) and _notified(session, items["新方案"])
    assert result.examined == 1 and result.archived == 1
    session.refresh(items["旧方案"])
    assert items["旧方案"].next_action_at.replace(tzinfo=UTC) == CREATED  # left as it was, to catch up from
    assert items["旧方案"].escalation_level == 0
    again = run_sweep(session, OVERDUE, policy, calendar)  # still archived: still left alone, still counted
    assert again.examined == 0 and again.archived == 1 and not again.events
    entries = forecast(session, now=OVERDUE, until=datetime(2024, 12, 31, tzinfo=UTC), policy=policy,
                       calendar=calendar, tz=TZ)
    assert {e.item_id for e in entries} <= {items["新方案"].id}, "the forecast leaves them out too"


def test_unarchived_the_next_sweep_catches_up_telling_each_address_the_most_severe(session, policy, calendar):
    old, items = _two_documents(session)
    run_sweep(session, OVERDUE, policy, calendar)
    archive_document(session, OVERDUE, "cli", session.get(Document, old.id), archived=False)
    session.commit()
    result = run_sweep(session, OVERDUE, policy, calendar)
    assert result.examined == 1 and result.archived == 0
    assert _events(session, items["旧方案"]) == _events(session, items["新方案"])
    assert sorted(_notified(session, items["旧方案"])) == sorted(_notified(session, items["新方案"]))
    assert session.get(Item, items["旧方案"].id).escalation_level == 2


def test_an_archived_documents_periods_wait_too(session, policy, calendar):
    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"])
    old, current = make_document(session, "旧方案"), make_document(session, "新方案")
    monthly = {doc.short_name: make_item(session, document=doc, lead_unit=lead, deadline=date(2024, 12, 31),
                                         frequency="monthly", created_at=datetime(2024, 7, 1, 1, tzinfo=UTC),
                                         next_action_at=None) for doc in (old, current)}
    schedule_periods(session, list(monthly.values()), Schedule(policy, calendar, TZ))
    archive_document(session, CREATED, "cli", old)
    session.commit()
    run_sweep(session, OVERDUE, policy, calendar)
    kinds = {name: [e.kind for e in session.exec(select(ItemEvent).where(
        ItemEvent.item_id == item.id, col(ItemEvent.kind).startswith("period_")))] for name, item in monthly.items()}
    assert kinds["旧方案"] == [] and "period_missed" in kinds["新方案"]


def test_an_archived_documents_items_are_not_reminded_to_acknowledge(session, policy):
    from models.acknowledge import remind_unacknowledged

    lead = make_unit(session, contact_emails=["lead@fgw.gov.cn"])
    old, current = make_document(session, "旧方案"), make_document(session, "新方案")
    waiting = {doc.short_name: make_item(session, document=doc, lead_unit=lead, acknowledge_due_at=CREATED)
               for doc in (old, current)}
    archive_document(session, CREATED, "cli", old)
    session.commit()
    assert remind_unacknowledged(session, OVERDUE, policy) == 1
    session.commit()
    assert _notified(session, waiting["旧方案"]) == [] and _notified(session, waiting["新方案"]) == ["acknowledge_reminder"]


def test_the_sweeps_summary_says_how_many_archived_items_were_left_alone(capsys, monkeypatch):
    from cli.sweep import print_sweep

    monkeypatch.setenv("DUBAN_LOCALE", "zh-CN")
    summary = {"examined": 1, "events": {}, "notifications": 0, "seconds": 0.1, "engine": "local", "warnings": []}
    print_sweep({**summary, "archived": 3}, OVERDUE)
    print_sweep({**summary, "archived": 0}, OVERDUE)
    assert capsys.readouterr().out.count("已归档文件中有3项在办事项未提醒") == 1
