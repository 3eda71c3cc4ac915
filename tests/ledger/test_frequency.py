"""频次: reading an item's frequency in zh and en, and the periods it makes (pure, no database)."""

from __future__ import annotations

from datetime import date

import pytest

from models.frequency import Frequency, FrequencyError, parse_frequency


@pytest.mark.parametrize(("text", "code"), [
    ("每月", "monthly"), ("每季度", "quarterly"), ("每季度末", "quarterly"), ("每季", "quarterly"),
    ("每半年", "half-yearly"), ("每年", "yearly"), ("每年底", "yearly"),
    ("每月25日前", "monthly by day 25"), ("每月２５号", "monthly by day 25"),
    ("每季度首月10日前", "quarterly by month 1 day 10"), ("每季度第二月15日前", "quarterly by month 2 day 15"),
    ("Monthly", "monthly"), ("quarterly by end", "quarterly"), ("half-yearly", "half-yearly"),
    ("annually", "yearly"), ("quarterly by day 20", "quarterly by day 20"),
    ("quarterly  by month 1 day 10", "quarterly by month 1 day 10"),
])
def test_zh_and_en_forms_read_as_one_canonical_code_that_reads_back(text, code):
    frequency = parse_frequency(text)
    assert frequency is not None and frequency.code == code
    assert parse_frequency(frequency.code) == frequency and parse_frequency(frequency.zh) == frequency


def test_an_empty_cell_is_no_frequency():
    assert parse_frequency(None) is None and parse_frequency("  ") is None


@pytest.mark.parametrize(("text", "code"), [
    ("每周", "ledger.frequency.unknown"), ("weekly", "ledger.frequency.unknown"), ("经常", "ledger.frequency.unknown"),
    ("每月32日前", "ledger.frequency.bad_day"), ("monthly by month 2 day 1", "ledger.frequency.bad_month"),
])
def test_an_unknown_frequency_is_refused_with_a_code(text, code):
    with pytest.raises(FrequencyError) as raised:
        parse_frequency(text)
    assert raised.value.code == code and text in str(raised.value)


def test_a_quarterly_item_from_mid_year_has_its_q3_and_q4_periods():
    periods = Frequency("quarterly").periods(date(2023, 7, 15), date(2023, 12, 31))
    assert periods == [(date(2023, 7, 1), date(2023, 9, 30), date(2023, 9, 30)),
                       (date(2023, 10, 1), date(2023, 12, 31), date(2023, 12, 31))]


def test_a_report_due_in_the_next_periods_month_is_on_the_period_before():
    (q4,) = parse_frequency("每季度首月10日前").periods(date(2023, 10, 1), date(2023, 12, 31))  # type: ignore[union-attr]
    assert q4 == (date(2023, 10, 1), date(2023, 12, 31), date(2024, 1, 10))


def test_a_day_past_the_months_end_is_its_last_day():
    frequency = parse_frequency("每月31日前")
    assert frequency is not None and frequency.due(date(2023, 2, 1)) == date(2023, 2, 28)
