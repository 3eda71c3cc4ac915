"""Delivery: group pending notifications, claim due outbox rows, send them, record the outcome.

Claims are compare-and-set (`UPDATE ... WHERE status IN (pending, failed) AND next_attempt_at <= now`,
with `FOR UPDATE SKIP LOCKED` on PostgreSQL) and carry a lease: a claimed row's next_attempt_at is
pushed out, so a process killed mid-send leaves it for a later run, which sends it again with the
same bytes and Message-ID. A duplicate is therefore possible only between the server's acceptance
and our commit, and it is recognisably the same message.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from config.settings import Settings
from models.db import is_postgres
from models.outbox import DUE_STATUSES, OutboxMessage, OutboxStatus
from notifications.outbox import group_pending
from notifications.transport import DeliveryError, SmtpConnection, SmtpTransport
from notifications.window import IsWorkday, window_closed_until

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


@dataclass
class DeliverySummary:
    grouped: int = 0  # messages queued from notifications in this run
    sent: int = 0
    retried: int = 0  # temporary failures, to be tried again
    dead: int = 0
    refused_recipients: int = 0
    seconds: float = 0.0
    window_opens: datetime | None = None  # set when the delivery window was closed
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "grouped": self.grouped, "sent": self.sent, "retried": self.retried, "dead": self.dead,
            "refused_recipients": self.refused_recipients, "seconds": round(self.seconds, 3),
            "window_opens": self.window_opens.isoformat() if self.window_opens else None,
            "errors": self.errors[:5],
        }


@dataclass(frozen=True)
class Claimed:
    id: int
    recipients: list[str]
    raw: str
    attempts: int
    created_at: datetime


@dataclass
class Outcome:
    claimed: Claimed
    refused: dict[str, str] = field(default_factory=dict)
    error: DeliveryError | None = None


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential, capped, with jitter (between half and all of the step) so retries spread out."""
    step = min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)
    return step * (0.5 + 0.5 * (rng or random).random())


def lease(settings: Settings) -> timedelta:
    """How long a claim holds: longer than any batch can take (each send is bounded by the timeout)."""
    return max(timedelta(minutes=10), timedelta(seconds=settings.smtp_timeout * 20))


def claim_due(session: Session, now: datetime, settings: Settings, limit: int) -> tuple[str, list[Claimed]]:
    """Claim up to `limit` due rows for this run (commits); returns the claim token and the rows."""
    token = uuid.uuid4().hex
    due = (
        select(OutboxMessage.id)  # type: ignore[call-overload]
        .where(col(OutboxMessage.status).in_(DUE_STATUSES), OutboxMessage.next_attempt_at <= now)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(due.scalar_subquery()),
               col(OutboxMessage.status).in_(DUE_STATUSES), OutboxMessage.next_attempt_at <= now)
        .values(claim=token, next_attempt_at=now + lease(settings), attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.recipients, OutboxMessage.raw,  # type: ignore[call-overload]
               OutboxMessage.attempts, OutboxMessage.created_at)
        .where(OutboxMessage.claim == token).order_by(OutboxMessage.id)
    ).all()
    return token, [Claimed(*row) for row in rows]


