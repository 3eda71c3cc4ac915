"""`duban sign-off`, `duban return` and `duban urge` with several items: one comment, reason or message, a line per item."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from models.tables import Item, ItemEvent, Role, Status
from tests.factories import make_document, make_item, make_person, make_unit

NOW = "2024-07-03T09:00+08:00"


@pytest.fixture
def submitted(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        fgw = make_unit(s, "市发改委")
        doc = make_document(s, "新时代意见")
        make_person(s, Role.SUPERVISOR, email="sup@dc.gov.cn")
        for number in ("1", "2"):
            make_item(s, document=doc, number=number, lead_unit=fgw, status=Status.SUBMITTED, deadline=date(2024, 9, 30))
        make_item(s, document=doc, number="3", lead_unit=fgw, deadline=date(2024, 9, 30))  # still in progress
        s.commit()


def test_several_items_signed_off_with_one_comment_and_the_rest_named(duban, submitted, engine):
    result = duban("sign-off", "新时代意见/1", "新时代意见/2", "新时代意见/3", "--by", "sup@dc.gov.cn",
                   "--comment", "同意销号", "--now", NOW)
    assert result.code == 1 and "Traceback" not in result.err
    assert "新时代意见/1: signed off" in result.out and "新时代意见/2: signed off" in result.out
    assert "新时代意见/3: " in result.out and "allowed only when it is submitted" in result.out
    assert "1 of 3 items were not done" in result.err
    with Session(engine) as s:
        events = s.exec(select(ItemEvent).where(ItemEvent.kind == "signed_off")).all()
        assert sorted(e.payload["comment"] for e in events) == ["同意销号", "同意销号"]
        assert s.exec(select(Item).where(Item.number == "3")).one().status == Status.ASSIGNED


def test_several_items_returned_need_a_reason(duban, submitted, engine):
    empty = duban("return", "新时代意见/1", "新时代意见/2", "--by", "sup@dc.gov.cn", "--reason", " ", "--now", NOW)
    assert empty.code == 1 and "returning items needs a reason" in empty.err
    done = duban("return", "新时代意见/1", "新时代意见/2", "--by", "sup@dc.gov.cn", "--reason", "缺少文号", "--now", NOW)
    assert done.code == 0, done.err
    with Session(engine) as s:
        assert {i.status for i in s.exec(select(Item).where(Item.number != "3")).all()} == {Status.IN_PROGRESS}


def test_rejecting_an_extension_on_the_cli_needs_a_reason(duban, submitted):
    result = duban("extension", "reject", "新时代意见/3", "--by", "sup@dc.gov.cn", "--now", NOW)
    assert result.code != 0 and "--reason" in result.err


def test_several_items_urged_with_one_message_and_the_closed_one_named(duban, submitted, engine):
    with Session(engine) as s:
        closed = s.exec(select(Item).where(Item.number == "2")).one()
        closed.status = Status.SIGNED_OFF
        s.add(closed)
        s.commit()
    empty = duban("urge", "新时代意见/3", "新时代意见/2", "--by", "sup@dc.gov.cn", "--text", " ", "--now", NOW)
    assert empty.code == 1 and "urging items needs a message" in empty.err
    result = duban("urge", "新时代意见/3", "新时代意见/2", "--by", "sup@dc.gov.cn", "--text", "请本周报送", "--now", NOW)
    assert result.code == 1 and "Traceback" not in result.err
    assert "新时代意见/3: urged" in result.out
    assert "新时代意见/2: " in result.out and "allowed only when it is assigned, in_progress" in result.out
    assert "1 of 2 items were not done" in result.err
    with Session(engine) as s:
        events = s.exec(select(ItemEvent).where(ItemEvent.kind == "urged")).all()
        assert [e.payload["text"] for e in events] == ["请本周报送"]


def test_urging_again_within_a_day_is_skipped_and_named(duban, submitted, engine):
    assert duban("urge", "新时代意见/3", "--by", "sup@dc.gov.cn", "--text", "请本周报送", "--now", NOW).code == 0
    again = duban("urge", "新时代意见/3", "--by", "sup@dc.gov.cn", "--text", "请本周报送", "--now", "2024-07-03T15:00+08:00")
    assert again.code == 1 and "Traceback" not in again.err
    assert "error: 新时代意见/3 was urged by supervisor" in again.err and "at 2024-07-03 09:00 (Asia/Shanghai)" in again.err
    with Session(engine) as s:
        assert len(s.exec(select(ItemEvent).where(ItemEvent.kind == "urged")).all()) == 1


def test_a_line_of_the_several_items_report_names_its_item_once(duban, submitted):
    assert duban("urge", "新时代意见/3", "--by", "sup@dc.gov.cn", "--text", "请本周报送", "--now", NOW).code == 0
    result = duban("urge", "新时代意见/3", "新时代意见/2", "--by", "sup@dc.gov.cn", "--text", "请本周报送",
                   "--now", "2024-07-03T15:00+08:00")
    assert result.code == 1 and "Traceback" not in result.err
    lines = {line.split(":")[0]: line for line in result.out.splitlines() if line.startswith("新时代意见/")}
    assert lines["新时代意见/3"].startswith("新时代意见/3: was urged by supervisor"), result.out
    assert lines["新时代意见/2"].startswith("新时代意见/2: sup@dc.gov.cn (supervisor) cannot urge"), result.out
    assert all(line.count("新时代意见/") == 1 for line in lines.values()), result.out
