"""考核 scoring's replay: each item's history walked event by event into explained lines.

Pure (models.scoring reads the rows and totals the lines): status, deadline and lead unit are
taken as they were at each event, so a line depends only on what had happened by its day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from config.calendar import WorkCalendar
from config.scoring import ScoringModel
from models.deadlines import start_of_day

CREATED_KINDS = frozenset({"created", "imported"})
PLAIN_KINDS = frozenset({"submitted", "returned", "signed_off", "cancelled"})  # read without their payload
# The events scoring reads; the sweep's reminders and progress reports change nothing it counts.
# A change of fields, by the ledger import (`updated`) or on the desk (`edited`, models/edits.py): both
# name each changed field as {"old", "new"} (the lead unit by name), so both are replayed alike.
UPDATE_KINDS = frozenset({"updated", "edited"})
SCORED_KINDS = (*CREATED_KINDS, *sorted(UPDATE_KINDS), "submitted", "returned", "signed_off", "cancelled",
                "extension_approved", "urged", "acknowledged", "period_late", "period_missed")
# Rules that deduct once per event of a kind (the unit: the event's `unit_id`, else the lead unit).
EVENT_RULES = {"returned": "returned", "urged": "urged", "period_late": "late_report",
               "period_missed": "missing_report"}
PERIOD_KINDS = frozenset({"period_missed", "period_late"})
LINE_KINDS = frozenset({*EVENT_RULES, "acknowledged", "signed_off"})  # kinds that may make a line
CHANGE_KINDS = frozenset({*UPDATE_KINDS, "extension_approved"})  # kinds that may move a deadline or a lead unit
_IN_ORDER = attrgetter("at", "id")
ACTIVE = frozenset({"assigned", "in_progress"})  # the unit works on it: it can be overdue
WEEK = 5  # working days
CENT = Decimal("0.01")
ZERO = Decimal(0)


# Rows and lines are plain slotted dataclasses, not frozen ones: a frozen dataclass sets each field
# through object.__setattr__, which made building them about 7 times slower, and a year's scoring
# builds some 400,000. Only a cap changes a line, in the one board it belongs to (models/scoring.py).
@dataclass(slots=True)
class ItemRow:
    id: int
    ref: str  # DOCUMENT/NUMBER
    document: str
    category: str
    lead_unit_id: int
    original_deadline: date
    status: str
    created_at: datetime


@dataclass(slots=True)
class EventRow:
    id: int
    item_id: int
    kind: str
    at: datetime
    from_status: str | None
    to_status: str | None
    payload: dict[str, Any]


@dataclass(slots=True)
class Line:
    """One explained deduction or addition: negative points for a deduction.

    An overdue line covers `weeks` working weeks of one stretch overdue (from `on`, the day the
    first began, to `until`, the day the last began); other lines are one event each (weeks 1).
    `capped`: cut (to 0 or less) by a cap.
    """

    rule: str
    points: Decimal
    item: str
    item_id: int
    event_id: int | None
    on: date
    weeks: int = 1
    until: date | None = None
    capped: bool = False
    # Internal (not shown): an overdue line's first week as a working-day number, and its points a week,
    # so `score_parts` can cut a stretch at the months' edges.
    week_number: int = 0
    per_week: Decimal = Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        if self.until is None:
            return {"rule": self.rule, "points": number(self.points), "item": self.item, "event_id": self.event_id,
                    "on": self.on.isoformat(), "capped": self.capped}
        return {"rule": self.rule, "points": number(self.points), "item": self.item, "event_id": self.event_id,
                "on": self.on.isoformat(), "capped": self.capped, "until": self.until.isoformat(), "weeks": self.weeks}


_NUMBERS: dict[Decimal, int | float] = {}  # a line's points take few values: a year's 100,000 lines, a few dozen


def number(value: Decimal) -> int | float:
    """A Decimal for JSON: a whole number stays whole."""
    found = _NUMBERS.get(value)
    if found is None:
        found = int(value) if value == value.to_integral_value() else float(value)
        if len(_NUMBERS) < 4096:
            _NUMBERS[value] = found
    return found


def replayed(
    items: Iterable[ItemRow], events: Iterable[EventRow], units: Mapping[int, str], model: ScoringModel,
    calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date, opens: datetime, cutoff: datetime,
) -> Replay:
    """Every item replayed over the days start..end, reading events before `cutoff` (UTC) only."""
    histories: dict[int, list[EventRow]] = defaultdict(list)
    for event in events:
        if event.at < cutoff:
            histories[event.item_id].append(event)
    items = list(items)
    first = min([start, *(i.original_deadline for i in items)]) - timedelta(days=1)
    replay = Replay(model, Workdays(calendar, first, end), tz, opens, cutoff, start,
                     {name: uid for uid, name in units.items()})
    for item in items:
        history = histories.get(item.id, [])
        if len(history) > 1:
            history.sort(key=_IN_ORDER)
        replay.item(item, history)
    return replay


class Workdays:
    """Working days numbered, to count working weeks overdue without stepping day by day.

    `number(day)` counts the working days after `first - 1` up to `day` (0 or less before `first`);
    a day outside the days covered so far extends them without renumbering any, so numbers kept
    from earlier (a deadline's, a line's first week) stay right. `nth(n)` is the working day numbered n.
    """

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        self.first = self.last = first - timedelta(days=1)
        self.numbers: dict[date, int] = {self.first: 0}
        self.dates: dict[int, date] = {}
        if self.calendar.is_workday(self.first):
            self.dates[0] = self.first
        self._cover(last)

    def _cover(self, day: date) -> None:
        while self.last < day:
            self.last += timedelta(days=1)
            count = self.numbers[self.last - timedelta(days=1)] + self.calendar.is_workday(self.last)
            self.numbers[self.last] = count
            if self.calendar.is_workday(self.last):
                self.dates[count] = self.last
        while self.first > day:
            count = self.numbers[self.first] - self.calendar.is_workday(self.first)
            self.first -= timedelta(days=1)
            self.numbers[self.first] = count
            if self.calendar.is_workday(self.first):
                self.dates[count] = self.first

    def number(self, day: date) -> int:
        """How many working days from `first` to `day` (inclusive); 0 or less before `first`."""
        found = self.numbers.get(day)
        if found is None:
            self._cover(day)
            found = self.numbers[day]
        return found

    def nth(self, n: int) -> date:
        found = self.dates.get(n)
        for _ in range(50):  # beyond the days covered so far: a year further each time
            if found is not None:
                return found
            self._cover(self.last + timedelta(days=366) if n > 0 else self.first - timedelta(days=366))
            found = self.dates.get(n)
        raise ValueError(f"no working day numbered {n} within 50 years: does the calendar have working days?")


class Replay:
    """Walks each item's history and collects its lines by unit."""

    def __init__(self, model: ScoringModel, workdays: Workdays, tz: ZoneInfo, opens: datetime, cutoff: datetime,
                 start: date, unit_ids: dict[str, int], explain: bool = True) -> None:
        self.model, self.workdays, self.tz, self.opens, self.cutoff = model, workdays, tz, opens, cutoff
        self.start, self.unit_ids = start, unit_ids
        self.lines: dict[int, list[Line]] = defaultdict(list)
        # Without `explain`, only each unit's points by rule, before caps (`totals`): no line is kept,
        # but for a missing report's, which a late report may withdraw.
        self.totals: dict[int, dict[str, Decimal]] | None = None if explain else defaultdict(dict)
        # A period reported late deducts once: its missing_report line (by item and period) is withdrawn
        # by the period_late event, and kept here with that event's day for `score_parts`' earlier months.
        self._missing: dict[tuple[int, str], tuple[int, Line]] = {}
        self.withdrawn: dict[int, list[tuple[Line, date]]] = defaultdict(list)
        self._due: dict[date, tuple[datetime, int, int]] = {}  # by deadline: see `_due_of`
        # Local days are worked out by adding the offset, when the zone keeps one offset over the
        # days scored (Asia/Shanghai always does): three times faster than `astimezone`.
        self._offset = _fixed_offset(tz, workdays.first - timedelta(days=1), workdays.last + timedelta(days=1))
        self._fixed_from = start_of_day(workdays.first, tz).astimezone(UTC)
        self._fixed_until = start_of_day(workdays.last + timedelta(days=2), tz).astimezone(UTC)

    def local(self, at: datetime) -> tuple[date, bool]:
        """The local day of `at`, and whether `at` is its 00:00."""
        if self._offset is not None and at.tzinfo is UTC and self._fixed_from <= at < self._fixed_until:
            moment = at + self._offset
        else:
            moment = at.astimezone(self.tz)
        return moment.date(), moment.time() == time.min

    def counts_from(self, deadline: date) -> datetime:
        """00:00 (in UTC) of the first day an item due on `deadline` can count as overdue in the period."""
        return (self._due.get(deadline) or self._due_of(deadline))[0]

    def first_day(self, at: datetime) -> date:
        """The first day whose 00:00 is at or after `at`."""
        day, midnight = self.local(at)
        return day if midnight else day + timedelta(days=1)

    def last_day(self, at: datetime) -> date:
        """The last day whose 00:00 is before `at`."""
        day, midnight = self.local(at)
        return day - timedelta(days=1) if midnight else day

    def item(self, item: ItemRow, history: list[EventRow]) -> None:
        created = history[0] if history and history[0].kind in CREATED_KINDS else None
        since = created.at if created else item.created_at
        if since >= self.cutoff:
            return
        weight = self.model.weight(item.document, item.category)
        deadline, deadline_event = _first_deadline(item, history, created)
        unit = self._first_unit(item, history)
        status = (created.to_status if created else None) or (history[0].from_status if history else None) or item.status
        for event in history:
            if event is created:
                continue
            if status in ACTIVE:
                self.overdue(item, weight, since, event.at, deadline, deadline_event, unit)
            if event.kind in LINE_KINDS and event.at >= self.opens:
                self.event_lines(item, weight, event, deadline, unit)
            status = event.to_status or status
            if event.kind in CHANGE_KINDS:
                changed = _new_deadline(event)
                if changed is not None:
                    deadline, deadline_event = changed, event.id
                unit = self._new_unit(event, unit)
            since = event.at
        if status in ACTIVE:
            self.overdue(item, weight, since, self.cutoff, deadline, deadline_event, unit)

    def _add(self, unit: int, rule_name: str, weight: Decimal, item: ItemRow, event_id: int | None, on: date,
             weeks: int = 1, until: date | None = None, week_number: int = 0) -> Line | None:
        rule = self.model.rules.get(rule_name)
        if rule is None or not rule.points or not weight:
            return None
        per_week = rule.points * weight if rule.addition else -rule.points * weight
        points = (per_week * weeks).quantize(CENT)
        if self.totals is not None:
            by_rule = self.totals[unit]
            by_rule[rule_name] = by_rule.get(rule_name, ZERO) + points
            if rule_name != "missing_report":
                return None
        line = Line(rule_name, points, item.ref, item.id, event_id, on, weeks, until, False, week_number, per_week)
        if self.totals is None:
            self.lines[unit].append(line)
        return line

    def event_lines(self, item: ItemRow, weight: Decimal, event: EventRow, deadline: date, unit: int) -> None:
        on = self.local(event.at)[0]
        rule = EVENT_RULES.get(event.kind)
        if event.kind == "acknowledged" and event.payload.get("late"):
            rule = "late_acknowledge"
        if rule is not None:
            named = event.payload.get("unit_id")
            owner = named if isinstance(named, int) else unit
            period = reported_period(event.payload) if event.kind in PERIOD_KINDS else None
            if period is not None and event.kind == "period_late":
                self._withdraw_missing(item.id, period, on)
            line = self._add(owner, rule, weight, item, event.id, on)
            if period is not None and line is not None and event.kind == "period_missed":
                self._missing[(item.id, period)] = (owner, line)
        elif event.kind == "signed_off" and on <= deadline:
            self._add(unit, "early_sign_off", weight, item, event.id, on)

    def _withdraw_missing(self, item_id: int, period: str, on: date) -> None:
        """The period, flagged missing, is reported late on `on`: it is late from then on, not also missing."""
        found = self._missing.pop((item_id, period), None)
        if found is not None:
            owner, line = found
            if self.totals is not None:
                self.totals[owner]["missing_report"] -= line.points
            else:
                self.lines[owner] = [x for x in self.lines[owner] if x is not line]
            self.withdrawn[owner].append((line, on))

    def overdue(self, item: ItemRow, weight: Decimal, since: datetime, until: datetime, deadline: date,
                 deadline_event: int | None, unit: int) -> None:
        """One line for the working weeks overdue begun on days whose 00:00 lies in [since, until).

        A week begins on the 1st, 6th, 11th ... working day after the deadline day.
        """
        if "overdue" not in self.model.rules:
            return
        counts_from, base, floor = self._due.get(deadline) or self._due_of(deadline)
        if until <= counts_from:  # ends before the first day that could count: no need to work out days
            return
        # In working-day numbers from the deadline: the days counted are those after the deadline, from
        # the period's start, whose 00:00 lies in [since, until); the day before the first of them is the
        # last whose 00:00 is before `since` (or the deadline, or the day before the start).
        days = self.workdays
        low = max(days.number(self.last_day(since)), floor) - base + 1
        high = days.number(self.last_day(until)) - base
        k = low + (1 - low) % WEEK
        if k <= high:
            weeks = (high - k) // WEEK + 1
            self._add(unit, "overdue", weight, item, deadline_event, days.nth(base + k), weeks,
                      days.nth(base + k + WEEK * (weeks - 1)), base + k)

    def _due_of(self, deadline: date) -> tuple[datetime, int, int]:
        """For items due on `deadline`: 00:00 (UTC) of the first day that can count as overdue in the
        period, the deadline's working-day number, and the number of the day before the first that can count."""
        found = self._due[deadline] = (
            start_of_day(max(deadline + timedelta(days=1), self.start), self.tz).astimezone(UTC),
            self.workdays.number(deadline),
            max(self.workdays.number(deadline), self.workdays.number(self.start - timedelta(days=1))))
        return found

    def _first_unit(self, item: ItemRow, history: list[EventRow]) -> int:
        for event in history:
            if event.kind in UPDATE_KINDS:
                change = event.payload.get("lead_unit")
                if isinstance(change, dict) and change.get("old") in self.unit_ids:
                    return self.unit_ids[change["old"]]
        return item.lead_unit_id

    def _new_unit(self, event: EventRow, unit: int) -> int:
        change = event.payload.get("lead_unit") if event.kind in UPDATE_KINDS else None
        if isinstance(change, dict):
            return self.unit_ids.get(change.get("new"), unit)  # type: ignore[arg-type]
        return unit


