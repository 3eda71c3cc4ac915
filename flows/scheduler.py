"""Embedded mode's scheduler: APScheduler runs the flows on their crons, one owner per database.

The jobs come from the schedule table (flows/schedules.py), which `duban deploy` applies to the
Prefect server too: one job per time of a row, the catch-up time as `<name>-catch-up`.

Only the holder of the lease row (`scheduler_lease`) schedules: a second `duban serve` on the
same database runs no jobs and says so; it renews its claim every `ttl / 3` and takes over when
the owner stops renewing (it died) and the lease expires. A run missed while nobody was up is not
replayed: each flow catches up from the database on its next run (the digest on its catch-up time).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from config import clock
from config.settings import Settings
from flows.schedules import SCHEDULES
from models import schedule_owner
from models.sweep_tables import SchedulerLease

log = logging.getLogger("duban.scheduler")
LEASE = SchedulerLease.__table__  # type: ignore[attr-defined]
LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    flow: str  # "module:attribute" of a duban flow, imported when the job first runs
    cron: str  # a crontab ("*/15 * * * *"), or the name of a setting holding one ("sweep_cron")

    def crontab(self, settings: Settings) -> str:
        return str(getattr(settings, self.cron, self.cron))


JOBS: list[ScheduledJob] = [
    job
    for s in SCHEDULES
    for job in (ScheduledJob(s.name, s.flow, s.cron) if s.cron else None,
                ScheduledJob(f"{s.name}-catch-up", s.flow, s.catch_up) if s.catch_up else None)
    if job is not None
]


class Lease:
    """The row that says which process owns the schedules of a database, until when."""

    def __init__(self, engine: Engine, owner: str | None = None, ttl: timedelta = timedelta(seconds=60)) -> None:
        self.engine, self.ttl = engine, ttl
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def claim(self, now: datetime) -> bool:
        """Take or renew the lease; True when this owner holds it until now + ttl."""
        expires = now + self.ttl
        with self.engine.begin() as conn:
            renewed = conn.execute(
                update(LEASE).where(LEASE.c.name == LEASE_NAME, LEASE.c.owner == self.owner).values(expires_at=expires)
            ).rowcount
            if renewed:
                return True
            taken = conn.execute(
                update(LEASE).where(LEASE.c.name == LEASE_NAME, LEASE.c.expires_at < now)
                .values(owner=self.owner, acquired_at=now, expires_at=expires)
            ).rowcount
            if taken:
                return True
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            inserted = conn.execute(
                dialect.insert(LEASE).values(name=LEASE_NAME, owner=self.owner, acquired_at=now, expires_at=expires)
                .on_conflict_do_nothing(index_elements=["name"]).returning(LEASE.c.name)
            ).first()  # (rowcount is -1 here with psycopg)
            return inserted is not None

    def holder(self) -> tuple[str, datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(LEASE.c.owner, LEASE.c.expires_at).where(LEASE.c.name == LEASE_NAME)).first()
        return (row.owner, row.expires_at) if row else None

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(LEASE).where(LEASE.c.name == LEASE_NAME, LEASE.c.owner == self.owner))


def _flow(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


class Scheduler:
    """A BackgroundScheduler that runs JOBS while it holds the lease."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        jobs: list[ScheduledJob] | None = None,
        flow_engine: str = "auto",
        lease: Lease | None = None,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        """`on_change(owns)`: called when this process takes the schedules (True) or loses them
        (False); by default each change is logged."""
        from apscheduler.schedulers.background import BackgroundScheduler

        self.settings, self.flow_engine = settings, flow_engine
        self.jobs = JOBS if jobs is None else jobs
        self.lease = lease or Lease(engine)
        self.owns = False
        self._on_change = on_change or self._log_change
        self._lock = threading.Lock()
        from apscheduler.executors.pool import ThreadPoolExecutor

        # Jobs run one at a time: on SQLite they would only queue for the write lock anyway, and
        # concurrent first Prefect runs race to start the same temporary Prefect server. The lease
        # has its own thread, so a long job never lets it lapse.
        self._scheduler = BackgroundScheduler(
            timezone=settings.tz,
            executors={"default": ThreadPoolExecutor(1), "lease": ThreadPoolExecutor(1)},
        )

    def start(self) -> bool:
        """Start; True when this process owns the schedules now (it keeps trying otherwise).

        Raises OwnedElsewhere, scheduling nothing, when a Prefect server owns this database's schedules.
        """
        self._claim_mode()
        self.tend_lease()
        seconds = max(1.0, self.lease.ttl.total_seconds() / 3)
        self._scheduler.add_job(self.tend_lease, "interval", seconds=seconds, id="lease", max_instances=1,
                                coalesce=True, executor="lease")
        self._scheduler.start()
        return self.owns

    def stop(self) -> None:
        self._scheduler.shutdown(wait=True)
        if self.owns:
            self.lease.release()
            self.owns = False

    def _claim_mode(self) -> None:
        schedule_owner.claim(self.lease.engine, "embedded", api_url=None, by=self.lease.owner, now=clock.now())

    def tend_lease(self) -> None:
        with self._lock:
            try:
                self._claim_mode()  # handed over to a Prefect server meanwhile: stop at once
                holds = self.lease.claim(clock.now())
            except schedule_owner.OwnedElsewhere as exc:
                log.error("%s: this process stops scheduling", exc)
                holds = False
            except Exception as exc:  # a database hiccup: keep the schedules until the lease would lapse
                log.warning("scheduler lease: %s", exc)
                return
            if holds and not self.owns:
                self._add_jobs()
                self._on_change(True)
            elif not holds and self.owns:
                for job in self.jobs:
                    self._scheduler.remove_job(job.name)
                self._on_change(False)
            self.owns = holds

    def _log_change(self, owns: bool) -> None:
        if owns:
            log.info("this process owns the schedules: %s", self.describe())
        else:
            log.info("lost the scheduler lease to another process; schedules stopped here")

    def describe(self) -> str:
        return "; ".join(f"{job.name} at '{job.crontab(self.settings)}'" for job in self.jobs)

    def _add_jobs(self) -> None:
        from apscheduler.triggers.cron import CronTrigger

        for job in self.jobs:
            trigger = CronTrigger.from_crontab(job.crontab(self.settings), timezone=self.settings.tz)
            self._scheduler.add_job(self.run_job, trigger, args=[job], id=job.name, replace_existing=True,
                                    max_instances=1, coalesce=True, misfire_grace_time=60)

    def run_job(self, job: ScheduledJob) -> Any:
        from flows.runtime import run_flow

        try:
            outcome = run_flow(_flow(job.flow), engine=self.flow_engine)  # type: ignore[arg-type]
        except Exception:
            log.exception("job %s failed; it runs again at its next time", job.name)
            return None
        log.info("job %s ran (engine %s): %s", job.name, outcome.engine, outcome.result)
        return outcome.result
