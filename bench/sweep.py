"""Sweep benchmark: ledgers of 10k/100k/1M open items, 1% due and 0 due, against the floor.

A quarter of the items recur monthly (频次): twelve periods each, those before October reported;
the October period of 1% of the items is due, so the sweep's periods pass has as much to do as
its items pass (models/period_sweep.py).

The floor is what any sweep must at least do: an indexed SELECT of the due rows and one bulk
UPDATE of them. Ledgers are built with bulk INSERTs (no ORM); each measurement runs on a fresh
copy of the ledger (a file on SQLite, a TEMPLATE database on PostgreSQL).
Run: `.venv/bin/python -m bench.sweep [--sizes 10000,100000,1000000] [--postgres]`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text, update
from sqlmodel import Session

from config.calendar import load_calendar
from config.policy import DEFAULT_POLICY_FILE, load_policy
from migrations.runner import upgrade
from models.db import make_engine
from models.periods import PERIOD
from models.sweep import ITEM, sweep
from models.tables import Document, Unit

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 10, 21, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
PG_ADMIN_URL = os.environ.get("DUBAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CHUNK = 5000


def build(url: str, size: int, due_share: float) -> None:
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(size)
    units = max(10, size // 200)
    with engine.begin() as conn:
        conn.execute(insert(Unit.__table__), [  # type: ignore[attr-defined]
            {"name": f"单位{n}", "code": f"U{n}", "parent_id": None, "contact_emails": [f"u{n}@example.gov.cn"],
             "leader_emails": [f"l{n}@example.gov.cn"]} for n in range(units)
        ])
        conn.execute(insert(Document.__table__), [  # type: ignore[attr-defined]
            {"short_name": f"文件{n}", "title": "", "issuer": "", "issue_date": None} for n in range(100)
        ])
        due_count = int(size * due_share)
        rows = []
        for n in range(size):
            due = n < due_count
            deadline = NOW.date() - timedelta(days=rng.randint(1, 20)) if due else NOW.date() + timedelta(days=rng.randint(20, 200))
            rows.append({
                "document_id": n % 100 + 1, "number": str(n), "title": "推动政策落地见效", "category": "",
                "lead_unit_id": rng.randint(1, units), "supervisor_id": None, "original_deadline": deadline,
                "deadline": deadline, "notes": "", "status": "in_progress", "deadline_version": 1,
                "escalation_level": 0, "version": 1, "created_at": NOW - timedelta(days=90), "updated_at": NOW - timedelta(days=90),
                "next_action_at": NOW - timedelta(hours=rng.randint(1, 48)) if due else NOW + timedelta(days=rng.randint(1, 30)),
            })
            if len(rows) == CHUNK:
                conn.execute(insert(ITEM), rows)
                rows = []
        if rows:
            conn.execute(insert(ITEM), rows)
        _periods(conn, size, due_count, rng)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)" if url.startswith("sqlite") else "ANALYZE"))
    engine.dispose()


def _periods(conn: Any, size: int, due_count: int, rng: random.Random) -> None:
    """Monthly periods of every fourth item; the October period of `due_count` of them due at NOW."""
    recurring = list(range(1, size + 1, 4))
    due_items = set(rng.sample(recurring, min(due_count, len(recurring))))
    rows: list[dict[str, Any]] = []
    for item_id in recurring:
        for month in range(1, 13):
            starts = date(2024, month, 1)
            ends = (date(2025, 1, 1) if month == 12 else date(2024, month + 1, 1)) - timedelta(days=1)
            reported = month < 10
            at = (NOW - timedelta(hours=rng.randint(1, 48)) if month == 10 and item_id in due_items
                  else None if reported else NOW + timedelta(days=rng.randint(5, 60)))
            rows.append({"item_id": item_id, "starts": starts, "ends": ends, "due": ends,
                         "fulfilled_at": datetime(2024, month, 20, 2, 0, tzinfo=UTC) if reported else None,
                         "fulfilled_event_id": None, "level": 0, "next_action_at": at})
            if len(rows) == CHUNK:
                conn.execute(insert(PERIOD), rows)
                rows = []
    if rows:
        conn.execute(insert(PERIOD), rows)


def copy(template: str, workdir: Path, name: str) -> str:
    """A fresh copy of the ledger: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL."""
    if template.startswith("sqlite"):
        target = workdir / name
        shutil.copy(template.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    database = f"{template.rsplit('/', 1)[1]}_{name.split('.')[0]}"
    _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{database}" TEMPLATE "{template.rsplit("/", 1)[1]}"')
    return template.rsplit("/", 1)[0] + "/" + database


def copy_name(template: str, workdir: Path, name: str) -> str:
    """The URL `copy` gives for `name` (to drop it)."""
    if template.startswith("sqlite"):
        return f"sqlite:///{workdir / name}"
    return template + "_" + name.split(".")[0]


def drop(url: str) -> None:
    if url.startswith("sqlite"):  # with its write-ahead log: a stale one would be replayed onto the next copy
        path = url.removeprefix("sqlite:///")
        for name in (path, f"{path}-wal", f"{path}-shm"):
            Path(name).unlink(missing_ok=True)
    else:
        _pg(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _pg(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


TARGET_MB = 300  # issue 15, target 6: a 1M-item sweep's peak memory


def run_sweep(url: str, memory: bool = False) -> tuple[float, int, int, float, int]:
    """Wall seconds, items examined, peak traced memory (bytes, when `memory`), CPU seconds, periods handled."""
    policy, calendar = load_policy(DEFAULT_POLICY_FILE), load_calendar()
    engine = make_engine(url)
    if memory:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        result = sweep(session, now=NOW, policy=policy, calendar=calendar, tz=TZ, after_batch=session.commit)
        session.commit()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if memory else 0
    if memory:
        tracemalloc.stop()
    engine.dispose()
    return seconds, result.examined, peak, cpu, result.periods


def run_floor(url: str) -> float:
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        ids = conn.execute(select(ITEM.c.id).where(ITEM.c.next_action_at <= NOW)).scalars().all()
        conn.execute(update(ITEM).where(ITEM.c.next_action_at <= NOW).values(next_action_at=NOW + timedelta(days=1)))
    seconds = time.perf_counter() - started
    engine.dispose()
    assert ids is not None
    return seconds


def one_shot(url: str) -> tuple[float, float]:
    """A `duban sweep` process from start to exit: wall seconds and its peak RSS in MiB."""
    env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_CONFIG": "/nonexistent/duban.toml"}
    env.pop("PREFECT_API_URL", None)
    duban = str(Path(sys.executable).with_name("duban"))
    started = time.perf_counter()
    process = subprocess.Popen([duban, "sweep", "--now", NOW.isoformat()], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"duban sweep failed: {process.stderr.read().decode() if process.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=float, default=0.01, help="share of items due (default 0.01)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL databases instead of SQLite files")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-sweep-"))
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times suffer when it is high)")
    print(f"{'items':>9} {'due':>7} {'periods':>7} {'build s':>8} {'floor s':>8} {'sweep s':>8} {'cpu s':>6} {'ratio':>6} "
          f"{'peak MB':>8} {'0-due s':>8}")
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            if args.postgres:
                template = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/duban_bench_sweep_{os.getpid()}_{size}"
                _pg(f'CREATE DATABASE "{template.rsplit("/", 1)[1]}"')
            else:
                template = f"sqlite:///{workdir / f'ledger-{size}.db'}"
            started = time.perf_counter()
            build(template, size, args.due)
            built = time.perf_counter() - started
            floor = run_floor(copy(template, workdir, "floor.db"))
            swept_path = copy(template, workdir, "sweep.db")
            seconds, examined, _, cpu, periods = run_sweep(swept_path)
            idle, idle_examined, _, _, idle_periods = run_sweep(swept_path)  # same now again: nothing is due
            assert idle_examined == 0 and idle_periods == 0
            _, _, peak, _, _ = run_sweep(copy(template, workdir, "memory.db"), memory=True)
            print(f"{size:>9} {examined:>7} {periods:>7} {built:>8.1f} {floor:>8.3f} {seconds:>8.3f} {cpu:>6.2f} {seconds / floor:>6.1f} "
                  f"{peak / 2**20:>8.1f} {idle:>8.4f}", flush=True)
            wall, rss = one_shot(copy(template, workdir, "oneshot.db"))
            verdict = "" if size < 1_000_000 else f" (target < {TARGET_MB} MB: {'met' if rss * 1.048576 < TARGET_MB else 'missed'})"
            print(f"          one-shot `duban sweep` process on {size} items ({examined} due): {wall:.2f} s wall, "
                  f"peak RSS {rss:.0f} MiB{verdict}", flush=True)
            for name in ("floor.db", "sweep.db", "memory.db", "oneshot.db"):
                drop(copy_name(template, workdir, name))
            drop(template)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"(sweep at {NOW.isoformat()}; floor = indexed SELECT of due ids + one bulk UPDATE; "
          "peak MB = tracemalloc peak during the sweep; 0-due = a second sweep at the same now; "
          "periods = due periods handled, of 3 per recurring item (a quarter of the items) not yet reported)")


if __name__ == "__main__":
    main()
