"""`duban import` and `duban demo` as a user runs them (subprocesses), and the assign flow under Prefect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from flows.assign import assign
from flows.runtime import run_flow
from models.db import make_engine
from models.ledger.plan import LedgerError
from models.outbox import OutboxMessage
from models.tables import Item, ItemEvent, Notification, Person, Role

SWEEP_EVENTS = {"reminder", "overdue", "escalated", "repeat_reminder", "period_reminder", "period_missed",
                "period_escalated"}

DUBAN = str(Path(sys.executable).with_name("duban"))
NOW = "2024-06-03T09:00+08:00"


def duban(cwd: Path, database_url: str, *args: str, locale: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_DATABASE_URL": database_url, "COLUMNS": "200", "DUBAN_LOCALE": locale}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run([DUBAN, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def count(url: str, table: type) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(table)).one()
    finally:
        engine.dispose()


def test_import_then_reimport_from_the_command_line(tmp_path, sqlite_url, ledger_files):
    first = duban(tmp_path, sqlite_url, "import", *map(str, ledger_files), "--now", NOW)
    assert first.returncode == 0, first.stderr
    assert "engine: local" in first.stdout
    assert "│ Items     │   3 │" in first.stdout
    assert count(sqlite_url, Item) == 3
    events = count(sqlite_url, ItemEvent)
    again = duban(tmp_path, sqlite_url, "import", *map(str, ledger_files), "--now", NOW)
    assert again.returncode == 0, again.stderr
    assert "│ Items     │   0 │       0 │         3 │" in again.stdout
    assert count(sqlite_url, ItemEvent) == events


def test_dry_run_prints_the_summary_and_writes_nothing(tmp_path, sqlite_url, ledger_files):
    result = duban(tmp_path, sqlite_url, "import", *map(str, ledger_files), "--dry-run", "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert "dry run: nothing was written" in result.stdout and "Would be new" in result.stdout
    as_json = duban(tmp_path, sqlite_url, "import", *map(str, ledger_files), "--dry-run", "--json")
    summary = json.loads(as_json.stdout)
    assert (summary["dry_run"], summary["items_created"], summary["engine"]) == (True, 3, "local")
    assert count(sqlite_url, Item) == 0


def test_bad_file_exits_1_with_a_table_of_problems_and_no_traceback(tmp_path, sqlite_url, ledger_files):
    bad = tmp_path / "bad.csv"
    bad.write_text("文件,编号,事项,牵头单位,完成时限\n新时代意见,9,新事项,市发改,明年\n", encoding="utf-8")
    result = duban(tmp_path, sqlite_url, "import", *map(str, ledger_files), str(bad), "--now", NOW)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "nothing was written" in result.stderr
    assert "bad.csv" in result.stderr and "牵头单位" in result.stderr and "closest known: 市发改委" in result.stderr
    assert "完成时限" in result.stderr
    assert count(sqlite_url, Item) == 0


def test_demo_builds_its_own_database_and_shows_the_seed_figures(tmp_path):
    demo = duban(tmp_path, f"sqlite:///{tmp_path / 'elsewhere.db'}", "demo", "--now", "2023-07-15T09:00+08:00",
                 locale="zh-CN")
    assert demo.returncode == 0, demo.stderr
    assert "51.5%" in demo.stdout and "2023年工作计划" in demo.stdout
    assert "┃ 文件 " in demo.stdout and " 落实率 ┃" in demo.stdout and "可以试试" in demo.stdout  # the default locale
    assert "周报 2023年第28周" in demo.stdout and "-W28" not in demo.stdout  # the week as the office says it
    assert not (tmp_path / "elsewhere.db").exists() and not (tmp_path / "duban.db").exists()
    demo_db = f"sqlite:///{tmp_path / 'duban-demo' / 'duban.db'}"
    report = duban(tmp_path, demo_db, "report", "--json", "--now", "2023-07-15T09:00+08:00")
    rates = {row["document"]: row["rate"] for row in json.loads(report.stdout)["documents"]}
    assert rates["新时代意见"] == 51.5 and rates["建设方案"] == 24.6
    assert rates["2022年工作要点（北上对接事项）"] == 81.0 and rates["援县促市事项"] == 84.2
    totals = {row["document"]: row["total"] for row in json.loads(report.stdout)["documents"]}
    assert (totals["新时代意见"], totals["建设方案"], totals["2022年工作要点（北上对接事项）"], totals["援县促市事项"]) == (103, 126, 58, 76)
    engine = make_engine(demo_db)
    with Session(engine) as session:
        kinds = Counter(session.exec(select(ItemEvent.kind)).all())
        # every job used the demo's policy: its leadership digest reaches the configured leadership,
        # and every notice reached someone (items without 督办人 fall back to its default supervisor)
        leadership = session.exec(select(OutboxMessage.recipients).where(OutboxMessage.kind == "digest_leadership")).all()
        notices = session.exec(select(Notification)).all()
        office = session.exec(select(Person).where(col(Person.role).in_([Role.SUPERVISOR, Role.LEADER]))).all()
        urgers = session.exec(select(ItemEvent.actor_label).where(ItemEvent.kind == "urged")).all()
    engine.dispose()
    # the office's people have names (the ledger gives only addresses), and so has every 催办 in the history
    assert office and all(p.shown_name() == p.name and "@" not in p.name for p in office), [p.name for p in office]
    assert sorted(label.split(" <")[0] for label in urgers) == ["李督查", "王副市长"]
    assert leadership == [["zhuren@example.gov.cn"]]
    assert notices and all(n.to_addrs and not n.unreached for n in notices)
    assert kinds["imported"] == sum(totals.values())  # every item once
    # the history: 11 actions, and the quarterly 按季调度 report made after its due day (频次); 14 签收
    # (3 items left 未签收), 2 催办 and a 批示
    assert (kinds["acknowledged"], kinds["urged"], kinds["instructed"]) == (14, 2, 1)
    assert sum(v for k, v in kinds.items() if k not in SWEEP_EVENTS and k != "imported") == 12 + 14 + 2 + 1
    assert kinds["period_late"] == 1
    assert kinds["reminder"] > 0 and kinds["repeat_reminder"] > 0  # the sweep ran at the demo's time
    assert kinds["period_reminder"] > 0 and kinds["period_missed"] == 2  # and handled the recurring items' periods
    plan = next(row for row in json.loads(report.stdout)["documents"] if row["document"] == "2023年工作计划")
    # Q2 of 按季调度 (reported late), 每季度跟踪梳理 and 走访座谈 (missing)
    assert (plan["periods_due"], plan["periods_on_time"]) == (3, 0)
    assert len(list((tmp_path / "duban-demo" / "mail" / "new").iterdir())) > 0  # and mail was delivered
    show = duban(tmp_path / "duban-demo", "sqlite:///duban.db", "show", "2023年工作计划/1", "--json")
    kinds = [event["kind"] for event in json.loads(show.stdout)["timeline"]]
    assert kinds == ["imported", "progress_reported", "progress_reported", "submitted", "returned", "submitted", "signed_off"]


@pytest.mark.integration
@pytest.mark.usefixtures("prefect_harness")
def test_assign_flow_runs_under_prefect(sqlite_url, ledger_files):
    now = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)
    outcome = run_flow(assign, engine="prefect", files=[str(f) for f in ledger_files], now=now.isoformat(),
                       database_url=sqlite_url)
    assert outcome.engine == "prefect"
    assert (outcome.result["items_created"], outcome.result["notifications_queued"]) == (3, 2)
    assert count(sqlite_url, Notification) == 2


@pytest.mark.integration
@pytest.mark.usefixtures("prefect_harness")
def test_a_refused_import_under_prefect_raises_the_same_ledger_error(sqlite_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("文件,编号,事项,牵头单位,完成时限\n新时代意见,9,新事项,市发改,明年\n", encoding="utf-8")
    with pytest.raises(LedgerError) as raised:
        run_flow(assign, engine="prefect", files=[str(bad)], now="2024-06-03T09:00+08:00", database_url=sqlite_url)
    assert [(p.row, p.column) for p in raised.value.problems] == [(2, "牵头单位"), (2, "完成时限")]


def test_summary_lists_each_updated_item_with_old_and_new_values(session, tmp_path, ledger_files, now, capsys,
                                                                monkeypatch):
    from cli.ledger import print_summary
    from config.settings import get_settings
    from models.ledger.apply import import_ledger
    from tests.ledger.conftest import LEDGER, LEDGER_HEADER, write_xlsx

    import_ledger(session, ledger_files, now=now)
    session.commit()
    changed = [list(row) for row in LEDGER]
    changed[0][2], changed[0][5] = "新标题", ""
    files = [ledger_files[0], write_xlsx(tmp_path / "b.xlsx", {"台账": [LEDGER_HEADER, *changed]})]
    summary = import_ledger(session, files, now=now, dry_run=True)
    capsys.readouterr()
    monkeypatch.setenv("DUBAN_LOCALE", "zh-CN")
    get_settings.cache_clear()
    try:
        print_summary(summary.as_dict(), "local")
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "更新 新时代意见/1：事项内容：支持建设示范区 -> 新标题；配合单位：市财政局 -> -" in out
    assert "运行方式：local" in out
