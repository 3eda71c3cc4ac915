"""`duban show`'s item without SQLAlchemy: on a SQLite file the CLI reads the item, its timeline,
签收 and evidence files through the DBAPI connection with the statements models.read.views builds
(compiled into models/read/report_sql.py), and gives the parts of `item_detail` that `show` prints.
tests/cli/test_show_plain.py compares the command's output with what it printed through the ORM.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from models.read.counts import run_compiled
from models.read.day import Day
from models.read.item_ref import no_document, no_item_numbered, no_item_with_id, parse_ref
from models.read.timeline import timeline_lines
from models.states import shown_name


class ShownEvent(NamedTuple):
    """An item_event row as the ORM gives it (models.read.timeline.Event)."""

    id: int
    kind: str
    at: datetime
    actor_id: int | None
    actor_label: str
    from_status: str | None
    to_status: str | None
    payload: dict[str, Any]


def instant(stored: str | None) -> datetime | None:
    """A stored instant (naive UTC text) as models.db.UTCDateTime hands it back: aware, in UTC."""
    return None if stored is None else datetime.fromisoformat(stored).replace(tzinfo=UTC)


def sqlite_item_detail(connection: sqlite3.Connection, ref: str, now: datetime, tz: ZoneInfo,
                       locale: str) -> dict[str, Any]:
    """What `duban show` prints of models.read.views.item_detail (by models.queries.find_item's `ref`)."""
    ref = ref.strip()
    item_id, document_name, number = parse_ref(ref)
    if item_id is not None:
        found = run_compiled(connection, "item_by_id", {"item_id": item_id})
        if not found:
            raise no_item_with_id(ref)
    else:
        document = run_compiled(connection, "document_by_name", {"document": document_name})
        if not document:
            raise no_document(document_name, ref)
        found = run_compiled(connection, "item_by_number", {"document_id": document[0][0], "number": number})
        if not found:
            raise no_item_numbered(document_name, number)
    (item_id, document_id, number, title, category, status, deadline, original_deadline, level, version,
     next_action_at) = found[0]
    ids = {"item_id": item_id}
    facts: list[Any] = run_compiled(connection, "item_facts", ids) or [(None,) * 5]
    document, _, lead_unit, supervisor, supervisor_email = facts[0]
    co_units = [name for _, name in run_compiled(connection, "item_co_units", ids)]
    events = [ShownEvent(row[0], row[1], instant(row[2]), row[3], row[4], row[5], row[6], json.loads(row[7]))
              for row in reversed(run_compiled(connection, "item_events", ids))]
    acknowledged = {unit_id: (person_id, at) for unit_id, person_id, at in
                    run_compiled(connection, "item_acknowledgements", ids)}
    unit_names = dict(run_compiled(connection, "unit_names_among", {"ids": list(acknowledged)})) if acknowledged else {}
    deadline = date.fromisoformat(deadline)
    return {
        "id": item_id, "ref": f"{document_id if document is None else document}/{number}",
        "document": document or "", "number": number, "title": title, "category": category,
        "lead_unit": lead_unit or "", "co_units": co_units,
        "supervisor": None if supervisor is None or supervisor_email is None else shown_name(supervisor, supervisor_email),
        "supervisor_email": supervisor_email,
        "original_deadline": date.fromisoformat(original_deadline), "deadline": deadline, "status": status,
        "due_state": Day.at(now, tz).due_state(status, deadline), "escalation_level": level, "version": version,
        "next_action_at": instant(next_action_at),
        "timeline": [{"id": e.id, "kind": e.kind, "at": e.at, "actor": e.actor_label, "from": e.from_status,
                      "to": e.to_status, "payload": e.payload, "line": line}
                     for e, line in zip(events, timeline_lines(events, locale, tz), strict=True)],
        "attachments": [{"id": a_id, "name": name, "size": size, "sha256": sha256, "content_type": content_type,
                         "event_id": event_id, "at": instant(at)}
                        for a_id, name, size, sha256, content_type, event_id, at in
                        run_compiled(connection, "item_attachments", ids)],
        "acknowledgements": [{"unit": unit_names.get(unit_id, ""), "at": instant(at), "by_import": person_id is None}
                             for unit_id, (person_id, at) in acknowledged.items()],
        "urged": sum(1 for e in events if e.kind == "urged"),
    }
