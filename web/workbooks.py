"""Spreadsheets the desk hands out: the item list as filtered, and the figures with the unit ranking.

Headers and states are in the page's language; rates are numbers formatted as percentages, so a
spreadsheet can sum and sort them.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from models.sheets import DATE, PERCENT, XLSX, Column, Table, xlsx
from web.figures import Figures, Row, ranking
from web.i18n import translator
from web.listing import ItemRow

__all__ = ["XLSX", "figures_workbook", "items_workbook"]

ITEM_COLUMNS = (("Id", 8, None), ("Document", 16, None), ("Number", 8, None), ("Title", 48, None),
                ("Lead unit", 16, None), ("Status", 9, None), ("Original deadline", 12, DATE), ("Deadline", 12, DATE),
                ("Level", 6, None))
COUNT_COLUMNS = ("Total", "Signed off", "Rate", "Open", "Due soon", "Overdue")


def items_workbook(rows: Iterable[ItemRow], locale: str) -> bytes:
    _ = translator(locale)
    columns = [Column(_(header), width, number_format) for header, width, number_format in ITEM_COLUMNS]
    return xlsx(Table(_("Items"), columns, (
        [row.item.id, row.document, row.item.number, row.item.title, row.lead_unit,
         _(row.due_state if row.due_state == "overdue" else str(row.item.status)),
         row.item.original_deadline, row.item.deadline, row.item.escalation_level] for row in rows)))


def figures_workbook(figures: Figures, locale: str, tz: ZoneInfo) -> bytes:
    """Two sheets: per document (by name), and every lead unit ranked by rate (as /?rank=rate)."""
    _ = translator(locale)
    as_of = [f"{_('As of')} {figures.as_of.astimezone(tz):%Y-%m-%d %H:%M}"]
    counts = [Column(_(header), 9, PERCENT if header == "Rate" else None) for header in COUNT_COLUMNS]
    overall = figures.overall
    documents = [*figures.documents, Row(_("Overall"), overall.total, overall.signed_off, overall.open,
                                         overall.due_soon, overall.overdue)]
    return xlsx(
        Table(_("By document"), [Column(_("Document"), 24), *counts],
              ([row.name, *_counts(row)] for row in documents), above=[as_of]),
        Table(_("Units ranked by rate"), [Column(_("Rank"), 6), Column(_("Lead unit"), 20), *counts],
              ([place, row.name, *_counts(row)] for place, row in ranking(figures.units)), above=[as_of]),
    )


def _counts(row: Row) -> list[object]:
    return [row.total, row.signed_off, row.rate / 100, row.open, row.due_soon, row.overdue]
