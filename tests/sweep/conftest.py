"""Fixtures for the sweep: the built-in policy and calendar, and a helper that sweeps and commits."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from config.calendar import WorkCalendar, load_calendar
from config.policy import DEFAULT_POLICY_FILE, Policy, load_policy
from models.db import make_engine
from models.schedule import Threshold
from models.sweep import SweepResult, sweep
from models.tables import Item, ItemEvent, Notification
from tests.conftest import TZ

BUILTIN_CALENDAR = Path(__file__).parents[2] / "config" / "calendar.yaml"


@pytest.fixture
def policy() -> Policy:
    base = load_policy(DEFAULT_POLICY_FILE)
    return Policy(
        default=base.default, leadership_emails=["mayor@example.gov.cn"], source=base.source
    )


@pytest.fixture
def calendar() -> WorkCalendar:
    return load_calendar(BUILTIN_CALENDAR)


def run_sweep(session: Session, now: datetime, policy: Policy, calendar: WorkCalendar) -> SweepResult:
    result = sweep(session, now=now, policy=policy, calendar=calendar, tz=TZ, after_batch=session.commit)
    session.commit()
    return result


def sweeps_at_once(db_url: str, count: int = 2, **kwargs: Any) -> list[SweepResult]:
    """`count` sweeps started together, each in its own engine and session, committing each batch."""
    barrier = threading.Barrier(count)
    results: list[SweepResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        engine = make_engine(db_url)
        try:
            with Session(engine) as own:
                barrier.wait()
                results.append(sweep(own, tz=TZ, after_batch=own.commit, **kwargs))
                own.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def ledger_state(session: Session) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Everything the sweep may write, to compare before and after."""
    items = [(i.id, i.next_action_at, i.escalation_level, i.version) for i in session.exec(select(Item).order_by(Item.id))]
    events = [(e.item_id, e.kind, e.payload.get("threshold")) for e in session.exec(select(ItemEvent).order_by(ItemEvent.id))]
    notes = [(n.key, tuple(n.to_addrs), tuple(n.cc_addrs)) for n in session.exec(select(Notification).order_by(Notification.id))]
    return items, events, notes


def expected_events(schedule: Iterable[Threshold], started: datetime, sweeps: list[datetime]) -> set[str]:
    """The threshold keys that sweeps at `sweeps` record for a schedule started at `started`.

    Each sweep records every threshold in its window (from `started` for the first, else after the
    previous sweep), except that of several repeat reminders in one window only the latest counts.
    """
    expected: set[str] = set()
    if not sweeps:
        return expected
    windows = list(zip([None, *sweeps], sweeps, strict=False))
    repeats: dict[int, str] = {}
    for threshold in schedule:
        if threshold.at > sweeps[-1]:
            break
        if threshold.at < started:
            continue
        window = next(i for i, (after, until) in enumerate(windows)
                      if (after is None or threshold.at > after) and threshold.at <= until)
        if threshold.kind == "repeat_reminder":
            repeats[window] = threshold.key  # in time order: the last one in the window stays
        else:
            expected.add(threshold.key)
    return expected | set(repeats.values())
