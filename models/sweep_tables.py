"""The sweep's own tables: a log of sweep runs (with their warnings), the scheduler lease, the schedules' owner;
and the statements both sweeps (items, periods) write their events and notifications with."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Table, insert
from sqlmodel import Field, SQLModel

from models.bulk import Many
from models.db import UTCDateTime
from models.tables import ItemEvent, Notification


class SweepRun(SQLModel, table=True):
    """One run of the sweep: what it examined and wrote, and its warnings (e.g. calendar fallback)."""

    __tablename__ = "sweep_run"
    id: int | None = Field(default=None, primary_key=True)
    now: datetime = Field(sa_type=UTCDateTime, index=True)
    examined: int = 0
    events: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    notifications: int = 0
    batches: int = 0
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    duration_ms: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SchedulerLease(SQLModel, table=True):
    """Who owns the schedules of this database; an owner that stops renewing loses it at expires_at."""

    __tablename__ = "scheduler_lease"
    name: str = Field(primary_key=True, max_length=40)
    owner: str = Field(max_length=200)
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class ScheduleOwner(SQLModel, table=True):
    """Which mode owns the schedules of this database: embedded (`duban serve`) or server (a Prefect server).

    One row at most (name "schedules"); models/schedule_owner.py claims and hands it over.
    """

    __tablename__ = "schedule_owner"
    name: str = Field(primary_key=True, max_length=40)
    mode: str = Field(max_length=20)  # "embedded" or "server"
    api_url: str | None = Field(default=None, max_length=500)  # the Prefect API, in server mode
    claimed_by: str = Field(max_length=200)  # the user and host that claimed it
    claimed_at: datetime = Field(sa_type=UTCDateTime)


# A sweep batch's events and notifications (a key already queued is skipped), each one statement for
# all the batch's rows (models/bulk.py).
EVENT: Table = ItemEvent.__table__  # type: ignore[attr-defined]
NOTIFICATION: Table = Notification.__table__  # type: ignore[attr-defined]
EVENT_KEYS = ("item_id", "kind", "at", "actor_id", "actor_label", "from_status", "to_status", "payload")
INSERT_EVENTS = Many(insert(EVENT), EVENT_KEYS)
NOTIFICATION_KEYS = ("key", "item_id", "kind", "deadline_version", "to_addrs", "cc_addrs", "created_at", "outbox_id",
                     "unreached", "payload")


@functools.cache
def insert_notifications(dialect_name: str) -> Many:
    """The notifications' INSERT ... ON CONFLICT (key) DO NOTHING in `dialect_name`'s words."""
    # On first use, and only the dialect in use: a read command loads neither, and PostgreSQL's
    # (with its drivers' modules) takes about 30 ms to import.
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(NOTIFICATION)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(NOTIFICATION)
    return Many(statement.on_conflict_do_nothing(index_elements=["key"]), NOTIFICATION_KEYS)
