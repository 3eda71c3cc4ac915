"""Weekly notice benchmark: the 通报 as a .docx for 1,000 units (target under 5 s), wall and CPU time.

Builds the digest benchmark's ledger (bench/digest.py: 100 documents, 1,000 units; items overdue,
escalated, due soon, later and signed off), then, in a child process, reads the notice's facts
(models/read), builds the document (notifications/documents) and saves it, timing each step.
Run: `.venv/bin/python -m bench.notice [--units 1000] [--items 20000]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.digest import NOW, build

TARGET_SECONDS = 5.0


def child(url: str, out: str) -> None:
    from sqlmodel import Session

    from config.settings import load_settings
    from models.db import make_engine
    from notifications.documents.facts import weekly_facts
    from notifications.documents.notices import weekly_notice

    settings = load_settings()
    engine = make_engine(url)
    wall, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        facts = weekly_facts(session, settings, None, NOW)
    read = time.perf_counter() - wall
    document = weekly_notice(facts)
    built = time.perf_counter() - wall - read
    document.save(out)
    print(json.dumps({"read": read, "build": built, "wall": time.perf_counter() - wall,
                      "cpu": time.process_time() - cpu, "overdue": facts.overdue_count,
                      "listed": sum(len(unit.items) for unit in facts.overdue), "units": len(facts.ranking),
                      "documents": len(facts.documents)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-notice-"))
    url, out = f"sqlite:///{workdir / 'bench.db'}", workdir / "notice.docx"
    try:
        build(url, args.units, args.items)
        result = subprocess.run([sys.executable, "-m", "bench.notice", "--child", url, str(out)],
                                capture_output=True, text=True, check=True)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size_kib = out.stat().st_size / 1024
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"ledger: {args.units} units, {args.items} items; notice: {figures['documents']} documents, "
          f"{figures['overdue']} overdue items ({figures['listed']} listed), {figures['units']} units ranked, {size_kib:.0f} KiB")
    print(f"weekly notice: {figures['wall']:.2f} s wall ({figures['cpu']:.2f} s CPU; read {figures['read']:.2f} s, "
          f"build {figures['build']:.2f} s, then save); peak RSS {peak_mib:.0f} MiB; "
          f"target < {TARGET_SECONDS:.0f} s: {'met' if figures['wall'] < TARGET_SECONDS else 'missed'}")


if __name__ == "__main__":
    main()
