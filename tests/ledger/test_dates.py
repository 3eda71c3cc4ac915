"""Deadlines as offices write them (pure, no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.ledger.dates import DeadlineError, parse_deadline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-30", date(2024, 6, 30)),
        ("2024/6/30", date(2024, 6, 30)),
        ("2024.6.30", date(2024, 6, 30)),
        ("2024年6月30日", date(2024, 6, 30)),
        ("2024年6月底", date(2024, 6, 30)),
        ("2024年2月底", date(2024, 2, 29)),
        ("2023年2月底", date(2023, 2, 28)),
        ("2024年6月", date(2024, 6, 30)),
        ("2024年6月底前", date(2024, 6, 30)),
        ("2024年底", date(2024, 12, 31)),
        ("2024年年底", date(2024, 12, 31)),
        ("2024年末", date(2024, 12, 31)),
        ("2024年第二季度", date(2024, 6, 30)),
        ("2024年二季度", date(2024, 6, 30)),
        ("2024年第1季度", date(2024, 3, 31)),
        ("2024年第三季度", date(2024, 9, 30)),
        ("2024年四季度", date(2024, 12, 31)),
        ("2024年上半年", date(2024, 6, 30)),
        ("２０２４年６月底", date(2024, 6, 30)),
        ("  2024-06-30 ", date(2024, 6, 30)),
    ],
)
def test_written_deadlines_become_dates(text, expected):
    assert parse_deadline(text) == expected


def test_excel_date_cells_and_serials_become_dates():
    assert parse_deadline(datetime(2024, 6, 30, 0, 0)) == date(2024, 6, 30)  # noqa: DTZ001 - as openpyxl gives it
    assert parse_deadline(date(2024, 6, 30)) == date(2024, 6, 30)
    assert parse_deadline(45473) == date(2024, 6, 30)
    assert parse_deadline(45473.0) == date(2024, 6, 30)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-02-30", "day 30 does not exist"),
        ("2024年13月底", "month 13 does not exist"),
        ("2024年第五季度", "not a date"),
        ("明年上半年", "not a date"),
        ("2024", "not a date"),
        ("", "empty"),
        (None, "empty"),
        (12, "is a number, not a date"),
    ],
)
def test_bad_deadlines_say_why(value, reason):
    with pytest.raises(DeadlineError, match=reason):
        parse_deadline(value)


def test_bad_deadline_message_shows_the_accepted_forms():
    with pytest.raises(DeadlineError) as raised:
        parse_deadline("尽快")
    assert "2024年6月底" in str(raised.value) and "2024年第二季度" in str(raised.value)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_every_day_round_trips_through_each_written_form(day):
    for text in (day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日"):
        assert parse_deadline(text) == day
    month_end = parse_deadline(f"{day.year}年{day.month}月底")
    assert (month_end.year, month_end.month) == (day.year, day.month) and (month_end + timedelta(days=1)).day == 1
    quarter_end = parse_deadline(f"{day.year}年第{'一二三四'[(day.month - 1) // 3]}季度")
    assert quarter_end >= day and quarter_end.month % 3 == 0 and (quarter_end + timedelta(days=1)).day == 1
