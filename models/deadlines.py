"""Pure deadline maths: when a deadline date ends, and whether an item is overdue at `now`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from models.states import Status

ACTIVE_STATUSES = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})


class DueState(StrEnum):
    ON_TRACK = "on_track"
    OVERDUE = "overdue"
    AWAITING_SIGN_OFF = "awaiting_sign_off"
    SIGNED_OFF = "signed_off"
    CANCELLED = "cancelled"


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """00:00 local time of `day`, as an aware instant."""
    return datetime.combine(day, time.min, tzinfo=tz)


def overdue_at(deadline: date, tz: ZoneInfo) -> datetime:
    """An item is due by the end of its deadline day: overdue from 00:00 of the day after."""
    return start_of_day(deadline + timedelta(days=1), tz)


def is_overdue(status: Status | str, deadline: date, now: datetime, tz: ZoneInfo) -> bool:
    """Overdue is derived, not stored: an item the unit still works on, past its deadline day.

    A submitted item waits on the supervisor, not the unit, so it is not overdue.
    """
    return status in ACTIVE_STATUSES and now >= overdue_at(deadline, tz)


def due_state(status: Status | str, deadline: date, now: datetime, tz: ZoneInfo) -> DueState:
    if status == Status.SIGNED_OFF:
        return DueState.SIGNED_OFF
    if status == Status.CANCELLED:
        return DueState.CANCELLED
    if status == Status.SUBMITTED:
        return DueState.AWAITING_SIGN_OFF
    return DueState.OVERDUE if is_overdue(status, deadline, now, tz) else DueState.ON_TRACK


def days_overdue(deadline: date, now: datetime, tz: ZoneInfo) -> int:
    """Calendar days past the deadline day (0 while not overdue)."""
    today = now.astimezone(tz).date()
    return max(0, (today - deadline).days)
