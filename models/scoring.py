"""考核 scoring: every unit's score and rank over a period, computed from the audit events alone.

Pure over loaded rows (`load_rows` reads them): no clock, no session. An item's history is
replayed event by event (models/scoring_replay.py: status, deadline and lead unit as they were
then); this module cuts the lines into periods, applies the caps and ranks. So a score is the
same whenever it is recomputed: events after the period's end (or after `as_of`) are never read,
and a deadline extended later cannot change an earlier period. Each point is a `Line` naming its
rule, item and event; the lines of a unit sum to its score minus the base.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from copy import copy
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from config.calendar import WorkCalendar
from config.scoring import ScoringModel
from models.cycles import cycle_collection_paused
from models.deadlines import start_of_day
from models.errors import InvalidInput
from models.scoring_replay import (
    CENT,
    CREATED_KINDS,
    PLAIN_KINDS,
    SCORED_KINDS,
    WEEK,
    EventRow,
    ItemRow,
    Line,
    Replay,
    Workdays,
    number,
    replayed,
)
from models.tables import Document, Item, ItemEvent, Unit

_NO_CAP = Decimal("Infinity")


@dataclass
class UnitScore:
    unit_id: int
    unit: str
    score: Decimal
    rank: int = 0
    deductions: list[Line] = field(default_factory=list)
    additions: list[Line] = field(default_factory=list)
    deducted: Decimal = Decimal(0)  # the deductions' points after caps (negative), the additions' below
    added: Decimal = Decimal(0)


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
    """Items created before `cutoff` (each with its lead unit then), their scored events before it, and the units."""
    from models.scoring_sql import lead_units_then

    units: dict[int, str] = {uid: name for uid, name in session.exec(select(Unit.id, Unit.name)).all()}  # type: ignore[misc]
    then = lead_units_then(session, cutoff, {name: uid for uid, name in units.items()})
    documents = {did: name for did, name in session.exec(select(Document.id, Document.short_name)).all()}
    items = [
        ItemRow(iid, f"{documents[did]}/{number_}", documents[did], category, then.get(iid, lead), original, status,
                created)
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
               as_of: datetime, explain: bool = True) -> Scoreboard:
    """Read what the period needs and score it (the command, the desk page and the digest).

    The same scores and lines as `score(*load_rows(...))`, read and replayed the faster way
    (models/scoring_sql.py; tests/scoring/test_sql.py holds the two equal on random ledgers).
    Without `explain`, the scores, ranks and totals only, and no lines: the same numbers, without
    building, sorting and capping a line for each point (`_capped_totals`).
    """
    if explain:
        return scoreboard_parts(session, model, calendar, tz, start, end, as_of, [])[0]
    from models.scoring_sql import replay_in_sql

    with cycle_collection_paused():
        replay, units = replay_in_sql(session, model, calendar, tz, start, end, *period_bounds(start, end, as_of, tz),
                                      explain=False)
        assert replay.totals is not None
        return _ranked(Scoreboard(start, end, as_of, model.base, [
            _capped_totals(uid, name, replay.totals.get(uid, {}), model) for uid, name in units.items()]))


def scoreboard_parts(
    session: Session, model: ScoringModel, calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date,
    as_of: datetime, parts: Iterable[tuple[date, date]],
) -> tuple[Scoreboard, list[Scoreboard]]:
    """`scoreboard`, and those of `parts` (its months, say) cut from the same replay, as `score_parts`."""
    from models.scoring_sql import replay_in_sql

    with cycle_collection_paused():
        replay, units = replay_in_sql(session, model, calendar, tz, start, end, *period_bounds(start, end, as_of, tz))
        return _with_parts(replay, units, model, tz, start, end, as_of, parts)


def _event(row: Any, payload: dict[str, Any]) -> EventRow:
    return EventRow(row[0], row[1], row[2], row[3], row[4], row[5], payload)


def score(
    items: Iterable[ItemRow], events: Iterable[EventRow], units: Mapping[int, str], model: ScoringModel,
    calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date, as_of: datetime,
) -> Scoreboard:
    """Every unit's score and rank for the days `start`..`end` (inclusive), as known at `as_of`."""
    replay = replayed(items, events, units, model, calendar, tz, start, end, *period_bounds(start, end, as_of, tz))
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
    replay = replayed(items, events, units, model, calendar, tz, start, end, *period_bounds(start, end, as_of, tz))
    return _with_parts(replay, units, model, tz, start, end, as_of, parts)


