"""The database failing under delivery: sending stops, nothing is lost, duplicates stay within the bound."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from models.outbox import OutboxMessage, OutboxStatus
from notifications import delivery
from notifications.delivery import DeliveryInterrupted, deliver
from tests.mail.conftest import SmtpSink, queue_mail

CONNECTIONS = 2
AHEAD = 3  # DUBAN_DELIVERY_MAX_UNRECORDED here: small, so that 60 messages can exceed the bound
# A crash (or a database that stops answering) can leave this many accepted messages unrecorded:
# the outcomes senders may get ahead of the database, plus one in flight on each connection.
BOUND = (AHEAD + 1) * CONNECTIONS


def _cut() -> OperationalError:
    return OperationalError("UPDATE outbox_message ...", {}, Exception("server closed the connection unexpectedly"))


@pytest.fixture
def record_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Callable[[int], None]], None]]:
    """Wrap the outcome writes (delivery.record, and delivery.record_sent, PostgreSQL's one statement
    for outcomes all plainly sent): `before(n)` runs before the n-th write (1-based) and may raise or block."""
    real = {name: getattr(delivery, name) for name in ("record", "record_sent")}

    def install(before: Callable[[int], None]) -> None:
        calls = 0

        def wrap(name: str) -> Callable[..., None]:
            def wrapped(*args: Any, **kwargs: Any) -> None:
                nonlocal calls
                calls += 1
                before(calls)
                real[name](*args, **kwargs)
            return wrapped

        for name in real:
            monkeypatch.setattr(delivery, name, wrap(name))

    yield install


def _outbox(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_senders_wait_while_too_many_outcomes_are_unrecorded(
    engine: Engine, now: datetime, smtp_sink: SmtpSink, record_calls: Any
) -> None:
    queue_mail(engine, [f"unit{i}@example.gov.cn" for i in range(60)])
    received = smtp_sink.handler.received
    seen_while_blocked: list[int] = []  # messages accepted but not recorded, at each look

    def block_the_first_writes(n: int) -> None:
        # The database is slow: the first writes (one on each writer, PostgreSQL has two) wait while
        # the senders run as far as they will, then look at how far ahead of the database they got.
        if n <= delivery.WRITERS_POSTGRES:
            give_up, last, still_since = time.monotonic() + 2, -1, time.monotonic()
            while len(received) < 60 and time.monotonic() < give_up and time.monotonic() - still_since < 0.3:
                if len(received) != last:
                    last, still_since = len(received), time.monotonic()
                time.sleep(0.01)
            recorded = sum(1 for row in _outbox(engine) if row.status == OutboxStatus.SENT)
            seen_while_blocked.append(len(received) - recorded)

    record_calls(block_the_first_writes)
    summary = deliver(engine, now, smtp_sink.settings(smtp_max_connections=CONNECTIONS, delivery_max_unrecorded=AHEAD))

    assert summary.sent == 60
    assert len(seen_while_blocked) == delivery.WRITERS_POSTGRES
    assert 0 < max(seen_while_blocked) <= BOUND, (
        f"{seen_while_blocked} messages went out while the first outcomes waited to be recorded")


def test_when_recording_fails_sending_stops_and_a_later_run_sends_the_rest(
    engine: Engine, now: datetime, smtp_sink: SmtpSink, record_calls: Any
) -> None:
    queue_mail(engine, [f"unit{i}@example.gov.cn" for i in range(60)])

    def fail_after_the_first_write(n: int) -> None:
        if n > 1:
            raise _cut()

    record_calls(fail_after_the_first_write)
    settings = smtp_sink.settings(smtp_max_connections=CONNECTIONS, delivery_max_unrecorded=AHEAD)
    with pytest.raises(DeliveryInterrupted) as stopped:
        deliver(engine, now, settings)

    summary = stopped.value.summary
    sent_at_the_failure = len(smtp_sink.handler.received)
    assert 1 <= summary.sent and sent_at_the_failure <= summary.sent + BOUND, "sending stopped at once"
    assert summary.unrecorded == sent_at_the_failure - summary.sent
    rows = _outbox(engine)
    statuses = Counter(row.status for row in rows)
    assert statuses[OutboxStatus.SENT] == summary.sent
    released = [row for row in rows if row.status == OutboxStatus.PENDING and row.claim is None]
    still_claimed = [row for row in rows if row.claim is not None]
    assert len(released) == summary.released and len(still_claimed) == summary.unrecorded
    assert summary.sent + summary.unrecorded + summary.released == 60  # the sink accepts everything
    assert "database" in str(stopped.value) and "server closed the connection" in str(stopped.value)

    # The database is back: what was never tried goes out now, what was sent but not recorded
    # once its claim has expired; every message arrives, duplicates only within the bound.
    record_calls(lambda n: None)
    deliver(engine, now + timedelta(minutes=1), settings)
    deliver(engine, now + timedelta(hours=1), settings)
    rows = _outbox(engine)
    assert all(row.status == OutboxStatus.SENT for row in rows)
    arrived = Counter(smtp_sink.handler.message_ids())
    assert set(arrived) == {row.message_id for row in rows}
    assert sum(arrived.values()) - len(arrived) <= BOUND


def test_a_write_that_fails_once_is_written_again_on_a_new_connection(
    engine: Engine, now: datetime, smtp_sink: SmtpSink, record_calls: Any
) -> None:
    queue_mail(engine, [f"unit{i}@example.gov.cn" for i in range(30)])

    def fail_the_second_write_once(n: int) -> None:
        if n == 2:
            raise _cut()

    record_calls(fail_the_second_write_once)
    summary = deliver(engine, now, smtp_sink.settings(smtp_max_connections=CONNECTIONS, delivery_max_unrecorded=AHEAD))

    assert summary.sent == 30 and summary.unrecorded == 0
    assert all(row.status == OutboxStatus.SENT for row in _outbox(engine))
    assert len(smtp_sink.handler.received) == 30


def test_the_cli_says_what_was_done_in_one_line_when_the_database_fails(
    engine: Engine, db_url: str, now: datetime, smtp_sink: SmtpSink, record_calls: Any,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.clirun import cli_runner

    queue_mail(engine, [f"unit{i}@example.gov.cn" for i in range(20)])
    record_calls(lambda n: (_ for _ in ()).throw(_cut()) if n > 1 else None)
    for name, value in {"DUBAN_DATABASE_URL": db_url, "DUBAN_SMTP_PORT": str(smtp_sink.port),
                        "DUBAN_DELIVERY_WINDOW": "false", "DUBAN_LOCALE": "en",
                        # a write per outcome or two, so the second write comes mid-run (half the limit starts one)
                        "DUBAN_DELIVERY_MAX_UNRECORDED": "2"}.items():
        monkeypatch.setenv(name, value)
    run = cli_runner(monkeypatch, capsys)
    result = run("deliver", "--now", now.isoformat(), "--engine", "local")
    assert result.code == 1
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) <= 3
    assert "Delivery stopped because the database failed" in result.err or "delivery stopped" in result.err


@pytest.mark.postgres
def test_backends_terminated_during_delivery_lose_nothing(
    pg_server_url: str, now: datetime, smtp_sink: SmtpSink, tmp_path: Any
) -> None:
    """pg_terminate_backend on the test's own database at random moments of real `deliver` runs."""
    import os
    import random
    import subprocess
    import sys
    from pathlib import Path

    from models.db import make_engine
    from tests.conftest import _truncate_all
    from tests.pgcut import cutting_connections

    engine = make_engine(pg_server_url)
    _truncate_all(engine)
    smtp_sink.handler.delay_seconds = 0.01
    rng = random.Random(os.environ.get("DUBAN_CUT_SEED", "7"))
    env = {**os.environ, "DUBAN_DATABASE_URL": pg_server_url, "DUBAN_SMTP_PORT": str(smtp_sink.port),
           "DUBAN_DELIVERY_WINDOW": "false", "DUBAN_SMTP_MAX_CONNECTIONS": str(CONNECTIONS),
           "DUBAN_DELIVERY_MAX_UNRECORDED": str(AHEAD),
           "DUBAN_LOCALE": "en", "DUBAN_DATA_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]
    at, outcomes = now, []
    for trial in range(6):
        queue_mail(engine, [f"unit{trial}-{i}@example.gov.cn" for i in range(80)])
        at += timedelta(hours=1)  # past any lease a cut run left behind
        with cutting_connections(pg_server_url, rng, first=(0.2, 1.2), then=(0.05, 0.4)):
            process = subprocess.run([sys.executable, "-m", "cli", "deliver", "--now", at.isoformat(),
                                      "--engine", "local"], cwd=root, env=env, capture_output=True, text=True,
                                     timeout=120)
        err = process.stderr
        outcomes.append(process.returncode)
        assert "Traceback" not in err, err
        assert process.returncode in (0, 1), err
        if process.returncode == 1:
            assert len(err.strip().splitlines()) <= 3 and "database" in err.lower(), err
    final = subprocess.run([sys.executable, "-m", "cli", "deliver", "--now", (at + timedelta(hours=1)).isoformat(),
                            "--engine", "local"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    rows = _outbox(engine)
    engine.dispose()
    assert len(rows) == 6 * 80 and all(row.status == OutboxStatus.SENT for row in rows)
    arrived = Counter(smtp_sink.handler.message_ids())
    assert set(arrived) == {row.message_id for row in rows}, "nothing lost"
    duplicates = sum(arrived.values()) - len(arrived)
    assert duplicates <= BOUND * len(outcomes), f"{duplicates} duplicates over {len(outcomes)} cut runs"
    print(f"\ncut runs' exit codes: {outcomes}; duplicates: {duplicates}")
