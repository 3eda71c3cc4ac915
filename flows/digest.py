"""The `digest` flow: queue this week's escalation digests (each recipient at most once a week)."""

from __future__ import annotations

from typing import Any

from flows.runtime import duban_flow


@duban_flow(name="digest", flow_run_name="digest-{now}")
def digest(now: str, database_url: str | None = None) -> dict[str, Any]:
    """Compile and queue the weekly digests as of `now` (ISO 8601); delivery sends them."""
    from sqlmodel import Session

    from config.clock import parse_instant
    from config.settings import get_settings
    from models.db import make_engine
    from notifications.digest import queue_digests

    settings = get_settings()
    engine = make_engine(database_url or settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            return queue_digests(session, parse_instant(now), settings).as_dict()
    finally:
        engine.dispose()
