"""Reading a deadline as offices write it: ISO and slashed dates, 年月日, 月底, 年底, 季度, Excel cells."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from models.ledger.problems import render

_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_EXAMPLES = ("2024-06-30", "2024/6/30", "2024年6月30日", "2024年6月底", "2024年底", "2024年第二季度")

_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_MONTH_END = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:份)?\s*(?:底|末)?")
_YEAR_END = re.compile(r"(\d{4})\s*年(?:年)?\s*(?:底|末)")
_QUARTER = re.compile(r"(\d{4})\s*年\s*(?:第)?\s*([一二三四1-4])\s*季度(?:末|底)?")
_HALF = re.compile(r"(\d{4})\s*年\s*([上下])半年(?:末|底)?")
# "前" / "之前" ("by the end of June") add nothing to the date itself.
_BEFORE = re.compile(r"(?:之前|以前|前)$")

# Excel stores dates as days since 1899-12-30; plausible ledger years only.
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()
_EXCEL_SERIALS = range(date(1990, 1, 1).toordinal() - _EXCEL_EPOCH, date(2100, 1, 1).toordinal() - _EXCEL_EPOCH)


class DeadlineError(ValueError):
    """The text is not a deadline; the message says why and shows the accepted forms.

    `code` and `params` are a ledger problem's (models.ledger.problems); str() is the English.
    """

    def __init__(self, *, code: str, **params: Any) -> None:
        self.code, self.params = code, params
        super().__init__(render(code, params))


def _last_day(year: int, month: int, text: str) -> date:
    if not 1 <= month <= 12:
        raise DeadlineError(code="ledger.deadline.no_month", text=text, month=month)
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_deadline(value: object) -> date:
    """A deadline date from a cell: a date/datetime (Excel date cell), an Excel serial, or text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if int(value) in _EXCEL_SERIALS:
            return date.fromordinal(_EXCEL_EPOCH + int(value))
        raise DeadlineError(code="ledger.deadline.number", value=value, examples=_EXAMPLES)
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        raise DeadlineError(code="ledger.deadline.empty")
    return _parse_text(_BEFORE.sub("", text).strip(), text)


def _parse_text(core: str, text: str) -> date:
    """`core` is `text` without a trailing 前/之前; messages quote `text` as written."""
    if match := _DAY.fullmatch(core):
        year, month, day = (int(g) for g in match.groups())
        last = _last_day(year, month, text)
        if not 1 <= day <= last.day:
            raise DeadlineError(code="ledger.deadline.no_day", text=text, year=year, month=month, day=day)
        return date(year, month, day)
    if match := _YEAR_END.fullmatch(core):
        return date(int(match.group(1)), 12, 31)
    if match := _QUARTER.fullmatch(core):
        return _last_day(int(match.group(1)), 3 * _QUARTERS[match.group(2)], text)
    if match := _HALF.fullmatch(core):
        return _last_day(int(match.group(1)), 6 if match.group(2) == "上" else 12, text)
    if match := _MONTH_END.fullmatch(core):
        return _last_day(int(match.group(1)), int(match.group(2)), text)
    raise DeadlineError(code="ledger.deadline.not_a_date", text=text, examples=_EXAMPLES)
