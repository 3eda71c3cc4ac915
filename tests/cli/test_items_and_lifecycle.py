"""The CLI over the lifecycle: listing, showing, acting, refusing, reporting."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from models.tables import Role, Status
from tests.factories import make_document, make_item, make_person, make_unit

NOW = "2024-07-03T09:00+08:00"


@pytest.fixture
def ledger(engine):  # type: ignore[no-untyped-def]
    """Two documents; one item overdue, one due later, one signed off, one cancelled."""
    with Session(engine) as s:
        fgw, czj = make_unit(s, "市发改委", code="FGW"), make_unit(s, "市财政局", code="CZJ")
        doc = make_document(s, "新时代意见")
        other = make_document(s, "建设方案")
        people = {
            "fgw": make_person(s, Role.OFFICER, fgw, email="officer@fgw.gov.cn"),
            "czj": make_person(s, Role.OFFICER, czj, email="officer@czj.gov.cn"),
            "sup": make_person(s, Role.SUPERVISOR, email="sup@dc.gov.cn"),
        }
        make_item(s, document=doc, number="12", lead_unit=fgw, co_units=(czj,), deadline=date(2024, 6, 30))
        make_item(s, document=doc, number="13", lead_unit=czj, deadline=date(2024, 12, 31))
        make_item(s, document=doc, number="14", lead_unit=fgw, status=Status.SIGNED_OFF)
        make_item(s, document=other, number="1", lead_unit=czj, status=Status.CANCELLED)
        s.commit()
        return {k: p.email for k, p in people.items()}


def test_items_filters_by_unit_including_co_units_and_by_overdue(duban, ledger):
    assert duban("init").code == 0
    refs = [r["ref"] for r in duban("items", "--unit", "市财政局", "--json").json()]
    assert refs == ["建设方案/1", "新时代意见/12", "新时代意见/13"]
    overdue = duban("items", "--overdue", "--now", NOW, "--json").json()
    assert [r["ref"] for r in overdue] == ["新时代意见/12"] and overdue[0]["due_state"] == "overdue"


def test_items_filters_by_supervisor(duban, ledger, engine):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        supervisor = make_person(s, Role.SUPERVISOR, email="wang@dc.gov.cn")
        make_item(s, document=make_document(s, "防汛意见"), number="1", lead_unit=make_unit(s, "市水利局"),
                  supervisor=supervisor)
        s.commit()
    assert duban("init").code == 0
    assert [r["ref"] for r in duban("items", "--supervisor", "wang@dc.gov.cn", "--json").json()] == ["防汛意见/1"]
    refused = duban("items", "--supervisor", "li@dc.gov.cn")
    assert refused.code == 1 and "li@dc.gov.cn" in refused.out + refused.err


def test_items_finds_a_unit_by_part_of_its_name_or_its_code_and_by_its_role(duban, ledger):
    for text in ("发改委", "fgw", "FGW"):
        refs = [r["ref"] for r in duban("items", "--unit", text, "--json").json()]
        assert refs == ["新时代意见/12", "新时代意见/14"], text
    led = duban("items", "--unit", "财政", "--unit-role", "lead", "--json").json()
    assert [r["ref"] for r in led] == ["建设方案/1", "新时代意见/13"]
    ambiguous = duban("items", "--unit", "市")
    assert ambiguous.code == 1 and "市发改委" in ambiguous.err and "市财政局" in ambiguous.err
    unknown = duban("items", "--unit", "市发改局")
    assert unknown.code == 1 and "市发改委" in unknown.err and "Traceback" not in unknown.err


def test_the_full_story_through_the_cli_and_the_timeline(duban, ledger):
    p = ledger
    steps = [
        ("progress", "新时代意见/12", "--by", p["czj"], "--text", "已召开协调会", "--percent", "40"),
        ("submit", "新时代意见/12", "--by", p["fgw"], "--evidence", "文件已印发"),
        ("return", "新时代意见/12", "--by", p["sup"], "--reason", "缺少文号"),
        ("submit", "新时代意见/12", "--by", p["fgw"], "--evidence", "赣府发〔2024〕1号"),
        ("sign-off", "新时代意见/12", "--by", p["sup"], "--comment", "同意销号"),
    ]
    for step in steps:
        result = duban(*step, "--now", NOW)
        assert result.code == 0, result.err
    shown = duban("show", "新时代意见/12", "--json").json()
    assert shown["status"] == "signed_off"
    assert [e["kind"] for e in shown["timeline"]] == [
        "progress_reported", "submitted", "returned", "submitted", "signed_off",
    ]
    returned = shown["timeline"][2]
    assert returned["payload"]["reason"] == "缺少文号" and "sup@dc.gov.cn" in returned["actor"]
    assert returned["at"].startswith("2024-07-03T01:00")  # stored and shown as UTC in JSON


def test_refused_action_exits_1_with_a_clear_message_and_changes_nothing(duban, ledger):
    result = duban("submit", "新时代意见/12", "--by", ledger["czj"], "--evidence", "x")
    assert result.code == 1
    assert "新时代意见/12" in result.err and "officer@czj.gov.cn" in result.err and "lead unit" in result.err
    assert "Traceback" not in result.err
    assert duban("show", "新时代意见/12", "--json").json()["timeline"] == []


def test_extension_request_and_approval_move_the_deadline(duban, ledger):
    p = ledger
    assert duban("extension", "request", "新时代意见/12", "--by", p["fgw"], "--to", "2024-09-30",
                 "--reason", "等待省级批复").code == 0
    assert duban("extension", "approve", "新时代意见/12", "--by", p["sup"]).code == 0
    shown = duban("show", "新时代意见/12", "--json").json()
    assert (shown["original_deadline"], shown["deadline"]) == ("2024-06-30", "2024-09-30")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "新时代意见/99"), 1, "has no item '99'"),
        (("show", "不存在/1"), 1, "no document named '不存在'"),
        (("show", "nonsense"), 1, "not an item reference"),
        (("sign-off", "新时代意见/12", "--by", "nobody@x.cn"), 1, "no person with email"),
        (("report", "--now", "2024-07-01"), 2, "no UTC offset"),
        (("items", "--status", "bogus"), 2, "bogus"),
        (("items", "--document", "新时代"), 1, "no document named '新时代'; did you mean 新时代意见?"),
        (("items", "--unit", "市水利局"), 1, "no unit named or coded '市水利局'"),
    ],
)
def test_user_mistakes_get_a_message_not_a_traceback(duban, ledger, args, code, message):
    result = duban(*args)
    assert result.code == code
    assert message in result.err and "Traceback" not in result.err


def test_report_leaves_cancelled_out_and_counts_overdue(duban, ledger):
    report = duban("report", "--json", "--now", NOW).json()
    assert report["as_of"].startswith("2024-07-03T09:00")
    assert report["documents"] == [
        {"document": "新时代意见", "total": 3, "signed_off": 1, "rate": 33.3, "open": 2, "overdue": 1,
         "acknowledged": 0, "unacknowledged": 2, "acknowledge_rate": 0.0, "urged": 0,
         "periods_due": 0, "periods_on_time": 0, "on_time_rate": 0.0},
    ]
    units = {u["unit"]: u for u in report["units"]}
    assert units["市发改委"] == {"unit": "市发改委", "total": 2, "signed_off": 1, "rate": 50.0, "open": 1, "overdue": 1,
                              "acknowledged": 0, "unacknowledged": 1, "acknowledge_rate": 0.0, "urged": 0,
                              "periods_due": 0, "periods_on_time": 0, "on_time_rate": 0.0}
    assert units["市财政局"]["total"] == 1 and units["市财政局"]["overdue"] == 0


def test_unacknowledged_items_and_their_figures_after_acknowledge_and_urge(duban, ledger):
    p = ledger
    waiting = duban("items", "--unacknowledged", "--json").json()
    assert [r["ref"] for r in waiting] == ["新时代意见/12", "新时代意见/13"] and all(r["unacknowledged"] for r in waiting)
    assert duban("acknowledge", "新时代意见/12", "--by", p["fgw"], "--now", NOW).code == 0
    assert duban("urge", "新时代意见/13", "--by", p["sup"], "--text", "请本周报送", "--now", NOW).code == 0
    assert [r["ref"] for r in duban("items", "--unacknowledged", "--json").json()] == ["新时代意见/13"]
    shown = duban("show", "新时代意见/12", "--now", NOW).out
    assert "Acknowledged: 市发改委 (2024-07-03 09:00)" in shown and "Urged: 0" in shown
    assert "Acknowledged: not yet" in duban("show", "新时代意见/13", "--now", NOW).out
    assert "Urged: 1" in duban("show", "新时代意见/13", "--now", NOW).out
    listed = duban("items", "--unacknowledged").out
    assert "新时代意见/13" in listed and "Unacknowledged" in listed and "新时代意见/12" not in listed
    units = {u["unit"]: u for u in duban("report", "--json", "--now", NOW).json()["units"]}
    assert (units["市发改委"]["acknowledge_rate"], units["市发改委"]["unacknowledged"]) == (100.0, 0)
    assert (units["市财政局"]["unacknowledged"], units["市财政局"]["urged"]) == (1, 1)
    text = duban("report", "--now", NOW).out
    assert "Acknowledgement rate" in text and "Unacknowledged" in text and "100.0%" in text


def test_overdue_starts_at_midnight_after_the_deadline_in_shanghai(duban, ledger):
    before = duban("report", "--json", "--now", "2024-06-30T23:59+08:00").json()
    after = duban("report", "--json", "--now", "2024-07-01T00:00+08:00").json()
    assert before["documents"][0]["overdue"] == 0 and after["documents"][0]["overdue"] == 1


def test_uninitialised_database_says_to_run_init(duban, tmp_path, monkeypatch):
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    from config.settings import get_settings

    get_settings.cache_clear()
    result = duban("items")
    assert result.code == 1 and "duban init" in result.err


def test_commands_that_run_no_flow_never_import_prefect(sqlite_url, tmp_path):
    """`duban items` must answer fast: importing Prefect alone costs seconds."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.argv = ['duban', 'items']\n"
        "from cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "print('PREFECT-IMPORTED' if 'prefect' in sys.modules else 'NO-PREFECT')\n"
    )
    env = {**os.environ, "DUBAN_DATABASE_URL": sqlite_url}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.stdout.strip().endswith("NO-PREFECT"), out.stdout + out.stderr


