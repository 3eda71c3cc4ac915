"""Property test on a real database: random deadlines, sweep times and deadline changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from config.calendar import WorkCalendar
from models.db import make_engine
from models.lifecycle import change_deadline
from models.schedule import thresholds
from models.sweep import sweep
from models.tables import Item, ItemEvent, Notification, Status
from tests.conftest import TZ
from tests.factories import make_item
from tests.sweep.conftest import expected_events


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deadline=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    steps=st.lists(st.tuples(st.integers(1, 10 * 24), st.one_of(st.none(), st.integers(1, 30))), min_size=1, max_size=12),
)
def test_every_crossed_threshold_has_one_event_and_at_most_one_notification(sqlite_url, policy, deadline, steps):
    engine = make_engine(sqlite_url)
    calendar = WorkCalendar()
    try:
        with Session(engine) as session:
            for old in session.exec(select(Item).where(Item.status != Status.CANCELLED)):
                old.status, old.next_action_at = Status.CANCELLED, None  # earlier examples' items
            t = datetime.combine(deadline, datetime.min.time(), tzinfo=UTC) - timedelta(days=20)
            item = make_item(session, deadline=deadline, next_action_at=t, created_at=t, updated_at=t)
            versions = {1: (deadline, t)}
            sweeps: dict[int, list[datetime]] = {}
            session.commit()
            for hours, extension in steps:
                t += timedelta(hours=hours)
                if extension is not None:
                    change_deadline(item, item.deadline + timedelta(days=extension), now=t)
                    versions[item.deadline_version] = (item.deadline, t)
                else:
                    sweep(session, now=t, policy=policy, calendar=calendar, tz=TZ)
                    sweeps.setdefault(item.deadline_version, []).append(t)
                session.commit()
                session.refresh(item)
            events = Counter(
                (e.payload["deadline_version"], e.payload["threshold"])
                for e in session.exec(select(ItemEvent).where(ItemEvent.item_id == item.id))
            )
            notes = list(session.exec(select(Notification).where(Notification.item_id == item.id)))
    finally:
        engine.dispose()
    assert not events or max(events.values()) == 1
    assert len({(n.deadline_version, n.payload["threshold"]) for n in notes}) == len(notes)
    assert {(n.deadline_version, n.payload["threshold"]) for n in notes} <= set(events)
    expected = {
        (version, key)
        for version, (v_deadline, changed_at) in versions.items()
        for key in expected_events(thresholds(v_deadline, policy.default, calendar, TZ), changed_at, sweeps.get(version, []))
    }
    assert set(events) == expected