def record(session: Session, token: str, outcomes: Sequence[Outcome], now: datetime, settings: Settings,
           summary: DeliverySummary, rng: random.Random | None = None) -> None:
    """Write what happened to each claimed row (commits); rows re-claimed by others are left alone."""
    max_age = timedelta(hours=settings.delivery_retry_max_age_hours)
    params: list[dict[str, Any]] = []
    plainly_sent: list[int] = []  # the common case, written with one statement
    for o in outcomes:
        row = {"b_id": o.claimed.id, "b_claim": token, "status": OutboxStatus.SENT, "sent_at": now,
               "next_attempt_at": now, "last_error": "", "refused": o.refused}
        if o.error is None:
            summary.sent += 1
            summary.refused_recipients += len(o.refused)
            if not o.refused:
                plainly_sent.append(o.claimed.id)
                continue
            row["last_error"] = "refused for some recipients: " + "; ".join(f"{a}: {r}" for a, r in o.refused.items())
        elif o.error.permanent or now - o.claimed.created_at >= max_age:
            summary.dead += 1
            reason = o.error.reply if o.error.permanent else f"gave up after {o.claimed.attempts} attempts: {o.error.reply}"
            row |= {"status": OutboxStatus.DEAD, "sent_at": None, "last_error": reason}
        else:
            summary.retried += 1
            row |= {"status": OutboxStatus.FAILED, "sent_at": None, "last_error": o.error.reply,
                    "next_attempt_at": now + backoff(o.claimed.attempts, rng)}
        if o.error is not None:
            summary.errors.append(o.error.reply)
        params.append(row)
    if not params and not plainly_sent:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    if plainly_sent:
        session.connection().execute(
            update(table)
            .where(table.c.id.in_(plainly_sent), table.c.claim == token)
            .values(status=OutboxStatus.SENT, sent_at=now, claim=None, next_attempt_at=now, last_error="",
                    refused_recipients={})
        )
    if params:
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.claim == bindparam("b_claim"))
            .values(status=bindparam("status"), sent_at=bindparam("sent_at"), claim=None,
                    next_attempt_at=bindparam("next_attempt_at"), last_error=bindparam("last_error"),
                    refused_recipients=bindparam("refused"))
        )
        session.connection().execute(statement, params)
    session.commit()


async def send_batch(pool: ConnectionPool, sender: str, batch: Sequence[Claimed],
                     done: Callable[[Outcome], None]) -> None:
    """Send a batch over the pool's connections; `done` gets every claimed row's outcome."""
    queue: asyncio.Queue[Claimed] = asyncio.Queue()
    for claimed in batch:
        queue.put_nowait(claimed)

    def take() -> Claimed | None:
        return None if queue.empty() else queue.get_nowait()

    async def worker(slot: int) -> None:
        # Each worker holds the message it sends next, so that its envelope can go out early.
        claimed = take()
        while claimed is not None:
            following = take()
            outcome = Outcome(claimed)
            try:
                if pool.down is not None:  # the server is unreachable: do not queue up timeouts
                    raise pool.down
                conn = await pool.get(slot)
                outcome.refused = await conn.send(sender, claimed.recipients, claimed.raw.encode("ascii"),
                                                  following=following.recipients if following else None)
            except DeliveryError as exc:
                outcome.error = exc
                if exc.connection_lost:
                    await pool.drop(slot)
                if exc.unreachable and pool.down is None:
                    pool.down = exc
            done(outcome)
            claimed = following

    await asyncio.gather(*(worker(slot) for slot in range(min(pool.size, len(batch)))))


class ConnectionPool:
    """At most `size` connections, each reused for many messages."""

    def __init__(self, transport: SmtpTransport, size: int) -> None:
        self.transport = transport
        self.size = size
        self.connections: dict[int, SmtpConnection] = {}
        self.down: DeliveryError | None = None

    async def get(self, slot: int) -> SmtpConnection:
        conn = self.connections.get(slot)
        if conn is None or not conn.usable:
            conn = self.connections[slot] = await self.transport.connect()
        return conn

    async def drop(self, slot: int) -> None:
        conn = self.connections.pop(slot, None)
        if conn is not None:
            conn.client.close()

    async def close(self) -> None:
        await asyncio.gather(*(conn.close() for conn in self.connections.values()))
        self.connections.clear()


def deliver(
    engine: Engine,
    now: datetime,
    settings: Settings,
    *,
    transport: SmtpTransport | None = None,
    batch_size: int = 500,
    is_workday: IsWorkday | None = None,
    group: bool = True,
) -> DeliverySummary:
    """One delivery run: group what is pending, then (inside the window) send everything due."""
    started = time.perf_counter()
    summary = DeliverySummary()
    with Session(engine) as session:
        if group:
            while (queued := group_pending(session, now, settings)) > 0:
                summary.grouped += queued
        summary.window_opens = window_closed_until(now, settings, is_workday)
    if summary.window_opens is None:
        asyncio.run(_send_all(engine, now, settings, transport or SmtpTransport.from_settings(settings),
                              batch_size, summary))
    summary.seconds = time.perf_counter() - started
    return summary


