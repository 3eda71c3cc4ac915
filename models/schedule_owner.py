"""Who owns the schedules of a database: embedded mode (`duban serve`) or one Prefect server, never both.

`duban serve` (embedded) and `duban deploy` (server) claim the one row before they schedule anything.
A claim by the other mode, or for another Prefect server, is refused with the current owner; only
`duban schedules release` hands the schedules over. Among several embedded `duban serve` processes
the scheduler lease (flows/scheduler.py) picks the one that runs the jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from models.sweep_tables import ScheduleOwner

OWNER = ScheduleOwner.__table__  # type: ignore[attr-defined]
ROW = "schedules"
Mode = Literal["embedded", "server"]


@dataclass(frozen=True)
class Owner:
    mode: Mode
    api_url: str | None  # the Prefect API (server mode)
    claimed_by: str
    claimed_at: datetime

    def same(self, mode: Mode, api_url: str | None) -> bool:
        return self.mode == mode and (mode == "embedded" or _normal(self.api_url) == _normal(api_url))


class OwnedElsewhere(Exception):
    """The schedules belong to another mode or another Prefect server."""

    def __init__(self, owner: Owner) -> None:
        super().__init__(f"the schedules belong to {owner.mode} mode ({owner.api_url or owner.claimed_by})")
        self.owner = owner


def _normal(url: str | None) -> str:
    return (url or "").rstrip("/")


def claim(engine: Engine, mode: Mode, *, api_url: str | None, by: str, now: datetime) -> Owner:
    """Record `mode` as the owner unless someone else is; raises OwnedElsewhere with the owner."""
    api_url = _normal(api_url) if mode == "server" else None
    with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(OWNER).values(name=ROW, mode=mode, api_url=api_url, claimed_by=by[:200], claimed_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        owner = _read(conn)
    assert owner is not None  # inserted, or there already
    if not owner.same(mode, api_url):
        raise OwnedElsewhere(owner)
    return owner


def current(engine: Engine) -> Owner | None:
    with engine.connect() as conn:
        return _read(conn)


def release(engine: Engine) -> Owner | None:
    """Forget the owner (the next `duban serve` or `duban deploy` claims the schedules); the one released."""
    with engine.begin() as conn:
        owner = _read(conn)
        conn.execute(delete(OWNER).where(OWNER.c.name == ROW))
    return owner


def _read(conn) -> Owner | None:  # type: ignore[no-untyped-def]
    row = conn.execute(
        select(OWNER.c.mode, OWNER.c.api_url, OWNER.c.claimed_by, OWNER.c.claimed_at).where(OWNER.c.name == ROW)
    ).first()
    return Owner(row.mode, row.api_url, row.claimed_by, row.claimed_at) if row else None
