"""Traffic lights: green on track, yellow due within the reminder window, red overdue.

The reminder window is the default policy's first reminder (7 working days as shipped),
counted on the working-day calendar (config/policy.py, config/calendar.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from config.calendar import WorkCalendar, load_calendar
from config.policy import load_policy
from models.deadlines import ACTIVE_STATUSES, DueState, due_state
from models.tables import Status


@functools.cache
def reminder_window() -> tuple[WorkCalendar, int]:
    """Loaded once a process (create_app loads it, so no request pays for reading the files)."""
    before = load_policy().default.reminders_before
    return load_calendar(), max(before, default=7)


def due_soon_until(today: date) -> date:
    """The last deadline day that counts as due soon on `today`."""
    calendar, days = reminder_window()
    return calendar.add_workdays(today, days)


@dataclass(frozen=True)
class Day:
    """States and lights of many items at one instant, the day's limits worked out once.

    `models.deadlines.is_overdue` says overdue from 00:00 local of the day after the deadline,
    so at any instant of local day D exactly the deadlines before D are past (the same
    condition the item list filters on); tests/web/test_lights.py checks both agree.
    """

    now: datetime
    tz: ZoneInfo
    today: date
    soon_until: date

    @classmethod
    def at(cls, now: datetime, tz: ZoneInfo) -> Day:
        today = now.astimezone(tz).date()
        return cls(now, tz, today, due_soon_until(today))

    def due_state(self, status: Status | str, deadline: date) -> DueState:
        if status in ACTIVE_STATUSES:
            return DueState.OVERDUE if deadline < self.today else DueState.ON_TRACK
        return due_state(status, deadline, self.now, self.tz)

    def light(self, status: Status | str, deadline: date) -> str:
        """'red', 'yellow', 'green', or '' for items nobody works on any more (submitted, final)."""
        if status not in ACTIVE_STATUSES:
            return ""
        if deadline < self.today:
            return "red"
        return "yellow" if deadline <= self.soon_until else "green"


def light(status: Status | str, deadline: date, now: datetime, tz: ZoneInfo) -> str:
    return Day.at(now, tz).light(status, deadline)
