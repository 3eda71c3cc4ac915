"""考核 scoring: every unit's score and rank over a period, computed from the audit events alone.

Pure over loaded rows (`load_rows` reads them): no clock, no session. An item's history is
replayed event by event (status, deadline and lead unit as they were then), so a score is the
same whenever it is recomputed: events after the period's end (or after `as_of`) are never read,
and a deadline extended later cannot change an earlier period. Each point is a `Line` naming its
rule, item and event; the lines of a unit sum to its score minus the base.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from config.calendar import WorkCalendar
from config.scoring import ScoringModel
from models.deadlines import start_of_day
from models.errors import InvalidInput
from models.tables import Document, Item, ItemEvent, Unit

CREATED_KINDS = frozenset({"created", "imported"})
PLAIN_KINDS = frozenset({"submitted", "returned", "signed_off", "cancelled"})  # read without their payload
# The events scoring reads; the sweep's reminders and progress reports change nothing it counts.
SCORED_KINDS = (*CREATED_KINDS, "updated", "submitted", "returned", "signed_off", "cancelled",
                "extension_approved", "urged", "acknowledged", "period_late", "period_missed")
# Rules that deduct once per event of a kind (the unit: the event's `unit_id`, else the lead unit).
EVENT_RULES = {"returned": "returned", "urged": "urged", "period_late": "late_report",
               "period_missed": "missing_report"}
_LINE_KINDS = frozenset({*EVENT_RULES, "acknowledged", "signed_off"})  # kinds that may make a line
_CHANGE_KINDS = frozenset({"updated", "extension_approved"})  # kinds that may move a deadline or a lead unit
_IN_ORDER = attrgetter("at", "id")
ACTIVE = frozenset({"assigned", "in_progress"})  # the unit works on it: it can be overdue
WEEK = 5  # working days
_CENT = Decimal("0.01")
_NO_CAP = Decimal("Infinity")


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    ref: str  # DOCUMENT/NUMBER
    document: str
    category: str
    lead_unit_id: int
    original_deadline: date
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    item_id: int
    kind: str
    at: datetime
    from_status: str | None
    to_status: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
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
        data = {"rule": self.rule, "points": number(self.points), "item": self.item, "event_id": self.event_id,
                "on": self.on.isoformat(), "capped": self.capped}
        if self.until is not None:
            data |= {"until": self.until.isoformat(), "weeks": self.weeks}
        return data


@dataclass
class UnitScore:
    unit_id: int
    unit: str
    score: Decimal
    rank: int = 0
    deductions: list[Line] = field(default_factory=list)
    additions: list[Line] = field(default_factory=list)


@dataclass
class Scoreboard:
    start: date
    end: date
    as_of: datetime
    base: Decimal
    units: list[UnitScore]

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "as_of": self.as_of.isoformat(),
                "base": number(self.base), "units": [
                    {"unit": u.unit, "score": number(u.score), "rank": u.rank,
                     "deductions": [line.as_dict() for line in u.deductions],
                     "additions": [line.as_dict() for line in u.additions]} for u in self.units]}


def number(value: Decimal) -> int | float:
    """A Decimal for JSON: a whole number stays whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def period_bounds(start: date, end: date, as_of: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants the period covers: 00:00 of `start` to 00:00 after `end`, or `as_of` if earlier."""
    if end < start:
        raise InvalidInput(f"the period ends ({end}) before it starts ({start})", code="score.bad_period",
                           params={"start": start, "end": end})
    # In UTC, as events' instants are: comparing instants of one tzinfo skips working out offsets.
    return (start_of_day(start, tz).astimezone(UTC),
            min(start_of_day(end + timedelta(days=1), tz), as_of).astimezone(UTC))


PERIODS = ("month", "quarter", "year", "custom")


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The month, quarter or year around `day`: its first and last days."""
    if kind == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    first_month = (day.month - 1) // 3 * 3 + 1 if kind == "quarter" else day.month
    if kind not in ("month", "quarter"):
        raise InvalidInput(f"unknown period {kind!r}; use month, quarter, year or custom", code="score.bad_period_kind",
                           params={"kind": kind})
    months = 3 if kind == "quarter" else 1
    after = date(day.year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    return date(day.year, first_month, 1), after - timedelta(days=1)


def parts_of(start: date, end: date) -> list[tuple[str, date, date]]:
    """The months within `start`..`end` (and its quarters, when it spans more than one), for the tables."""
    parts: list[tuple[str, date, date]] = []
    for kind in ("quarter", "month"):
        day = start
        while day <= end:
            first, last = period_of(kind, day)
            label = f"{first.year}-Q{(first.month - 1) // 3 + 1}" if kind == "quarter" else f"{first:%Y-%m}"
            parts.append((label, max(first, start), min(last, end)))
            day = last + timedelta(days=1)
    quarters = [p for p in parts if "Q" in p[0]]
    return parts if len(quarters) > 1 else [p for p in parts if "Q" not in p[0]]


def load_rows(session: Session, cutoff: datetime) -> tuple[list[ItemRow], list[EventRow], dict[int, str]]:
    """Items created before `cutoff`, their scored events before it, and the units."""
    units: dict[int, str] = {uid: name for uid, name in session.exec(select(Unit.id, Unit.name)).all()}  # type: ignore[misc]
    documents = {did: name for did, name in session.exec(select(Document.id, Document.short_name)).all()}
    items = [
        ItemRow(iid, f"{documents[did]}/{number_}", documents[did], category, lead, original, status, created)
        for iid, did, number_, category, lead, original, status, created in session.exec(
            select(Item.id, Item.document_id, Item.number, Item.category, Item.lead_unit_id,  # type: ignore[call-overload]
                   Item.original_deadline, Item.status, Item.created_at).where(col(Item.created_at) < cutoff)
        ).all()
    ]
    # Three reads, so that only the events that need their payload pay for decoding it.
    columns = (ItemEvent.id, ItemEvent.item_id, ItemEvent.kind, ItemEvent.at, ItemEvent.from_status, ItemEvent.to_status)
    before = col(ItemEvent.at) < cutoff
    empty: dict[str, Any] = {}
    plain = session.exec(select(*columns).where(col(ItemEvent.kind).in_(PLAIN_KINDS), before)).all()  # type: ignore[call-overload]
    events = [_event(row, empty) for row in plain]
    deadline = col(ItemEvent.payload)["deadline"].as_string()
    created = session.exec(select(*columns, deadline).where(col(ItemEvent.kind).in_(CREATED_KINDS), before)).all()  # type: ignore[call-overload]
    events += [_event(row, {"deadline": row[6]} if row[6] else empty) for row in created]
    rest = set(SCORED_KINDS) - PLAIN_KINDS - CREATED_KINDS
    events += [_event(row, row[6]) for row in session.exec(
        select(*columns, ItemEvent.payload).where(col(ItemEvent.kind).in_(rest), before)).all()]  # type: ignore[call-overload]
    return items, events, units


def scoreboard(session: Session, model: ScoringModel, calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date,
               as_of: datetime) -> Scoreboard:
    """Read what the period needs and score it (the command, the page and the digest)."""
    rows = load_rows(session, period_bounds(start, end, as_of, tz)[1])
    return score(*rows, model, calendar, tz, start, end, as_of)


def _event(row: Any, payload: dict[str, Any]) -> EventRow:
    return EventRow(row[0], row[1], row[2], row[3], row[4], row[5], payload)


def score(
    items: Iterable[ItemRow], events: Iterable[EventRow], units: Mapping[int, str], model: ScoringModel,
    calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date, as_of: datetime,
) -> Scoreboard:
    """Every unit's score and rank for the days `start`..`end` (inclusive), as known at `as_of`."""
    replay = _replayed(items, events, units, model, calendar, tz, start, end, as_of)
    return _board(start, end, as_of, model, units, replay.lines)


def score_parts(
    items: Iterable[ItemRow], events: Iterable[EventRow], units: Mapping[int, str], model: ScoringModel,
    calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date, as_of: datetime, parts: Iterable[tuple[date, date]],
) -> tuple[Scoreboard, list[Scoreboard]]:
    """The period's scores and those of `parts` (its months, say), from one replay.

    Each line happened on one day (an overdue stretch: on each week's first day), so a part's lines
    are the period's lines cut at the part's edges; the caps then apply within each part, as if
    it were scored alone (tests/scoring check both give the same).
    """
    replay = _replayed(items, events, units, model, calendar, tz, start, end, as_of)
    boards = []
    for first, last in parts:
        low, high = replay.workdays.number(first - timedelta(days=1)), replay.workdays.number(last)
        cut = {uid: [piece for line in lines if (piece := _within(line, first, last, low, high, replay.workdays))]
               for uid, lines in replay.lines.items()}
        boards.append(_board(first, last, min(as_of, start_of_day(last + timedelta(days=1), tz)), model, units, cut))
    return _board(start, end, as_of, model, units, replay.lines), boards


def _within(line: Line, first: date, last: date, low: int, high: int, days: _Workdays) -> Line | None:
    """The part of `line` on the days first..last (working-day numbers low+1..high), or None."""
    if line.until is None:
        return line if first <= line.on <= last else None
    skip = max(0, -((line.week_number - low - 1) // WEEK))  # weeks that began before `first`
    weeks = min(line.weeks, (high - line.week_number) // WEEK + 1) - skip
    if weeks <= 0:
        return None
    number_ = line.week_number + WEEK * skip
    return replace(line, points=(line.per_week * weeks).quantize(_CENT), on=days.nth(number_), weeks=weeks,
                   until=days.nth(number_ + WEEK * (weeks - 1)), week_number=number_)


def _replayed(
    items: Iterable[ItemRow], events: Iterable[EventRow], units: Mapping[int, str], model: ScoringModel,
    calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date, as_of: datetime,
) -> _Replay:
    opens, cutoff = period_bounds(start, end, as_of, tz)
    histories: dict[int, list[EventRow]] = defaultdict(list)
    for event in events:
        if event.at < cutoff:
            histories[event.item_id].append(event)
    items = list(items)
    first = min([start, *(i.original_deadline for i in items)]) - timedelta(days=1)
    replay = _Replay(model, _Workdays(calendar, first, end), tz, opens, cutoff, start,
                     {name: uid for uid, name in units.items()})
    for item in items:
        history = histories.get(item.id, [])
        if len(history) > 1:
            history.sort(key=_IN_ORDER)
        replay.item(item, history)
    return replay


def _board(start: date, end: date, as_of: datetime, model: ScoringModel, units: Mapping[int, str],
           lines: Mapping[int, list[Line]]) -> Scoreboard:
    scores = [_total(uid, name, lines.get(uid, []), model) for uid, name in units.items()]
    scores.sort(key=lambda s: (-s.score, s.unit))
    for index, unit_score in enumerate(scores):
        tied = index and unit_score.score == scores[index - 1].score
        unit_score.rank = scores[index - 1].rank if tied else index + 1
    return Scoreboard(start, end, as_of, model.base, scores)


class _Workdays:
    """Working days numbered from `first`, to count working weeks overdue without stepping day by day."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        self._build(first, last)

    def _build(self, first: date, last: date) -> None:
        self.first, self.last, self.numbers, self.dates = first, last, {}, []
        day, count = first, 0
        while day <= last:
            if self.calendar.is_workday(day):
                count += 1
                self.dates.append(day)
            self.numbers[day] = count
            day += timedelta(days=1)

    def number(self, day: date) -> int:
        """How many working days from `first` to `day` (inclusive)."""
        if not self.first <= day <= self.last:
            self._build(min(day, self.first) - timedelta(days=366), max(day, self.last))
        return self.numbers[day]

    def nth(self, n: int) -> date:
        return self.dates[n - 1]


class _Replay:
    """Walks each item's history and collects its lines by unit."""

    def __init__(self, model: ScoringModel, workdays: _Workdays, tz: ZoneInfo, opens: datetime, cutoff: datetime,
                 start: date, unit_ids: dict[str, int]) -> None:
        self.model, self.workdays, self.tz, self.opens, self.cutoff = model, workdays, tz, opens, cutoff
        self.start, self.unit_ids = start, unit_ids
        self.lines: dict[int, list[Line]] = defaultdict(list)

    def local(self, at: datetime) -> tuple[date, bool]:
        """The local day of `at`, and whether `at` is its 00:00."""
        moment = at.astimezone(self.tz)
        return moment.date(), moment.time() == time.min

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
                self._overdue(item, weight, since, event.at, deadline, deadline_event, unit)
            if event.kind in _LINE_KINDS and event.at >= self.opens:
                self._event_lines(item, weight, event, deadline, unit)
            status = event.to_status or status
            if event.kind in _CHANGE_KINDS:
                changed = _new_deadline(event)
                if changed is not None:
                    deadline, deadline_event = changed, event.id
                unit = self._new_unit(event, unit)
            since = event.at
        if status in ACTIVE:
            self._overdue(item, weight, since, self.cutoff, deadline, deadline_event, unit)

    def _add(self, unit: int, rule_name: str, weight: Decimal, item: ItemRow, event_id: int | None, on: date,
             weeks: int = 1, until: date | None = None, week_number: int = 0) -> None:
        rule = self.model.rules.get(rule_name)
        if rule is None or not rule.points or not weight:
            return
        per_week = rule.points * weight if rule.addition else -rule.points * weight
        self.lines[unit].append(Line(rule_name, (per_week * weeks).quantize(_CENT), item.ref, item.id, event_id, on,
                                     weeks, until, False, week_number, per_week))

    def _event_lines(self, item: ItemRow, weight: Decimal, event: EventRow, deadline: date, unit: int) -> None:
        on = self.local(event.at)[0]
        rule = EVENT_RULES.get(event.kind)
        if event.kind == "acknowledged" and event.payload.get("late"):
            rule = "late_acknowledge"
        if rule is not None:
            named = event.payload.get("unit_id")
            self._add(named if isinstance(named, int) else unit, rule, weight, item, event.id, on)
        elif event.kind == "signed_off" and on <= deadline:
            self._add(unit, "early_sign_off", weight, item, event.id, on)

    def _overdue(self, item: ItemRow, weight: Decimal, since: datetime, until: datetime, deadline: date,
                 deadline_event: int | None, unit: int) -> None:
        """One line for the working weeks overdue begun on days whose 00:00 lies in [since, until).

        A week begins on the 1st, 6th, 11th ... working day after the deadline day.
        """
        if "overdue" not in self.model.rules:
            return
        first = max(self.first_day(since), deadline + timedelta(days=1), self.start)
        last = self.last_day(until)
        if first > last:
            return
        days = self.workdays
        base = days.number(deadline)
        low, high = days.number(first - timedelta(days=1)) - base + 1, days.number(last) - base
        k = low + (1 - low) % WEEK
        if k <= high:
            weeks = (high - k) // WEEK + 1
            self._add(unit, "overdue", weight, item, deadline_event, days.nth(base + k), weeks,
                      days.nth(base + k + WEEK * (weeks - 1)), base + k)

    def _first_unit(self, item: ItemRow, history: list[EventRow]) -> int:
        for event in history:
            if event.kind == "updated":
                change = event.payload.get("lead_unit")
                if isinstance(change, dict) and change.get("old") in self.unit_ids:
                    return self.unit_ids[change["old"]]
        return item.lead_unit_id

    def _new_unit(self, event: EventRow, unit: int) -> int:
        change = event.payload.get("lead_unit") if event.kind == "updated" else None
        if isinstance(change, dict):
            return self.unit_ids.get(change.get("new"), unit)  # type: ignore[arg-type]
        return unit


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _new_deadline(event: EventRow) -> date | None:
    if event.kind == "extension_approved":
        return _date(event.payload.get("new_deadline"))
    change = event.payload.get("deadline") if event.kind == "updated" else None
    return _date(change.get("new")) if isinstance(change, dict) else None


def _first_deadline(item: ItemRow, history: list[EventRow], created: EventRow | None) -> tuple[date, int | None]:
    """The deadline when the item was created, and the event that set it (None: not recorded)."""
    if created is not None:
        found = _date(created.payload.get("deadline"))
        if found is not None:
            return found, created.id
    for event in history:
        if event.kind == "extension_approved":
            old = _date(event.payload.get("old_deadline"))
        else:
            change = event.payload.get("deadline") if event.kind == "updated" else None
            old = _date(change.get("old")) if isinstance(change, dict) else None
        if old is not None:
            return old, None
    return item.original_deadline, None


def _total(unit_id: int, name: str, lines: list[Line], model: ScoringModel) -> UnitScore:
    """Apply the caps in time order (first come, first counted) and add up."""
    result = UnitScore(unit_id, name, model.base)
    by_rule: dict[str, Decimal] = defaultdict(Decimal)
    totals = {True: Decimal(0), False: Decimal(0)}
    for line in sorted(lines, key=lambda x: (x.on, x.event_id or 0, x.item_id, x.rule)):
        rule = model.rules[line.rule]
        unit_cap = model.addition_cap if rule.addition else model.deduction_cap
        room = min((rule.cap if rule.cap is not None else _NO_CAP) - by_rule[line.rule],
                   (unit_cap if unit_cap is not None else _NO_CAP) - totals[rule.addition])
        size = min(abs(line.points), max(room, Decimal(0)))
        if size != abs(line.points):
            line = replace(line, points=size if rule.addition else -size, capped=True)
        by_rule[line.rule] += size
        totals[rule.addition] += size
        result.score += line.points
        (result.additions if rule.addition else result.deductions).append(line)
    return result
