"""Scoring benchmark: `duban score` for a year over 100,000 items and a year of their events.

Builds a ledger with bulk INSERTs (100 documents, 1,000 units; every item imported on 2 January
2024 with a deadline in the year; submissions, returns, sign-offs, extensions and cancellations
spread over the year), then times the score of the whole year and of one quarter, in process
(read + compute + JSON, as `duban score --json` does), and once through the real CLI.
Run: `.venv/bin/python -m bench.score [--items 100000] [--units 1000]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

START = datetime(2024, 1, 2, 1, 0, tzinfo=UTC)
AS_OF = "2025-01-06T09:00+08:00"
TZ = ZoneInfo("Asia/Shanghai")
TARGET_SECONDS = 2.0  # issue 12: `duban score` over 100k items and a year of events


def build(url: str, units: int, items: int) -> int:
    from migrations.runner import upgrade
    from models.db import make_engine
    from models.tables import Document, Item, ItemEvent, Unit

    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(12)
    t = {m: m.__table__ for m in (Document, Item, ItemEvent, Unit)}  # type: ignore[attr-defined]
    rows, events = [], []

    def event(item: int, kind: str, at: datetime, old: str, new: str, **payload: object) -> None:
        at = max(at, START + timedelta(hours=1 + len(events) % 8))  # nothing happens before the import
        events.append({"item_id": item, "kind": kind, "at": at, "actor_id": None, "actor_label": "bench",
                       "from_status": old, "to_status": new, "payload": payload})

    for i in range(1, items + 1):
        deadline = date(2024, 1, 15) + timedelta(days=rng.randint(0, 330))
        due = datetime.combine(deadline, datetime.min.time(), tzinfo=UTC)
        event(i, "imported", START, "assigned", "assigned", deadline=deadline.isoformat(), file="bench.xlsx", row=i)
        status, kind = "assigned", rng.random()
        if kind < 0.10:
            new = deadline + timedelta(days=rng.randint(10, 60))
            event(i, "extension_approved", due - timedelta(days=3), status, status,
                  old_deadline=deadline.isoformat(), new_deadline=new.isoformat())
            deadline, due = new, datetime.combine(new, datetime.min.time(), tzinfo=UTC)
        if kind < 0.55:
            at = due + timedelta(days=rng.randint(-20, 25))
            event(i, "submitted", at, status, "submitted")
            if rng.random() < 0.25:
                event(i, "returned", at + timedelta(days=2), "submitted", "in_progress")
                event(i, "submitted", at + timedelta(days=9), "in_progress", "submitted")
            event(i, "signed_off", at + timedelta(days=3 + rng.randint(0, 10)), "submitted", "signed_off")
            status = "signed_off"
        elif kind < 0.60:
            event(i, "cancelled", due - timedelta(days=rng.randint(0, 30)), status, "cancelled")
            status = "cancelled"
        rows.append({"document_id": rng.randint(1, 100), "number": str(i), "title": "推动政策落地见效",
                     "category": "", "lead_unit_id": rng.randint(1, units), "supervisor_id": None,
                     "original_deadline": deadline, "deadline": deadline, "notes": "", "status": status,
                     "deadline_version": 1, "escalation_level": 0, "next_action_at": None, "version": 1,
                     "created_at": START, "updated_at": START})
    with engine.begin() as conn:
        conn.execute(insert(t[Unit]), [{"name": f"单位{n}", "code": f"U{n}", "parent_id": None, "contact_emails": [],
                                        "leader_emails": []} for n in range(1, units + 1)])
        conn.execute(insert(t[Document]), [{"short_name": f"文件{n}", "title": "", "issuer": "", "issue_date": None}
                                           for n in range(1, 101)])
        for table, data in ((Item, rows), (ItemEvent, events)):
            for start in range(0, len(data), 5000):
                conn.execute(insert(t[table]), data[start:start + 5000])
    engine.dispose()
    return len(events)


def timed(url: str, start: date, end: date, fast: bool = True,
          explain: bool = True) -> tuple[float, float, dict[str, object]]:
    """Read, score and write the JSON of start..end: `scoreboard` (what `duban score --json` runs), or with
    `fast=False` the full replay of every row (`load_rows` + `score`, which the fast read must equal);
    `explain=False`: the scores and totals only, no lines (what `duban score` runs for its table)."""
    from sqlmodel import Session

    from config.calendar import load_calendar
    from config.clock import parse_instant
    from config.scoring import load_scoring
    from models.db import make_engine
    from models.scoring import cycle_collection_paused, load_rows, period_bounds, score, scoreboard

    engine = make_engine(url)
    began, cpu = time.perf_counter(), time.process_time()
    as_of = parse_instant(AS_OF)
    model, calendar = load_scoring(), load_calendar()
    with Session(engine) as session:
        if fast:
            board = scoreboard(session, model, calendar, TZ, start, end, as_of, explain)
        else:
            board = score(*load_rows(session, period_bounds(start, end, as_of, TZ)[1]), model, calendar, TZ, start,
                          end, as_of)
    with cycle_collection_paused():  # as `duban score --json` writes it (cli/score.py)
        data = board.as_dict()
        if explain:
            json.dumps(data, ensure_ascii=False)
    if not explain:
        data = {"units": [(u["unit"], u["rank"], u["score"]) for u in data["units"]]}
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    engine.dispose()
    return seconds, cpu, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100000)
    parser.add_argument("--units", type=int, default=1000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-score-"))

    def verdict(cpu: float) -> str:
        if args.items < 100000:
            return "not measured (the target is for 100,000 items)"
        return "met" if cpu < TARGET_SECONDS else "missed"

    url = f"sqlite:///{workdir / 'bench.db'}"
    try:
        started = time.perf_counter()
        events = build(url, args.units, args.items)
        print(f"ledger: {args.units} units, {args.items} items, {events} events (built in "
              f"{time.perf_counter() - started:.1f} s)")
        for name, start, end in (("year 2024", date(2024, 1, 1), date(2024, 12, 31)),
                                 ("Q3 2024", date(2024, 7, 1), date(2024, 9, 30))):
            seconds, cpu, data = timed(url, start, end)
            full_seconds, full_cpu, full = timed(url, start, end, fast=False)
            lines = sum(len(u["deductions"]) + len(u["additions"]) for u in data["units"])  # type: ignore[attr-defined]
            print(f"score {name}: {seconds:.2f} s in process, {cpu:.2f} s CPU ({lines} explained lines, as --json); "
                  f"target < {TARGET_SECONDS:g} s: {verdict(cpu)}; "
                  f"full replay {full_seconds:.2f} s, {full_cpu:.2f} s CPU; same result: {data == full}")
            seconds, cpu, totals = timed(url, start, end, explain=False)
            same = totals["units"] == [(u["unit"], u["rank"], u["score"]) for u in data["units"]]  # type: ignore[attr-defined]
            print(f"score {name}, totals only (no lines, `duban score`'s table): {seconds:.2f} s in process, "
                  f"{cpu:.2f} s CPU; same scores: {same}; target < {TARGET_SECONDS:g} s: "
                  f"{verdict(cpu)}")
        env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_CONFIG": str(workdir / "none.toml")}
        for flags in (["--json"], []):
            started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "cli", "score", "--from", "2024-01-01", "--to", "2024-12-31", *flags,
                            "--now", AS_OF], env=env, check=True, capture_output=True)
            wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
            print(f"{' '.join(['duban score', *flags])} for the year, as a command: {wall:.2f} s, {cpu:.2f} s CPU"
                  f" (with Python's start-up); target < {TARGET_SECONDS:g} s: {verdict(cpu)};"
                  f" load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
