"""Spreadsheets the desk hands out: the item list as filtered, and the figures with the unit ranking.

Headers and states are in the page's language; rates are numbers formatted as percentages, so a
spreadsheet can sum and sort them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from web.figures import Figures, Row, ranking
from web.i18n import translator
from web.listing import ItemRow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ITEM_COLUMNS = ("Id", "Document", "Number", "Title", "Lead unit", "Status", "Original deadline", "Deadline", "Level")
COUNT_COLUMNS = ("Total", "Signed off", "Rate", "Open", "Due soon", "Overdue")


def items_workbook(rows: Iterable[ItemRow], locale: str) -> bytes:
    _ = translator(locale)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Items"))
    sheet.append([_(c) for c in ITEM_COLUMNS])
    for row in rows:
        item = row.item
        state = row.due_state if row.due_state == "overdue" else str(item.status)
        sheet.append([item.id, row.document, item.number, item.title, row.lead_unit, _(state),
                      item.original_deadline, item.deadline, item.escalation_level])
    return _saved(workbook)


def figures_workbook(figures: Figures, locale: str, tz: ZoneInfo) -> bytes:
    """Two sheets: per document (by name), and every lead unit ranked by rate (as /?rank=rate)."""
    _ = translator(locale)
    as_of = f"{_('As of')} {figures.as_of.astimezone(tz):%Y-%m-%d %H:%M}"
    workbook = Workbook(write_only=True)
    documents = workbook.create_sheet(_("By document"))
    documents.append([as_of])
    documents.append([_("Document"), *(_(c) for c in COUNT_COLUMNS)])
    for row in [*figures.documents, Row(_("Overall"), figures.overall.total, figures.overall.signed_off,
                                        figures.overall.open, figures.overall.due_soon, figures.overall.overdue)]:
        _append_counts(documents, [row.name], row)
    units = workbook.create_sheet(_("Units ranked by rate"))
    units.append([as_of])
    units.append([_("Rank"), _("Lead unit"), *(_(c) for c in COUNT_COLUMNS)])
    for place, row in ranking(figures.units):
        _append_counts(units, [place, row.name], row)
    return _saved(workbook)


def _append_counts(sheet: WriteOnlyWorksheet, first: list[object], row: Row) -> None:
    rate = WriteOnlyCell(sheet, value=row.rate / 100)
    rate.number_format = "0.0%"
    sheet.append([*first, row.total, row.signed_off, rate, row.open, row.due_soon, row.overdue])


def _saved(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
