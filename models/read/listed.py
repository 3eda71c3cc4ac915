"""The item lists' rows as people read them (page, CLI, API, export), without SQLAlchemy: the row,
its limits, and the CLI's list read through the DBAPI connection of a SQLite file (`sqlite_items`)
with the statements models.read.views builds, compiled into models/read/report_sql.py.

`duban items` on a SQLite file reads here so that it imports neither SQLAlchemy, SQLModel nor the
tables (docs/benchmarks.md); tests/cli/test_items_plain.py compares both readings.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterable, Iterator
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
                      limit: int) -> Iterator[str]:
    """`sqlite_items`' rows as `duban items --json` prints them, in pieces of a thousand rows (the
    whole text at once doubled the command's memory): the characters of `json.dumps([row.as_dict() for
    row in rows], ensure_ascii=False, indent=2, default=str)` (cli.common.json_text), written from the
    rows' columns without making the rows. The queries run before the first piece.

    ItemRow, as_dict and the encoder's walk of 10k dicts cost 0.2 s of `duban items --json`'s
    start (docs/benchmarks.md); tests/cli/test_items_plain.py compares both.
    """
    day = Day.at(now, tz)
    found, unacknowledged, urged = sqlite_found(connection, archived=archived, limit=limit)
    if not found:
        yield "[]"
        return
    ids, numbers, titles, statuses, deadlines, originals, levels, versions, documents, units = zip(*found, strict=True)
    del found  # 10k tuples the rows' strings can take the place of
    states = {}  # (status, deadline as stored): the row's text from "status" to "deadline"
    for status, deadline in set(zip(statuses, deadlines, strict=True)):
        due = date.fromisoformat(deadline)
        states[status, deadline] = (
            f'{_json_text(status)},\n    "due_state": {_json_text(day.due_state(status, due))},\n    '
            f'"light": {_json_text(day.light(status, due))},\n    "deadline": {_json_text(due.isoformat())}')
    days = {stored: _json_text(date.fromisoformat(stored).isoformat()) for stored in set(originals)}
    names = {name: _json_text(name) for name in {*documents, *units}}
    marks = {True: "true", False: "false"}
    # Column by column in C (map), each row one %-format: half the time of a loop over the rows.
    columns = (_numbers(ids), _texts(map("{}/{}".format, documents, numbers)), map(names.__getitem__, documents),
               _texts(numbers), _texts(titles), map(names.__getitem__, units),
               map(states.__getitem__, zip(statuses, deadlines, strict=True)), map(days.__getitem__, originals),
               _numbers(levels), _numbers(versions), map(marks.__getitem__, map(unacknowledged.__contains__, ids)),
               _numbers(map(urged.get, ids, itertools.repeat(0))))
    rows = map(_ROW.__mod__, zip(*columns, strict=True))
    before = "[\n  "
    while piece := list(itertools.islice(rows, 1000)):
        yield before + ",\n  ".join(piece)
        before = ",\n  "
    yield "\n]"


# One row of `duban items --json` (ItemRow.as_dict's keys in order, json_text's layout).
_ROW = ('{\n    "id": %s,\n    "ref": %s,\n    "document": %s,\n    "number": %s,\n    "title": %s,\n    '
        '"lead_unit": %s,\n    "status": %s,\n    "original_deadline": %s,\n    "escalation_level": %s,\n    '
        '"version": %s,\n    "unacknowledged": %s,\n    "urged": %s\n  }')


def _texts(values: Iterable[Any]) -> list[str]:
    """Each value as json_text writes it, strings (all, as a rule) in C."""
    values = list(values)
    return list(map(_encode_str if set(map(type, values)) <= {str} else _json_text, values))


def _numbers(values: Iterable[Any]) -> list[str]:
    """Each value as json_text writes it, whole numbers (all, as a rule) in C."""
    values = list(values)
    return list(map(int.__repr__ if set(map(type, values)) <= {int} else _json_number, values))


_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # one value as json_text writes it
_encode_str = json.encoder.encode_basestring  # a str, as that encoder writes it (in C)


def _json_text(value: Any) -> str:
    return _encode_str(value) if type(value) is str else _encode(value)


def _json_number(value: Any) -> str:
    return int.__repr__(value) if type(value) is int else _encode(value)