def test_acknowledge_and_urge_from_the_command_line(duban, ledger):
    ok = duban("acknowledge", "新时代意见/12", "--by", ledger["fgw"], "--now", NOW)
    assert ok.code == 0 and "acknowledged" in ok.out
    again = duban("acknowledge", "新时代意见/12", "--by", ledger["fgw"], "--now", NOW)
    assert again.code == 1 and "already acknowledged" in again.err
    urged = duban("urge", "新时代意见/12", "--by", ledger["sup"], "--text", "请本周内报送进展", "--now", NOW)
    assert urged.code == 0 and "urged" in urged.out
    refused = duban("urge", "新时代意见/14", "--by", ledger["sup"], "--text", "x", "--now", NOW)
    assert refused.code == 1 and "signed_off" in refused.err and "Traceback" not in refused.err
    kinds = [e["kind"] for e in duban("show", "新时代意见/12", "--json").json()["timeline"]]
    assert "acknowledged" in kinds and "urged" in kinds


def test_report_on_a_narrow_terminal_splits_its_tables_and_cuts_no_name_or_header(duban, ledger, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # each command's consoles read it, as a new process's do
    out = duban("report", "--now", NOW).out
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80
    assert out.count("新时代意见") == 2 and "On-time" in out and "Unacknowledged" in out  # headers wrap, whole
