"""`duban score`: the JSON contract, the table, reproducibility over the database, and bad input."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from models.tables import Role
from tests.factories import make_document, make_item, make_person, make_unit

MARCH = ("--from", "2024-03-01", "--to", "2024-03-31")


@pytest.fixture
def ledger(engine):  # type: ignore[no-untyped-def]
    """市发改委: one item overdue from 4 March, returned once; 市财政局: one signed off early; 市商务局: none."""
    with Session(engine) as s:
        fgw, czj, swj = make_unit(s, "市发改委"), make_unit(s, "市财政局"), make_unit(s, "市商务局")
        doc = make_document(s, "新时代意见")
        people = {
            "fgw": make_person(s, Role.OFFICER, fgw, email="officer@fgw.gov.cn"),
            "czj": make_person(s, Role.OFFICER, czj, email="officer@czj.gov.cn"),
            "sup": make_person(s, Role.SUPERVISOR, email="sup@dc.gov.cn"),
        }
        make_item(s, document=doc, number="1", lead_unit=fgw, deadline=date(2024, 3, 1))
        make_item(s, document=doc, number="2", lead_unit=czj, deadline=date(2024, 3, 29))
        make_item(s, document=doc, number="3", lead_unit=swj, deadline=date(2024, 12, 31))
        s.commit()
        return {k: p.email for k, p in people.items()}


def act(duban, *steps: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for step in steps:
        result = duban(*step)
        assert result.code == 0, result.err


def test_score_json_follows_the_contract_and_explains_every_point(duban, ledger):
    p = ledger
    act(duban,
        ("submit", "新时代意见/1", "--by", p["fgw"], "--evidence", "已印发", "--now", "2024-03-05T10:00+08:00"),
        ("return", "新时代意见/1", "--by", p["sup"], "--reason", "缺少文号", "--now", "2024-03-06T10:00+08:00"),
        ("submit", "新时代意见/2", "--by", p["czj"], "--evidence", "已印发", "--now", "2024-03-20T10:00+08:00"),
        ("sign-off", "新时代意见/2", "--by", p["sup"], "--now", "2024-03-21T10:00+08:00"))
    data = duban("score", *MARCH, "--json", "--now", "2024-04-02T09:00+08:00").json()
    assert (data["from"], data["to"]) == ("2024-03-01", "2024-03-31")
    scores = {u["unit"]: (u["score"], u["rank"]) for u in data["units"]}
    # 市发改委: overdue weeks begun on 4 March, then (returned) 11, 18 and 25 March, 2 each; one return, 1
    assert scores == {"市财政局": (101, 1), "市商务局": (100, 2), "市发改委": (91, 3)}
    fgw = next(u for u in data["units"] if u["unit"] == "市发改委")
    assert [(d["rule"], d["points"], d["item"]) for d in fgw["deductions"]][:2] == [
        ("overdue", -2, "新时代意见/1"), ("returned", -1, "新时代意见/1")]
    assert fgw["deductions"][1]["event_id"] is not None
    for unit in data["units"]:
        assert set(unit) >= {"unit", "score", "rank", "deductions", "additions"}
        assert data["base"] + sum(x["points"] for x in unit["deductions"] + unit["additions"]) == unit["score"]
    # later events (and a later extension) do not change March
    act(duban, ("submit", "新时代意见/1", "--by", p["fgw"], "--evidence", "附文号", "--now", "2024-04-08T10:00+08:00"))
    again = duban("score", *MARCH, "--json", "--now", "2024-06-30T09:00+08:00").json()
    assert again["units"] == data["units"]


def test_score_json_puts_each_point_on_its_own_line_whatever_the_item_number_says(duban, engine):
    from config.calendar import load_calendar
    from config.clock import parse_instant
    from config.scoring import load_scoring
    from models.scoring import scoreboard
    from tests.conftest import TZ

    with Session(engine) as s:
        assert duban("score", *MARCH, "--json").json()["units"] == []  # no unit yet: still JSON
        unit, doc = make_unit(s, "市发改委"), make_document(s, '新时代"意见')
        for number in ('1}, {"rule": "x', '2], "additions": [{"rule": ', "3\n"):
            make_item(s, document=doc, number=number, lead_unit=unit, deadline=date(2024, 3, 1))
        s.commit()
        result = duban("score", *MARCH, "--json", "--now", "2024-04-02T09:00+08:00")
        as_of = parse_instant("2024-04-02T09:00+08:00")
        expected = scoreboard(s, load_scoring(), load_calendar(), TZ, date(2024, 3, 1), date(2024, 3, 31), as_of)
    assert result.json() == expected.as_dict()
    assert len(expected.units[0].deductions) == 3
    assert len(result.out.splitlines()) == 1 + 1 + 3 + 1  # the period, the unit, its points, the end


def test_score_prints_a_ranked_table(duban, ledger):
    result = duban("score", *MARCH, "--explain", "--now", "2024-04-02T09:00+08:00")
    assert result.code == 0, result.err
    assert "Scores from 2024-03-01 to 2024-03-31" in result.out
    assert result.out.index("市财政局") < result.out.index("市发改委")
    assert "overdue" in result.out and "新时代意见/1" in result.out


def test_a_bad_scoring_file_exits_1_naming_the_line(duban, ledger, tmp_path: Path, monkeypatch):
    path = tmp_path / "scoring.yaml"
    path.write_text("deductions:\n  overdue: {points: 2}\n  tardy: {points: 1}\n", encoding="utf-8")
    monkeypatch.setenv("DUBAN_SCORING_FILE", str(path))
    result = duban("score", *MARCH)
    assert result.code == 1 and f"{path}:3: unknown deduction rule 'tardy'" in result.err


def test_a_period_ending_before_it_starts_exits_1(duban, ledger):
    result = duban("score", "--from", "2024-03-31", "--to", "2024-03-01")
    assert result.code == 1 and "before it starts" in result.err
    assert duban("score", "--from", "March", "--to", "2024-03-01").code == 2


def test_ical_writes_a_unit_s_open_deadlines_that_parse(duban, ledger, tmp_path: Path):
    from icalendar import Calendar

    out = tmp_path / "fgw.ics"
    result = duban("ical", "--unit", "市发改委", "--out", str(out), "--now", "2024-02-01T09:00+08:00")
    assert result.code == 0, result.err
    events = list(Calendar.from_ical(out.read_bytes()).walk("VEVENT"))
    assert [e.decoded("dtstart") for e in events] == [date(2024, 3, 1)]
    assert len(list(events[0].walk("VALARM"))) == 2


def test_ical_refuses_bad_input_and_writes_nothing(duban, ledger, tmp_path: Path):
    out = tmp_path / "x.ics"
    assert duban("ical", "--out", str(out)).code == 1
    assert duban("ical", "--unit", "市发改委", "--person", "sup@dc.gov.cn", "--out", str(out)).code == 1
    result = duban("ical", "--unit", "no such unit", "--out", str(out))
    assert result.code == 1 and "no such unit" in result.err
    assert not out.exists()


def test_doctor_checks_the_scoring_file(duban, ledger, tmp_path: Path, monkeypatch):
    from config.settings import get_settings

    path = tmp_path / "scoring.yaml"
    path.write_text("additions:\n  early_sign_off: {points: 1, cap: -3}\n", encoding="utf-8")
    monkeypatch.setenv("DUBAN_SCORING_FILE", str(path))
    result = duban("doctor")
    said = "".join(result.out.split())  # lines longer than the terminal wrap, even within the path
    assert result.code == 1 and f"{path}:2:cap:-3isnegative" in said and "(DUBAN_SCORING_FILE)" in said
    monkeypatch.delenv("DUBAN_SCORING_FILE")
    get_settings.cache_clear()
    assert "base 100, 7 rules" in duban("doctor").out
