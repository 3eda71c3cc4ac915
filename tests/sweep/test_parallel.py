"""Parallel sweeps create no duplicates; compare-and-set leaves rows changed by others alone."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from models.db import make_engine
from models.schedule import plan
from models.sweep import ITEM, DueRow, _claim, due_query
from models.tables import Item, ItemEvent, Notification
from tests.conftest import TZ
from tests.factories import make_document, make_item, make_unit
from tests.sweep.conftest import sweeps_at_once

NOW = datetime(2024, 10, 21, 9, tzinfo=TZ).astimezone(UTC)


def seed(session: Session, count: int) -> None:
    lead, document = make_unit(session), make_document(session)
    for n in range(count):
        make_item(session, document=document, lead_unit=lead, deadline=date(2024, 9, 1) + timedelta(days=n % 60),
                  next_action_at=datetime(2024, 8, 1, tzinfo=UTC))
    session.commit()


def test_two_sweeps_at_once_create_no_duplicates(db_url, session, policy, calendar):
    seed(session, 240)
    results = sweeps_at_once(db_url, now=NOW, policy=policy, calendar=type(calendar)(), batch_size=16)
    events = Counter((e.item_id, e.payload["threshold"]) for e in session.exec(select(ItemEvent)))
    assert events and max(events.values()) == 1
    notes = list(session.exec(select(Notification)))
    assert len(notes) == sum(r.notifications for r in results)
    assert len({n.item_id for n in notes}) == 240
    # a catch-up tells each address once per item (models/notices.py, People.catch_up)
    told = Counter((n.item_id, addr) for n in notes for addr in n.to_addrs)
    assert max(told.values()) == 1
    assert sum(r.examined for r in results) >= 240


def test_claim_skips_a_row_someone_else_changed_after_it_was_read(sqlite_url, policy, calendar):
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        seed(session, 3)
        rows = [DueRow(**r._mapping) for r in session.execute(due_query(NOW, None, 10, postgres=False))]
        plans = {r.id: plan(r.deadline, policy.default, calendar, TZ, since=r.next_action_at, now=NOW) for r in rows}
        # another sweep (or a deadline change) got to the second row first
        session.execute(update(ITEM).where(ITEM.c.id == rows[1].id).values(next_action_at=NOW + timedelta(days=1)))
        won = _claim(session, rows, plans)
        session.commit()
        assert won == {rows[0].id, rows[2].id}
        assert session.get(Item, rows[1].id).next_action_at == NOW + timedelta(days=1)
    engine.dispose()
