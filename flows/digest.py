"""The `digest` flows: queue this week's escalation digests (each recipient at most once a week).

`digest` compiles and queues when asked (`duban digest`). `weekly_digest` is what the scheduler
runs, on DUBAN_DIGEST_CRON and again every few minutes: it queues only once this week's digest
time has passed and this week's run has not completed, so a digest missed while the process was
down goes out when it comes back, within the same week.
"""

from __future__ import annotations

from typing import Any

from flows.runtime import duban_flow


@duban_flow(name="digest", flow_run_name="digest-{now}")
def digest(now: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Compile and queue the weekly digests as of `now` (ISO 8601; the clock when None)."""
    return _run(now, database_url, scheduled=False)


@duban_flow(name="weekly-digest", flow_run_name="weekly-digest-{now}")
def weekly_digest(now: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    """The scheduled digest: queue once this week's digest time has passed, unless done already."""
    return _run(now, database_url, scheduled=True)


def _run(now: str | None, database_url: str | None, scheduled: bool) -> dict[str, Any]:
    from sqlmodel import Session

    from config import clock
    from config.settings import get_settings
    from models.db import make_engine
    from notifications.digest import digest_due, iso_week, queue_digests, week_done

    at = clock.parse_instant(now) if now else clock.now()
    settings = get_settings()
    engine = make_engine(database_url or settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            if scheduled:
                week = iso_week(at.astimezone(settings.tz).date())
                if not digest_due(at, settings):
                    return {"week": week, "skipped": "not yet time for this week's digest"}
                if week_done(session, week):
                    return {"week": week, "skipped": "this week's digests are already queued"}
            return queue_digests(session, at, settings).as_dict()
    finally:
        engine.dispose()
