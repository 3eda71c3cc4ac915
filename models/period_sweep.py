"""The sweep's periods pass: each recurring item's period reminded, flagged missing and escalated, once each.

A period (models/periods.py) is treated like an item whose deadline is the period's due day: the
policy's reminder and escalation thresholds (no repeat reminders: a missed report is flagged once,
then escalated) are planned by models/schedule.py on that day. `item_period.next_action_at`
(indexed) is the instant from which its thresholds are not handled yet, so a sweep reads only
the periods with something due, and one at the same `now` finds nothing.

Each crossed threshold writes one event (`period_reminder`, `period_missed` when the due day passed
without a report, `period_escalated`); the most severe is notified, and in a catch-up each other
one for whoever it names that was not told yet. Who is told is the NOTICES table's row of the
kind (models/notices.py). Claiming is compare-and-set on (next_action_at, due) with the period not
yet reported, and the notification key is (kind, item, period, due day, threshold): nothing
repeats across sweeps or between parallel ones. The caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlmodel import Session

from config.calendar import WorkCalendar
from config.policy import Audience, Policy
from models.bulk import Many
from models.deadlines import ACTIVE_STATUSES, days_overdue
from models.notices import NOTICES, ItemRef, People
from models.periods import PERIOD, period_payload, period_rules
from models.schedule import Plan, PlanMemo, Threshold, plan_once, told_of
from models.sweep_tables import INSERT_EVENTS, SweepRun, insert_notifications
from models.tables import SWEEP_ACTOR, Item, ItemEvent, Notification, Status

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from models.sweep import SweepResult

ACTOR_LABEL = SWEEP_ACTOR
ITEM: Table = Item.__table__  # type: ignore[attr-defined]
EVENT: Table = ItemEvent.__table__  # type: ignore[attr-defined]
NOTIFICATION: Table = Notification.__table__  # type: ignore[attr-defined]
RUN: Table = SweepRun.__table__  # type: ignore[attr-defined]
# A threshold's kind (models/schedule.py) -> the period's event and notice kind.
KINDS = {"reminder": "period_reminder", "overdue": "period_missed", "escalated": "period_escalated"}
_FINAL = frozenset({Status.SIGNED_OFF, Status.CANCELLED})


@dataclass(frozen=True)
class DuePeriod:
    """A due period and the columns of its item the pass needs (read without the ORM)."""

    item_id: int
    starts: date
    ends: date
    due: date
    level: int
    next_action_at: datetime
    status: str
    document_id: int
    number: str
    title: str
    category: str
    lead_unit_id: int
    supervisor_id: int | None
    deadline_version: int

    @property
    def ref(self) -> ItemRef:
        return ItemRef(self.item_id, self.document_id, self.lead_unit_id, self.supervisor_id)


@dataclass(frozen=True)
class Told:
    """A crossed threshold as its period notice: the kind and the NOTICES row's audience."""

    threshold: Threshold
    kind: str

    @property
    def audience(self) -> Audience:
        return NOTICES[self.kind].audience


_COLUMNS = [*(PERIOD.c[n] for n in ("item_id", "starts", "ends", "due", "level", "next_action_at")),
            *(ITEM.c[n] for n in ("status", "document_id", "number", "title", "category", "lead_unit_id",
                                  "supervisor_id", "deadline_version"))]


def _due_query(now: datetime, after: tuple[datetime, int, date] | None, limit: int, postgres: bool,
               archived: Sequence[int] = ()) -> Any:
    query = select(*_COLUMNS).join(ITEM, ITEM.c.id == PERIOD.c.item_id).where(PERIOD.c.next_action_at <= now)
    if archived:  # an archived document's periods wait, as its items do (models/sweep.py)
        query = query.where(ITEM.c.document_id.not_in(archived))
    if after is not None:
        # keyset paging on (next_action_at, item_id, starts): a period left due (its item awaits
        # sign-off) is read once a sweep, not again in a loop
        at, item_id, starts = after
        query = query.where(PERIOD.c.next_action_at >= at, or_(
            PERIOD.c.next_action_at > at,
            and_(PERIOD.c.next_action_at == at, or_(PERIOD.c.item_id > item_id,
                                                     and_(PERIOD.c.item_id == item_id, PERIOD.c.starts > starts)))))
    query = query.order_by(PERIOD.c.next_action_at, PERIOD.c.item_id, PERIOD.c.starts).limit(limit)
    return query.with_for_update(of=PERIOD, skip_locked=True) if postgres else query


