"""A recurring item's periods (频次): each an obligation with its own deadline on the working-day calendar.

An item with a frequency has one `ItemPeriod` row per period from the period it was created in
to the one holding its deadline (its end date). A period's `due` is the frequency's day moved to
the next working day when it falls on a weekend or holiday (节假日顺延), as offices read
"每月25日前". The caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, DateTime, Table, bindparam, cast, delete, func, insert
from sqlmodel import Session, col, select

from config.calendar import WorkCalendar
from config.policy import Rules
from models.frequency import Frequency, parse_frequency
from models.read.day import due_day_end_shift, sqlite_shift
from models.tables import Document, Item, ItemEvent, ItemPeriod

if TYPE_CHECKING:
    from models.schedule import Schedule

PERIOD: Table = ItemPeriod.__table__  # type: ignore[attr-defined]
_PERIOD_RULES: dict[int, tuple[Rules, Rules]] = {}  # by the item rules' identity (kept alive in the entry)


def period_rules(rules: Rules) -> Rules:
    """The thresholds a period has: the item's reminders and escalations on its due day, no repeat
    reminders (a missed report is flagged once and escalated, not reminded every week)."""
    entry = _PERIOD_RULES.get(id(rules))
    if entry is None or entry[0] is not rules:
        entry = _PERIOD_RULES[id(rules)] = (rules, replace(rules, repeat_every=0))
    return entry[1]


def working_due(day: date, calendar: WorkCalendar) -> date:
    """`day`, or the next working day after it when it is not one."""
    return day if calendar.is_workday(day) else calendar.add_workdays(day, 1)


def planned(frequency: Frequency, first: date, last: date, calendar: WorkCalendar) -> list[tuple[date, date, date]]:
    """(starts, ends, due) of every period from the one holding `first` to the one holding `last`."""
    return [(starts, ends, working_due(due, calendar)) for starts, ends, due in frequency.periods(first, last)]


def schedule_periods(session: Session, items: list[Item], schedule: Schedule) -> None:
    """Make each item's periods match its frequency and deadline; fulfilled periods are kept as they are.

    A new period, or one whose due day moved, is swept from its first threshold (the policy's
    earliest reminder before its due day; models/period_sweep.py). An item without a frequency
    keeps only its fulfilled periods (a record of what was reported).
    """
    ids = [item.id for item in items]
    if not ids:
        return
    calendar, tz = schedule.calendar, schedule.tz
    existing: dict[int, dict[date, ItemPeriod]] = {}
    for row in session.exec(select(ItemPeriod).where(col(ItemPeriod.item_id).in_(ids))).all():
        existing.setdefault(row.item_id, {})[row.starts] = row
    names = dict(session.exec(select(Document.id, Document.short_name)
                              .where(col(Document.id).in_({item.document_id for item in items}))).all())
    stale: list[tuple[int, date]] = []
    rows: list[dict[str, object]] = []
    for item in items:
        assert item.id is not None
        frequency = parse_frequency(item.frequency) if item.frequency else None
        wanted = planned(frequency, item.created_at.astimezone(tz).date(), item.deadline, calendar) if frequency else []
        have = existing.get(item.id, {})
        wanted_starts = {starts for starts, _, _ in wanted}
        for starts, kept in have.items():
            if kept.fulfilled_at is None and starts not in wanted_starts:
                stale.append((item.id, starts))

        def first_action(due: date, item: Item = item) -> datetime | None:
            return schedule.first_period_action_at(names.get(item.document_id, ""), item.category, due)

        for starts, ends, due in wanted:
            period = have.get(starts)
            if period is None:
                rows.append({"item_id": item.id, "starts": starts, "ends": ends, "due": due, "fulfilled_at": None,
                             "fulfilled_event_id": None, "level": 0, "next_action_at": first_action(due)})
            elif period.fulfilled_at is None and (period.ends, period.due) != (ends, due):
                period.ends, period.due = ends, due
                period.level, period.next_action_at = 0, first_action(due)
    for item_id, starts in stale:
        session.execute(delete(ItemPeriod).where(col(ItemPeriod.item_id) == item_id,
                                                 col(ItemPeriod.starts) == starts))
    if rows:
        session.execute(insert(ItemPeriod), rows)


def reschedule_periods(session: Session, item: Item) -> None:
    """The item's frequency or deadline changed on the desk (an edit, an approved extension): the
    periods not yet reported follow, on the configured policy and calendar."""
    from models.schedule import Schedule

    session.flush()
    schedule_periods(session, [item], Schedule.configured())


def fulfil_period(session: Session, item: Item, event: ItemEvent, now: datetime, tz: ZoneInfo) -> ItemPeriod | None:
    """The lead unit reported (or submitted) at `now` (`event`): the oldest period not yet reported
    that has begun is fulfilled by it; after its due day it is fulfilled late, recorded by one
    `period_late` event. None when no period is open."""
    today = now.astimezone(tz).date()
    period = session.exec(
        select(ItemPeriod).where(ItemPeriod.item_id == item.id, col(ItemPeriod.fulfilled_at).is_(None),
                                 col(ItemPeriod.starts) <= today)
        .order_by(col(ItemPeriod.starts)).limit(1)
    ).first()
    if period is None:
        return None
    period.fulfilled_at, period.fulfilled_event_id, period.next_action_at = now, event.id, None
    session.add(period)
    if today > period.due:
        session.add(ItemEvent(
            item_id=item.id, kind="period_late", at=now, actor_id=event.actor_id,  # type: ignore[arg-type]
            actor_label=event.actor_label, from_status=event.to_status, to_status=event.to_status,
            payload={**period_payload(period.starts, period.ends),
                     "period_due": period.due.isoformat(), "days_overdue": (today - period.due).days,
                     "event_id": event.id}))
    return period


def period_payload(starts: date, ends: date) -> dict[str, str]:
    """How a period event or notice names its period: `period_starts` (ISO date, the period's key
    with the item) to identify it, and `period` "STARTS – ENDS" to show it."""
    return {"period": f"{starts.isoformat()} – {ends.isoformat()}", "period_starts": starts.isoformat()}


def period_starts(payload: Mapping[str, Any]) -> date | None:
    """The first day of the period a period event or notice names: `period_starts`, or for events
    written before it existed the start of the `period` display string; None when it names none."""
    text = payload.get("period_starts")
    if text is None and isinstance(payload.get("period"), str):
        text = payload["period"].partition(" – ")[0]
    try:
        return date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def period_named(item_id: int, payload: dict[str, Any]) -> tuple[int, date, date] | None:
    """(item, starts, due) of the period a period event or notice names (`period_starts`, see
    period_payload, and `period_due`); None when it names none."""
    starts = period_starts(payload)
    try:
        return (item_id, starts, date.fromisoformat(str(payload["period_due"]))) if starts else None
    except (KeyError, ValueError):
        return None


def still_due(session: Session, periods: set[tuple[int, date, date]]) -> set[tuple[int, date, date]]:
    """Those of `periods` (item, starts, due) still not reported and due on that day."""
    if not periods:
        return set()
    rows = session.exec(select(ItemPeriod.item_id, ItemPeriod.starts, ItemPeriod.due).where(
        col(ItemPeriod.item_id).in_({item_id for item_id, _, _ in periods}), col(ItemPeriod.fulfilled_at).is_(None))).all()
    return periods & {tuple(row) for row in rows}  # type: ignore[misc]


@dataclass(frozen=True)
class PeriodView:
    starts: date
    ends: date
    due: date
    fulfilled_at: datetime | None
    state: str  # on_time | late | missing | open

    def as_json(self) -> dict[str, object]:
        return {"starts": self.starts.isoformat(), "ends": self.ends.isoformat(), "due": self.due.isoformat(),
                "fulfilled_at": self.fulfilled_at.isoformat() if self.fulfilled_at else None, "state": self.state}


def period_state(due: date, fulfilled_at: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """on_time / late (fulfilled after its due day), missing (due day over, not fulfilled), open."""
    if fulfilled_at is not None:
        return "on_time" if fulfilled_at.astimezone(tz).date() <= due else "late"
    return "missing" if now.astimezone(tz).date() > due else "open"


def reported_on_time(postgres: bool, tz: ZoneInfo, at: datetime) -> ColumnElement[bool]:
    """SQL: the period was reported by the end of its due day, local time (`period_state`'s on_time).

    The end of day D is D + 1 day less the zone's UTC offset at `at` (China keeps one offset all
    year, models.read.day.due_day_end_shift); instants are stored as naive UTC.
    """
    shift = due_day_end_shift(tz, at)
    return reported_by_due_day_end(postgres, shift if postgres else sqlite_shift(shift))


def reported_by_due_day_end(postgres: bool, shift: Any) -> ColumnElement[bool]:
    """`reported_on_time` with the shift given: a timedelta (PostgreSQL) or SQLite's datetime()
    modifier (models.read.day.sqlite_shift), or a bound parameter for either (the CLI's report
    compiles its statements once with it: models.read.figures.compiled_report_sql)."""
    if postgres:
        end: ColumnElement[datetime] = cast(col(ItemPeriod.due), DateTime) + shift
    else:
        end = func.datetime(col(ItemPeriod.due), shift)
    return col(ItemPeriod.fulfilled_at) < end


# Built once and read as plain rows: every item page asks, and the ORM's loading of the rows
# cost more than the query.
_PERIODS_OF_ITEM = (select(ItemPeriod.starts, ItemPeriod.ends, ItemPeriod.due, ItemPeriod.fulfilled_at)
                    .where(ItemPeriod.item_id == bindparam("item_id")).order_by(col(ItemPeriod.starts)))


def item_periods(session: Session, item_id: int, now: datetime, tz: ZoneInfo) -> list[PeriodView]:
    if session.autoflush:  # as session.exec would, before reading through the connection
        session.flush()
    rows = session.connection().execute(_PERIODS_OF_ITEM, {"item_id": item_id}).all()
    return [PeriodView(starts, ends, due, fulfilled_at, period_state(due, fulfilled_at, now, tz))
            for starts, ends, due, fulfilled_at in rows]

