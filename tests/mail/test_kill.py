"""kill -9 of a delivery process at random points: nothing is lost; a duplicate has the same Message-ID."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.outbox import OutboxMessage, OutboxStatus
from tests.factories import make_item, make_unit
from tests.mail.conftest import SmtpSink, notify

ROOT = Path(__file__).resolve().parents[2]
AHEAD = 1  # DUBAN_DELIVERY_MAX_UNRECORDED: small, so that the messages could break the bound below
# One message a unit. With the default seed the four kills' targets add up to 30, and each kill lands a few messages
# late (the random pause, and the kill's own latency on a loaded machine), so with 40 the last run
# sometimes finished before its kill (2 runs in 8 at load 10): 60 leaves room for the overshoot.
MESSAGES = 60
RUN = """
import sys
from config.clock import parse_instant
from config.settings import load_settings
from models.db import make_engine
from notifications.delivery import deliver
summary = deliver(make_engine(sys.argv[1]), parse_instant(sys.argv[2]), load_settings(), batch_size=15)
print(summary.as_dict())
"""


def run_delivery(db_url: str, at: datetime, port: int, kill_when: Callable[[], bool] | None) -> int:
    env = {**os.environ, "DUBAN_SMTP_PORT": str(port), "DUBAN_DELIVERY_WINDOW": "false",
           "DUBAN_SMTP_MAX_CONNECTIONS": "3", "DUBAN_SMTP_TIMEOUT": "5", "DUBAN_DELIVERY_MAX_UNRECORDED": str(AHEAD)}
    process = subprocess.Popen([sys.executable, "-c", RUN, db_url, at.isoformat()], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_when is None:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        return 0
    deadline = time.monotonic() + 60
    while not kill_when() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return process.returncode


def test_kill_9_at_random_points_loses_nothing_and_duplicates_share_the_message_id(
    db_url: str, engine: Engine, now: datetime, smtp_sink: SmtpSink
) -> None:
    with Session(engine) as session:
        for i in range(MESSAGES):
            unit = make_unit(session, contact_emails=[f"unit{i}@example.gov.cn"])
            for _ in range(5):
                notify(session, make_item(session, lead_unit=unit), "reminder", unit.contact_emails)
        session.commit()
    smtp_sink.handler.delay_seconds = 0.02  # so that kills land in the middle of the run
    rng = random.Random(os.environ.get("DUBAN_KILL_SEED", "4"))
    received = smtp_sink.handler.received
    at, kills = now, []
    # The first kill at a random moment of start-up or grouping, the others after a random
    # number of accepted messages plus a random pause: before, during or after a batch's commit.
    started = time.monotonic()
    first = rng.uniform(0.2, 2.0)
    run_delivery(db_url, at, smtp_sink.port, kill_when=lambda: time.monotonic() - started > first)
    for _ in range(4):
        at += timedelta(hours=1)  # past the claim lease: what the killed run held is due again
        target, pause = len(received) + rng.randint(1, 12), rng.uniform(0, 0.05)
        run_delivery(db_url, at, smtp_sink.port,
                     kill_when=lambda t=target, p=pause: len(received) >= t and (time.sleep(p) or True))
        kills.append(len(received))
    run_delivery(db_url, at + timedelta(hours=1), smtp_sink.port, kill_when=None)

    with Session(engine) as session:
        outbox = session.exec(select(OutboxMessage)).all()
    assert len(outbox) == MESSAGES and all(row.status == OutboxStatus.SENT for row in outbox)
    received = Counter(smtp_sink.handler.message_ids())
    assert set(received) == {row.message_id for row in outbox}  # nothing lost, nothing unknown
    duplicates = {mid: n for mid, n in received.items() if n > 1}
    by_id: dict[str, set[bytes]] = {}
    for r in smtp_sink.handler.received:
        by_id.setdefault(r.message_id, set()).add(r.raw)
    assert all(len(bodies) == 1 for bodies in by_id.values()), "a re-send carries the very same message"
    assert kills[-1] < len(outbox) + len(duplicates), "the kills must land before delivery was complete"
    # Each kill re-sends at most what the server accepted and the database had not yet recorded:
    # AHEAD outcomes plus the one in flight, per connection (3 here).
    bound = (AHEAD + 1) * 3 * (len(kills) + 1)
    assert sum(duplicates.values()) - len(duplicates) <= bound
    print(f"\nreceived after each kill: {kills}; duplicates: {sum(duplicates.values()) - len(duplicates)}")
