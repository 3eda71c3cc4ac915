"""The items export in the ledger's own columns: an exported file, edited, imports again.

The first columns are the import's (models/ledger/parse.py HEADERS), in Chinese or English; the
read-only ones after them (days overdue, level, latest progress) carry names the import does not
know, so it passes over them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.i18n import N_, gettext
from models.deadlines import days_overdue, is_overdue
from models.frequency import parse_frequency
from models.ledger.parse import HEADERS
from models.ledger.validate import STATUS_WORDS
from models.sheets import DATE, Column, Table
from models.tables import Document, Item, ItemCoUnit, Person, ProgressReport, Status, Unit

_CHUNK = 500


class _Item(NamedTuple):
    id: int
    document_id: int
    number: str
    title: str
    category: str
    lead_unit_id: int
    supervisor_id: int | None
    deadline: date
    status: str
    notes: str
    escalation_level: int
    frequency: str | None


_ITEM_COLUMNS = tuple(col(getattr(Item, name)) for name in _Item._fields)


@dataclass(frozen=True)
class ExportColumn:
    """A column of the export: `field` is the import's field name, or None for a read-only column."""

    field: str | None
    en: str
    width: float
    number_format: str | None = None
    wrap: bool = False

    def header(self, locale: str) -> str:
        if locale == "en":
            return self.en
        return HEADERS["ledger"][self.field][0] if self.field else gettext(locale, self.en)


COLUMNS = (
    ExportColumn("document", "Document", 16),
    ExportColumn("number", "Number", 8),
    ExportColumn("title", "Title", 48, wrap=True),
    ExportColumn("category", "Category", 10),
    ExportColumn("lead_unit", "Lead unit", 16),
    ExportColumn("co_units", "Co-units", 20, wrap=True),
    ExportColumn("deadline", "Deadline", 12, number_format=DATE),
    ExportColumn("supervisor", "Supervisor", 22),
    ExportColumn("status", "Status", 9),
    ExportColumn("notes", "Notes", 20, wrap=True),
    ExportColumn("frequency", "Frequency", 12),
    ExportColumn(None, N_("Days overdue"), 9),
    ExportColumn(None, N_("Escalation level"), 9),
    ExportColumn(None, N_("Latest progress"), 40, wrap=True),
    ExportColumn(None, N_("Reported"), 12, number_format=DATE),
)
SHEET = {"zh-CN": "台账", "en": "Ledger"}  # names the import reads a ledger sheet from


def ledger_table(session: Session, item_ids: Sequence[int], *, now: datetime, tz: ZoneInfo, locale: str) -> Table:
    """These items (in this order) as the ledger sheet; rows are read in chunks as the file is written."""
    locale = "en" if locale == "en" else "zh-CN"
    columns = [Column(c.header(locale), c.width, c.number_format, c.wrap) for c in COLUMNS]
    return Table(SHEET[locale], columns, _rows(session, item_ids, now, tz, STATUS_WORDS[locale], locale))


def _rows(session: Session, item_ids: Sequence[int], now: datetime, tz: ZoneInfo,
          words: dict[Status, str], locale: str) -> Iterator[list[object]]:
    documents = dict(session.exec(select(Document.id, Document.short_name)).all())
    units = dict(session.exec(select(Unit.id, Unit.name)).all())
    for start in range(0, len(item_ids), _CHUNK):
        ids = list(item_ids[start:start + _CHUNK])
        items = {row[0]: _Item(*row) for row in session.exec(select(*_ITEM_COLUMNS).where(col(Item.id).in_(ids))).all()}
        co_units: dict[int, list[str]] = {}
        for item_id, unit_id in session.exec(select(ItemCoUnit.item_id, ItemCoUnit.unit_id)
                                             .where(col(ItemCoUnit.item_id).in_(ids))).all():
            co_units.setdefault(item_id, []).append(units[unit_id])
        supervisors = dict(session.exec(select(Person.id, Person.email).where(
            col(Person.id).in_({i.supervisor_id for i in items.values() if i.supervisor_id}))).all())
        progress = _latest_progress(session, ids)
        for item_id in ids:
            item = items.get(item_id)
            if item is None:
                continue
            text, at = progress.get(item_id, ("", None))
            overdue = is_overdue(item.status, item.deadline, now, tz)
            yield [documents[item.document_id], item.number, item.title, item.category, units[item.lead_unit_id],
                   "、".join(sorted(co_units.get(item_id, []))), item.deadline,
                   supervisors.get(item.supervisor_id or 0, ""), words[Status(item.status)], item.notes,
                   _frequency(item.frequency, locale),
                   days_overdue(item.deadline, now, tz) if overdue else None, item.escalation_level or None,
                   text, _local_day(at, tz)]


def _latest_progress(session: Session, ids: list[int]) -> dict[int, tuple[str, Any]]:
    newest = (select(func.max(ProgressReport.id)).where(col(ProgressReport.item_id).in_(ids))
              .group_by(col(ProgressReport.item_id)))
    rows = session.exec(select(ProgressReport.item_id, ProgressReport.text, ProgressReport.at)
                        .where(col(ProgressReport.id).in_(newest))).all()
    return {item_id: (text, at) for item_id, text, at in rows}


def _frequency(code: str | None, locale: str) -> str:
    frequency = parse_frequency(code) if code else None
    return frequency.text(locale) if frequency else ""


def _local_day(at: datetime | None, tz: ZoneInfo) -> date | None:
    return at.astimezone(tz).date() if at else None
