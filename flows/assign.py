"""The `assign` flow: import ledger files (parse, check, apply, queue assignment notices) in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.runtime import duban_flow


@duban_flow(name="assign", flow_run_name="assign-{now}")
def assign(
    files: list[str], now: str, dry_run: bool = False, database_url: str | None = None, progress: Any = None
) -> dict[str, Any]:
    """Import `files` as of `now` (ISO 8601); all or nothing. Returns the import summary.

    `progress` (a callable: stage, done, total) only works in-process; Prefect runs pass none.
    """
    from sqlmodel import Session

    from config.clock import parse_instant
    from config.settings import get_settings
    from models.db import make_engine
    from models.ledger import import_ledger

    engine = make_engine(database_url or get_settings().sqlalchemy_url)
    try:
        with Session(engine) as session:
            summary = import_ledger(
                session, [Path(f) for f in files], now=parse_instant(now), dry_run=dry_run, progress=progress,
                limits=get_settings().xlsx_limits,
            )
            if not dry_run:
                session.commit()
    finally:
        engine.dispose()
    return summary.as_dict()
