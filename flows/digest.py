"""The `digest` flows: queue this week's escalation digests (each recipient at most once a week).

`digest` compiles and queues when asked (`duban digest`). `weekly_digest` is what the scheduler
runs, on DUBAN_DIGEST_CRON and again every few minutes: it queues only once this week's digest
time has passed and this week's run has not completed, so a digest missed while the process was
down goes out when it comes back, within the same week.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows.runtime import duban_flow, duban_task, run_logger


@duban_flow(name="digest")
def digest(now: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Compile and queue the weekly digests as of `now` (ISO 8601; the clock when None)."""
    return _run(now, database_url, scheduled=False)


@duban_flow(name="weekly-digest")
def weekly_digest(now: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    """The scheduled digest: queue once this week's digest time has passed, unless done already."""
    return _run(now, database_url, scheduled=True)


def _run(now: str | None, database_url: str | None, scheduled: bool) -> dict[str, Any]:
    from config import clock
    from config.settings import get_settings

    at = clock.parse_instant(now) if now else clock.now()
    summary = queue_week(database_url or get_settings().sqlalchemy_url, at, scheduled)
    run_logger("digest").info("digest at %s: %s", at.isoformat(), summary)
    return summary


@duban_task(name="queue-digests", retries=2, retry_delay_seconds=10, timeout_seconds=1800)
def queue_week(database_url: str, at: datetime, scheduled: bool) -> dict[str, Any]:
    """Queue this week's digests in one transaction; a retry is harmless (one row per recipient and week)."""
    from sqlmodel import Session

    from config.settings import get_settings
    from models.db import make_engine
    from notifications.digest import digest_due, iso_week, queue_digests, week_done

    settings = get_settings()
    engine = make_engine(database_url)
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
