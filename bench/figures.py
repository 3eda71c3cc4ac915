"""Read-side benchmark: the figures (with 未签收, 签收率, 催办) and filtered list pages over a large ledger.

Builds bench/web.py's ledger (not timed; `--items` items in every state, `--units` units), then
has half the items acknowledged by their lead unit and one in twenty urged. Times, best of
`--repeat` after one warm-up: `build_figures` for someone who sees everything (what the dashboard
works out again after each change; the web caches it) and the first page with its count of the
item list unfiltered, overdue, 未签收, and one unit's 未签收. Prints one JSON line of milliseconds.
Run: `.venv/bin/python -m bench.figures [--items 100000 --units 1000 --repeat 3 --database-url URL]`.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text
from sqlmodel import Session

from bench.web import build
from models.db import make_engine
from models.read.figures import build_figures
from models.read.filters import UnitRole
from models.read.views import ItemQuery, page_of_items
from models.tables import ItemAcknowledgement, ItemEvent

NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def acknowledge_and_urge(url: str, seed: int) -> tuple[int, int]:
    """Half the items acknowledged by their lead unit, one in twenty urged once; how many of each."""
    rng = random.Random(seed)
    with make_engine(url).begin() as conn:
        items = conn.execute(text("SELECT id, lead_unit_id FROM item ORDER BY id")).all()
        acks = [{"item_id": i, "unit_id": u, "person_id": 1, "at": NOW} for i, u in items if rng.random() < 0.5]
        urges = [{"item_id": i, "kind": "urged", "at": NOW, "actor_id": 1, "actor_label": "督查一", "from_status": None,
                  "to_status": None, "payload": {"text": "请尽快办理"}} for i, _ in items if rng.random() < 0.05]
        for table, rows in ((ItemAcknowledgement.__table__, acks), (ItemEvent.__table__, urges)):  # type: ignore[attr-defined]
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start:start + 5000])
    return len(acks), len(urges)


def best_ms(work: Callable[[], object], repeat: int) -> float:
    work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return round(min(times) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="duban-bench-figures-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        build(url, args.items, args.units, NOW)
        acknowledged, urged = acknowledge_and_urge(url, args.items)
        engine = make_engine(url)
        with Session(engine) as session:
            def page(query: ItemQuery) -> Callable[[], object]:
                return lambda: page_of_items(session, None, query, NOW, TZ)

            timings = {
                "figures": best_ms(lambda: build_figures(session, None, NOW, TZ), args.repeat),
                "list": best_ms(page(ItemQuery()), args.repeat),
                "list_overdue": best_ms(page(ItemQuery(overdue=True)), args.repeat),
                "list_unacknowledged": best_ms(page(ItemQuery(unacknowledged=True)), args.repeat),
                "list_unit_unacknowledged": best_ms(
                    page(ItemQuery(unit="第7单位", unit_role=UnitRole.LEAD, unacknowledged=True)), args.repeat),
            }
            unacknowledged = page_of_items(session, None, ItemQuery(unacknowledged=True), NOW, TZ).total
        engine.dispose()
    print(json.dumps({"items": args.items, "units": args.units, "acknowledged": acknowledged, "urged": urged,
                      "unacknowledged": unacknowledged, "database": url.split(":")[0], "ms": timings}))


if __name__ == "__main__":
    main()
