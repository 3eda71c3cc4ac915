"""`duban sweep`, `forecast`, `calendar check` and `doctor`, run as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from models.db import make_engine
from models.tables import Notification, Role
from tests.factories import make_document, make_item, make_person, make_unit

DUBAN = str(Path(sys.executable).with_name("duban"))


@pytest.fixture
def run(sqlite_url, tmp_path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "DUBAN_DATABASE_URL": sqlite_url, "DUBAN_CONFIG": str(tmp_path / "none.toml"),
           "COLUMNS": "200", "DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_LOCALE": "en"}
    env.pop("PREFECT_API_URL", None)

    def duban(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([DUBAN, *args], capture_output=True, text=True, cwd=tmp_path,
                              env={**env, **extra_env}, timeout=120)

    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        lead = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"], leader_emails=["boss@fgw.gov.cn"])
        supervisor = make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn")
        document = make_document(session, "新时代意见")
        for number, deadline in (("1", date(2024, 10, 8)), ("2", date(2024, 10, 15))):
            make_item(session, document=document, lead_unit=lead, supervisor=supervisor, number=number,
                      deadline=deadline, next_action_at=datetime(2024, 9, 1, tzinfo=UTC))
        session.commit()
    engine.dispose()
    return duban


def test_sweep_prints_a_summary_and_a_second_run_finds_nothing(run):
    first = run("sweep", "--now", "2024-10-09T09:00+08:00")
    assert first.returncode == 0, first.stderr
    assert "examined 2 items; events: overdue 1, reminder 3;" in first.stdout
    assert "notifications queued 2" in first.stdout and "engine local" in first.stdout
    again = run("sweep", "--now", "2024-10-09T09:00+08:00", "--json")
    summary = json.loads(again.stdout)
    assert summary["examined"] == 0 and summary["notifications"] == 0 and summary["engine"] == "local"


def test_forecast_lists_what_comes_and_to_whom_and_writes_nothing(run):
    shown = run("forecast", "--days", "14", "--now", "2024-10-09T09:00+08:00", "--json")
    assert shown.returncode == 0, shown.stderr
    entries = [(e["ref"], e["threshold"], e["to"]) for e in json.loads(shown.stdout)]
    assert entries[:3] == [
        ("新时代意见/1", "overdue", ["fgw@example.gov.cn"]),
        ("新时代意见/2", "before-7", ["fgw@example.gov.cn"]),
        ("新时代意见/1", "level-1", ["boss@fgw.gov.cn"]),
    ]
    table = run("forecast", "--days", "14", "--now", "2024-10-09T09:00+08:00")
    assert "boss@fgw.gov.cn" in table.stdout and "新时代意见/2" in table.stdout
    assert "7 working days before the deadline" in table.stdout and "escalation level 1" in table.stdout
    chinese = run("forecast", "--days", "14", "--now", "2024-10-09T09:00+08:00", DUBAN_LOCALE="zh-CN")
    assert "到期前7个工作日" in chinese.stdout and "第1级升级督办" in chinese.stdout and "level-1" not in chinese.stdout
    # nothing was written: the sweep still finds both items due
    assert json.loads(run("sweep", "--now", "2024-10-09T09:00+08:00", "--json").stdout)["examined"] == 2


def test_calendar_check_says_which_years_are_covered(run, tmp_path):
    covered = run("calendar", "check", "2025")
    assert covered.returncode == 0 and "2025: covered by chinese-calendar" in covered.stdout
    gap = run("calendar", "check", "2027")
    assert gap.returncode == 1 and "NOT covered" in gap.stdout and "complete_years" in gap.stderr
    overrides = tmp_path / "calendar.yaml"
    overrides.write_text("holidays: [2027-01-01]\ncomplete_years: [2027]\n", encoding="utf-8")
    filled = run("calendar", "check", "2027", DUBAN_CALENDAR_FILE=str(overrides))
    assert filled.returncode == 0 and "2027: covered by the overrides file" in filled.stdout


def test_doctor_names_a_later_year_an_open_item_falls_due_in_that_the_calendar_does_not_know(run, sqlite_url):
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        lead = make_unit(session, "市财政局", contact_emails=["czj@example.gov.cn"])
        make_item(session, document=make_document(session, "建设方案"), lead_unit=lead, number="9",
                  deadline=date(2029, 3, 31))
        session.commit()
    engine.dispose()
    doctor = run("doctor", "--now", "2025-06-01T09:00+08:00")
    assert "2029: 1 open item falls due in it, but the calendar does not cover it" in doctor.stdout, doctor.stdout
    assert "2024: " not in doctor.stdout  # the other items' year is covered
    chinese = run("doctor", "--now", "2025-06-01T09:00+08:00", DUBAN_LOCALE="zh-CN")
    assert "2029年有1个在办事项到期，但工作日历未覆盖该年" in chinese.stdout


def test_doctor_names_each_problem_with_its_fix(run, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once closed
    sick = run("doctor", "--now", "2026-12-01T09:00+08:00", DUBAN_SMTP_PORT=str(port))
    assert sick.returncode == 1
    assert "2027 is not covered" in sick.stdout and "leadership_emails is empty" in sick.stdout
    assert f"cannot connect to 127.0.0.1:{port}" in sick.stdout and "no sweep has run yet" in sick.stdout
    policy = tmp_path / "policy.yaml"
    policy.write_text("leadership_emails: [mayor@example.gov.cn]\n", encoding="utf-8")
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        healthy = run("doctor", "--now", "2025-06-01T09:00+08:00", DUBAN_POLICY_FILE=str(policy),
                      DUBAN_SMTP_PORT=str(listening.getsockname()[1]))
    assert healthy.returncode == 0, healthy.stdout
    assert "reachable, migrated" in healthy.stdout and "every notice reached someone" in healthy.stdout


def test_doctor_lists_each_item_whose_notices_reached_nobody(run, sqlite_url):
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        document = make_document(session, "建设方案")
        item = make_item(session, document=document, number="7", title="建设物流枢纽",
                         lead_unit=make_unit(session, contact_emails=[]))
        for n in range(2):
            session.add(Notification(key=f"x{n}", item_id=item.id, kind="overdue", unreached=True,
                                     created_at=datetime(2024, 9, 1, tzinfo=UTC)))
        session.add(Notification(key="x2", item_id=item.id, kind="escalated", unreached=True,
                                 payload={"level": 2}, created_at=datetime(2024, 10, 21, 1, tzinfo=UTC)))
        session.commit()
    engine.dispose()
    doctor = run("doctor", "--now", "2025-06-01T09:00+08:00")
    assert "3 notice(s) reached nobody" in doctor.stdout and "default_supervisors" in doctor.stdout
    assert ("建设方案/7 建设物流枢纽: escalation level 2 at 2024-10-21 09:00; overdue at 2024-09-01 08:00; "
            "overdue at 2024-09-01 08:00") in doctor.stdout


def test_doctor_reports_an_uninitialised_database(tmp_path):
    env = {**os.environ, "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}", "DUBAN_CONFIG": str(tmp_path / "x"),
           "DUBAN_LOCALE": "en"}
    result = subprocess.run([DUBAN, "doctor"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 1 and "run `duban init`" in result.stdout


def test_second_serve_on_the_same_database_says_it_does_not_schedule_and_stops_on_ctrl_c(run, sqlite_url, tmp_path):
    import signal
    from datetime import timedelta

    from config import clock
    from flows.scheduler import Lease

    engine = make_engine(sqlite_url)
    Lease(engine, "the-first-serve", ttl=timedelta(hours=1)).claim(clock.now())
    engine.dispose()
    env = {**os.environ, "DUBAN_DATABASE_URL": sqlite_url, "DUBAN_CONFIG": str(tmp_path / "none.toml"),
           "COLUMNS": "300", "DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_LOCALE": "en"}
    process = subprocess.Popen([DUBAN, "serve", "--no-web", "--engine", "local"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # the serve prints its two status lines, then waits
        lines.append(line)
        if "Ctrl-C stops" in line:
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert "another duban serve owns the schedules of this database: the-first-serve" in output
    assert "this one runs no jobs" in output and "stopped" in output and "Traceback" not in output


@pytest.mark.parametrize("web", [False, True], ids=["scheduler-only", "with-web"])
def test_serve_stopped_by_sigterm_hands_the_schedules_back_at_once(run, sqlite_url, tmp_path, web):
    import signal
    import socket

    from config import clock
    from flows.scheduler import Lease

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = {**os.environ, "DUBAN_DATABASE_URL": sqlite_url, "DUBAN_CONFIG": str(tmp_path / "none.toml"),
           "COLUMNS": "300", "DUBAN_DATA_DIR": str(tmp_path / "data"), "DUBAN_LOCALE": "en"}
    env.pop("PREFECT_API_URL", None)
    args = ["--port", str(port)] if web else ["--no-web"]
    process = subprocess.Popen([DUBAN, "serve", *args, "--engine", "local"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # ready: the scheduler alone waits, or uvicorn is listening
        lines.append(line)
        if "Ctrl-C stops" in line or "Uvicorn running" in line:
            break
    engine = make_engine(sqlite_url)
    try:
        assert Lease(engine, "probe", ttl=timedelta(minutes=1)).holder() is not None
        process.send_signal(signal.SIGTERM)  # what systemd and docker stop send
        rest, _ = process.communicate(timeout=60)
        output = "".join(lines) + rest
        assert process.returncode == 0, output
        assert "stopped" in output and "Traceback" not in output
        assert Lease(engine, "next-serve", ttl=timedelta(minutes=1)).claim(clock.now())  # free at once
    finally:
        engine.dispose()


def test_an_invalid_policy_or_calendar_file_is_named_without_a_traceback(run, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("default:\n  reminders:\n    before: [1, 7]\n", encoding="utf-8")
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text("holidays: [2024-13-01]\n", encoding="utf-8")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("文件,编号,事项,牵头单位,完成时限\n新时代意见,3,新事项,市发改委,2024-12-31\n", encoding="utf-8")
    for args, env, named in (
        (("sweep",), {"DUBAN_POLICY_FILE": str(policy)}, f"{policy}:3: reminders.before has unordered thresholds"),
        (("forecast",), {"DUBAN_CALENDAR_FILE": str(calendar)}, f"{calendar}:1: '2024-13-01' is not a date"),
        (("import", str(ledger)), {"DUBAN_POLICY_FILE": str(policy)}, f"new items cannot be scheduled: {policy}:3:"),
    ):
        result = run(*args, "--now", "2024-10-21T09:00+08:00", **env)
        assert result.returncode == 1, result
        assert named in result.stderr and "Traceback" not in result.stderr
    # nothing was swept or imported: the first good sweep still has both items to handle
    assert "examined 2 items" in run("sweep", "--now", "2024-10-21T09:00+08:00").stdout
    assert "新事项" not in run("items").stdout
