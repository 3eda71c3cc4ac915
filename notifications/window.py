"""The delivery window: mail goes out on working days between two local times, or always."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the model (pydantic-settings) is built only where settings are read with it
    from config.settings import Settings

IsWorkday = Callable[[date], bool]


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def load_workdays() -> IsWorkday:
    """Working days from the office calendar (holidays, make-up days), else Monday to Friday."""
    try:
        from config.calendar import load_calendar
    except ImportError:  # the calendar module is optional for the mail layer
        return weekdays
    return load_calendar().is_workday


def next_window(
    now: datetime, *, start: time, end: time, tz: ZoneInfo, is_workday: IsWorkday = weekdays
) -> datetime | None:
    """None while the window is open at `now`; otherwise when it opens next (an aware instant)."""
    local = now.astimezone(tz)
    if is_workday(local.date()) and start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    for _ in range(400):  # a year of holidays cannot hide every working day
        if is_workday(day):
            return datetime.combine(day, start, tzinfo=tz)
        day += timedelta(days=1)
    raise ValueError("the calendar has no working day in the next 400 days")


def window_closed_until(now: datetime, settings: Settings, is_workday: IsWorkday | None = None) -> datetime | None:
    """When the configured window next opens, or None when mail may go out now."""
    if not settings.delivery_window:
        return None
    return next_window(
        now, start=settings.delivery_window_start, end=settings.delivery_window_end, tz=settings.tz,
        is_workday=is_workday or load_workdays(),
    )
