"""Delivery: group pending notifications, claim due outbox rows, send them, record the outcome.

Claims are compare-and-set (`UPDATE ... WHERE status IN (pending, failed) AND next_attempt_at <= now`,
with `FOR UPDATE SKIP LOCKED` on PostgreSQL) and carry a lease: a claimed row's next_attempt_at is
pushed out, so a process killed mid-send leaves it for a later run, which sends it again with the
same bytes and Message-ID. A duplicate is therefore possible only between the server's acceptance
and our commit, and it is recognisably the same message. How many such messages there can be is
bounded: senders wait while `DUBAN_DELIVERY_MAX_UNRECORDED` outcomes per connection are not yet
committed, so a crash re-sends at most that many plus the one in flight, per connection.

When the database fails under a run, sending stops at once: the recorder replaces its connection and
tries again, rows never tried are given back, and the run ends with `DeliveryInterrupted`, which says
what was sent, recorded and left.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, String, bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from models.db import is_postgres
from models.errors import DubanError, database_detail
from models.outbox import DUE_STATUSES, OutboxBody, OutboxMessage, OutboxStatus, bodies
from notifications.outbox import group_pending
from notifications.transport import DeliveryError, SmtpConnection, SmtpTransport
from notifications.window import IsWorkday, window_closed_until

if TYPE_CHECKING:  # the model (pydantic-settings) is built only where settings are read with it
    from config.settings import Settings

RECORD_RETRY_DELAYS = (0.2, 1.0, 3.0)  # seconds before each new try to record, after a database failure
RECORD_DELAY = 0.05  # seconds an outcome may wait for others to be written with it
FIRST_CLAIM = 64  # rows the first claim of a run takes; later claims double up to the batch size
WRITERS_POSTGRES = 2  # outcome writes under way at once on PostgreSQL (_Recorder)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
_BODY = OutboxBody.__table__  # type: ignore[attr-defined]


@dataclass
class DeliverySummary:
    grouped: int = 0  # messages queued from notifications in this run
    sent: int = 0
    retried: int = 0  # temporary failures, to be tried again
    dead: int = 0
    refused_recipients: int = 0
    unrecorded: int = 0  # accepted by the server, but the database failed before recording it
    released: int = 0  # claimed but never tried (the run stopped early): due again at once
    seconds: float = 0.0
    window_opens: datetime | None = None  # set when the delivery window was closed
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "grouped": self.grouped, "sent": self.sent, "retried": self.retried, "dead": self.dead,
            "refused_recipients": self.refused_recipients, "unrecorded": self.unrecorded,
            "released": self.released, "seconds": round(self.seconds, 3),
            "window_opens": self.window_opens.isoformat() if self.window_opens else None,
            "errors": self.errors[:5],
        }

    def add(self, tally: DeliverySummary) -> None:
        """Count a write's outcomes (`tally`) in this run's."""
        self.sent += tally.sent
        self.refused_recipients += tally.refused_recipients
        self.dead += tally.dead
        self.retried += tally.retried
        self.errors.extend(tally.errors)


class DeliveryInterrupted(DubanError):
    """The database failed during a run: sending stopped; the summary says what was done and left."""

    def __init__(self, summary: DeliverySummary, cause: BaseException) -> None:
        detail = database_detail(cause)
        super().__init__(
            f"delivery stopped because the database failed ({detail}): {summary.sent} message(s) sent "
            f"and recorded, {summary.unrecorded} sent but not recorded (sent again once their claim "
            f"expires), {summary.released} given back unsent; the next run sends the rest",
            code="delivery.interrupted",
            params={"detail": detail, "sent": summary.sent, "unrecorded": summary.unrecorded,
                    "released": summary.released})
        self.summary = summary


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
    """How long a claim holds: longer than any batch can take (each send is bounded by the timeout).

    `DUBAN_DELIVERY_LEASE_SECONDS` (10 minutes), or 20 SMTP timeouts when that is longer."""
    return timedelta(seconds=max(settings.delivery_lease_seconds, settings.smtp_timeout * 20))


def claim_due(session: Session, now: datetime, settings: Settings, limit: int) -> tuple[str, list[Claimed]]:
    """Claim up to `limit` due rows for this run (commits); returns the claim token and the rows.

    One `UPDATE ... RETURNING` claims the rows and says which (compare-and-set on status and
    next_attempt_at; on PostgreSQL the rows are chosen with SKIP LOCKED, so two runs never wait on
    each other's rows); their bodies are read from outbox_body, which no claim ever rewrites."""
    token = uuid.uuid4().hex
    table = _TABLE
    due = (
        select(table.c.id)
        .where(table.c.status.in_(DUE_STATUSES), table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
    )
    if is_postgres(session):
        # Chosen once, in a CTE: as `id IN (subquery)` PostgreSQL may run the locking subquery
        # again for each row, skip the rows this very statement just updated, and so claim rows
        # past the limit (all the due rows, at worst).
        chosen = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        picked = table.c.id == chosen.c.id
    else:
        picked = table.c.id.in_(due.scalar_subquery())
    claim = (
        update(table)
        .where(picked, table.c.status.in_(DUE_STATUSES), table.c.next_attempt_at <= now)
        .values(claim=token, next_attempt_at=now + lease(settings), attempts=table.c.attempts + 1)
        .returning(table.c.id, table.c.recipients, table.c.attempts, table.c.created_at)
    )
    if is_postgres(session):
        # The bodies come back with the claim: one statement, not a second one naming 500 ids.
        claimed = claim.cte("claimed")
        rows = session.execute(
            select(claimed, _BODY.c.raw).select_from(claimed.outerjoin(_BODY, _BODY.c.outbox_id == claimed.c.id))
        ).all()
        session.commit()
        raws = {row.id: row.raw for row in rows if row.raw is not None}
    else:
        rows = session.execute(claim).all()
        session.commit()
        raws = bodies(session, [row.id for row in rows])
        session.commit()
    return token, [Claimed(row.id, row.recipients, raws[row.id], row.attempts, row.created_at)
                   for row in sorted(rows, key=lambda row: row.id)]


def record(session: Session, token: str, outcomes: Sequence[Outcome], now: datetime, settings: Settings,
           summary: DeliverySummary, rng: random.Random | None = None) -> None:
    """Write what happened to each claimed row (commits); rows re-claimed by others are left alone.

    `summary` is counted only once the commit went through, so a write tried again counts once."""
    max_age = timedelta(hours=settings.delivery_retry_max_age_hours)
    tally = DeliverySummary()
    params: list[dict[str, Any]] = []
    plainly_sent: list[int] = []  # the common case, written with one statement
    for o in outcomes:
        row = {"b_id": o.claimed.id, "b_claim": token, "status": OutboxStatus.SENT, "sent_at": now,
               "next_attempt_at": now, "last_error": "", "refused": o.refused}
        if o.error is None:
            tally.sent += 1
            tally.refused_recipients += len(o.refused)
            if not o.refused:
                plainly_sent.append(o.claimed.id)
                continue
            row["last_error"] = "refused for some recipients: " + "; ".join(f"{a}: {r}" for a, r in o.refused.items())
        elif o.error.permanent or now - o.claimed.created_at >= max_age:
            tally.dead += 1
            reason = o.error.reply if o.error.permanent else f"gave up after {o.claimed.attempts} attempts: {o.error.reply}"
            row |= {"status": OutboxStatus.DEAD, "sent_at": None, "last_error": reason}
        else:
            tally.retried += 1
            row |= {"status": OutboxStatus.FAILED, "sent_at": None, "last_error": o.error.reply,
                    "next_attempt_at": now + backoff(o.claimed.attempts, rng)}
        if o.error is not None:
            tally.errors.append(o.error.reply)
        params.append(row)
    if not params and not plainly_sent:
        return
    table = _TABLE
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
    summary.add(tally)


# Rows sent to every recipient, each under its own claim, recorded in one statement: (id, claim)
# pairs given as two arrays. PostgreSQL only (arrays); the rows are found through the primary key.
_SENT = (
    update(_TABLE)
    .where(tuple_(_TABLE.c.id, _TABLE.c.claim).in_(
        select(func.unnest(bindparam("ids", type_=ARRAY(Integer))),
               func.unnest(bindparam("claims", type_=ARRAY(String))))))
    .values(status=OutboxStatus.SENT, sent_at=bindparam("now"), claim=None, next_attempt_at=bindparam("now"),
            last_error="", refused_recipients={})
)


def plainly_sent(outcomes: Sequence[tuple[str, Outcome]]) -> bool:
    """Every one of these was accepted for all its recipients: the common case."""
    return all(o.error is None and not o.refused for _, o in outcomes)


def record_sent(connection: Connection, outcomes: Sequence[tuple[str, Outcome]], now: datetime,
                summary: DeliverySummary) -> None:
    """`record` for outcomes that are all plainly sent, as one statement on an autocommit
    connection (PostgreSQL): one round trip, where a transaction of its own costs three (BEGIN, the
    UPDATE, COMMIT). A single statement is atomic and durable once it returns, as that transaction was."""
    connection.execute(_SENT, {"ids": [o.claimed.id for _, o in outcomes],
                               "claims": [token for token, _ in outcomes], "now": now})
    summary.sent += len(outcomes)


async def send_batch(pool: ConnectionPool, sender: str, batch: Sequence[Claimed],
                     done: Callable[[Outcome], None],
                     proceed: Callable[[], Awaitable[bool]] | None = None) -> list[Claimed]:
    """Send a batch over the pool's connections; `done` gets every tried row's outcome.

    `proceed` is awaited before each message; when it answers False the batch stops there. The
    rows never tried are returned."""
    queue: asyncio.Queue[Claimed] = asyncio.Queue()
    for claimed in batch:
        queue.put_nowait(claimed)
    untried: list[Claimed] = []

    def take() -> Claimed | None:
        return None if queue.empty() else queue.get_nowait()

    async def worker(slot: int) -> None:
        # Each worker holds the message it sends next, so that its envelope can go out early.
        claimed = take()
        while claimed is not None:
            if proceed is not None and not await proceed():
                untried.append(claimed)
                return
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
    while (left := take()) is not None:
        untried.append(left)
    return untried


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
    try:
        with Session(engine) as session:
            if group:
                while (queued := group_pending(session, now, settings)) > 0:
                    summary.grouped += queued
            summary.window_opens = window_closed_until(now, settings, is_workday)
        if summary.window_opens is None:
            asyncio.run(_send_all(engine, now, settings, transport or SmtpTransport.from_settings(settings),
                                  batch_size, summary))
    except SQLAlchemyError as exc:
        summary.seconds = time.perf_counter() - started
        raise DeliveryInterrupted(summary, exc) from exc
    summary.seconds = time.perf_counter() - started
    return summary


def _claim(engine: Engine, now: datetime, settings: Settings, limit: int) -> tuple[str, list[Claimed]]:
    with Session(engine) as session:
        return claim_due(session, now, settings, limit)


def release(engine: Engine, token: str, ids: Sequence[int] | None = None) -> None:
    """Give back rows claimed but never tried (the run stopped early): due again at once.

    `ids` limits it to those rows; rows of the claim that were tried keep their claim until recorded."""
    conditions = [col(OutboxMessage.claim) == token]
    if ids is not None:
        conditions.append(col(OutboxMessage.id).in_(list(ids)))
    with Session(engine) as session:
        session.execute(
            update(OutboxMessage).where(*conditions)
            .values(claim=None, next_attempt_at=OutboxMessage.created_at, attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False)
        )
        session.commit()


class _Recorder:
    """Group commit: outcomes are written in worker threads while sending goes on, once `gathered`
    have gathered or the oldest has waited RECORD_DELAY (a write for every outcome or two, a
    statement and a commit each, cost more CPU than sending them). Each thread keeps one database
    connection for the run (a checkout per write costs a round trip on PostgreSQL).

    On PostgreSQL two writes may be under way at once, each on its own connection, so that a write
    does not wait for the previous one's commit (a few ms each, most of a write's time); a write of
    outcomes all plainly sent is one autocommit statement (`record_sent`). SQLite writes one at a
    time (its writers queue for one lock anyway), each as a transaction.

    Senders ask `room()` before each message: it waits while `limit` outcomes are unrecorded (the
    writes under way included, however many), and answers False once recording has failed, so
    sending stops at once. A failed write drops its connection (never reused with a broken
    transaction) and is tried again on a new one; what still cannot be written is counted as
    unrecorded: those rows keep their claim and go out again when it expires."""

    def __init__(self, engine: Engine, now: datetime, settings: Settings, summary: DeliverySummary,
                 limit: int) -> None:
        self.engine, self.now, self.settings, self.summary = engine, now, settings, summary
        self.limit = limit
        self.postgres = engine is not None and engine.dialect.name == "postgresql"
        self.writers = WRITERS_POSTGRES if self.postgres else 1
        self.gathered = max(1, limit // (2 * self.writers))  # outcomes that start a write
        self.pending: list[tuple[str, Outcome]] = []
        self.failed: list[tuple[str, Outcome]] = []  # outcomes whose write failed, to be tried again
        self.writing: set[asyncio.Future[DeliverySummary]] = set()
        self.timer: asyncio.TimerHandle | None = None  # starts a write when RECORD_DELAY is up
        self.in_write = 0  # outcomes in the writes under way
        self.error: BaseException | None = None
        self.thread = ThreadPoolExecutor(self.writers, thread_name_prefix="duban-outcomes")
        self.connections: list[Connection | None] = [None] * self.writers  # one a writer, made when first used
        self.free = list(range(self.writers))  # writers not writing

    def add(self, token: str, outcome: Outcome) -> None:
        self.pending.append((token, outcome))
        self._write_soon()

    def _may_start(self) -> bool:
        """Outcomes wait, a writer is free and recording has not failed."""
        return bool(self.free) and self.error is None and bool(self.pending)

    def _write_soon(self) -> None:
        """Start a write if enough has gathered, or else make sure one starts within RECORD_DELAY."""
        if not self._may_start():
            return
        if len(self.pending) >= self.gathered:
            self._start()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(RECORD_DELAY, self._delay_up)

    def _delay_up(self) -> None:
        self.timer = None
        if self._may_start():
            self._start()

    async def room(self) -> bool:
        """Wait until fewer than `limit` outcomes are unrecorded; False once recording failed."""
        while self.error is None and len(self.pending) + self.in_write >= self.limit:
            if self._may_start():
                self._start()
            await asyncio.wait(self.writing, return_when=asyncio.FIRST_COMPLETED)
        return self.error is None

    def _start(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        slot = self.free.pop()
        self.in_write += len(batch)
        writing = asyncio.get_running_loop().run_in_executor(self.thread, self._record, batch, slot)
        self.writing.add(writing)
        writing.add_done_callback(functools.partial(self._written, batch, slot))

    def _written(self, batch: list[tuple[str, Outcome]], slot: int, future: asyncio.Future[DeliverySummary]) -> None:
        self.writing.discard(future)
        self.free.append(slot)
        self.in_write -= len(batch)
        error = future.exception()
        if error is not None:
            self.failed.extend(batch)
            self.error = self.error or error
        else:
            self._count(future.result())
        self._write_soon()

    def _count(self, tally: DeliverySummary) -> None:
        """Add a write's tally to the run's, in the event loop's thread (two writer threads adding to
        the same counters could lose an addition)."""
        self.summary.add(tally)

    def _record(self, batch: list[tuple[str, Outcome]], slot: int) -> DeliverySummary:
        """Write a batch of outcomes; returns their tally (counted once the whole batch is written)."""
        sent_only = self.postgres and plainly_sent(batch)
        by_token: dict[str, list[Outcome]] = {}
        for token, outcome in batch:
            by_token.setdefault(token, []).append(outcome)

        def write(connection: Connection) -> DeliverySummary:
            tally = DeliverySummary()  # afresh at each try: a write tried again counts once
            if sent_only:
                record_sent(connection, batch, self.now, tally)
                return tally
            with Session(bind=connection) as session:
                for token, outcomes in by_token.items():
                    record(session, token, outcomes, self.now, self.settings, tally)
            return tally

        for attempt in (1, 2):  # a cut connection: once more on a new one
            try:
                if self.postgres and not sent_only:
                    # The writer's own connection commits each statement: these need a transaction.
                    with self.engine.connect() as connection:
                        return write(connection)
                kept = self.connections[slot]
                if kept is None:
                    kept = self.connections[slot] = self.engine.connect()
                    if self.postgres:
                        kept.execution_options(isolation_level="AUTOCOMMIT")
                return write(kept)
            except SQLAlchemyError:
                self._disconnect(slot)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _disconnect(self, slot: int) -> None:
        connection, self.connections[slot] = self.connections[slot], None
        if connection is not None:
            try:
                connection.invalidate()  # never returned to the pool with a failed transaction in it
                connection.close()
            except SQLAlchemyError:
                pass

    async def close(self) -> None:
        """Wait for every outcome to be written. After a failure, what was not written is tried
        again a few times; what still is not gets counted as unrecorded and the failure raised."""
        loop = asyncio.get_running_loop()
        while self.error is None and (self.writing or self.pending):
            if self._may_start():
                self._start()
            await asyncio.wait(self.writing, return_when=asyncio.FIRST_COMPLETED)
        if self.error is not None:
            if self.writing:
                await asyncio.wait(self.writing)
            left, self.failed, self.pending = self.failed + self.pending, [], []
            for delay in RECORD_RETRY_DELAYS:
                if not left:
                    break
                await asyncio.sleep(delay)
                try:
                    self._count(await loop.run_in_executor(self.thread, self._record, left, 0))
                    left = []
                except SQLAlchemyError:
                    continue
            self.summary.unrecorded = sum(1 for _, o in left if o.error is None)
        for slot in range(self.writers):
            await loop.run_in_executor(self.thread, self._disconnect, slot)
        self.thread.shutdown()
        if self.error is not None:
            raise self.error


async def _send_all(engine: Engine, now: datetime, settings: Settings, transport: SmtpTransport,
                    batch_size: int, summary: DeliverySummary) -> None:
    """Claim a batch, send it; the next batch is claimed while this one is being sent.

    The first claims are small and double up to `batch_size`: sending starts once FIRST_CLAIM rows
    are claimed (a claim of 500 takes 30-50 ms on PostgreSQL), and each claim is about as quick
    as sending the batch before it."""
    pool = ConnectionPool(transport, settings.smtp_max_connections)
    recorder = _Recorder(engine, now, settings, summary, settings.delivery_max_unrecorded * pool.size)
    untried: list[tuple[str, list[int]]] = []  # (claim, ids of its rows never tried)
    asked = min(FIRST_CLAIM, batch_size)
    upcoming: asyncio.Future[tuple[str, list[Claimed]]] | None = asyncio.ensure_future(
        asyncio.to_thread(_claim, engine, now, settings, asked))
    try:
        while upcoming is not None:
            token, batch = await upcoming
            upcoming = None
            if not batch:
                break
            if len(batch) == asked:
                asked = min(2 * asked, batch_size)
                upcoming = asyncio.ensure_future(asyncio.to_thread(_claim, engine, now, settings, asked))
            left = await send_batch(pool, settings.mail_from, batch, functools.partial(recorder.add, token),
                                    proceed=recorder.room)
            if left:
                untried.append((token, [c.id for c in left]))
            if pool.down is not None or recorder.error is not None:
                break
    finally:
        try:
            await recorder.close()
        finally:
            await pool.close()
            if upcoming is not None:
                try:
                    token, batch = await upcoming
                    untried.append((token, [c.id for c in batch]))
                except SQLAlchemyError:
                    pass  # that claim may not have happened; if it did, its lease gives the rows back
            for token, ids in untried:
                try:
                    await asyncio.to_thread(release, engine, token, ids)
                    summary.released += len(ids)
                except SQLAlchemyError:
                    pass  # the database is gone: the rows come back when their claim expires
