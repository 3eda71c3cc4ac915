"""The due rules as people read them: overdue, due soon, 未签收, and every SQL condition for them.

models/deadlines.py holds the pure maths (an item is overdue from 00:00 local of the day after
its deadline); this module turns it into the conditions lists and counts filter on and the
traffic lights pages show. Due soon = still worked on, deadline within the default policy's first
reminder (7 working days as shipped) on the working-day calendar. Nothing else decides either.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists
from sqlmodel import col, select

from config.calendar import WorkCalendar, load_calendar
from config.policy import Policy, load_policy
from models.deadlines import ACTIVE_STATUSES, DueState, due_state
from models.tables import Item, ItemAcknowledgement, Status

DUE_SOON_WORKDAYS = 7  # when the policy has no reminders before the deadline


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
    policy = policy or load_policy()
    return ReminderWindow(calendar or load_calendar(), max(policy.default.reminders_before, default=DUE_SOON_WORKDAYS))


@functools.cache
def reminder_window() -> ReminderWindow:
    """The configured window, loaded once a process (the web app loads it at start)."""
    return load_reminder_window()


def due_soon_until(today: date) -> date:
    return reminder_window().until(today)


def today_in(now: datetime, tz: ZoneInfo) -> date:
    """The office's calendar day at `now`."""
    return now.astimezone(tz).date()


def active() -> Any:
    """Still worked on by the units (not submitted, signed off or cancelled)."""
    return col(Item.status).in_(list(ACTIVE_STATUSES))


def overdue_condition(today: date) -> Any:
    """Overdue on local day `today`: worked on, deadline day ended (same as deadlines.is_overdue)."""
    return and_(active(), col(Item.deadline) < today)


def lead_acknowledged() -> Any:
    """The item's lead unit (its current one) has acknowledged it (签收, models/lifecycle.py)."""
    return exists(select(ItemAcknowledgement.item_id).where(
        ItemAcknowledgement.item_id == Item.id, ItemAcknowledgement.unit_id == Item.lead_unit_id))


def unacknowledged_condition() -> Any:
    """未签收: still worked on (assigned or in progress, the states 签收 is possible in) and not
    acknowledged by its lead unit. A co-unit's 签收 does not count; a new lead unit acknowledges afresh."""
    return and_(active(), ~lead_acknowledged())


def due_soon_condition(today: date, until: date) -> Any:
    """Due soon: worked on, deadline from `today` to `until` (see ReminderWindow.until)."""
    return and_(active(), col(Item.deadline) >= today, col(Item.deadline) <= until)


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


UNFINISHED_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.SUBMITTED)


def unfinished_condition() -> Any:
    """Not signed off and not cancelled: what the figures call open (在办)."""
    return col(Item.status).in_(list(UNFINISHED_STATUSES))
