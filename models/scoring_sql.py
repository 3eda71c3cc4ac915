"""考核 scoring read in SQL: the database orders each item's events and keeps only what can score.

`models.scoring.load_rows` + `score` read every item and every scored event and replay them all in
Python; for a year over 100,000 items that is 250,000 events walked one by one. Here one query
does the walking the database is good at, with window functions over each item's events in time
order (`at`, `id`, as the replay):

- what the item's status was before each event (LAG of `to_status`), since when (LAG of `at`),
  and whether the event is its last;
- which items are *plain*: their first event is their creation and no event moves the deadline or
  the lead unit (`updated`, `edited`, `extension_approved`) or leaves the status unsaid. A plain item's
  deadline and lead unit never change, so only a few of its events matter: the end of a stretch
  the unit worked on it (it may have been overdue), an event that makes a line, and the last event
  when the item is still worked on. The query returns only those, with the item's deadline from
  its creation event.
- every other item's events come back whole and go through the same replay as before.

Python then turns each returned row into lines with the replay's own arithmetic (`Replay._overdue`,
`Replay._event_lines`), so every line (item, event, rule) is the one the full replay writes: a
test compares both on random ledgers (tests/scoring/test_sql.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    String,
    Table,
    case,
    or_,
    select,
    type_coerce,
)
from sqlmodel import Session

from config.calendar import WorkCalendar
from config.scoring import ScoringModel
from models.scoring_replay import (
    ACTIVE,
    CHANGE_KINDS,
    CREATED_KINDS,
    LINE_KINDS,
    PLAIN_KINDS,
    SCORED_KINDS,
    UPDATE_KINDS,
    EventRow,
    ItemRow,
    Replay,
    Workdays,
    iso_date,
)
from models.tables import Document, Item, ItemEvent, Unit

ITEM: Table = Item.__table__  # type: ignore[attr-defined]
_KIND, _TO_STATUS = itemgetter(2), itemgetter(5)  # of an events row, as read below
EVENT: Table = ItemEvent.__table__  # type: ignore[attr-defined]


def replay_in_sql(
    session: Session, model: ScoringModel, calendar: WorkCalendar, tz: ZoneInfo, start: date, end: date,
    opens: datetime, cutoff: datetime, explain: bool = True,
) -> tuple[Replay, dict[int, str]]:
    """The replay of every item created before `cutoff` over start..end, as `scoring_replay.replayed`
    gives it (without `explain`: its totals by unit and rule, no lines), and the units by id."""
    units = {uid: name for uid, name in session.execute(select(Unit.id, Unit.name))}  # type: ignore[call-overload]
    documents = {did: name for did, name in session.execute(select(Document.id, Document.short_name))}  # type: ignore[call-overload]
    items: dict[int, ItemRow] = {}
    earliest = start
    then = lead_units_then(session, cutoff, {name: uid for uid, name in units.items()})
    # Dates and instants as stored (SQLite: text), converted below: far cheaper than a result
    # processor called for each value.
    for iid, did, number_, category, lead, original, status, created in _tuples(session, select(
        ITEM.c.id, ITEM.c.document_id, ITEM.c.number, ITEM.c.category, ITEM.c.lead_unit_id,
        type_coerce(ITEM.c.original_deadline, String), ITEM.c.status, type_coerce(ITEM.c.created_at, String),
    ).where(ITEM.c.created_at < cutoff)):
        deadline = date.fromisoformat(original) if isinstance(original, str) else original
        items[iid] = ItemRow(iid, f"{documents[did]}/{number_}", documents[did], category, then.get(iid, lead), deadline, status,
                             _instant(created))
        earliest = min(earliest, deadline)
    replay = Replay(model, Workdays(calendar, earliest - timedelta(days=1), end), tz, opens, cutoff, start,
                    {name: uid for uid, name in units.items()}, explain)
    weights: dict[tuple[str, str], Decimal] = {}

    def weight(item: ItemRow) -> Decimal:
        key = (item.document, item.category)
        if key not in weights:
            weights[key] = model.weight(*key)
        return weights[key]

    # As `load_rows` reads them: a creation event's deadline alone, the plain kinds without payload.
    # In order from `ix_item_event_item_at` (migration 0016): `kind || ''` keeps SQLite from choosing
    # the kind index instead and sorting every row in a temporary B-tree.
    created = EVENT.c.kind.in_(CREATED_KINDS)
    rows = _tuples(session, select(
        EVENT.c.item_id, EVENT.c.id, EVENT.c.kind, type_coerce(EVENT.c.at, String), EVENT.c.from_status,
        EVENT.c.to_status, case((created, EVENT.c.payload["deadline"].as_string())),
        type_coerce(case((or_(created, EVENT.c.kind.in_(PLAIN_KINDS)), None), else_=EVENT.c.payload), String),
    ).where(EVENT.c.at < cutoff, (EVENT.c.kind + "").in_(SCORED_KINDS)).order_by(EVENT.c.item_id, EVENT.c.at, EVENT.c.id))
    for iid, events in groupby(rows, key=itemgetter(0)):
        item = items.pop(iid, None)
        if item is None:  # created after the cutoff
            continue
        history = list(events)
        if (history[0][2] in CREATED_KINDS and CHANGE_KINDS.isdisjoint(map(_KIND, history))
                and None not in map(_TO_STATUS, history)):
            _plain(replay, item, weight(item), history)
        else:
            replay.item(item, [EventRow(eid, iid, kind, _instant(at), old, new, {"deadline": deadline} if deadline
                                        else _payload(payload)) for _, eid, kind, at, old, new, deadline, payload in history])
    for item in items.values():  # no scored event at all (made by hand): the replay of an empty history
        replay.item(item, [])
    return replay, units


def _tuples(session: Session, statement: Select[Any]) -> Sequence[Any]:
    """The driver's own rows. Every column here is read as stored (text, numbers, JSON text), so
    SQLAlchemy's rows would only wrap them: a quarter of a second for a year over 100,000 items."""
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()