def _fixed_offset(tz: ZoneInfo, first: date, last: date) -> timedelta | None:
    """The zone's UTC offset if it is the same all through first..last (looked at every three hours), else None."""
    offsets = {tz.utcoffset(datetime.combine(first, time(hour)) + timedelta(days=n))
               for n in range((last - first).days + 1) for hour in range(0, 24, 3)}
    return offsets.pop() if len(offsets) == 1 else None


def reported_period(payload: Mapping[str, Any]) -> str | None:
    """Which period a period_missed / period_late event is about: its first day (the payload's
    `period` reads "STARTS – ENDS", models/period_sweep.py and models/periods.py); None if unsaid."""
    period = payload.get("period")
    return (period.partition(" – ")[0] or None) if isinstance(period, str) else None


def iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _new_deadline(event: EventRow) -> date | None:
    if event.kind == "extension_approved":
        return iso_date(event.payload.get("new_deadline"))
    change = event.payload.get("deadline") if event.kind in UPDATE_KINDS else None
    return iso_date(change.get("new")) if isinstance(change, dict) else None


def _first_deadline(item: ItemRow, history: list[EventRow], created: EventRow | None) -> tuple[date, int | None]:
    """The deadline when the item was created, and the event that set it (None: not recorded)."""
    if created is not None:
        found = iso_date(created.payload.get("deadline"))
        if found is not None:
            return found, created.id
    for event in history:
        if event.kind == "extension_approved":
            old = iso_date(event.payload.get("old_deadline"))
        else:
            change = event.payload.get("deadline") if event.kind in UPDATE_KINDS else None
            old = iso_date(change.get("old")) if isinstance(change, dict) else None
        if old is not None:
            return old, None
    return item.original_deadline, None
