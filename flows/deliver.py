"""The `deliver` flow: group pending notifications into mail and send what is due, once."""

from __future__ import annotations

from typing import Any

from flows.runtime import duban_flow


@duban_flow(name="deliver", flow_run_name="deliver-{now}")
def deliver(now: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    """Group and send as of `now` (ISO 8601; the clock, read once, when None). Returns the summary."""
    from config import clock
    from config.settings import get_settings
    from models.db import make_engine
    from notifications.delivery import deliver as deliver_mail

    at = clock.parse_instant(now) if now else clock.now()
    settings = get_settings()
    engine = make_engine(database_url or settings.sqlalchemy_url)
    try:
        return deliver_mail(engine, at, settings).as_dict()
    finally:
        engine.dispose()
