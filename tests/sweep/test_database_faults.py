"""The database failing under `duban sweep`: one clear line, nothing lost, nothing recorded twice."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from models.db import make_engine
from models.tables import Item, ItemEvent
from tests.conftest import TZ, _truncate_all
from tests.factories import make_document, make_item, make_unit
from tests.pgcut import cutting_connections

NOW = datetime(2024, 10, 21, 9, tzinfo=TZ).astimezone(UTC)
ROOT = Path(__file__).resolve().parents[2]


def _seed(url: str, count: int, tag: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        lead, document = make_unit(session, contact_emails=[f"{tag}@example.gov.cn"]), make_document(session)
        for n in range(count):
            make_item(session, document=document, lead_unit=lead, deadline=date(2024, 9, 1) + timedelta(days=n % 40),
                      next_action_at=datetime(2024, 8, 1, tzinfo=UTC))
        session.commit()
    engine.dispose()


@pytest.mark.postgres
def test_backends_terminated_during_sweeps_lose_and_repeat_nothing(pg_server_url: str, tmp_path: Any) -> None:
    engine = make_engine(pg_server_url)
    _truncate_all(engine)
    rng = random.Random(os.environ.get("DUBAN_CUT_SEED", "11"))
    env = {**os.environ, "DUBAN_DATABASE_URL": pg_server_url, "DUBAN_LOCALE": "en", "DUBAN_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "cli", "sweep", "--now", NOW.isoformat(), "--engine", "local"]
    codes = []
    for trial in range(4):
        _seed(pg_server_url, 1500, f"unit{trial}")
        with cutting_connections(pg_server_url, rng, first=(0.6, 1.4), then=(0.05, 0.3)):
            process = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        codes.append(process.returncode)
        assert "Traceback" not in process.stderr, process.stderr
        assert process.returncode in (0, 1), process.stderr
        if process.returncode == 1:
            assert len(process.stderr.strip().splitlines()) <= 3 and "database" in process.stderr.lower()
    final = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr

    with Session(engine) as session:
        items = session.exec(select(Item.id)).all()
        events = session.exec(select(ItemEvent.item_id, ItemEvent.payload).where(ItemEvent.kind != "created")).all()
    engine.dispose()
    per_threshold = Counter((item_id, payload.get("threshold")) for item_id, payload in events)
    assert max(per_threshold.values()) == 1, "a threshold recorded twice"
    assert {item_id for item_id, _ in per_threshold} == set(items), "every overdue item was handled"
    print(f"\ncut sweeps' exit codes: {codes}")
