"""The `assign` flow: import ledger files (parse, check, apply, queue assignment notices) in one transaction.

The CLI (`duban import`), the web import and the `assign` deployment all run this flow.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flows.runtime import duban_flow, duban_task, run_logger


@duban_flow(name="assign")
def assign(
    files: list[str], now: str, dry_run: bool = False, database_url: str | None = None, progress: Any = None,
    limits: Any = None,
) -> dict[str, Any]:
    """Import `files` as of `now` (ISO 8601); all or nothing. Returns the import summary.

    `progress` (a callable: stage, done, total) and `limits` (the web app's spreadsheet limits; the
    settings' when None) only work in-process; Prefect runs pass neither.
    """
    from config.clock import parse_instant
    from config.settings import get_settings

    at = parse_instant(now)
    summary = apply_ledger(database_url or get_settings().sqlalchemy_url, files, at, dry_run, progress,
                           limits or get_settings().xlsx_limits)
    run_logger("assign").info("import of %s at %s%s: %s", ", ".join(Path(f).name for f in files), now,
                              " (dry run)" if dry_run else "", summary)
    return summary


@duban_task(name="apply-ledger", retries=1, retry_delay_seconds=10, timeout_seconds=3600)
def apply_ledger(
    database_url: str, files: list[str], at: datetime, dry_run: bool, progress: Any, limits: Any
) -> dict[str, Any]:
    """Parse, check and apply in one transaction: a retry after a lost connection starts from nothing."""
    from sqlmodel import Session

    from models.db import make_engine
    from models.ledger.apply import import_ledger

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            summary = import_ledger(
                session, [Path(f) for f in files], now=at, dry_run=dry_run, progress=progress,
                limits=limits,
            )
            if not dry_run:
                session.commit()
    finally:
        engine.dispose()
    return summary.as_dict()
