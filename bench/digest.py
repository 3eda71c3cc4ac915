"""Digest benchmark: weekly digests for 1,000 units and 100,000 items, wall time and peak memory.

Builds a ledger with bulk INSERTs (100 documents, 1,000 units with two contacts each, 50
supervisors, 3 leaders; items overdue, escalated, due soon, later and signed off; co-units,
progress reports, returns and sign-off events), then, in a child process, compiles and queues
every digest once (`queue_digests`), and runs it again (a no-op: once per address and week).
Run: `.venv/bin/python -m bench.digest [--units 1000] [--items 100000] [--keep ledger.db]`.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
TODAY = date(2024, 6, 3)
TARGET_SECONDS, TARGET_MB = 10, 300  # issue 15, target 6


def build(url: str, units: int, items: int) -> None:
    from migrations.runner import upgrade
    from models.db import make_engine
    from models.tables import Document, Item, ItemCoUnit, ItemEvent, Person, ProgressReport, Unit

    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    t = {m: m.__table__ for m in (Document, Item, ItemCoUnit, ItemEvent, Person, ProgressReport, Unit)}  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(insert(t[Unit]), [{"name": f"单位{n}", "code": f"U{n}", "parent_id": None,
                                        "contact_emails": [f"u{n}a@example.gov.cn", f"u{n}b@example.gov.cn"],
                                        "leader_emails": []} for n in range(1, units + 1)])
        conn.execute(insert(t[Document]), [{"short_name": f"文件{n}", "title": "", "issuer": "", "issue_date": None}
                                           for n in range(1, 101)])
        people = [{"name": f"督查{n}", "email": f"sup{n}@dc.gov.cn", "role": "supervisor", "unit_id": None,
                   "locale": None, "active": True, "password_hash": None} for n in range(1, 51)]
        people += [{"name": f"领导{n}", "email": f"leader{n}@dc.gov.cn", "role": "leader", "unit_id": None,
                    "locale": None, "active": True, "password_hash": None} for n in range(1, 4)]
        people.append({"name": "办事员", "email": "officer@example.gov.cn", "role": "officer", "unit_id": 1,
                       "locale": None, "active": True, "password_hash": None})
        conn.execute(insert(t[Person]), people)
        officer_id = len(people)
        rows, co, reports, events = [], [], [], []
        for i in range(1, items + 1):
            kind = rng.random()
            if kind < 0.35:
                status, deadline = "signed_off", TODAY - timedelta(days=rng.randint(1, 200))
                events.append({"item_id": i, "kind": "signed_off", "at": NOW - timedelta(days=rng.randint(0, 30)),
                               "actor_id": None, "actor_label": "bench", "from_status": "submitted",
                               "to_status": "signed_off", "payload": {}})
            elif kind < 0.50:
                status, deadline = "in_progress", TODAY - timedelta(days=rng.randint(1, 90))  # overdue
            elif kind < 0.60:
                status, deadline = "assigned", TODAY + timedelta(days=rng.randint(0, 7))  # due soon
            else:
                status, deadline = rng.choice(["assigned", "in_progress"]), TODAY + timedelta(days=rng.randint(8, 300))
            overdue = deadline < TODAY and status != "signed_off"
            rows.append({
                "document_id": rng.randint(1, 100), "number": str(i), "title": "推动政策落地见效，完善配套措施",
                "category": "", "lead_unit_id": rng.randint(1, units), "supervisor_id": rng.randint(1, 50),
                "original_deadline": deadline, "deadline": deadline, "notes": "", "status": status,
                "deadline_version": 1, "escalation_level": rng.choice([0, 1, 1, 2]) if overdue else 0,
                "next_action_at": None, "version": 1, "created_at": NOW - timedelta(days=300),
                "updated_at": NOW - timedelta(days=1),
            })
            if rng.random() < 0.3:
                co.append({"item_id": i, "unit_id": rng.randint(1, units)})
            if status == "in_progress":
                reports.append({"item_id": i, "unit_id": 1, "person_id": officer_id, "text": "已召开协调会，正在推进",
                                "percent": 50, "at": NOW - timedelta(days=rng.randint(1, 20))})
                if rng.random() < 0.1:
                    events.append({"item_id": i, "kind": "returned", "at": NOW - timedelta(days=5), "actor_id": None,
                                   "actor_label": "bench", "from_status": "submitted", "to_status": "in_progress",
                                   "payload": {}})
        for table, data in ((Item, rows), (ItemCoUnit, co), (ProgressReport, reports), (ItemEvent, events)):
            for start in range(0, len(data), 5000):
                conn.execute(insert(t[table]), data[start:start + 5000])
    engine.dispose()


def child(url: str) -> None:
    from sqlmodel import Session

    from config.settings import load_settings
    from models.db import make_engine
    from notifications.digest import queue_digests

    settings = load_settings(delivery_window=False)
    engine = make_engine(url)
    figures = {}
    for run in ("first", "again"):
        started, cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session:
            summary = queue_digests(session, NOW, settings)
        figures[run] = {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                        **summary.as_dict()}
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--items", type=int, default=100000)
    parser.add_argument("--keep", type=Path, help="build the ledger in this SQLite file, or reuse it if it exists, "
                                                   "and keep it (to profile the digest on the same ledger)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-digest-"))
    db = args.keep or workdir / "bench.db"
    url = f"sqlite:///{db}"
    try:
        started = time.perf_counter()
        reused = db.exists()
        if not reused:
            build(url, args.units, args.items)
        built = time.perf_counter() - started
        if args.keep:  # a copy, so that the kept ledger stays unsent and can be run again
            shutil.copyfile(db, workdir / "run.db")
            url = f"sqlite:///{workdir / 'run.db'}"
        out = subprocess.run([sys.executable, "-m", "bench.digest", "--child", url],
                             capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # ru_maxrss: KiB on Linux
        peak_mb = peak_mib * 2**20 / 10**6
        size_mib = db.stat().st_size / 2**20
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    first, again = figures["first"], figures["again"]
    ledger = f"reused {db}" if reused else f"built in {built:.1f} s"
    print(f"ledger: {args.units} units, {args.items} items ({ledger}; SQLite {size_mib:.0f} MiB)")
    print(f"digests: {first['queued']} queued (supervisors {first['supervisor']}, leadership {first['leadership']}, "
          f"units {first['unit']}), {first['empty']} empty, in {first['seconds']:.1f} s ({first['cpu']:.1f} s CPU); "
          f"peak RSS {peak_mib:.0f} MiB = {peak_mb:.0f} MB")
    print(f"target < {TARGET_SECONDS} s: {'met' if first['seconds'] < TARGET_SECONDS else 'missed'}; "
          f"< {TARGET_MB} MB: {'met' if peak_mb < TARGET_MB else 'missed'} (MB = 10^6 bytes, MiB = 2^20)")
    print(f"second run, same week: {again['queued']} queued "
          f"({'met' if again['queued'] == 0 else 'missed'}: once per address and week), "
          f"{again['already_sent']} already sent, in {again['seconds']:.1f} s ({again['cpu']:.1f} s CPU); "
          f"load average {_load()}")


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
