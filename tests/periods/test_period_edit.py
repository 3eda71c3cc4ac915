"""频次 set on the desk: the edit action and `duban edit --frequency` (the page's form: tests/web/test_periods_page.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select

from models.errors import InvalidInput
from models.ledger.apply import import_ledger
from models.lifecycle import Action, apply
from models.queries import find_item, find_person
from models.tables import ItemEvent, ItemPeriod, Role
from tests.factories import make_person
from tests.ledger.test_cli import duban
from tests.periods.test_periods import MID_YEAR, ROWS, files

LATER = datetime(2024, 7, 16, 1, 0, tzinfo=UTC)


def starts(session: Session, ref: str) -> list[tuple[date, bool]]:
    """Each period's first day, and whether the sweep will visit it."""
    item = find_item(session, ref)
    return [(p.starts, p.next_action_at is not None) for p in session.exec(
        select(ItemPeriod).where(ItemPeriod.item_id == item.id).order_by(col(ItemPeriod.starts)))]


def test_setting_changing_and_clearing_the_frequency_reschedules_the_periods(session, tmp_path):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    sup = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    session.commit()
    once = find_item(session, "新时代意见/3")  # deadline 2024-09-30, no frequency
    event = apply(session, once, Action.EDIT, sup, LATER, frequency="每月25日前")
    session.commit()
    assert event.payload["frequency"] == {"old": None, "new": "monthly by day 25"}
    assert once.frequency == "monthly by day 25"
    assert starts(session, "新时代意见/3") == [(date(2024, 7, 1), True), (date(2024, 8, 1), True),
                                             (date(2024, 9, 1), True)]

    quarterly = find_item(session, "新时代意见/1")
    apply(session, quarterly, Action.REPORT_PROGRESS, find_person(session, "fgw@example.gov.cn"), LATER, text="三季度")
    session.commit()
    apply(session, quarterly, Action.EDIT, sup, LATER, frequency="monthly")
    session.commit()
    # Q3, reported, stays as it was; the rest follow the new frequency.
    assert starts(session, "新时代意见/1") == [(date(2024, 7, 1), False), *[(date(2024, m, 1), True) for m in (8, 9, 10, 11, 12)]]
    apply(session, quarterly, Action.EDIT, sup, LATER, frequency="")
    session.commit()
    assert quarterly.frequency is None and starts(session, "新时代意见/1") == [(date(2024, 7, 1), False)]


@pytest.mark.parametrize("text", ["每两周", "每月32日前", "每季度第4月10日前"])
def test_an_unknown_frequency_is_refused_naming_the_accepted_forms_and_nothing_changes(session, tmp_path, text):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    sup = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    session.commit()
    item = find_item(session, "新时代意见/1")
    before = starts(session, "新时代意见/1")
    with pytest.raises(InvalidInput) as refused:
        apply(session, item, Action.EDIT, sup, LATER, frequency=text)
    session.rollback()
    assert refused.value.code == "edit.frequency_unknown" and "每季度首月10日前" in str(refused.value)
    assert refused.value.params["text"] == text
    assert find_item(session, "新时代意见/1").frequency == "quarterly" and starts(session, "新时代意见/1") == before
    assert not session.exec(select(ItemEvent).where(ItemEvent.kind == "edited")).first()


def test_duban_edit_frequency(tmp_path, sqlite_url):
    rows = [list(r) for r in ROWS]
    rows[2][7] = "sup1@example.gov.cn"
    imported = duban(tmp_path, sqlite_url, "import", *map(str, files(tmp_path / "in", rows)), "--now", "2024-07-15T09:00+08:00")
    assert imported.returncode == 0, imported.stderr
    edited = duban(tmp_path, sqlite_url, "edit", "新时代意见/3", "--by", "sup1@example.gov.cn", "--frequency", "每季度",
                   "--now", "2024-07-16T09:00+08:00")
    assert edited.returncode == 0, edited.stderr
    shown = json.loads(duban(tmp_path, sqlite_url, "periods", "新时代意见/3", "--json").stdout)
    assert shown["frequency"] == "quarterly" and [p["due"] for p in shown["periods"]] == ["2024-09-30"]
    refused = duban(tmp_path, sqlite_url, "edit", "新时代意见/3", "--by", "sup1@example.gov.cn", "--frequency", "每两周",
                    "--now", "2024-07-16T09:00+08:00", locale="zh-CN")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "每两周" in refused.stderr + refused.stdout and "每季度首月10日前" in refused.stderr + refused.stdout


def test_an_approved_extension_extends_the_periods(session, tmp_path):
    import_ledger(session, files(tmp_path), now=MID_YEAR)
    sup = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
    session.commit()
    monthly = find_item(session, "新时代意见/2")  # 每月25日前 to 2024-10-31
    apply(session, monthly, Action.REQUEST_EXTENSION, find_person(session, "czj@example.gov.cn"), LATER,
          deadline=date(2024, 12, 31), reason="需延至年底")
    apply(session, monthly, Action.APPROVE_EXTENSION, sup, LATER, reason="同意")
    session.commit()
    assert [d for d, _ in starts(session, "新时代意见/2")][-2:] == [date(2024, 11, 1), date(2024, 12, 1)]
