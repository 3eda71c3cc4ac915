"""Import benchmark: a generated 10,000-item, 500-unit ledger from .xlsx and from .csv, then a re-import.

Each import runs in a child process on a fresh SQLite database (migrated first, not timed);
it prints wall and CPU time of the import (read, check, write, commit), the child's peak RSS
(VmHWM) with the baseline after imports, before the work, and the load average (the machine
may be shared: CPU time is the steadier figure). The re-import changes nothing.
Run: `.venv/bin/python -m bench.import_ledger [--items 10000 --units 500] [--pg [ADMIN_URL]]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)
UNITS_HEADER = ["单位编码", "单位名称", "上级单位", "联系邮箱", "分管领导邮箱"]
LEDGER_HEADER = ["文件", "编号", "事项", "类别", "牵头单位", "配合单位", "完成时限", "督办人", "状态", "备注"]
STATUSES = ["", "", "进行中", "已落实"]


def generate(items: int, units: int) -> tuple[list[list[object]], list[list[object]]]:
    unit_rows: list[list[object]] = [
        [f"U{n:04d}", f"测试单位{n:04d}", "", f"u{n}@example.gov.cn、u{n}-b@example.gov.cn", f"leader{n % 40}@example.gov.cn"]
        for n in range(units)
    ]
    ledger_rows: list[list[object]] = []
    for n in range(items):
        deadline: object = date(2024, 1, 1) + timedelta(days=n % 700)
        if n % 4 == 1:
            deadline = f"{2024 + n % 2}年{n % 12 + 1}月底"
        elif n % 4 == 2:
            deadline = f"{2024 + n % 2}年第{'一二三四'[n % 4]}季度"
        co = "、".join(f"测试单位{(n + k) % units:04d}" for k in (7, 13)[: n % 3])
        ledger_rows.append([
            f"文件{n % 20:02d}", str(n // 20 + 1), f"推动第{n}项政策措施落地见效", "政策落实",
            f"测试单位{n % units:04d}", co, deadline, f"sup{n % 20}@example.gov.cn" if n % 5 == 0 else "",
            STATUSES[n % 4], "",
        ])
    return unit_rows, ledger_rows


def write_files(folder: Path, items: int, units: int) -> dict[str, list[Path]]:
    from openpyxl import Workbook

    unit_rows, ledger_rows = generate(items, units)
    workbook = Workbook()  # shared strings, as Excel writes them (write_only mode would inline them)
    workbook.remove(workbook.worksheets[0])
    for title, header, rows in (("单位", UNITS_HEADER, unit_rows), ("台账", LEDGER_HEADER, ledger_rows)):
        sheet = workbook.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    workbook.save(folder / "ledger.xlsx")
    for name, header, rows in (("units.csv", UNITS_HEADER, unit_rows), ("ledger.csv", LEDGER_HEADER, ledger_rows)):
        with open(folder / name, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([[v.isoformat() if isinstance(v, date) else v for v in row] for row in rows])
    return {"xlsx": [folder / "ledger.xlsx"], "csv": [folder / "units.csv", folder / "ledger.csv"]}


def peak_rss_mb() -> float:
    """This process's peak resident set size. VmHWM starts afresh at exec; ru_maxrss would carry
    the forking parent's peak over on Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(database_url: str, files: list[str]) -> None:
    """One import in this process; prints a JSON line with the figures."""
    from sqlmodel import Session

    from models.db import make_engine
    from models.ledger.apply import import_ledger

    engine = make_engine(database_url)
    baseline = peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        summary = import_ledger(session, [Path(f) for f in files], now=NOW)
        session.commit()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "baseline_mb": baseline,
                      "created": summary.items_created, "unchanged": summary.items_unchanged}))


def measure(database_url: str, files: list[Path]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.import_ledger", "--child", database_url, *map(str, files)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@contextmanager
def fresh_database(folder: Path, name: str, pg_admin_url: str | None) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    from migrations.runner import upgrade
    from models.db import make_engine

    if pg_admin_url is None:
        url = f"sqlite:///{folder / f'{name}.db'}"
    else:
        import psycopg

        database = f"duban_bench_{os.getpid()}_{name}"
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        url = pg_admin_url.rsplit("/", 1)[0] + "/" + database
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        if pg_admin_url is not None:
            with psycopg.connect(pg_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--pg", metavar="ADMIN_URL", nargs="?", const="postgresql://postgres@127.0.0.1:5432/test",
                        help="import into fresh PostgreSQL databases made through this server instead of SQLite")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1:])
        return

    with tempfile.TemporaryDirectory(prefix="duban-bench-import-") as tmp:
        folder = Path(tmp)
        formats = write_files(folder, args.items, args.units)
        backend = "PostgreSQL" if args.pg else "SQLite"
        print(f"ledger: {args.items} items, {args.units} units; {backend}; child process per import")
        print(f"{'format':<6} {'run':<10} {'items':>7} {'wall s':>8} {'cpu s':>7} {'peak MB':>8} {'baseline MB':>12} {'load':>5}")
        for fmt, files in formats.items():
            with fresh_database(folder, fmt, args.pg) as url:
                for run in ("first", "re-import"):
                    r = measure(url, files)
                    count = r["created"] if run == "first" else r["unchanged"]
                    print(f"{fmt:<6} {run:<10} {count:>7} {r['seconds']:>8.2f} {r['cpu']:>7.2f} {r['peak_mb']:>8.0f} "
                          f"{r['baseline_mb']:>12.0f} {os.getloadavg()[0]:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
