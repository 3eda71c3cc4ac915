"""The `deliver` flow: group pending notifications into mail and send what is due, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows.runtime import duban_flow, duban_task, run_logger


@duban_flow(name="deliver")
def deliver(now: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Group and send as of `now` (ISO 8601; the clock, read once, when None). Returns the summary."""
    from config import clock
    from config.settings import get_settings

    at = clock.parse_instant(now) if now else clock.now()
    summary = deliver_mail(database_url or get_settings(plain=True).sqlalchemy_url, at)
    run_logger("deliver").info("deliver at %s: %s", at.isoformat(), summary)
    return summary


@duban_task(name="deliver-mail", retries=2, retry_delay_seconds=10, timeout_seconds=1800)
def deliver_mail(database_url: str, at: datetime) -> dict[str, Any]:
    """One delivery pass; a retry is harmless: rows are claimed, and a message sent is recorded once."""
    from config.settings import get_settings
    from models.cycles import cycle_collection_paused
    from models.db import make_engine
    from notifications.delivery import deliver as run_delivery

    engine = make_engine(database_url)
    try:
        with cycle_collection_paused():  # thousands of rows and mails, few cycles (models/db.py)
            return run_delivery(engine, at, get_settings(plain=True)).as_dict()
    finally:
        engine.dispose()