def sweep_periods(
    session: Session, *, now: datetime, policy: Policy, calendar: WorkCalendar, tz: ZoneInfo,
    directory: People, result: SweepResult, batch_size: int = 1000, after_batch: Callable[[], None] | None = None,
    archived: Sequence[int] = (),
) -> None:
    """Handle every period due at `now`, adding to `result` (models/sweep.py runs it after the items)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    after: tuple[datetime, int, date] | None = None
    memo: PlanMemo = {}
    while True:
        # A write before the read, as the item batches do: on SQLite it takes the write lock first.
        session.execute(update(RUN).where(RUN.c.id == result.run_id).values(batches=RUN.c.batches))
        rows = [DuePeriod(*r) for r in session.execute(_due_query(now, after, batch_size, postgres, archived))]
        if not rows:
            return
        result.periods += len(rows)
        last = rows[-1]
        after = (last.next_action_at, last.item_id, last.starts)
        directory.load_documents([r.ref for r in rows])
        _handle_batch(session, rows, now, policy, calendar, tz, directory, result, memo)
        if after_batch is not None:
            after_batch()
        if len(rows) < batch_size:
            return


def _plan(row: DuePeriod, now: datetime, policy: Policy, calendar: WorkCalendar, tz: ZoneInfo,
          directory: People, memo: PlanMemo) -> Plan | None:
    """What the sweep does to the period; None leaves it due (its item awaits sign-off)."""
    if row.status in _FINAL:
        return Plan([], None, None, row.level)  # the item ended: its periods are not chased any more
    if row.status not in ACTIVE_STATUSES:
        return None
    rules = period_rules(policy.rules_for(directory.documents.get(row.document_id, ""), row.category))
    return plan_once(memo, row.due, rules, calendar, tz, since=row.next_action_at, now=now, level=row.level)


def _handle_batch(session: Session, rows: list[DuePeriod], now: datetime, policy: Policy, calendar: WorkCalendar,
                  tz: ZoneInfo, directory: People, result: SweepResult, memo: PlanMemo) -> None:
    plans = {(r.item_id, r.starts): _plan(r, now, policy, calendar, tz, directory, memo) for r in rows}
    won = _claim(session, rows, plans)
    result.lost_races += sum(1 for key, step in plans.items() if step is not None and key not in won)
    handled = [(r, step) for r in rows if (r.item_id, r.starts) in won and (step := plans[(r.item_id, r.starts)])]
    directory.load([r.ref for r, step in handled if step.notify is not None])
    events: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for row, step in handled:
        told: dict[str, str] = {}
        if step.notify is not None:
            crossed = [Told(t, KINDS[t.kind]) for t in step.crossed]
            most = next(t for t in crossed if t.threshold is step.notify)
            for notice, recipients in directory.catch_up(most, crossed, row.ref):
                key = f"{notice.kind}:{row.item_id}:{row.starts.isoformat()}:{row.due.isoformat()}:{notice.threshold.key}"
                notifications.append({
                    "key": key, "item_id": row.item_id, "kind": notice.kind, "deadline_version": row.deadline_version,
                    "to_addrs": recipients.to, "cc_addrs": recipients.cc, "created_at": now, "outbox_id": None,
                    "unreached": recipients.unreached,
                    "payload": {**_details(row, notice.threshold, now, tz), **recipients.notes(),
                                "document": directory.documents.get(row.document_id, ""), "number": row.number,
                                "title": row.title},
                })
                told[notice.threshold.key] = key
        for threshold in step.crossed:
            kind = KINDS[threshold.kind]
            events.append({
                "item_id": row.item_id, "kind": kind, "at": now, "actor_id": None, "actor_label": ACTOR_LABEL,
                "from_status": row.status, "to_status": row.status,
                "payload": {**_details(row, threshold, now, tz), **told_of(threshold.key, told, step.crossed)},
            })
            result.events[kind] += 1
    connection = session.connection()
    if events:
        INSERT_EVENTS.run_dicts(connection, events)
    if notifications:
        result.notifications += insert_notifications(connection.dialect.name).run_dicts(connection, notifications)


def _claim(session: Session, rows: list[DuePeriod], plans: dict[tuple[int, date], Plan | None]) -> set[tuple[int, date]]:
    """Compare-and-set each handled period on the values read; the keys whose update went through."""
    params = [(row.item_id, row.starts, row.next_action_at, row.due, step.next_action_at, step.escalation_level)
              for row in rows if (step := plans[(row.item_id, row.starts)]) is not None]
    if params and session.get_bind().dialect.supports_sane_multi_rowcount:
        savepoint = session.begin_nested()
        if _CLAIM.run(session.connection(), params) == len(params):
            savepoint.commit()
            return {(p[0], p[1]) for p in params}
        savepoint.rollback()  # someone else changed some of these periods: find out which, one by one
    connection = session.connection()
    return {(p[0], p[1]) for p in params if _CLAIM.run(connection, [p]) == 1}


# One statement for every period of the batch (models/bulk.py).
_CLAIM = Many(
    update(PERIOD)
    .where(PERIOD.c.item_id == bindparam("b_item"), PERIOD.c.starts == bindparam("b_starts"),
           PERIOD.c.next_action_at == bindparam("b_seen"), PERIOD.c.due == bindparam("b_due"),
           PERIOD.c.fulfilled_at.is_(None))
    .values(next_action_at=bindparam("b_next"), level=bindparam("b_level")),
    ("b_item", "b_starts", "b_seen", "b_due", "b_next", "b_level"),
)


def _details(row: DuePeriod, threshold: Threshold, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "threshold": threshold.key, "threshold_at": threshold.at.isoformat(), "level": threshold.level,
        "workdays": threshold.workdays, **period_payload(row.starts, row.ends),
        "period_due": row.due.isoformat(), "days_left": max((row.due - now.astimezone(tz).date()).days, 0),
        "days_overdue": days_overdue(row.due, now, tz),
    }
