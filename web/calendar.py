"""Traffic lights: green on track, yellow due within the reminder window, red overdue.

The reminder window is the default policy's first reminder (7 working days as shipped),
counted on the working-day calendar (config/policy.py, config/calendar.py).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from config.calendar import WorkCalendar, load_calendar
from config.policy import load_policy
from models.deadlines import ACTIVE_STATUSES, is_overdue
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


def light(status: Status | str, deadline: date, now: datetime, tz: ZoneInfo) -> str:
    """'red', 'yellow', 'green', or '' for items nobody works on any more (submitted, final)."""
    if status not in ACTIVE_STATUSES:
        return ""
    if is_overdue(status, deadline, now, tz):
        return "red"
    return "yellow" if deadline <= due_soon_until(now.astimezone(tz).date()) else "green"