def lead_units_then(session: Session, cutoff: datetime, unit_ids: dict[str, int]) -> dict[int, int]:
    """The lead unit at `cutoff` of each item whose lead unit changed since (the item's row holds
    today's): the `old` of its first change of lead unit at or after `cutoff`. So a period scored
    again after an item moved to another unit still gives that item's lines to the unit it had then."""
    found: dict[int, int] = {}
    for iid, payload in session.execute(select(EVENT.c.item_id, EVENT.c.payload).where(
            EVENT.c.at >= cutoff, EVENT.c.kind.in_(UPDATE_KINDS)).order_by(EVENT.c.item_id, EVENT.c.at, EVENT.c.id)):
        change = payload.get("lead_unit") if isinstance(payload, dict) else None
        if iid not in found and isinstance(change, dict) and change.get("old") in unit_ids:
            found[iid] = unit_ids[change["old"]]
    return found


def _instant(value: str | datetime) -> datetime:
    """A stored instant (naive UTC: text on SQLite, a datetime on PostgreSQL), aware."""
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")  # ten times faster than .replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC)


def _payload(value: str | dict[str, Any] | None) -> dict[str, Any]:
    """A stored payload: JSON text on SQLite, already decoded by psycopg on PostgreSQL."""
    return (json.loads(value) if isinstance(value, str) else value) or {}


def _plain(replay: Replay, item: ItemRow, weight: Decimal, history: list[Any]) -> None:
    """`Replay.item` for a plain item: first its creation, then no change of deadline or lead unit and
    every status said. Its deadline and lead unit are then fixed, so each event ends a stretch (overdue
    while worked on) and may make a line; the last, when still worked on, runs to the cutoff."""
    _, first_id, _, first_at, _, status, deadline_text, _ = history[0]
    found = iso_date(deadline_text)
    deadline, deadline_event = (found, first_id) if found else (item.original_deadline, None)
    since, unit, opens = _instant(first_at), item.lead_unit_id, replay.opens
    counts_from = replay.counts_from(deadline)  # what `overdue` checks first, checked here without the call
    for iid, eid, kind, text, old, new, _, payload in history[1:]:
        at = _instant(text)
        if status in ACTIVE and at > counts_from:
            replay.overdue(item, weight, since, at, deadline, deadline_event, unit)
        if kind in LINE_KINDS and at >= opens:
            replay.event_lines(item, weight, EventRow(eid, iid, kind, at, old, new, _payload(payload)), deadline, unit)
        status, since = new, at
    if status in ACTIVE:
        replay.overdue(item, weight, since, replay.cutoff, deadline, deadline_event, unit)
