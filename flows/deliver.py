"""The `deliver` flow: group pending notifications into mail and send what is due, once."""

from __future__ import annotations

from typing import Any

from flows.runtime import duban_flow


@duban_flow(name="deliver", flow_run_name="deliver-{now}")
def deliver(now: str, database_url: str | None = None) -> dict[str, Any]:
    """Group and send as of `now` (ISO 8601). Returns the summary (grouped, sent, retried, dead...)."""
    from config.clock import parse_instant
    from config.settings import get_settings
    from models.db import make_engine
    from notifications.delivery import deliver as deliver_mail

    settings = get_settings()
    engine = make_engine(database_url or settings.sqlalchemy_url)
    try:
        return deliver_mail(engine, parse_instant(now), settings).as_dict()
    finally:
        engine.dispose()
