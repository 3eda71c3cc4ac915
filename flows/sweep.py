"""The `sweep` flow: remind, flag and escalate every item, and every recurring item's period, whose next
threshold has come."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flows.runtime import duban_flow, duban_task, run_logger

if TYPE_CHECKING:
    from models.sweep import SweepResult


@duban_flow(name="sweep")
def sweep(now: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Sweep as of `now` (ISO 8601; the clock, read once, when None). Returns the run's summary."""
    from config import clock
    from config.settings import get_settings

    at = clock.parse_instant(now) if now else clock.now()
    result, acknowledge_reminders = sweep_items(database_url or get_settings(plain=True).sqlalchemy_url, at)
    logger = run_logger("sweep")
    logger.info("sweep at %s: %d items examined, %d notifications queued", at.isoformat(),
                result.examined, result.notifications + acknowledge_reminders)
    for warning in result.warnings:  # a year the calendar does not know, counted Monday-Friday
        logger.warning("%s", warning)
    return {
        "now": at.isoformat(),
        "examined": result.examined,
        "periods": result.periods,
        "events": dict(result.events),
        "notifications": result.notifications + acknowledge_reminders,
        "acknowledge_reminders": acknowledge_reminders,
        "lost_races": result.lost_races,
        "archived": result.archived,
        "batches": result.batches,
        "warnings": result.warnings,
        "seconds": round(result.seconds, 3),
        "run_id": result.run_id,
    }


@duban_task(name="sweep-items", retries=2, retry_delay_seconds=10, timeout_seconds=1800)
def sweep_items(database_url: str, at: datetime) -> tuple[SweepResult, int]:
    """The sweep and the acknowledgement reminders, committed batch by batch; a retry picks up the rest.

    Policy and calendar are loaded fresh each run, so edits to their files apply at the next sweep.
    """
    from sqlmodel import Session

    from config.calendar import load_calendar
    from config.policy import load_policy
    from config.settings import get_settings
    from models.acknowledge import remind_unacknowledged
    from models.cycles import cycle_collection_paused
    from models.db import make_engine
    from models.sweep import sweep as run_sweep

    policy, calendar = load_policy(), load_calendar()
    engine = make_engine(database_url)
    try:
        with cycle_collection_paused(), Session(engine) as session:
            result = run_sweep(session, now=at, policy=policy, calendar=calendar, tz=get_settings(plain=True).tz,
                               after_batch=session.commit)
            session.commit()
            acknowledge_reminders = remind_unacknowledged(session, at, policy)
            session.commit()
    finally:
        engine.dispose()
    return result, acknowledge_reminders
