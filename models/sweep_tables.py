"""The sweep's own tables: a log of sweep runs (with their warnings), the scheduler lease, the schedules' owner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.db import UTCDateTime


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
