"""The item lists' rows as people read them (page, CLI, API, export), without SQLAlchemy: the row,
its limits, and the CLI's list read through the DBAPI connection of a SQLite file (`sqlite_items`)
with the statements models.read.views builds, compiled into models/read/report_sql.py.

`duban items` on a SQLite file reads here so that it imports neither SQLAlchemy, SQLModel nor the
tables (docs/benchmarks.md); tests/cli/test_items_plain.py compares both readings.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from models.errors import InvalidInput
from models.read.counts import run_compiled
from models.read.day import Day
from models.states import Status

MAX_EXPORT_ROWS = 100_000
MARKS_CHUNK = 5000  # ids a query names at once (SQLite allows 32,766 parameters)


class ListedItem(NamedTuple):
    """The columns of an item that lists show (plain tuples: ORM objects cost more than the query)."""

    id: int
    number: str
    title: str
    status: Status
    deadline: date
    original_deadline: date
    escalation_level: int
    version: int


@dataclass(frozen=True)
class ItemRow:
    item: ListedItem
    document: str
    lead_unit: str
    due_state: str
    light: str
    unacknowledged: bool = False  # 未签收 (models.read.due.unacknowledged_condition)
    urged: int = 0  # 催办: how many times

    @property
    def ref(self) -> str:
        return f"{self.document}/{self.item.number}"

    def as_dict(self) -> dict[str, Any]:
        item = self.item
        return {
            "id": item.id, "ref": self.ref, "document": self.document, "number": item.number,
            "title": item.title, "lead_unit": self.lead_unit, "status": item.status,
            "due_state": self.due_state, "light": self.light, "deadline": item.deadline.isoformat(),
            "original_deadline": item.original_deadline.isoformat(),
            "escalation_level": item.escalation_level, "version": item.version,
            "unacknowledged": self.unacknowledged, "urged": self.urged,
        }


def too_long(limit: int) -> InvalidInput:
    """Refusing a whole list (export, CLI) of more than `limit` rows (MAX_EXPORT_ROWS) rather than
    cutting it short."""
    return InvalidInput(f"this list has more than {limit:,} items, more than one export or listing "
                        f"holds; narrow it with a filter", code="list.too_long", params={"limit": f"{limit:,}"})


def item_rows(found: list[Any], day: Day, unacknowledged: set[int], urged: dict[int, int]) -> list[ItemRow]:
    """Rows from the list's columns (ListedItem's, then the document's and the lead unit's names)."""
    out = []
    for row in found:
        item = ListedItem(*row[:-2])
        out.append(ItemRow(item, row[-2], row[-1], day.due_state(item.status, item.deadline),
                           day.light(item.status, item.deadline), item.id in unacknowledged, urged.get(item.id, 0)))
    return out


def sqlite_found(connection: sqlite3.Connection, *, archived: bool, limit: int) -> tuple[list[Any], set[int], dict[int, int]]:
    """`models.read.views.list_rows`'s queries for the CLI's unfiltered list (with --archived, --limit)
    on a SQLite database, through its DBAPI connection: the list's columns (deadlines as stored) of
    every row or the first `limit`, the ids of those 未签收 and the 催办 counts."""
    excluded = [] if archived else [document_id for (document_id,) in run_compiled(connection, "archived_documents", {})]
    suffix, params = ("_archived", {"archived": excluded}) if excluded else ("", {})
    if limit:
        found = run_compiled(connection, f"items_page{suffix}", {**params, "limit": limit, "offset": 0})
        unacknowledged, urged = set(), {}
        ids = [row[0] for row in found]
        for start in range(0, len(ids), MARKS_CHUNK):
            for item_id, count in run_compiled(connection, "items_marks_among", {"ids": ids[start:start + MARKS_CHUNK]}):
                if count:
                    urged[item_id] = count
                else:
                    unacknowledged.add(item_id)
    else:
        found = run_compiled(connection, f"items{suffix}", params)
        if len(found) > MAX_EXPORT_ROWS:
            raise too_long(MAX_EXPORT_ROWS)
        unacknowledged = {item_id for (item_id,) in run_compiled(connection, f"items_unacknowledged{suffix}", params)}
        urged = dict(run_compiled(connection, f"items_urged{suffix}", params))
    return found, unacknowledged, urged


def sqlite_items(connection: sqlite3.Connection, now: datetime, tz: ZoneInfo, *, archived: bool,
                 limit: int) -> list[ItemRow]:
    """`models.read.views.list_rows` for the CLI's unfiltered list (`sqlite_found`): every row, or the
    first `limit`."""
    day = Day.at(now, tz)
    found, unacknowledged, urged = sqlite_found(connection, archived=archived, limit=limit)
    return item_rows([(*row[:4], date.fromisoformat(row[4]), date.fromisoformat(row[5]), *row[6:]) for row in found],
                     day, unacknowledged, urged)


def sqlite_items_json(connection: sqlite3.Connection, now: datetime, tz: ZoneInfo, *, archived: bool,
                      limit: int) -> str:
    """`sqlite_items`' rows as `duban items --json` prints them: the characters of
    `json.dumps([row.as_dict() for row in rows], ensure_ascii=False, indent=2, default=str)`
    (cli.common.json_text), written from the rows' columns without making the rows.

    ItemRow, as_dict and the encoder's walk of 10k dicts cost 0.2 s of `duban items --json`'s
    start (docs/benchmarks.md); tests/cli/test_items_plain.py compares both.
    """
    day = Day.at(now, tz)
    found, unacknowledged, urged = sqlite_found(connection, archived=archived, limit=limit)
    if not found:
        return "[]"
    text, number = _json_text, _json_number
    states: dict[tuple[Any, Any], str] = {}  # (status, deadline as stored): from "status" to "deadline"
    days: dict[Any, str] = {}  # an original deadline as stored: as printed
    names: dict[Any, str] = {}  # a document's or unit's name: as printed
    rows = []
    for item_id, item_number, title, status, deadline, original, level, version, document, lead_unit in found:
        state = states.get((status, deadline))
        if state is None:
            due = date.fromisoformat(deadline)
            state = states[status, deadline] = (
                f'{text(status)},\n    "due_state": {text(day.due_state(status, due))},\n    '
                f'"light": {text(day.light(status, due))},\n    "deadline": {text(due.isoformat())}')
        original_text = days.get(original)
        if original_text is None:
            original_text = days[original] = text(date.fromisoformat(original).isoformat())
        document_text = names.get(document) or names.setdefault(document, text(document))
        unit_text = names.get(lead_unit) or names.setdefault(lead_unit, text(lead_unit))
        rows.append(
            f'{{\n    "id": {number(item_id)},\n    "ref": {text(f"{document}/{item_number}")},\n    '
            f'"document": {document_text},\n    "number": {text(item_number)},\n    "title": {text(title)},\n    '
            f'"lead_unit": {unit_text},\n    "status": {state},\n    "original_deadline": {original_text},\n    '
            f'"escalation_level": {number(level)},\n    "version": {number(version)},\n    '
            f'"unacknowledged": {"true" if item_id in unacknowledged else "false"},\n    '
            f'"urged": {number(urged.get(item_id, 0))}\n  }}')
    return "[\n  " + ",\n  ".join(rows) + "\n]"


_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # one value as json_text writes it
_encode_str = json.encoder.encode_basestring  # a str, as that encoder writes it (in C)


def _json_text(value: Any) -> str:
    return _encode_str(value) if type(value) is str else _encode(value)


def _json_number(value: Any) -> str:
    return int.__repr__(value) if type(value) is int else _encode(value)
