"""Due states and traffic lights of items at one instant, and how far ahead "due soon" looks: the
pure half of models.read.due (which re-exports all of it and adds the SQL conditions), importing no
SQLAlchemy, so the CLI's report reads it without the ORM."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from config.calendar import DEFAULT_CALENDAR_FILE, WorkCalendar, load_calendar
from models.deadlines import ACTIVE_STATUSES, DueState, due_state
from models.states import Status

if TYPE_CHECKING:
    from config.policy import Policy

DUE_SOON_WORKDAYS = 7  # when the policy has no reminders before the deadline
# The window of the built-in files: config/policy.yaml's first reminder (working days before the
# deadline) and config/calendar.yaml's overrides (none), so that a process configured with neither
# file of its own reads no YAML for it (a read command's start: 0.03 s).
# tests/config/test_builtin_window.py compares these with what the files say.
BUILT_IN_WORKDAYS = 7


@dataclass(frozen=True)
class ReminderWindow:
    """How far ahead "due soon" looks: the policy's first reminder, in working days."""

    calendar: WorkCalendar
    workdays: int

    def until(self, today: date) -> date:
        """The last deadline day that counts as due soon on `today`."""
        return self.calendar.add_workdays(today, self.workdays)


def load_reminder_window(policy: Policy | None = None, calendar: WorkCalendar | None = None) -> ReminderWindow:
    """Read from the policy and calendar files (or the ones given)."""
    from config.policy import load_policy

    policy = policy or load_policy()
    return ReminderWindow(calendar or load_calendar(), max(policy.default.reminders_before, default=DUE_SOON_WORKDAYS))


@functools.cache
def reminder_window() -> ReminderWindow:
    """The configured window, loaded once a process (the web app loads it at start)."""
    from config.settings import get_settings

    configured = get_settings(plain=True)
    if not configured.policy_file and not configured.calendar_file:  # the built-in files' (load_policy, load_calendar)
        return built_in_reminder_window()
    return load_reminder_window()


def built_in_reminder_window() -> ReminderWindow:
    """What load_reminder_window reads from the built-in policy and calendar files."""
    return ReminderWindow(WorkCalendar(source=str(DEFAULT_CALENDAR_FILE)), BUILT_IN_WORKDAYS)


def due_soon_until(today: date) -> date:
    return reminder_window().until(today)


def today_in(now: datetime, tz: ZoneInfo) -> date:
    """The office's calendar day at `now`."""
    return now.astimezone(tz).date()


@dataclass(frozen=True)
class Day:
    """States and lights of many items at one instant, the day's limits worked out once.

    `models.deadlines.is_overdue` says overdue from 00:00 local of the day after the deadline,
    so at any instant of local day D exactly the deadlines before D are past (the same
    condition `overdue_condition` filters on); tests/web/test_lights.py checks both agree.
    """

    now: datetime
    tz: ZoneInfo
    today: date
    soon_until: date

    @classmethod
    def at(cls, now: datetime, tz: ZoneInfo, window: ReminderWindow | None = None) -> Day:
        today = today_in(now, tz)
        return cls(now, tz, today, (window or reminder_window()).until(today))

    def due_state(self, status: Status | str, deadline: date) -> DueState:
        if status in ACTIVE_STATUSES:
            return DueState.OVERDUE if deadline < self.today else DueState.ON_TRACK
        return due_state(status, deadline, self.now, self.tz)

    def overdue(self, status: Status | str, deadline: date) -> bool:
        return status in ACTIVE_STATUSES and deadline < self.today

    def due_soon(self, status: Status | str, deadline: date) -> bool:
        return status in ACTIVE_STATUSES and self.today <= deadline <= self.soon_until

    def light(self, status: Status | str, deadline: date) -> str:
        """'red', 'yellow', 'green', or '' for items nobody works on any more (submitted, final)."""
        if status not in ACTIVE_STATUSES:
            return ""
        if deadline < self.today:
            return "red"
        return "yellow" if deadline <= self.soon_until else "green"


def light(status: Status | str, deadline: date, now: datetime, tz: ZoneInfo) -> str:
    return Day.at(now, tz).light(status, deadline)


def due_day_end_shift(tz: ZoneInfo, at: datetime) -> timedelta:
    """From 00:00 UTC of a due day to the end of that day in `tz`: one day less the zone's UTC
    offset at `at` (models.periods.reported_on_time)."""
    return timedelta(days=1) - (at.astimezone(tz).utcoffset() or timedelta())


def sqlite_shift(shift: timedelta) -> str:
    """`shift` as SQLite's datetime() modifier."""
    return f"+{int(shift.total_seconds())} seconds"
