"""models/bulk.py: a statement run for many rows through the DBAPI stores what SQLAlchemy's own
executemany stores (the same SQL, each value through its column's bind processor), and counts the
rows it changed as compare-and-set needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from models.bulk import Many
from models.sweep import CLAIM, ITEM
from models.sweep_tables import (
    EVENT,
    EVENT_KEYS,
    INSERT_EVENTS,
    NOTIFICATION,
    NOTIFICATION_KEYS,
    insert_notifications,
)
from models.tables import Item
from tests.factories import make_item

NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
EAST8 = timezone(timedelta(hours=8))


def _stored(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]


def _events(item_ids: list[int]) -> list[dict[str, Any]]:
    at_east8 = NOW.astimezone(EAST8)  # the same instant in another zone: stored as the same UTC time
    return [
        {"item_id": item_ids[n % len(item_ids)], "kind": kind, "at": at, "actor_id": None,
         "actor_label": "duban sweep", "from_status": status, "to_status": status, "payload": payload}
        for n, (kind, at, status, payload) in enumerate([
            ("reminder", NOW, "assigned", {"threshold": "before-3", "days_left": 3, "title": "推动“落地”见效"}),
            ("overdue", NOW, "assigned", {"caught_up": [], "ok": True, "none": None, "x": 1.5}),
            ("escalated", at_east8, None, {}),
            ("reminder", NOW + timedelta(microseconds=7), "in_progress", {"nested": {"a": [1, "二", None]}}),
        ])
    ]


def _notifications(item_ids: list[int], keys: list[str]) -> list[dict[str, Any]]:
    return [
        {"key": key, "item_id": item_ids[n % len(item_ids)], "kind": "reminder", "deadline_version": 1 + n,
         "to_addrs": [f"u{n}@example.gov.cn"], "cc_addrs": [] if n % 2 else ["领导@example.gov.cn"],
         "created_at": NOW, "outbox_id": None, "unreached": bool(n % 3 == 2),
         "payload": {"threshold": "before-3", "document": "新时代意见", "n": n}}
        for n, key in enumerate(keys)
    ]


def test_inserts_store_what_sqlalchemy_stores(engine: Engine, session: Any) -> None:
    ids = [make_item(session).id for _ in range(3)]
    session.commit()
    ids = [i for i in ids if i is not None]
    # SQLAlchemy's executemany first, then the same rows again through Many: the stored rows alike
    with engine.begin() as conn:
        conn.execute(insert(EVENT), _events(ids))
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(NOTIFICATION).on_conflict_do_nothing(index_elements=["key"]),
                     _notifications(ids, ["a", "b", "c"]))
    with engine.begin() as conn:
        assert INSERT_EVENTS.run_dicts(conn, _events(ids)) == 4
        # a key queued already is skipped, and not counted
        assert insert_notifications(conn.dialect.name).run_dicts(
            conn, _notifications(ids, ["a2", "b2", "c2"]) + _notifications(ids, ["a"])) == 3
    events = _stored(engine, "item_event")
    assert len(events) == 8
    assert [e[1:] for e in events[:4]] == [e[1:] for e in events[4:]]  # all but the id
    notifications = _stored(engine, "notification")
    assert len(notifications) == 6
    key = [c.name for c in NOTIFICATION.columns].index("key")
    for old, new in zip(notifications[:3], notifications[3:], strict=True):
        assert new[key] == old[key] + "2"
        assert new[:key] + new[key + 1:] == (new[0], *old[1:key], *old[key + 1:])


def test_claim_counts_only_rows_whose_values_were_as_read(engine: Engine, session: Any) -> None:
    items = [make_item(session, next_action_at=NOW - timedelta(days=1)) for _ in range(3)]
    session.commit()
    seen = NOW - timedelta(days=1)
    rows = [(item.id, seen.astimezone(EAST8), item.deadline_version, item.status, NOW, 2) for item in items]
    rows[1] = (items[1].id, seen + timedelta(seconds=1), *rows[1][2:])  # read at another value: no match
    with engine.begin() as conn:
        assert CLAIM.run(conn, rows) == 2
        assert CLAIM.run(conn, rows) == 0  # compare-and-set: the second time nothing matches
        assert CLAIM.run(conn, []) == 0
    session.expire_all()
    stored = {item.id: (item.next_action_at, item.escalation_level) for item in session.query(Item)}
    assert stored[items[0].id] == stored[items[2].id] == (NOW, 2)
    assert stored[items[1].id] == (seen, 0)


def test_refuses_a_statement_whose_defaults_it_would_not_fill(engine: Engine) -> None:
    # notification.deadline_version and .unreached have Python-side defaults an INSERT without them needs
    with engine.begin() as conn, pytest.raises(ValueError, match="defaults"):
        Many(insert(NOTIFICATION), ("key", "item_id", "kind", "to_addrs", "cc_addrs", "created_at", "outbox_id",
                                    "payload")).run(conn, [])
    with engine.begin() as conn, pytest.raises(ValueError, match="parameters"):
        Many(update(ITEM).where(ITEM.c.id == bindparam("b_id")).values(escalation_level=bindparam("b_level")),
             ("b_id",)).run(conn, [])
    assert set(EVENT_KEYS) | {"id"} == {c.name for c in EVENT.columns}
    assert set(NOTIFICATION_KEYS) | {"id"} == {c.name for c in NOTIFICATION.columns}


def test_one_object_in_several_rows_stores_each_rows_value(engine: Engine, session: Any) -> None:
    # People shares an address list between notifications, not only row after row: converted once,
    # stored in every row as SQLAlchemy stores equal copies
    ids = [i for i in (make_item(session).id for _ in range(2)) if i is not None]
    session.commit()
    shared, other = ["unit@example.gov.cn"], ["leader@example.gov.cn", "二@example.gov.cn"]
    rows = _notifications(ids, ["a", "b", "c", "d", "e"])
    for n, row in enumerate(rows):
        row["to_addrs"], row["cc_addrs"] = (shared, other) if n % 2 else (other, shared)
    with engine.begin() as conn:
        conn.execute(insert(NOTIFICATION), [{**row, "to_addrs": list(row["to_addrs"]),
                                              "cc_addrs": list(row["cc_addrs"])} for row in rows])
        assert insert_notifications(conn.dialect.name).run_dicts(
            conn, [{**row, "key": row["key"] + "2"} for row in rows]) == 5
    notifications = _stored(engine, "notification")
    key = [c.name for c in NOTIFICATION.columns].index("key")
    for old, new in zip(notifications[:5], notifications[5:], strict=True):
        assert new[:key] + new[key + 1:] == (new[0], *old[1:key], *old[key + 1:])
    to = [c.name for c in NOTIFICATION.columns].index("to_addrs")
    assert len({str(row[to]) for row in notifications}) == 2  # the two lists, in turn


def test_equal_instants_and_empty_lists_store_each_rows_value(engine: Engine, session: Any) -> None:
    # Many converts a UTCDateTime column's equal instants once and every empty list once: stored as
    # SQLAlchemy stores each row's own value, also for the wall time a DST zone repeats (equal in
    # Python whatever the fold, yet two instants an hour apart)
    new_york = ZoneInfo("America/New_York")
    repeated = datetime(2024, 11, 3, 1, 30, tzinfo=new_york)
    instants = [NOW, NOW.astimezone(EAST8), NOW + timedelta(0), repeated, repeated.replace(fold=1),
                datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=new_york), repeated.astimezone(UTC)]
    assert repeated == repeated.replace(fold=1)
    assert repeated.astimezone(UTC) != repeated.replace(fold=1).astimezone(UTC)
    ids = [i for i in (make_item(session).id for _ in range(2)) if i is not None]
    session.commit()
    rows = [{**row, "created_at": instants[n % len(instants)], "cc_addrs": [], "to_addrs": [] if n % 2 else ["a@b.cn"]}
            for n, row in enumerate(_notifications(ids, [f"k{n}" for n in range(2 * len(instants))]))]
    with engine.begin() as conn:
        conn.execute(insert(NOTIFICATION), rows)
        assert insert_notifications(conn.dialect.name).run_dicts(
            conn, [{**row, "key": row["key"] + "-again"} for row in rows]) == len(rows)
    notifications = _stored(engine, "notification")
    key = [c.name for c in NOTIFICATION.columns].index("key")
    for old, new in zip(notifications[:len(rows)], notifications[len(rows):], strict=True):
        assert new[key] == old[key] + "-again"
        assert new[:key] + new[key + 1:] == (new[0], *old[1:key], *old[key + 1:])
    created = [c.name for c in NOTIFICATION.columns].index("created_at")
    stored = [row[created] for row in notifications[len(rows):]]
    assert stored[3] != stored[4]  # the repeated wall time: two instants, as SQLAlchemy stores them
    assert stored[4] == stored[5] and stored[0] == stored[1] == stored[2]
