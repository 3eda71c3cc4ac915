"""How often an item recurs (频次): reading 每季度首月10日前 / "quarterly by month 1 day 10", and the periods.

Pure: no database, no clock. A frequency is a period length (a month, a quarter, half a year, a
year) and where in each period its report is due: the period's last day (每季度, 每季度末), a day of
the period's last month (每月25日前), or a day of a given month of the period (每季度首月10日前: the
10th of each quarter's first month, for the quarter before it). The stored form is the English
canonical text (`Frequency.code`), which the import also accepts, so an export round-trips.

Accepted forms (case, width and spaces do not matter):

    每月 每季度 每半年 每年                    monthly  quarterly  half-yearly  yearly
    每月25日前  每季度末  每半年末  每年末        monthly by day 25  quarterly by end
    每季度首月10日前  每季度第2月15日前         quarterly by month 1 day 10  (month of the *next* period)

A report due "by the 10th of the quarter's first month" is the report *on* the quarter before
it (an office's 每季度首月10日前报送上季度情况): its period ends the day before the due month starts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# period name -> months in a period
MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}
_ZH = {"月": "monthly", "季度": "quarterly", "季": "quarterly", "半年": "half-yearly", "年": "yearly"}
_EN = {"monthly": "monthly", "quarterly": "quarterly", "half-yearly": "half-yearly", "halfyearly": "half-yearly",
       "semi-annually": "half-yearly", "semiannually": "half-yearly", "yearly": "yearly", "annually": "yearly"}
_ORDINAL = {"首": 1, "第一": 1, "第1": 1, "第二": 2, "第2": 2, "第三": 3, "第3": 3, "次": 2}
EXAMPLES = ("每月", "每季度", "每半年", "每年", "每月25日前", "每季度末", "每季度首月10日前",
            "monthly", "quarterly by day 25", "quarterly by month 1 day 10")

_ZH_FORM = re.compile(r"每(月|季度|季|半年|年)(?:(末|底)|(首|第[一二三123]|次)月)?(?:(\d{1,2})[日号])?(?:之?前)?")
_EN_FORM = re.compile(r"([a-z-]+)(?: by (?:(end)|(?:month (\d{1,2}) )?day (\d{1,2})))?")


class FrequencyError(ValueError):
    """The text is not a frequency; `code` and `params` are a ledger problem's, str() is the English."""

    def __init__(self, *, code: str, **params: Any) -> None:
        from models.ledger.problems import render  # the ledger package imports this module

        self.code, self.params = code, params
        super().__init__(render(code, params))


@dataclass(frozen=True)
class Frequency:
    """`every` one of MONTHS; `day` None is the due month's last day; `month` None is the period's
    own last month, else the due month is that month of the *next* period (the report on this one)."""

    every: str
    day: int | None = None
    month: int | None = None

    @property
    def code(self) -> str:
        if self.month is not None:
            return f"{self.every} by month {self.month} day {self.day}"
        return f"{self.every} by day {self.day}" if self.day is not None else self.every

    @property
    def zh(self) -> str:
        """The Chinese form (每季度首月10日前), which reads back as the same frequency."""
        words = {"monthly": "每月", "quarterly": "每季度", "half-yearly": "每半年", "yearly": "每年"}[self.every]
        if self.month is not None:
            words += "首月" if self.month == 1 else f"第{self.month}月"
        return words + (f"{self.day}日前" if self.day is not None else "")

    def text(self, locale: str) -> str:
        return self.code if locale == "en" else self.zh

    def period_start(self, day: date) -> date:
        """The first day of the period holding `day`."""
        months = MONTHS[self.every]
        index = (day.month - 1) // months * months
        return date(day.year, index + 1, 1)

    def next_start(self, start: date) -> date:
        return _add_months(start, MONTHS[self.every])

    def due(self, start: date) -> date:
        """The calendar day the report on the period starting `start` is due (before working-day rules)."""
        following = self.next_start(start)
        if self.month is not None:
            month_start = _add_months(following, self.month - 1)
        else:
            month_start = _add_months(following, -1)
        last = (_add_months(month_start, 1) - timedelta(days=1)).day
        return month_start.replace(day=min(self.day or last, last))

    def periods(self, first: date, last: date) -> list[tuple[date, date, date]]:
        """(starts, ends, due) of every period overlapping `first`..`last` (the item's life)."""
        found = []
        start = self.period_start(first)
        while start <= last:
            following = self.next_start(start)
            found.append((start, following - timedelta(days=1), self.due(start)))
            start = following
        return found


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_frequency(value: object) -> Frequency | None:
    """A frequency from a cell; None for an empty cell (the item does not recur)."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        return None
    key = re.sub(r"\s+", " ", text.lower())
    if match := _ZH_FORM.fullmatch(key.replace(" ", "")):
        period, _end, ordinal, day = match.groups()
        frequency = Frequency(_ZH[period], int(day) if day else None, _ORDINAL[ordinal] if ordinal else None)
    elif (match := _EN_FORM.fullmatch(key)) and match.group(1) in _EN:
        period, _end, month, day = match.groups()
        frequency = Frequency(_EN[period], int(day) if day else None, int(month) if month else None)
    else:
        raise FrequencyError(code="ledger.frequency.unknown", text=text, examples=EXAMPLES)
    if frequency.day is not None and not 1 <= frequency.day <= 31:
        raise FrequencyError(code="ledger.frequency.bad_day", text=text, day=frequency.day)
    if frequency.month is not None and not 1 <= frequency.month <= MONTHS[frequency.every]:
        raise FrequencyError(code="ledger.frequency.bad_month", text=text, month=frequency.month,
                             months=MONTHS[frequency.every])
    return frequency
