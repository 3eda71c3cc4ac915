"""The openpyxl writer models.sheets used until 2026-12 (write-only mode, a cell at a time), kept
as the reference the direct writer is read back against (tests/models/test_sheets.py)."""

from __future__ import annotations

import io
from datetime import datetime, tzinfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from models.sheets import RISKY_STARTS, Column, Table, sheet_title

_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def xlsx(*tables: Table, tz: tzinfo | None = None) -> bytes:
    """The workbook's bytes. Aware datetimes are shown in `tz` (Excel has no time zones)."""
    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(sheet_title(table.title))
        try:
            _write(sheet, table, tz)
        except BaseException:
            sheet.close()  # end the half-written stream now, not when the collector finds it
            raise
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _write(sheet: WriteOnlyWorksheet, table: Table, tz: tzinfo | None) -> None:
    header_row = len(table.above) + 1
    width = len(table.columns)
    # Widths, frozen panes and print titles go before the first row in write-only mode.
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    for line in table.above:
        sheet.append([_cell(sheet, value, None, tz) for value in line])
    sheet.append([_header(sheet, column.header) for column in table.columns])
    count = 0
    for row in table.rows:
        sheet.append([_cell(sheet, value, column, tz) for value, column in zip(row, table.columns, strict=False)])
        count += 1
    if width:
        sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(width)}{header_row + count}"


def _header(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    cell = _cell(sheet, text, None, None)
    if not isinstance(cell, Cell):
        cell = WriteOnlyCell(sheet, value=cell)
    cell.font = _BOLD
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: object, column: Column | None, tz: tzinfo | None) -> object:
    """A plain value where openpyxl stores it safely as is, else a styled cell."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        if tz is None:
            raise TypeError("an aware datetime needs xlsx(..., tz=...): Excel has no time zones")
        value = value.astimezone(tz).replace(tzinfo=None)
    risky = False
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        value, risky = text, text.startswith(RISKY_STARTS)
    styled = risky or (column is not None and (column.number_format is not None or column.wrap))
    if not styled or value is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if risky:
        cell.data_type = "s"  # openpyxl made '=...' a formula; the text is data
        cell.quotePrefix = True
    if column is not None and column.number_format and not isinstance(value, str):
        cell.number_format = column.number_format
    if column is not None and column.wrap:
        cell.alignment = _WRAP
    return cell
