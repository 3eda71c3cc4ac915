"""One schedule table: APScheduler (embedded) and prefect.yaml / `duban deploy` (server) run the same flows at the same times."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config.settings import Settings, load_settings
from flows.scheduler import JOBS
from flows.schedules import SCHEDULES, deployments, prefect_yaml
from notifications.digest import digest_due, iso_week

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")


def test_prefect_yaml_is_the_table_with_the_default_settings():
    written = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert written == prefect_yaml(Settings.model_construct()), "regenerate: python -m flows.schedules > prefect.yaml"


def test_both_modes_run_the_same_flows_at_the_same_times():
    settings = load_settings(sweep_cron="0 * * * *", digest_cron="30 8 * * fri")
    embedded = {(job.flow, job.crontab(settings)) for job in JOBS}
    by_name = {s.name: s for s in SCHEDULES}
    server = {(by_name[d["name"]].flow, c["cron"]) for d in deployments(settings) for c in d["schedules"]}
    assert embedded == server
    assert ("flows.sweep:sweep", "0 * * * *") in server and ("flows.digest:weekly_digest", "30 8 * * fri") in server
    assert {c["timezone"] for d in deployments(settings) for c in d["schedules"]} == {settings.timezone}


def test_deployments_run_entrypoints_that_exist_and_names_match_the_docs():
    import flows.deployments as entrypoints

    names = [d["name"] for d in deployments(load_settings())]
    assert names == ["sweep", "deliver", "digest", "assign"]
    for d in deployments(load_settings()):
        path, _, attribute = d["entrypoint"].partition(":")
        assert path == "flows/deployments.py" and hasattr(entrypoints, attribute)
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "weekly-digest" not in deploy_doc and "`sweep`, `deliver`, `digest`, `assign`" in deploy_doc


def test_a_cluster_deployed_after_the_digest_time_still_sends_that_weeks_digest():
    """Deployed on a Monday after 09:00: Prefect schedules no past run, the catch-up time sends it that week."""
    settings = load_settings()
    digest = next(d for d in deployments(settings) if d["name"] == "digest")
    deployed = datetime(2024, 7, 1, 9, 40, tzinfo=TZ)  # Monday, 40 minutes after the digest time
    first = min(_next_run(c["cron"], c["timezone"], deployed) for c in digest["schedules"])
    assert first - deployed <= timedelta(minutes=15)
    assert iso_week(first.date()) == iso_week(deployed.date())
    assert digest_due(first, settings)  # weekly_digest queues at that run (once: week_done guards the rest)
    assert not digest_due(datetime(2024, 7, 1, 8, 45, tzinfo=TZ), settings)  # and not before the digest time


def _next_run(cron: str, timezone: str, after: datetime) -> datetime:
    """The Prefect server's own next date for a cron schedule."""
    import asyncio

    from prefect.server.schemas.schedules import CronSchedule

    return asyncio.run(CronSchedule(cron=cron, timezone=timezone).get_dates(n=1, start=after))[0]
