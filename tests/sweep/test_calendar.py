"""The working-day calendar: statutory holidays, make-up working days, overrides, uncovered years."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config.calendar import CalendarError, WorkCalendar, coverage, load_calendar


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.mark.parametrize(("day", "workday"), [
    (date(2024, 10, 1), False),   # National Day 2024
    (date(2024, 10, 7), False),
    (date(2024, 9, 29), True),    # Sunday, make-up working day
    (date(2024, 10, 12), True),   # Saturday, make-up working day
    (date(2025, 10, 8), False),   # National Day + Mid-Autumn 2025
    (date(2025, 9, 28), True),
    (date(2025, 10, 11), True),
    (date(2024, 2, 12), False),   # Spring Festival 2024
    (date(2024, 2, 4), True),
    (date(2024, 2, 18), True),
    (date(2025, 1, 28), False),   # Spring Festival 2025
    (date(2025, 1, 26), True),
    (date(2025, 2, 8), True),
    (date(2024, 6, 1), False),    # an ordinary Saturday
    (date(2024, 6, 3), True),     # an ordinary Monday
])
def test_statutory_holidays_and_make_up_working_days(cal, day, workday):
    assert cal.is_workday(day) is workday


def test_add_workdays_steps_over_national_day_and_onto_make_up_days(cal):
    assert cal.add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert cal.add_workdays(date(2024, 10, 8), -1) == date(2024, 9, 30)
    assert cal.add_workdays(date(2024, 10, 8), -2) == date(2024, 9, 29)
    assert cal.add_workdays(date(2024, 10, 11), 1) == date(2024, 10, 12)
    assert cal.add_workdays(date(2024, 10, 8), 0) == date(2024, 10, 8)


def test_year_end_crosses_new_year_holiday(cal):
    assert cal.add_workdays(date(2024, 12, 31), 1) == date(2025, 1, 2)
    assert cal.add_workdays(date(2025, 1, 2), -1) == date(2024, 12, 31)


def test_uncovered_year_falls_back_to_weekdays_and_is_remembered(cal):
    assert 2027 not in cal.covered_years() and 2026 in cal.covered_years()
    assert cal.is_workday(date(2027, 1, 1)) is True  # a Friday; the real New Year is not known yet
    assert cal.is_workday(date(2027, 1, 2)) is False
    assert cal.add_workdays(date(2027, 1, 1), 3) == date(2027, 1, 6)
    assert cal.fallback_years == {2027}
    assert coverage(cal, 2027) == "fallback"


def test_overrides_file_adds_holidays_workdays_and_completes_a_year(tmp_path: Path):
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "holidays: [2027-01-01, 2024-06-03]\nworkdays: [2024-06-01]\ncomplete_years: [2027]\n", encoding="utf-8"
    )
    cal = load_calendar(path)
    assert cal.is_workday(date(2027, 1, 1)) is False
    assert cal.is_workday(date(2024, 6, 3)) is False  # a local closure on a Monday
    assert cal.is_workday(date(2024, 6, 1)) is True
    assert 2027 in cal.covered_years() and coverage(cal, 2027) == "overrides"
    cal.is_workday(date(2027, 3, 1))
    assert cal.fallback_years == set()


@pytest.mark.parametrize(("text", "message"), [
    ("holidays: [2024-01-01]\nworkdays:\n  - 2024-02-30\n", "calendar.yaml:3: '2024-02-30' is not a date"),
    ("holidays: [2024-01-01]\nextra: 1\n", "calendar.yaml:2: unknown key 'extra'"),
    ("holidays: [2024-06-03]\nworkdays: [2024-06-03]\n", "2024-06-03 is listed both as a holiday and as a working day"),
    ("holidays: [\n", "not valid YAML"),
])
def test_bad_overrides_file_is_refused_naming_the_line(tmp_path: Path, text, message):
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=message.replace("[", r"\[")):
        load_calendar(path)
