"""考核 scoring read the fast way (models/scoring_sql.py) gives exactly the full replay's scores and lines."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlmodel import Session

from config.calendar import WorkCalendar
from config.scoring import load_scoring
from models.scoring import load_rows, period_bounds, score, scoreboard
from models.tables import Document, Item, ItemEvent, Unit
from tests.conftest import TZ

UNITS = ["市发改委", "市财政局", "市商务局", "市科技局", "市教育局"]
MODEL = """\
base: 100
deductions:
  overdue: {points: 2, cap: 12}
  returned: {points: 1}
  urged: {points: 1}
  late_acknowledge: {points: 0.5}
  late_report: {points: 1, cap: 3}
  missing_report: {points: 2}
additions:
  early_sign_off: {points: 1, cap: 4}
weights:
  documents: {建设方案: 1.5}
  categories: {重点任务: 2}
caps:
  deductions: 25
  additions: 6
"""
ACTIVE = ("assigned", "in_progress")


def random_ledger(session: Session, seed: int, items: int = 80) -> None:
    """Items and events of every kind scoring reads, in orders the lifecycle writes and some it does
    not (status unsaid, no creation event, creation twice, events after the cutoff, equal instants)."""
    rng = random.Random(seed)
    tables = {m: m.__table__ for m in (Unit, Document, Item, ItemEvent)}  # type: ignore[attr-defined]
    session.execute(insert(tables[Unit]), [{"id": n + 1, "name": name, "code": f"U{n}", "parent_id": None,
                                            "contact_emails": [], "leader_emails": []} for n, name in enumerate(UNITS)])
    session.execute(insert(tables[Document]), [{"id": 1, "short_name": "新时代意见", "title": "", "issuer": "",
                                                "issue_date": None},
                                               {"id": 2, "short_name": "建设方案", "title": "", "issuer": "",
                                                "issue_date": None}])
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def event(item: int, kind: str, at: datetime, old: str | None, new: str | None, **payload: Any) -> None:
        events.append({"id": len(events) + 1, "item_id": item, "kind": kind, "at": at, "actor_id": None,
                       "actor_label": "test", "from_status": old, "to_status": new, "payload": payload})

    for i in range(1, items + 1):
        created = datetime(2024, 1, 2, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 150), hours=rng.choice([0, 7, 16]))
        deadline = created.date() + timedelta(days=rng.randint(-5, 90))
        unit = rng.randint(1, len(UNITS))
        rows.append({"id": i, "document_id": rng.randint(1, 2), "number": str(i), "title": "事项",
                     "category": rng.choice(["", "", "重点任务"]), "lead_unit_id": unit, "supervisor_id": None,
                     "original_deadline": deadline, "deadline": deadline, "notes": "", "status": "assigned",
                     "deadline_version": 1, "escalation_level": 0, "next_action_at": None, "version": 1,
                     "created_at": created, "updated_at": created})
        if rng.random() < 0.06:
            continue  # made by hand: no event at all
        at, status = created, "assigned"
        if rng.random() < 0.9:
            written = rng.choice([deadline.isoformat()] * 6 + [(deadline + timedelta(days=9)).isoformat(), "尽快", None])
            event(i, rng.choice(["imported", "created"]), at, None if rng.random() < 0.5 else "assigned",
                  None if rng.random() < 0.03 else "assigned", **({"deadline": written} if written else {}))
            if rng.random() < 0.03:
                event(i, "imported", at, "assigned", "assigned", deadline=deadline.isoformat())
        for _ in range(rng.randint(0, 7)):
            at += rng.choice([timedelta(0), timedelta(hours=5), timedelta(days=rng.randint(1, 40))])
            kind = rng.choice(["submitted", "returned", "signed_off", "cancelled", "urged", "acknowledged",
                               "period_late", "period_missed", "extension_approved", "updated", "edited", "submitted"])
            new: str | None = status
            payload: dict[str, Any] = {}
            if kind == "submitted" and status in ACTIVE:
                new = "submitted"
            elif kind == "returned" and status == "submitted":
                new, payload = "in_progress", ({"unit_id": rng.randint(1, len(UNITS))} if rng.random() < 0.3 else {})
            elif kind == "signed_off" and status == "submitted":
                new = "signed_off"
            elif kind == "cancelled" and status != "cancelled":
                new = "cancelled"
            elif kind in ("urged", "period_late", "period_missed"):
                payload = {"unit_id": rng.randint(1, len(UNITS))} if rng.random() < 0.4 else {}
                if kind != "urged" and rng.random() < 0.8:  # a few periods, so a late report meets its missed one
                    payload["period"] = rng.choice(["2024-01-01 – 2024-03-31", "2024-04-01 – 2024-06-30"])
            elif kind == "acknowledged":
                payload = {"late": rng.random() < 0.5}
            elif kind == "extension_approved" and status in ACTIVE:
                later = deadline + timedelta(days=rng.randint(5, 30))
                payload, deadline = {"old_deadline": deadline.isoformat(), "new_deadline": later.isoformat()}, later
            elif kind in ("updated", "edited"):
                if rng.random() < 0.5:
                    moved = rng.randint(1, len(UNITS))
                    payload = {"lead_unit": {"old": UNITS[unit - 1], "new": UNITS[moved - 1]}}
                    unit = moved
                else:
                    later = deadline + timedelta(days=rng.randint(-10, 30))
                    payload, deadline = {"deadline": {"old": deadline.isoformat(), "new": later.isoformat()}}, later
            else:
                continue
            event(i, kind, at, status, None if rng.random() < 0.02 else new, **payload)
            status = new or status
            if kind == "period_missed" and "period" in payload and rng.random() < 0.6:  # then reported late
                at += timedelta(days=rng.choice([0, 3, 30]))
                event(i, "period_late", at, status, status, period=payload["period"])
        rows[-1].update(status=status, lead_unit_id=unit, deadline=deadline)
    session.execute(insert(tables[Item]), rows)
    rng.shuffle(events)  # ids say nothing of the order: instants do (ties: ids)
    session.execute(insert(tables[ItemEvent]), events)
    session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fast_read_scores_a_random_ledger_exactly_as_the_full_replay(session, tmp_path: Path, seed: int):
    random_ledger(session, seed)
    path = tmp_path / "scoring.yaml"
    path.write_text(MODEL, encoding="utf-8")
    model, calendar = load_scoring(path), WorkCalendar()
    periods = [(date(2024, 1, 1), date(2024, 12, 31), datetime(2025, 1, 6, 1, tzinfo=UTC)),
               (date(2024, 3, 1), date(2024, 3, 31), datetime(2025, 1, 6, 1, tzinfo=UTC)),
               (date(2024, 4, 1), date(2024, 6, 30), datetime(2024, 5, 10, 3, 30, tzinfo=UTC))]
    lines = 0
    for start, end, as_of in periods:
        full = score(*load_rows(session, period_bounds(start, end, as_of, TZ)[1]), model, calendar, TZ, start, end,
                     as_of).as_dict()
        board = scoreboard(session, model, calendar, TZ, start, end, as_of)
        fast = board.as_dict()
        assert fast == full, (start, end)
        totals = scoreboard(session, model, calendar, TZ, start, end, as_of, explain=False)
        assert [(u.unit, u.rank, u.score, u.deducted, u.added, u.deductions, u.additions) for u in totals.units] == [
            (u.unit, u.rank, u.score, sum((x.points for x in u.deductions), Decimal(0)),
             sum((x.points for x in u.additions), Decimal(0)), [], []) for u in board.units], (start, end)
        lines += sum(len(u["deductions"]) + len(u["additions"]) for u in full["units"])
    assert lines > 100  # the ledger is not trivially empty


def test_a_period_scored_again_after_the_item_moved_to_another_unit_still_charges_the_unit_it_had(session):
    """The item's row holds today's lead unit; the change after the period says which unit it had then."""
    session.execute(insert(Unit.__table__), [{  # type: ignore[attr-defined]
        "id": n + 1, "name": name, "code": f"U{n}", "parent_id": None, "contact_emails": [], "leader_emails": []}
        for n, name in enumerate(UNITS)])
    session.execute(insert(Document.__table__), [{  # type: ignore[attr-defined]
        "id": 1, "short_name": "新时代意见", "title": "", "issuer": "", "issue_date": None}])
    deadline, created = date(2024, 3, 1), datetime(2024, 2, 1, 1, tzinfo=UTC)
    session.execute(insert(Item.__table__), [{  # type: ignore[attr-defined]
        "id": 1, "document_id": 1, "number": "1", "title": "事项", "category": "", "lead_unit_id": 1,
        "supervisor_id": None, "original_deadline": deadline, "deadline": deadline, "notes": "", "status": "assigned",
        "deadline_version": 1, "escalation_level": 0, "next_action_at": None, "version": 1, "created_at": created,
        "updated_at": created}])
    session.execute(insert(ItemEvent.__table__), [{  # type: ignore[attr-defined]
        "item_id": 1, "kind": "imported", "at": created, "actor_id": None, "actor_label": "test",
        "from_status": "assigned", "to_status": "assigned", "payload": {"deadline": deadline.isoformat()}}])
    session.commit()
    model, march = load_scoring(), (date(2024, 3, 1), date(2024, 3, 31))

    def scores(as_of: datetime) -> dict[str, Any]:
        fast = scoreboard(session, model, WorkCalendar(), TZ, *march, as_of).as_dict()
        full = score(*load_rows(session, period_bounds(*march, as_of, TZ)[1]), model, WorkCalendar(), TZ, *march,
                     as_of).as_dict()
        assert fast == full
        return {u["unit"]: u["score"] for u in fast["units"]}

    before = scores(datetime(2024, 4, 2, tzinfo=UTC))
    assert before[UNITS[0]] < 100 and before[UNITS[1]] == 100  # overdue in March: 市发改委's
    moved = datetime(2024, 4, 10, 2, tzinfo=UTC)
    session.execute(insert(ItemEvent.__table__), [{  # type: ignore[attr-defined]
        "item_id": 1, "kind": "edited", "at": moved, "actor_id": None, "actor_label": "test", "from_status": "assigned",
        "to_status": "assigned", "payload": {"lead_unit": {"old": UNITS[0], "new": UNITS[1]}}}])
    session.execute(Item.__table__.update().values(lead_unit_id=2))  # type: ignore[attr-defined]
    session.commit()
    assert scores(datetime(2024, 5, 6, tzinfo=UTC)) == before
    assert scores(moved)[UNITS[0]] == before[UNITS[0]]
