"""Pure threshold arithmetic: when an item's reminders, overdue notice, repeats and escalations fall.

No database and no clock: everything (deadline, rules, calendar, timezone, `since`, `now`) comes in
as arguments, so the sweep and the forecast share this code and tests need no database.

The one rule that makes the sweep idempotent: an item's `next_action_at` is the instant from which
its thresholds have not been handled yet. A sweep at `now` handles every threshold with
`next_action_at <= at <= now` and stores the first instant after `now` as the next one.

Where a schedule starts decides what an item created or changed late is told:
- a new item starts at its first threshold (`Schedule.first_action_at`), even one already behind:
  a ledger imported when some items are overdue catches up like a sweep after downtime, with an
  event for every threshold crossed (so the escalation level is right) and the most severe notice
  for each address (models/notices.py, `People.catch_up`);
- an item whose deadline moved or that was returned at `t` gets `next_action_at = t`, so
  thresholds already behind at that moment never fire (an approved extension starts afresh).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.calendar import WorkCalendar
from config.policy import Audience, Policy, Rules
from models.deadlines import start_of_day

# Severity of a kind at the same escalation level; the catch-up notifies only the most severe.
_RANK = {"reminder": 0, "overdue": 1, "repeat_reminder": 2, "escalated": 3}


@dataclass(frozen=True)
class Threshold:
    key: str  # unique per deadline version: before-7, overdue, level-1, repeat-10
    kind: str  # reminder | overdue | repeat_reminder | escalated
    at: datetime  # the instant it is crossed (aware)
    workdays: int  # signed: -7 = seven working days before, 3 = three working days overdue
    level: int  # the escalation level the item is at once this threshold is crossed
    audience: Audience

    @property
    def severity(self) -> tuple[int, int, datetime]:
        return (self.level, _RANK[self.kind], self.at)


@dataclass(frozen=True)
class Plan:
    """What a sweep at `now` does to one item."""

    crossed: list[Threshold]  # each gets an event, in time order
    notify: Threshold | None  # the most severe one: the only one notified
    next_action_at: datetime | None  # the first threshold after now
    escalation_level: int


def thresholds(deadline: date, rules: Rules, calendar: WorkCalendar, tz: ZoneInfo) -> Iterator[Threshold]:
    """Every threshold of `deadline`, in time order (ties: least severe first); endless with repeats."""
    fixed: list[Threshold] = []
    for n in rules.reminders_before:
        at = start_of_day(calendar.add_workdays(deadline, -n), tz)
        fixed.append(Threshold(f"before-{n}", "reminder", at, -n, 0, rules.reminder))
    fixed.append(Threshold("overdue", "overdue", start_of_day(deadline + timedelta(days=1), tz), 0, 0, rules.overdue))
    for escalation in rules.escalations:
        at = start_of_day(calendar.add_workdays(deadline, escalation.after), tz)
        fixed.append(Threshold(
            f"level-{escalation.level}", "escalated", at, escalation.after, escalation.level, escalation.audience
        ))
    fixed.sort(key=lambda t: (t.at, t.severity))
    if rules.repeat_every <= 0:
        yield from fixed
        return

    def level_at(n: int) -> int:
        return max((e.level for e in rules.escalations if e.after <= n), default=0)

    repeats = (
        Threshold(f"repeat-{n}", "repeat_reminder", start_of_day(calendar.add_workdays(deadline, n), tz),
                  n, level_at(n), rules.repeat)
        for n in itertools.count(rules.repeat_every, rules.repeat_every)
    )
    yield from heapq.merge(fixed, repeats, key=lambda t: (t.at, t.severity))


class _Table:
    """One deadline's thresholds, materialised as far as asked (repeats are endless)."""

    def __init__(self, source: Iterator[Threshold]) -> None:
        self.items: list[Threshold] = []
        self.ats: list[datetime] = []
        self._source: Iterator[Threshold] | None = source

    def count_until(self, now: datetime) -> int:
        """How many thresholds fall at or before `now` (materialising one beyond, when there is one)."""
        while self._source is not None and (not self.ats or self.ats[-1] <= now):
            following = next(self._source, None)
            if following is None:
                self._source = None
            else:
                self.items.append(following)
                self.ats.append(following.at)
        return bisect.bisect_right(self.ats, now)


def _table(deadline: date, rules: Rules, calendar: WorkCalendar, tz: ZoneInfo) -> _Table:
    # Kept on the calendar: one calendar serves one run, and many items share a deadline.
    # Keyed by the rules' identity (hashing them costs more than the lookup); the entry keeps the
    # rules alive so the id cannot be reused.
    key = ("thresholds", deadline, id(rules), tz.key)
    entry = calendar.memo.get(key)
    if entry is None or entry[0] is not rules:
        entry = calendar.memo[key] = (rules, _Table(thresholds(deadline, rules, calendar, tz)))
    return entry[1]


