"""One owner of the schedules per database: embedded `duban serve` or one Prefect server, never both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.settings import load_settings
from flows.scheduler import JOBS, Lease, Scheduler
from models import schedule_owner
from models.db import make_engine
from models.schedule_owner import OwnedElsewhere

T = datetime(2024, 10, 9, 1, tzinfo=UTC)
API = "http://prefect.example:4200/api"


@pytest.fixture
def engine_(db_url):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_the_other_mode_is_refused_and_named(engine_):
    assert schedule_owner.claim(engine_, "embedded", api_url=None, by="desk:1", now=T).mode == "embedded"
    assert schedule_owner.claim(engine_, "embedded", api_url=None, by="desk:2", now=T).claimed_by == "desk:1"
    with pytest.raises(OwnedElsewhere) as refused:
        schedule_owner.claim(engine_, "server", api_url=API, by="ops@host", now=T)
    assert (refused.value.owner.mode, refused.value.owner.claimed_by) == ("embedded", "desk:1")


def test_a_second_prefect_server_is_a_second_owner(engine_):
    schedule_owner.claim(engine_, "server", api_url=API + "/", by="ops@host", now=T)
    assert schedule_owner.claim(engine_, "server", api_url=API, by="ops@other", now=T).api_url == API
    with pytest.raises(OwnedElsewhere):
        schedule_owner.claim(engine_, "server", api_url="http://other:4200/api", by="ops@host", now=T)
    with pytest.raises(OwnedElsewhere):
        schedule_owner.claim(engine_, "embedded", api_url=None, by="desk:1", now=T)


def test_released_schedules_go_to_the_next_claimant(engine_):
    schedule_owner.claim(engine_, "server", api_url=API, by="ops@host", now=T)
    assert schedule_owner.release(engine_).api_url == API  # type: ignore[union-attr]
    assert schedule_owner.current(engine_) is None
    assert schedule_owner.claim(engine_, "embedded", api_url=None, by="desk:1", now=T).mode == "embedded"


def test_embedded_scheduler_does_not_start_on_a_database_a_prefect_server_owns(engine_, db_url):
    schedule_owner.claim(engine_, "server", api_url=API, by="ops@host", now=T)
    scheduler = Scheduler(load_settings(database_url=db_url), engine_, jobs=[JOBS[0]], lease=Lease(engine_, "one"))
    with pytest.raises(OwnedElsewhere):
        scheduler.start()
    assert scheduler._scheduler.get_job("sweep") is None and Lease(engine_).holder() is None


def test_scheduler_stops_when_the_schedules_are_handed_to_a_prefect_server(engine_, db_url):
    scheduler = Scheduler(load_settings(database_url=db_url), engine_, jobs=[JOBS[0]], lease=Lease(engine_, "one"),
                          on_change=lambda owns: None)
    try:
        assert scheduler.start()
        schedule_owner.release(engine_)  # behind its back (release refuses while a lease is live)
        schedule_owner.claim(engine_, "server", api_url=API, by="ops@host", now=T)
        scheduler.tend_lease()
        assert not scheduler.owns and scheduler._scheduler.get_job("sweep") is None
    finally:
        scheduler.stop()


def test_serve_refuses_to_start_beside_a_prefect_server_and_says_how_to_hand_over(duban, engine_, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    schedule_owner.claim(engine_, "server", api_url=API, by="ops@host", now=T)
    result = duban("serve", "--no-web")
    assert result.code == 1
    assert f"belong to the Prefect server at {API} (claimed by ops@host" in result.err
    assert "`duban schedules release`" in result.err and "Traceback" not in result.err
    assert Lease(engine_).holder() is None  # it scheduled nothing


def test_deploy_refuses_while_embedded_mode_owns_the_schedules(duban, engine_, monkeypatch):
    schedule_owner.claim(engine_, "embedded", api_url=None, by="desk:1", now=T)
    monkeypatch.setenv("PREFECT_API_URL", API)  # never reached: refused before
    result = duban("deploy")
    assert result.code == 1
    assert "belong to embedded mode, `duban serve` (claimed by desk:1" in result.err
    assert "`duban schedules release`" in result.err


def test_release_refuses_while_a_serve_holds_the_lease_and_frees_it_after(duban, engine_, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    schedule_owner.claim(engine_, "embedded", api_url=None, by="desk:1", now=T)
    lease = Lease(engine_, "desk:1", ttl=timedelta(hours=1))
    lease.claim(datetime.now(UTC))
    refused = duban("schedules", "release")
    assert refused.code == 1 and "a duban serve still runs the schedules (desk:1)" in refused.err
    lease.release()
    assert duban("schedules", "release").code == 0
    assert schedule_owner.current(engine_) is None


def test_release_of_a_prefect_server_needs_that_server_or_force(duban, engine_, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    schedule_owner.claim(engine_, "server", api_url=API, by="ops@host", now=T)
    refused = duban("schedules", "release")
    assert refused.code == 1 and f"set PREFECT_API_URL={API}" in refused.err
    assert duban("schedules", "release", "--force").code == 0
    assert schedule_owner.current(engine_) is None


def test_show_and_doctor_name_the_owner(duban, engine_, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert "owner: none yet" in duban("schedules", "show").out
    schedule_owner.claim(engine_, "embedded", api_url=None, by="desk:1", now=T)
    shown = duban("schedules", "show").out
    assert "owner: embedded mode, `duban serve` (claimed by desk:1" in shown and "digest" in shown
    doctor = duban("doctor").out
    assert "schedules: embedded mode, `duban serve` (claimed by desk:1" in doctor
    assert "no duban serve runs them now" in doctor