def _claim(engine: Engine, now: datetime, settings: Settings, limit: int) -> tuple[str, list[Claimed]]:
    with Session(engine) as session:
        return claim_due(session, now, settings, limit)


def release(engine: Engine, token: str) -> None:
    """Give back rows claimed but never tried (the run stopped early): due again at once."""
    with Session(engine) as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.claim == token)
            .values(claim=None, next_attempt_at=OutboxMessage.created_at, attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()


class _Recorder:
    """Group commit: outcomes are written in a worker thread while sending goes on; whatever
    arrived during one write goes in the next. A crash re-sends only what the server accepted
    since the last commit, usually a message or two per connection. The thread keeps one
    database connection for the run (a checkout per write costs a round trip on PostgreSQL)."""

    def __init__(self, engine: Engine, now: datetime, settings: Settings, summary: DeliverySummary) -> None:
        self.engine, self.now, self.settings, self.summary = engine, now, settings, summary
        self.pending: list[tuple[str, Outcome]] = []
        self.writing: asyncio.Future[None] | None = None
        self.error: BaseException | None = None
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="duban-outcomes")
        self.connection: Connection | None = None

    def add(self, token: str, outcome: Outcome) -> None:
        self.pending.append((token, outcome))
        if self.writing is None:
            self._start()

    def _start(self) -> None:
        batch, self.pending = self.pending, []
        self.writing = asyncio.get_running_loop().run_in_executor(self.thread, self._record, batch)
        self.writing.add_done_callback(self._written)

    def _written(self, future: asyncio.Future[None]) -> None:
        self.writing = None
        self.error = self.error or future.exception()
        if self.error is None and self.pending:
            self._start()

    def _record(self, batch: list[tuple[str, Outcome]]) -> None:
        by_token: dict[str, list[Outcome]] = {}
        for token, outcome in batch:
            by_token.setdefault(token, []).append(outcome)
        if self.connection is None:
            self.connection = self.engine.connect()
        with Session(bind=self.connection) as session:
            for token, outcomes in by_token.items():
                record(session, token, outcomes, self.now, self.settings, self.summary)

    def _disconnect(self) -> None:
        if self.connection is not None:
            self.connection.close()

    async def close(self) -> None:
        """Wait for every outcome to be written; a failed write surfaces here (its rows are
        still claimed, and go out again once the lease expires)."""
        while self.error is None and (self.writing is not None or self.pending):
            if self.writing is None:
                self._start()
            writing = self.writing
            assert writing is not None
            await asyncio.wait([writing])
        await asyncio.get_running_loop().run_in_executor(self.thread, self._disconnect)
        self.thread.shutdown()
        if self.error is not None:
            raise self.error


async def _send_all(engine: Engine, now: datetime, settings: Settings, transport: SmtpTransport,
                    batch_size: int, summary: DeliverySummary) -> None:
    """Claim a batch, send it; the next batch is claimed while this one is being sent."""
    pool = ConnectionPool(transport, settings.smtp_max_connections)
    recorder = _Recorder(engine, now, settings, summary)
    upcoming: asyncio.Future[tuple[str, list[Claimed]]] | None = asyncio.ensure_future(
        asyncio.to_thread(_claim, engine, now, settings, batch_size))
    try:
        while upcoming is not None:
            token, batch = await upcoming
            upcoming = None
            if not batch:
                break
            if len(batch) == batch_size:
                upcoming = asyncio.ensure_future(asyncio.to_thread(_claim, engine, now, settings, batch_size))
            await send_batch(pool, settings.mail_from, batch, functools.partial(recorder.add, token))
            if pool.down is not None:
                break
    finally:
        await recorder.close()
        await pool.close()
        if upcoming is not None:
            token, _ = await upcoming
            await asyncio.to_thread(release, engine, token)
