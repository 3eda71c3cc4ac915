"""Why a ledger file is refused: each problem's code and params, and its English words.

A problem is a code ("ledger.row.empty") and plain params, like models.errors.DubanError: the
CLI and LedgerError show the English `reason`; the catalogs (config/i18n) word the same codes.
A param that is a dict with a "code" (where the first of two duplicates is) is a message itself.
A list param shows joined by the language's separator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

REASONS: dict[str, str] = {
    # files and sheets (parse.py)
    "ledger.file.missing": "no such file: {path}",
    "ledger.file.bad_type": "unknown file type {suffix!r}; use .xlsx or .csv",
    "ledger.file.bad_encoding": "cannot read the file as UTF-8 or GB18030; save it in one of them "
                                "(Excel: CSV UTF-8) and upload it again",
    "ledger.file.unzipped_too_large": "the workbook unpacks to {mb} MB, more than the {limit_mb} MB allowed "
                                      "(setting xlsx_max_unzipped_mb)",
    "ledger.file.shared_strings_too_large": "the workbook's texts take {mb} MB, more than the {limit_mb} MB allowed "
                                            "(setting xlsx_max_shared_strings_mb)",
    "ledger.file.too_many_shared_strings": "the workbook holds more than {limit} different texts "
                                           "(setting xlsx_max_shared_strings)",
    "ledger.file.too_many_cells": "the workbook has more than {limit} cells (setting xlsx_max_cells)",
    "ledger.file.not_excel": "cannot open as an Excel workbook: {error}",
    "ledger.file.no_sheet": "no sheet named 单位/units or 台账/ledger and no sheet with a units or ledger "
                            "header row (sheets: {sheets})",
    "ledger.sheet.no_header": "no units or ledger header row in the first {rows} rows",
    "ledger.sheet.no_units_header": "no units header row in the first {rows} rows (expected columns {expected})",
    "ledger.sheet.no_ledger_header": "no ledger header row in the first {rows} rows (expected columns {expected})",
    "ledger.column.missing": "required column is missing",
    # cells (validate.py)
    "ledger.row.empty": "is empty",
    "ledger.row.too_long": "is longer than {max} characters",
    "ledger.row.not_email": "{value!r} is not an email address",
    "ledger.row.not_plain_email": "{value!r} is not a plain email address; write only name@domain "
                                  "(no name, brackets, quotes or header before it)",
    "ledger.row.no_email": "needs at least one email address",
    "ledger.row.unknown_unit": "unknown unit {unit!r}",
    "ledger.row.unknown_unit_near": "unknown unit {unit!r}; closest known: {closest}",
    "ledger.row.duplicate_unit": "unit {unit!r} is also on {where}",
    "ledger.row.name_taken": "name {name!r} belongs to another unit (code {other_code})",
    "ledger.row.own_parent": "a unit cannot be its own parent",
    "ledger.row.not_supervisor": "{email} has the role {role}, not supervisor",
    "ledger.row.person_taken": "{email} is already the {role} of {unit} on {where}; a person has one role and unit",
    "ledger.row.person_taken_no_unit": "{email} is already a {role} on {where}; a person has one role and unit",
    "ledger.row.duplicate_item": "item {ref} is also on {where}",
    "ledger.row.unknown_status": "unknown status {value!r}; leave it empty or use {accepted}",
    # deadlines (dates.py)
    "ledger.deadline.empty": "the deadline is empty",
    "ledger.deadline.number": "{value!r} is a number, not a date; write e.g. {examples}",
    "ledger.deadline.not_a_date": "{text!r}: not a date; write e.g. {examples}",
    "ledger.deadline.no_month": "{text!r}: month {month} does not exist",
    "ledger.deadline.no_day": "{text!r}: day {day} does not exist in {year}-{month:02d}",
    # where the first of two duplicates is (the `where` param)
    "ledger.where.row": "row {row}",
    "ledger.where.file": "{file} row {row}",
    "ledger.where.sheet": "{file} sheet {sheet} row {row}",
}


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused. `column` is the header as the file wrote it (or the expected one)."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    _: KW_ONLY
    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def reason(self) -> str:
        return render(self.code, self.params)


def render(code: str, params: Mapping[str, Any], templates: Mapping[str, str] = REASONS,
           separator: str = ", ") -> str:
    """The words for `code` from `templates`; KeyError when a template or a param is missing.

    Params are formatted once, never parsed (str.format of our own templates).
    """
    values = {}
    for name, value in params.items():
        if isinstance(value, Mapping) and "code" in value:
            value = render(value["code"], {k: v for k, v in value.items() if k != "code"}, templates, separator)
        elif isinstance(value, list | tuple):
            value = separator.join(map(str, value))
        values[name] = value
    return templates[code].format(**values)
