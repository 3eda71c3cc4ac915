"""Items export benchmark: every item of a generated ledger to .xlsx in the ledger's columns, then its re-import.

A fresh SQLite database gets the generated 10,000-item, 500-unit ledger of bench/import_ledger.py
(not timed). Timed: writing the export (models/ledger/export.py through models/sheets.py), and a
dry-run import of that file, which must find every item unchanged. Prints wall and CPU seconds,
the file's size and this process's peak RSS (VmHWM).
Run: `.venv/bin/python -m bench.export_items [--items 10000 --units 500]`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.import_ledger import NOW, fresh_database, peak_rss_mb, write_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=500)
    args = parser.parse_args()

    from sqlmodel import Session, col, select

    from models.db import make_engine
    from models.ledger.apply import import_ledger
    from models.ledger.export import ledger_table
    from models.sheets import xlsx
    from models.tables import Item

    tz = ZoneInfo("Asia/Shanghai")
    with tempfile.TemporaryDirectory() as tmp, fresh_database(Path(tmp), "export", None) as url:
        folder = Path(tmp)
        files = write_files(folder, args.items, args.units)
        engine = make_engine(url)
        with Session(engine) as session:
            import_ledger(session, files["csv"], now=NOW)
            session.commit()
            ids = list(session.exec(select(Item.id).order_by(col(Item.id))).all())
            start, cpu = time.perf_counter(), time.process_time()
            data = xlsx(ledger_table(session, ids, now=NOW, tz=tz, locale="zh-CN"), tz=tz)
            export = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
            path = folder / "items.xlsx"
            path.write_bytes(data)
            start, cpu = time.perf_counter(), time.process_time()
            summary = import_ledger(session, [path], now=NOW, dry_run=True)
            reimport = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
            session.rollback()
        engine.dispose()
    if summary.items_unchanged != len(ids):
        raise SystemExit(f"the export did not round-trip: {summary.items_unchanged} of {len(ids)} unchanged")
    print(f"items export: {len(ids)} items, {len(data) / 1e6:.1f} MB in {export['seconds']:.2f} s "
          f"(cpu {export['cpu']:.2f} s); its dry-run re-import {reimport['seconds']:.2f} s, all unchanged")
    print(json.dumps({"items": len(ids), "bytes": len(data), "export": export, "reimport": reimport,
                      "unchanged": summary.items_unchanged, "peak_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
