"""The sweep: handle every item whose next threshold has come, in batches, safely in parallel.

For each due item it writes one event per crossed threshold, queues a Notification for the most
severe of them, and, in a catch-up, one for each other threshold whose audience was not told yet
(models/notices.py says who each notice goes to), and moves `next_action_at` and `escalation_level` on, all in the
caller's transaction. Claiming is compare-and-set on the values read (`next_action_at`,
`deadline_version`, `status`): a lost race updates nothing and writes nothing. The sweep does not
bump the item's ORM `version`: it owns `next_action_at` and `escalation_level`, which no user
edits, so a sweep never makes a user's concurrent action fail. On PostgreSQL the batch is also
locked (`FOR UPDATE SKIP LOCKED`), so parallel sweeps share the work; on SQLite the sweep takes
the write lock (its run-log row) before reading a batch. The unique Notification key (item,
deadline version, threshold) is the last guard: ON CONFLICT DO NOTHING on both dialects.

Then the periods of recurring items due at `now` get the same treatment (models/period_sweep.py).

Items of an archived document (归档) are not swept: no reminder, overdue notice or escalation, for
the item or its periods, while the document is archived; `result.archived` counts those whose
threshold has come. Their `next_action_at` is left as it was, so once the document is unarchived
the next sweep catches up as after downtime (docs/sweep.md).

Items waiting on the supervisor (submitted) get no thresholds: the lifecycle parks them with
`next_action_at = None` and sets it to the return time when they are returned, so the next
sweep recomputes and only thresholds still ahead fire.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, extract, func, insert, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from config.calendar import WorkCalendar, coverage
from config.policy import Policy
from models.bulk import Many
from models.deadlines import ACTIVE_STATUSES, days_overdue
from models.errors import DubanError, database_detail
from models.notices import People, Recipients
from models.period_sweep import sweep_periods
from models.schedule import Plan, PlanMemo, Threshold, plan_once, told_of
from models.sweep_tables import INSERT_EVENTS, SweepRun, insert_notifications
from models.tables import OPEN_STATUSES, SWEEP_ACTOR, Document, Item, ItemEvent, Notification

ACTOR_LABEL = SWEEP_ACTOR
ITEM: Table = Item.__table__  # type: ignore[attr-defined]
EVENT: Table = ItemEvent.__table__  # type: ignore[attr-defined]
NOTIFICATION: Table = Notification.__table__  # type: ignore[attr-defined]
RUN: Table = SweepRun.__table__  # type: ignore[attr-defined]
DOCUMENT: Table = Document.__table__  # type: ignore[attr-defined]


@dataclass
class SweepResult:
    examined: int = 0
    periods: int = 0  # recurring items' periods handled (models/period_sweep.py)
    events: Counter[str] = field(default_factory=Counter)
    notifications: int = 0
    lost_races: int = 0
    batches: int = 0
    archived: int = 0  # open items of archived documents whose threshold has come, left alone
    warnings: list[str] = field(default_factory=list)
    run_id: int | None = None
    seconds: float = 0.0


class SweepInterrupted(DubanError):
    """The database failed during a sweep: what the committed batches did stands; the next sweep
    picks up the rest (every item's next action is still due)."""

    def __init__(self, committed: SweepResult, cause: BaseException) -> None:
        detail = database_detail(cause)
        super().__init__(
            f"the sweep stopped because the database failed ({detail}): {committed.batches} batch(es) "
            f"committed, {committed.examined} item(s) handled, {committed.notifications} notification(s) "
            "queued; the next sweep handles the rest",
            code="sweep.interrupted",
            params={"detail": detail, "batches": committed.batches, "examined": committed.examined,
                    "notifications": committed.notifications})
        self.committed = committed


@dataclass(frozen=True)
class DueRow:
    """The columns of a due item the sweep needs (read without the ORM, for speed)."""

    id: int
    next_action_at: datetime
    status: str
    deadline: date
    deadline_version: int
    escalation_level: int
    document_id: int
    number: str
    title: str
    category: str
    lead_unit_id: int
    supervisor_id: int | None


DUE_COLUMNS = [ITEM.c[name] for name in DueRow.__dataclass_fields__]

# The compare-and-set claim of a batch, one statement for all its rows (models/bulk.py).
CLAIM = Many(
    update(ITEM)
    .where(
        ITEM.c.id == bindparam("b_id"),
        ITEM.c.next_action_at == bindparam("b_seen"),
        ITEM.c.deadline_version == bindparam("b_version"),
        ITEM.c.status == bindparam("b_status"),
    )
    .values(next_action_at=bindparam("b_next"), escalation_level=bindparam("b_level")),
    ("b_id", "b_seen", "b_version", "b_status", "b_next", "b_level"),
)


def archived_documents(session: Session) -> list[int]:
    """The archived documents' ids, read once a run: usually none, and then the due queries are as
    they were (a NOT IN subquery made SQLite read every item; docs/benchmarks.md)."""
    return list(session.execute(select(DOCUMENT.c.id).where(DOCUMENT.c.archived_at.is_not(None))).scalars())


def due_query(now: datetime, after: tuple[datetime, int] | None, limit: int, postgres: bool,
              archived: Sequence[int] = ()) -> Any:
    query = select(*DUE_COLUMNS).where(ITEM.c.next_action_at <= now)
    if archived:
        query = query.where(ITEM.c.document_id.not_in(archived))
    if after is not None:
        # keyset paging on (next_action_at, id): every batch goes through the index, none is read twice
        query = query.where(
            ITEM.c.next_action_at >= after[0], tuple_(ITEM.c.next_action_at, ITEM.c.id) > tuple_(*after)
        )
    query = query.order_by(ITEM.c.next_action_at, ITEM.c.id).limit(limit)
    return query.with_for_update(skip_locked=True) if postgres else query


def sweep(
    session: Session,
    *,
    now: datetime,
    policy: Policy,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    batch_size: int = 1000,
    after_batch: Callable[[], None] | None = None,
) -> SweepResult:
    """Handle every item due at `now`. Writes nothing for items with nothing due.

    `after_batch` (e.g. `session.commit`) runs after each batch so a long sweep does not hold
    the write lock for its whole run; without it everything stays in the caller's transaction.
    """
    started = time.perf_counter()
    result = SweepResult()
    postgres = session.get_bind().dialect.name == "postgresql"
    directory = People(session, policy)
    memo: PlanMemo = {}
    # The run's log row is the sweep's first write: on SQLite it takes the write lock before any read.
    result.run_id = session.execute(
        insert(RUN).values(now=now, events={}, warnings=[], extra={}).returning(RUN.c.id)
    ).scalar_one()
    archived = archived_documents(session)
    after: tuple[datetime, int] | None = None
    committed = SweepResult()  # what the batches committed so far did, reported if the database fails

    def commit_batch() -> None:
        nonlocal committed
        if after_batch is not None:
            after_batch()
            committed = replace(result, events=Counter(result.events))

    try:
        while True:
            if result.batches:
                session.execute(update(RUN).where(RUN.c.id == result.run_id).values(batches=RUN.c.batches + 1))
            rows = [DueRow(*r) for r in session.execute(due_query(now, after, batch_size, postgres, archived))]
            if not rows:
                break
            result.batches += 1
            result.examined += len(rows)
            after = (rows[-1].next_action_at, rows[-1].id)
            directory.load_documents(rows)
            _handle_batch(session, rows, now, policy, calendar, tz, directory, result, memo)
            commit_batch()
            if len(rows) < batch_size:
                break
        sweep_periods(session, now=now, policy=policy, calendar=calendar, tz=tz, directory=directory,
                      result=result, batch_size=batch_size, after_batch=commit_batch, archived=archived)
        if archived:
            result.archived = session.execute(select(func.count()).select_from(ITEM).where(
                ITEM.c.next_action_at <= now, ITEM.c.document_id.in_(archived),
                ITEM.c.status.in_(list(ACTIVE_STATUSES)))).scalar_one()
    except SQLAlchemyError as exc:
        raise SweepInterrupted(committed, exc) from exc
    result.warnings = calendar_warnings(calendar)
    result.seconds = time.perf_counter() - started
    session.execute(update(RUN).where(RUN.c.id == result.run_id).values(
        examined=result.examined, events=dict(result.events), notifications=result.notifications,
        batches=result.batches, warnings=result.warnings, duration_ms=int(result.seconds * 1000),
        extra={"lost_races": result.lost_races, "periods": result.periods, "archived": result.archived},
    ))
    session.expire_all()  # the ORM's copies of swept items are stale now
    return result


def calendar_warnings(calendar: WorkCalendar, years: Iterable[int] | None = None) -> list[str]:
    """A warning for each of `years` (default: the years this run fell back for) the calendar does not cover."""
    return [
        f"calendar: {year} is covered neither by the chinese-calendar package nor by complete_years in "
        f"{calendar.source}; working days fall back to Monday-Friday plus overrides. Fix: add that year's "
        "official holidays and make-up working days to the overrides file and list it in complete_years."
        for year in sorted(calendar.fallback_years if years is None else set(years))
        if coverage(calendar, year) == "fallback"
    ]


def open_deadline_years(session: Session) -> dict[int, int]:
    """How many open items fall due in each year, for `duban doctor` to check the calendar covers
    every year a deadline is counted in, not only this year and next."""
    year = extract("year", Item.deadline)
    rows = session.execute(select(year, func.count()).where(col(Item.status).in_(OPEN_STATUSES)).group_by(year))
    return {int(found): count for found, count in rows}


def _handle_batch(
    session: Session,
    rows: list[DueRow],
    now: datetime,
    policy: Policy,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    directory: People,
    result: SweepResult,
    memo: PlanMemo,
) -> None:
    plans: dict[int, Plan | None] = {}
    for row in rows:
        if row.status not in ACTIVE_STATUSES:
            plans[row.id] = None  # submitted (or final): nothing until the lifecycle says so
            continue
        rules = policy.rules_for(directory.documents.get(row.document_id, ""), row.category)
        plans[row.id] = plan_once(memo, row.deadline, rules, calendar, tz, since=row.next_action_at, now=now,
                                  level=row.escalation_level)
    won = _claim(session, rows, plans)
    result.lost_races += len(rows) - len(won)
    directory.load([r for r in rows if r.id in won and (step := plans[r.id]) is not None and step.notify])
    events: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    # Items due on the same day cross the same thresholds: their details are worked out once (each
    # event's and notification's payload is a copy with its own keys added).
    known: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        step = plans[row.id]
        if row.id not in won or step is None:
            continue
        told: dict[str, str] = {}  # threshold key -> the key of its notification
        details = {threshold.key: _details(known, row, threshold, now, tz) for threshold in step.crossed}  # event and notice
        if step.notify is not None:
            for threshold, recipients in directory.catch_up(step.notify, step.crossed, row):
                notification = _notification(row, threshold, step, details[threshold.key], now, directory, recipients)
                notifications.append(notification)
                told[threshold.key] = notification["key"]
        for threshold in step.crossed:
            events.append({
                "item_id": row.id, "kind": threshold.kind, "at": now, "actor_id": None,
                "actor_label": ACTOR_LABEL, "from_status": row.status, "to_status": row.status,
                "payload": {**details[threshold.key], **told_of(threshold.key, told, step.crossed)},
            })
            result.events[threshold.kind] += 1
    connection = session.connection()
    if events:
        INSERT_EVENTS.run_dicts(connection, events)
    if notifications:
        result.notifications += insert_notifications(connection.dialect.name).run_dicts(connection, notifications)


def _claim(session: Session, rows: list[DueRow], plans: dict[int, Plan | None]) -> set[int]:
    """Compare-and-set each row on the values read; the ids whose update went through."""
    params: list[tuple[Any, ...]] = []
    for row in rows:
        step = plans[row.id]
        params.append((row.id, row.next_action_at, row.deadline_version, row.status,
                       step.next_action_at if step else None,
                       step.escalation_level if step else row.escalation_level))
    if session.get_bind().dialect.supports_sane_multi_rowcount:
        savepoint = session.begin_nested()
        if CLAIM.run(session.connection(), params) == len(params):
            savepoint.commit()
            return {row.id for row in rows}
        savepoint.rollback()  # someone else changed some of these rows: find out which, one by one
    connection = session.connection()
    return {int(p[0]) for p in params if CLAIM.run(connection, [p]) == 1}


def _details(known: dict[tuple[Any, ...], dict[str, Any]], row: DueRow, threshold: Threshold, now: datetime,
             tz: ZoneInfo) -> dict[str, Any]:
    """What an event and its notice record of a crossed threshold; `known` keeps the answers by what they read."""
    key = (threshold.key, threshold.at, threshold.level, threshold.workdays, row.deadline, row.deadline_version)
    found = known.get(key)
    if found is None:
        found = known[key] = _threshold_details(row, threshold, now, tz)
    return found


def _threshold_details(row: DueRow, threshold: Threshold, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "threshold": threshold.key,
        "threshold_at": threshold.at.isoformat(),
        "level": threshold.level,
        "workdays": threshold.workdays,
        "deadline": row.deadline.isoformat(),
        "deadline_version": row.deadline_version,
        "days_left": max((row.deadline - now.astimezone(tz).date()).days, 0),
        "days_overdue": days_overdue(row.deadline, now, tz),
    }


def _notification(
    row: DueRow, threshold: Threshold, step: Plan, details: dict[str, Any], now: datetime, directory: People,
    recipients: Recipients,
) -> dict[str, Any]:
    return {
        "key": f"{threshold.kind}:{row.id}:v{row.deadline_version}:{threshold.key}",
        "item_id": row.id, "kind": threshold.kind, "deadline_version": row.deadline_version,
        "to_addrs": recipients.to, "cc_addrs": recipients.cc, "created_at": now, "outbox_id": None,
        "unreached": recipients.unreached,
        "payload": {
            **details, **recipients.notes(),
            "document": directory.documents.get(row.document_id, ""), "number": row.number, "title": row.title,
            "caught_up": [t.key for t in step.crossed if t is not threshold],
        },
    }
