"""Fixtures for the sweep: the built-in policy and calendar, and a helper that sweeps and commits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from config.calendar import WorkCalendar, load_calendar
from config.policy import DEFAULT_POLICY_FILE, Policy, load_policy
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


def ledger_state(session: Session) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Everything the sweep may write, to compare before and after."""
    items = [(i.id, i.next_action_at, i.escalation_level, i.version) for i in session.exec(select(Item).order_by(Item.id))]
    events = [(e.item_id, e.kind, e.payload.get("threshold")) for e in session.exec(select(ItemEvent).order_by(ItemEvent.id))]
    notes = [(n.key, tuple(n.to_addrs), tuple(n.cc_addrs)) for n in session.exec(select(Notification).order_by(Notification.id))]
    return items, events, notes