def _with_parts(replay: Replay, units: Mapping[int, str], model: ScoringModel, tz: ZoneInfo, start: date, end: date,
                as_of: datetime, parts: Iterable[tuple[date, date]]) -> tuple[Scoreboard, list[Scoreboard]]:
    boards = []
    for first, last in parts:
        low, high = replay.workdays.number(first - timedelta(days=1)), replay.workdays.number(last)
        cut = {uid: [piece for line in lines if (piece := _within(line, first, last, low, high, replay.workdays))]
               for uid, lines in replay.lines.items()}
        for uid, withdrawn in replay.withdrawn.items():  # missing in a part that ends before the late report
            cut.setdefault(uid, []).extend(copy(line) for line, reported in withdrawn if first <= line.on <= last < reported)
        boards.append(_board(first, last, min(as_of, start_of_day(last + timedelta(days=1), tz)), model, units, cut))
    return _board(start, end, as_of, model, units, replay.lines), boards


def _within(line: Line, first: date, last: date, low: int, high: int, days: Workdays) -> Line | None:
    """The part of `line` on the days first..last (working-day numbers low+1..high), or None."""
    if line.until is None:  # a copy: each board caps its own lines
        return copy(line) if first <= line.on <= last else None
    skip = max(0, -((line.week_number - low - 1) // WEEK))  # weeks that began before `first`
    weeks = min(line.weeks, (high - line.week_number) // WEEK + 1) - skip
    if weeks <= 0:
        return None
    number_ = line.week_number + WEEK * skip
    return replace(line, points=(line.per_week * weeks).quantize(CENT), on=days.nth(number_), weeks=weeks,
                   until=days.nth(number_ + WEEK * (weeks - 1)), week_number=number_)


def _board(start: date, end: date, as_of: datetime, model: ScoringModel, units: Mapping[int, str],
           lines: Mapping[int, list[Line]]) -> Scoreboard:
    return _ranked(Scoreboard(start, end, as_of, model.base,
                              [_total(uid, name, lines.get(uid, []), model) for uid, name in units.items()]))


def _ranked(board: Scoreboard) -> Scoreboard:
    """Highest score first; equal scores share a place (1, 2, 2, 4)."""
    scores = board.units
    scores.sort(key=lambda s: (-s.score, s.unit))
    for index, unit_score in enumerate(scores):
        tied = index and unit_score.score == scores[index - 1].score
        unit_score.rank = scores[index - 1].rank if tied else index + 1
    return board


def _capped_totals(unit_id: int, name: str, by_rule: Mapping[str, Decimal], model: ScoringModel) -> UnitScore:
    """What `_total` adds up, from each rule's points alone. Cutting lines in time order, a rule keeps
    min(its points, its cap) until the unit's cap is reached, and then the unit has its cap: so the
    totals are the same in any order (tests/scoring/test_sql.py compares both)."""
    result = UnitScore(unit_id, name, model.base)
    for addition in (False, True):
        unit_cap = model.addition_cap if addition else model.deduction_cap
        kept = min(_cap(unit_cap), sum((min(abs(points), _cap(model.rules[rule].cap)) for rule, points in by_rule.items()
                                        if model.rules[rule].addition is addition), Decimal(0)))
        if addition:
            result.added = kept
        else:
            result.deducted = Decimal(0) - kept
    result.score += result.added + result.deducted
    return result


def _cap(cap: Decimal | None) -> Decimal:
    return _NO_CAP if cap is None else cap


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
        if size != abs(line.points):  # in place: a board's lines are its own (`_with_parts` cuts copies)
            line.points, line.capped = (size if rule.addition else -size), True
        by_rule[line.rule] += size
        totals[rule.addition] += size
        (result.additions if rule.addition else result.deductions).append(line)
    result.added, result.deducted = totals[True], Decimal(0) - totals[False]  # 0 - 0 is 0, where -0 shows as -0
    result.score += result.added + result.deducted
    return result
