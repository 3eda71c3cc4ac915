"""Spreadsheets the desk hands out: the item list as filtered, and the figures with the unit ranking.

Headers and states are in the page's language; the item list uses the ledger's columns
(models/ledger/export.py) so it imports again; rates are numbers formatted as percentages, so a
spreadsheet can sum and sort them. Every one is written by models/sheets.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from models.ledger.export import ledger_table
from models.read.figures import Figures, Row, ranking
from models.read.views import ItemRow
from models.sheets import PERCENT, XLSX, Column, Table, xlsx
from web.i18n import translator

__all__ = ["XLSX", "figures_workbook", "items_workbook"]

COUNT_COLUMNS = ("Total", "Signed off", "Rate", "Open", "Due soon", "Overdue", "Unacknowledged",
                 "Acknowledgement rate", "Urged", "On-time reporting rate")
RATE_COLUMNS = ("Rate", "Acknowledgement rate", "On-time reporting rate")


def items_workbook(session: Session, rows: Sequence[ItemRow], *, now: datetime, tz: ZoneInfo, locale: str) -> bytes:
    """The listed items (every page of the view) in the ledger's columns: edited, the file imports again."""
    return xlsx(ledger_table(session, [row.item.id for row in rows], now=now, tz=tz, locale=locale), tz=tz)


def figures_workbook(figures: Figures, locale: str, tz: ZoneInfo) -> bytes:
    """Two sheets: per document (by name), and every lead unit ranked by rate (as /?rank=rate)."""
    _ = translator(locale)
    as_of = [f"{_('As of')} {figures.as_of.astimezone(tz):%Y-%m-%d %H:%M}"]
    counts = [Column(_(header), 9, PERCENT if header in RATE_COLUMNS else None) for header in COUNT_COLUMNS]
    documents = [*figures.documents, replace(figures.overall, name=_("Overall"))]
    return xlsx(
        Table(_("By document"), [Column(_("Document"), 24), *counts],
              ([row.name, *_counts(row)] for row in documents), above=[as_of]),
        Table(_("Units ranked by rate"), [Column(_("Rank"), 6), Column(_("Lead unit"), 20), *counts],
              ([place, row.name, *_counts(row)] for place, row in ranking(figures.units)), above=[as_of]),
    )


def _counts(row: Row) -> list[object]:
    return [row.total, row.signed_off, row.rate / 100, row.open, row.due_soon, row.overdue, row.unacknowledged,
            row.acknowledge_rate / 100, row.urged, row.on_time_rate / 100 if row.periods_due else None]