def plan(
    deadline: date,
    rules: Rules,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
    level: int = 0,
) -> Plan:
    """The thresholds crossed in [since, now], the one to notify, and the next instant after now.

    Of several repeat reminders crossed at once (a sweep after downtime, a ledger imported late)
    only the latest counts: "still overdue, reminded again" once, not once per week missed.
    Reminders, the overdue notice and escalations all count, so the timeline and the escalation
    level are right.
    """
    table = _table(deadline, rules, calendar, tz)
    end = table.count_until(now)
    crossed = table.items[bisect.bisect_left(table.ats, since, hi=end):end]
    repeats = [t for t in crossed if t.kind == "repeat_reminder"]
    if len(repeats) > 1:
        crossed = [t for t in crossed if t.kind != "repeat_reminder" or t is repeats[-1]]
    next_at = table.ats[end] if end < len(table.ats) else None
    notify = max(crossed, key=lambda t: t.severity) if crossed else None
    new_level = max([level, *(t.level for t in crossed if t.kind == "escalated")])
    return Plan(crossed, notify, next_at, new_level)


PlanMemo = dict[tuple[date, int, datetime, int], tuple[Rules, Plan]]  # plans by (deadline, rules, since, level)


def plan_once(memo: PlanMemo, deadline: date, rules: Rules, calendar: WorkCalendar, tz: ZoneInfo, *,
              since: datetime, now: datetime, level: int = 0) -> Plan:
    """`plan`, remembered in `memo` for one sweep (one `now`). Items, and periods, sharing a deadline
    and rules usually share `since` too (the last sweep set it to the same threshold instant), so
    most plans are computed once a sweep. Keyed by the rules' identity, as `_table`."""
    key = (deadline, id(rules), since, level)
    found = memo.get(key)
    if found is None or found[0] is not rules:
        found = memo[key] = (rules, plan(deadline, rules, calendar, tz, since=since, now=now, level=level))
    return found[1]


def next_action_at(
    deadline: date, rules: Rules, calendar: WorkCalendar, tz: ZoneInfo, *, after: datetime
) -> datetime | None:
    """The first threshold strictly after `after` (None when there is none)."""
    return plan(deadline, rules, calendar, tz, since=after, now=after).next_action_at


def due_thresholds(
    deadline: date, rules: Rules, calendar: WorkCalendar, tz: ZoneInfo, *, since: datetime, now: datetime
) -> list[Threshold]:
    """The thresholds with since <= at <= now, in time order."""
    return plan(deadline, rules, calendar, tz, since=since, now=now).crossed


def upcoming(
    deadline: date,
    rules: Rules,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
    until: datetime,
) -> list[tuple[datetime, Threshold, list[Threshold]]]:
    """What sweeps would notify from `now` to `until`, as (when, notified, also crossed).

    Assumes a sweep at `now` (catching up everything since `since`) and then one at each later
    threshold instant: thresholds falling on the same instant are notified as one, the most severe.
    """
    result: list[tuple[datetime, Threshold, list[Threshold]]] = []
    start, at = since, now
    while True:
        step = plan(deadline, rules, calendar, tz, since=start, now=at)
        if step.notify is not None:
            result.append((at, step.notify, [t for t in step.crossed if t is not step.notify]))
        if step.next_action_at is None or step.next_action_at > until:
            return result
        start = at = step.next_action_at


@dataclass(frozen=True)
class Schedule:
    """The policy, calendar and timezone that place an item's thresholds, loaded once per run."""

    policy: Policy
    calendar: WorkCalendar
    tz: ZoneInfo

    @classmethod
    def configured(cls) -> Schedule:
        """From the configured policy and calendar files (raises their ConfigFileError when invalid)."""
        from config.calendar import load_calendar
        from config.policy import load_policy
        from config.settings import get_settings

        return cls(load_policy(), load_calendar(), get_settings().tz)

    def acknowledge_due_at(self, assigned_at: datetime) -> datetime | None:
        """When a lead unit that has not acknowledged an item assigned at `assigned_at` is reminded:
        00:00 local of the policy's `acknowledge.within`-th working day after (None: no reminder)."""
        within = self.policy.acknowledge_within
        if within <= 0:
            return None
        return start_of_day(self.calendar.add_workdays(assigned_at.astimezone(self.tz).date(), within), self.tz)

    def first_action_at(self, document: str, category: str, deadline: date) -> datetime | None:
        """Where a new item's schedule starts: its first threshold, behind `now` or not."""
        table = _table(deadline, self.policy.rules_for(document, category), self.calendar, self.tz)
        table.count_until(_EARLIEST)  # materialises the first threshold
        return table.ats[0] if table.ats else None

    def first_period_action_at(self, document: str, category: str, due: date) -> datetime | None:
        """Where a recurring item's period is swept from: its first threshold (models/periods.py)."""
        from models.periods import period_rules

        table = _table(due, period_rules(self.policy.rules_for(document, category)), self.calendar, self.tz)
        table.count_until(_EARLIEST)
        return table.ats[0] if table.ats else None


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def told_of(key: str, told: dict[str, str], crossed: Sequence[Threshold]) -> dict[str, Any]:
    """What an event of threshold `key` records of its notice: the notification's key, or, in a
    catch-up where each address hears once of the most severe threshold crossed, which threshold's
    notice told of it (`covered_by`), so its timeline line does not say nobody was told."""
    if key in told:
        return {"notified": told[key]}
    covering = next((t.key for t in reversed(crossed) if t.key in told), None)
    return {"notified": None, **({"covered_by": covering} if covering else {})}
