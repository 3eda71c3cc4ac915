"""The scheduler lease (one owner per database) and scheduled jobs running the real flows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from config.settings import get_settings, load_settings
from flows.runtime import run_flow
from flows.scheduler import JOBS, Lease, ScheduledJob, Scheduler
from flows.sweep import sweep as sweep_flow
from models.db import make_engine
from models.sweep_tables import SweepRun
from models.tables import Notification
from tests.factories import make_item

T = datetime(2024, 10, 9, 1, tzinfo=UTC)


@pytest.fixture
def engine_(db_url):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_second_lease_holder_is_refused_until_the_first_expires(engine_):
    first, second = Lease(engine_, "first"), Lease(engine_, "second")
    assert first.claim(T) is True
    assert second.claim(T + timedelta(seconds=30)) is False
    assert first.claim(T + timedelta(seconds=40)) is True  # renewed until T+100s
    assert second.claim(T + timedelta(seconds=90)) is False
    assert second.claim(T + timedelta(seconds=101)) is True  # the first stopped renewing: taken over
    assert first.claim(T + timedelta(seconds=102)) is False
    assert second.holder() == ("second", T + timedelta(seconds=161))


def test_released_lease_is_free_at_once(engine_):
    first, second = Lease(engine_, "first"), Lease(engine_, "second")
    assert first.claim(T)
    first.release()
    assert second.claim(T + timedelta(seconds=1))


def test_second_scheduler_on_the_same_database_does_not_own_the_schedules(engine_, db_url):
    settings = load_settings(database_url=db_url)
    changes: list[bool] = []
    jobs = [JOBS[0]]
    one = Scheduler(settings, engine_, jobs=jobs, flow_engine="local", lease=Lease(engine_, "one"), on_change=changes.append)
    two = Scheduler(settings, engine_, jobs=jobs, flow_engine="local", lease=Lease(engine_, "two"), on_change=changes.append)
    try:
        assert one.start() is True
        assert two.start() is False
        assert one._scheduler.get_job("sweep") is not None and two._scheduler.get_job("sweep") is None
    finally:
        one.stop()
        two.stop()
    assert changes == [True]  # one took the schedules; the other never had them to lose
    assert one.describe().startswith("sweep at '*/15 * * * *'")


def test_jobs_are_one_line_each_and_name_settings_or_crontabs():
    settings = load_settings(sweep_cron="0 * * * *")
    assert JOBS[0] == ScheduledJob("sweep", "flows.sweep:sweep", "sweep_cron")
    assert JOBS[0].crontab(settings) == "0 * * * *"
    assert ScheduledJob("deliver", "flows.deliver:deliver", "* * * * *").crontab(settings) == "* * * * *"


def test_scheduled_sweep_job_runs_the_sweep_flow(sqlite_url, monkeypatch):
    monkeypatch.setenv("DUBAN_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            make_item(session, deadline=date(2020, 1, 1), next_action_at=datetime(2020, 1, 1, tzinfo=UTC))
            session.commit()
        scheduler = Scheduler(get_settings(), engine, flow_engine="local")
        result = scheduler.run_job(JOBS[0])
        assert result["examined"] == 1
        with Session(engine) as session:
            assert session.exec(select(SweepRun)).one().examined == 1
    finally:
        engine.dispose()
        get_settings.cache_clear()


def test_sweep_flow_runs_on_the_prefect_engine(prefect_harness, sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            make_item(session, deadline=date(2024, 10, 8), next_action_at=datetime(2024, 9, 1, tzinfo=UTC))
            session.commit()
        outcome = run_flow(sweep_flow, engine="prefect", now="2024-10-09T09:00+08:00", database_url=sqlite_url)
        assert outcome.engine == "prefect"
        assert outcome.result["notifications"] == 1 and outcome.result["events"]["overdue"] == 1
        with Session(engine) as session:
            assert session.exec(select(Notification)).one().kind == "overdue"
    finally:
        engine.dispose()


def test_scheduler_that_loses_its_lease_stops_scheduling_and_one_that_gets_it_starts(engine_, db_url):
    settings = load_settings(database_url=db_url)
    jobs = [JOBS[0]]
    one = Scheduler(settings, engine_, jobs=jobs, flow_engine="local", lease=Lease(engine_, "one"), on_change=lambda owns: print("owns" if owns else "lost"))
    two = Scheduler(settings, engine_, jobs=jobs, flow_engine="local", lease=Lease(engine_, "two"), on_change=lambda owns: print("owns" if owns else "lost"))
    try:
        assert one.start() and not two.start()
        one.lease.release()  # as if its lease had lapsed (the owner hung or died)
        two.tend_lease()
        one.tend_lease()
        assert two.owns and two._scheduler.get_job("sweep") is not None
        assert not one.owns and one._scheduler.get_job("sweep") is None
    finally:
        one.stop()
        two.stop()


def test_the_sweep_flow_logs_a_year_the_calendar_does_not_know(sqlite_url, caplog):
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:  # due in 2031: its reminders are counted in a year chinese-calendar lacks
            make_item(session, deadline=date(2031, 3, 31), next_action_at=datetime(2024, 9, 1, tzinfo=UTC))
            session.commit()
        with caplog.at_level("WARNING", logger="duban.flows.sweep"):
            outcome = run_flow(sweep_flow, engine="local", now="2024-10-09T09:00+08:00", database_url=sqlite_url)
        assert outcome.result["warnings"] and "2031" in outcome.result["warnings"][0]
        assert [r.getMessage() for r in caplog.records if r.name == "duban.flows.sweep"] == outcome.result["warnings"]
    finally:
        engine.dispose()
