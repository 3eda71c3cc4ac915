"""`duban edit`, `duban instruct` (批示) and `duban comment` (留言): the CLI contract."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from models.tables import Role
from tests.factories import make_document, make_item, make_person, make_unit

NOW = "2024-07-03T09:00+08:00"


@pytest.fixture
def ledger(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        fgw, czj = make_unit(s, "市发改委", code="FGW"), make_unit(s, "市财政局", code="CZJ")
        make_unit(s, "市商务局", code="SWJ")
        doc = make_document(s, "新时代意见")
        people = {
            "fgw": make_person(s, Role.OFFICER, fgw, email="officer@fgw.gov.cn"),
            "sup": make_person(s, Role.SUPERVISOR, email="sup@dc.gov.cn"),
            "leader": make_person(s, Role.LEADER, email="leader@gov.cn"),
        }
        make_item(s, document=doc, number="12", lead_unit=fgw, co_units=(czj,), deadline=date(2024, 9, 30))
        s.commit()
        return {k: p.email for k, p in people.items()}


def test_edit_instruct_and_comment_show_in_the_timeline(duban, ledger):
    edited = duban("edit", "新时代意见/12", "--by", ledger["sup"], "--deadline", "2024-10-31", "--reason", "上级调整",
                   "--lead", "商务", "--co-units", "市发改委,市财政局", "--title", "新标题", "--now", NOW)
    assert edited.code == 0 and "edited" in edited.out, edited.err
    assert duban("instruct", "新时代意见/12", "--by", ledger["leader"], "--text", "抓紧", "--now", NOW).code == 0
    assert duban("comment", "新时代意见/12", "--by", ledger["fgw"], "--text", "已移交", "--now", NOW).code == 0
    shown = duban("show", "新时代意见/12", "--json").json()
    events = {e["kind"]: e for e in shown["timeline"]}
    assert {"edited", "instructed", "commented"} <= events.keys()
    assert shown["item"]["deadline"] == "2024-10-31" if "item" in shown else True


@pytest.mark.parametrize(("args", "message"), [
    (("edit", "--by", "sup@dc.gov.cn", "--deadline", "2024-06-01", "--reason", "x"), "in the past"),
    (("edit", "--by", "sup@dc.gov.cn", "--deadline", "2024-08-01"), "needs a reason"),
    (("edit", "--by", "sup@dc.gov.cn", "--lead", "市发改局"), "closest: 市发改委"),
    (("edit", "--by", "officer@fgw.gov.cn", "--title", "x"), "cannot edit"),
    (("instruct", "--by", "sup@dc.gov.cn", "--text", "x"), "only by a leader"),
])
def test_refusals_exit_1_with_a_clear_message(duban, ledger, args, message):
    result = duban(args[0], "新时代意见/12", *args[1:], "--now", NOW)
    assert result.code == 1 and message in result.err and "Traceback" not in result.err, result.err
    kinds = [e["kind"] for e in duban("show", "新时代意见/12", "--json").json()["timeline"]]
    assert "edited" not in kinds and "instructed" not in kinds
