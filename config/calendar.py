"""The working-day calendar: China's statutory holidays and make-up working days, plus local overrides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import chinese_calendar

from config.yamlfile import ConfigFileError, LineDict, LineList, load_yaml, where

DEFAULT_CALENDAR_FILE = Path(__file__).with_name("calendar.yaml")

_PACKAGE_HOLIDAYS: frozenset[dt.date] = frozenset(chinese_calendar.holidays)
_PACKAGE_WORKDAYS: frozenset[dt.date] = frozenset(chinese_calendar.workdays)
PACKAGE_YEARS: frozenset[int] = frozenset(
    range(min(d.year for d in _PACKAGE_HOLIDAYS), max(d.year for d in _PACKAGE_HOLIDAYS) + 1)
)


class CalendarError(ConfigFileError):
    pass


class WorkCalendar:
    """Which days are working days.

    Precedence: the overrides' extra working days, then their extra holidays, then the
    `chinese-calendar` package for the years it covers, then Monday to Friday. A year covered
    neither by the package nor by the overrides (`complete_years`) still works, on the
    Monday-Friday fallback; every such year asked about is remembered in `fallback_years` so the
    sweep can warn once per run.
    """

    def __init__(
        self,
        extra_holidays: frozenset[dt.date] = frozenset(),
        extra_workdays: frozenset[dt.date] = frozenset(),
        complete_years: frozenset[int] = frozenset(),
        source: str = "built-in",
    ) -> None:
        self.extra_holidays = extra_holidays
        self.extra_workdays = extra_workdays
        self.complete_years = complete_years
        self.source = source
        self.fallback_years: set[int] = set()
        self._steps: dict[tuple[dt.date, int], dt.date] = {}
        self.memo: dict[Any, Any] = {}  # callers' caches that live as long as this calendar (one run)

    def covered_years(self) -> frozenset[int]:
        """Years whose official calendar is known: the package's, plus those the overrides complete."""
        return PACKAGE_YEARS | self.complete_years

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if day.year in PACKAGE_YEARS:
            return day in _PACKAGE_WORKDAYS or (day.weekday() < 5 and day not in _PACKAGE_HOLIDAYS)
        if day.year not in self.complete_years:
            self.fallback_years.add(day.year)
        return day.weekday() < 5

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (before it when n < 0); `day` itself when n == 0.

        Cached: one calendar object serves one run (fallback years are recorded on first use).
        """
        key = (day, n)
        found = self._steps.get(key)
        if found is None:
            step, left, found = (1 if n > 0 else -1), abs(n), day
            while left:
                found += dt.timedelta(days=step)
                if self.is_workday(found):
                    left -= 1
            self._steps[key] = found
        return found


def load_calendar(path: Path | None = None) -> WorkCalendar:
    """The calendar with the overrides of `path` (default: settings.calendar_file, else built in)."""
    if path is None:
        from config.settings import get_settings

        path = get_settings(plain=True).calendar_file or DEFAULT_CALENDAR_FILE
    try:
        data = load_yaml(path)
    except ConfigFileError as exc:
        raise CalendarError(str(exc)) from None
    unknown = set(data) - {"holidays", "workdays", "complete_years"}
    if unknown:
        key = sorted(unknown)[0]
        raise CalendarError(
            f"{where(data, key)}: unknown key {key!r}; expected holidays, workdays, complete_years"
        )
    holidays = _dates(path, data, "holidays")
    workdays = _dates(path, data, "workdays")
    both = holidays & workdays
    if both:
        day = min(both)
        raise CalendarError(f"{path}: {day} is listed both as a holiday and as a working day")
    years = data.get("complete_years") or LineList()
    if not isinstance(years, list) or not all(isinstance(y, int) and 1900 < y < 3000 for y in years):
        raise CalendarError(f"{where(data, 'complete_years')}: complete_years must be a list of years")
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years), str(path))


def _dates(path: Path, data: LineDict, key: str) -> set[dt.date]:
    values = data.get(key) or []
    if not isinstance(values, list):
        raise CalendarError(f"{where(data, key)}: {key} must be a list of dates (YYYY-MM-DD)")
    days: set[dt.date] = set()
    for index, value in enumerate(values):
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise CalendarError(f"{where(values, index)}: {value!r} is not a date; write YYYY-MM-DD")
        days.add(value)
    return days


def coverage(calendar: WorkCalendar, year: int) -> str:
    """How `year` is covered: 'package', 'overrides' or 'fallback' (Monday-Friday plus overrides)."""
    if year in PACKAGE_YEARS:
        return "package"
    if year in calendar.complete_years:
        return "overrides"
    return "fallback"
