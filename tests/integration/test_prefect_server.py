"""Server mode end to end: a Prefect server on PostgreSQL, deployments, two racing workers.

It follows docs/deploy.md's set-up: a role owning each database, `duban init` as duban's role,
the Prefect server on loopback with its API's basic authentication, `duban deploy`, two workers
started outside any checkout, then a sweep and two racing deliveries, `duban doctor`, and an
embedded `duban serve` refused on the cluster's database. Then a worker is killed (SIGKILL, with
its flow run) in the middle of a delivery: the first `deliver` run after the claim's lease
(`DUBAN_DELIVERY_LEASE_SECONDS`) sends the rest, each message once, and the automation `duban
deploy` applies marks the killed flow run CRASHED once its heartbeats stop. Last, an upgrade in the
order docs/deploy.md gives (workers, then server, down; `duban init`; server, `duban deploy`,
workers up) and a sweep after it.

Run alone with `python3 dev.py test --integration`. It starts real processes (the Prefect server
twice, four `prefect worker` processes) and takes two to four minutes; it prints how long the
cluster took from nothing (no tables, no server) to its first completed sweep.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from models.db import make_engine
from models.outbox import OutboxMessage
from models.tables import Notification
from tests.conftest import PG_ADMIN_URL, _pg_reason
from tests.factories import make_document, make_item, make_unit

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NOW = datetime.fromisoformat("2024-07-01T10:00+08:00")  # a Monday, inside the delivery window
DEPLOY = ("deploy", "--paused", "--unresponsive-after", "50")  # a silent flow run is marked crashed after 50 s
LEASE_SECONDS = 120  # DUBAN_DELIVERY_LEASE_SECONDS for the cluster (its SMTP timeout is 5 s: a floor of 100 s)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """Collects every message the SMTP server accepts.

    With `hold_after` set, it accepts that many messages in all and then keeps every further one
    waiting for its answer (a sender in the middle of a delivery), until `hold_after` is None again;
    a message held is then refused with 451, and not counted."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.recipients: list[str] = []
        self.hold_after: int | None = None
        self.held = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        from email import message_from_bytes

        if self.hold_after is not None and len(self.message_ids) >= self.hold_after:
            self.held += 1
            while self.hold_after is not None:
                await asyncio.sleep(0.1)
            return "451 4.3.0 held, try again later"
        message = message_from_bytes(envelope.content)
        self.message_ids.append(str(message["Message-ID"]))
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


PASSWORD = "it-password"
AUTH = ("duban", "it-api-secret")  # the Prefect API's basic authentication (docs/deploy.md, step 4)


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str]]:
    """As docs/deploy.md step 1: a role owning each database; the duban one not yet migrated."""
    reason = _pg_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; PostgreSQL is required in CI")
        pytest.skip(reason)
    suffix = uuid.uuid4().hex[:8]
    names = (f"duban_it_{suffix}", f"prefect_it_{suffix}")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{PASSWORD}'")
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    host = PG_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]
    yield (f"postgresql://{names[0]}@{host}/{names[0]}",
           f"postgresql+asyncpg://{names[1]}:{PASSWORD}@{host}/{names[1]}")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prefect server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2, auth=AUTH).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"prefect server not healthy after {seconds}s: {log.read_text()[-2000:]}")


def _start(args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, cwd=cwd, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def _as_superuser(url: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]


def _seed(duban_url: str, title: str = "新时代意见", units: int = 5, items: int = 40, mailbox: str = "unit") -> int:
    """`units` units, `items` open items: some overdue, some due within the reminder window, some later.

    Written as the PostgreSQL superuser into the database `duban init` migrated as its owner."""
    engine = make_engine(_as_superuser(duban_url))
    today = date(2024, 7, 1)
    with Session(engine) as s:
        document = make_document(s, title)
        leads = [make_unit(s, f"{title}{i}", contact_emails=[f"{mailbox}{i}@example.gov.cn"]) for i in range(units)]
        for n in range(items):
            item = make_item(s, document=document, number=str(n + 1), lead_unit=leads[n % units],
                             deadline=today + timedelta(days=n % 40 - 20))
            item.next_action_at = item.created_at  # "recompute at the next sweep", as the import does
        s.commit()
    engine.dispose()
    return items


def test_sweep_and_delivery_through_deployments_deliver_each_mail_once(databases, tmp_path):
    started = time.monotonic()
    duban_url, prefect_db_url = databases
    password_file = tmp_path / "duban-db-password"
    password_file.write_text(PASSWORD)
    password_file.chmod(0o600)
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",  # Prefect's floor; the automation below waits 50 s
        "DUBAN_DATABASE_URL": duban_url,
        "DUBAN_DATABASE_PASSWORD_FILE": str(password_file),
        "PREFECT_SERVER_API_AUTH_STRING": ":".join(AUTH),
        "PREFECT_API_AUTH_STRING": ":".join(AUTH),
        "DUBAN_SMTP_HOST": "127.0.0.1",
        "DUBAN_SMTP_PORT": str(smtp.port),
        "DUBAN_SMTP_TIMEOUT": "5",
        "DUBAN_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "DUBAN_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("PREFECT_API_URL", None)
    # Step 3: `duban init` as duban's own role (no superuser), then the test's data.
    _duban(env, tmp_path, "init")
    _seed(duban_url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server_log = tmp_path / "server.log"
        processes.append(_start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env, server_log))
        _wait_healthy(api, processes[0], server_log)
        assert httpx.post(f"{api}/deployments/filter", json={}, timeout=10).status_code == 401  # no auth, no API
        env["PREFECT_API_URL"] = api
        _duban(env, tmp_path, *DEPLOY)
        processes += _start_workers(env, tmp_path, "w1", "w2")

        sweep = _run_deployments(api, "sweep/sweep", count=1)
        assert sweep == ["COMPLETED"], _logs(tmp_path)
        print(f"\nfrom nothing to a working cluster (init, server, deploy, 2 workers, first sweep): "
              f"{time.monotonic() - started:.1f} s")
        with Session(make_engine(_as_superuser(duban_url))) as s:
            queued = len(s.exec(select(Notification)).all())
        assert queued > 0

        # Two delivery runs at once: the two workers race for the same rows.
        assert _run_deployments(api, "deliver/deliver", count=2) == ["COMPLETED", "COMPLETED"], _logs(tmp_path)
        with Session(make_engine(_as_superuser(duban_url))) as s:
            messages = s.exec(select(OutboxMessage)).all()
            notifications = s.exec(select(Notification)).all()
        assert messages and all(m.status == "sent" for m in messages)
        assert all(n.outbox_id is not None for n in notifications)
        _assert_each_sent_once(sink, messages)
        # grouped: one mail per unit address, not one per item
        assert len(messages) < queued

        doctor = subprocess.run([str(BIN / "duban"), "doctor"], env={**env, "DUBAN_LOCALE": "en", "COLUMNS": "300"},
                                cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert f"schedules: the Prefect server at {api}" in doctor.stdout, doctor.stdout + doctor.stderr
        assert "deployments: paused: sweep, deliver, digest" in doctor.stdout  # deployed --paused above
        assert "work pool: duban: 2 worker(s) online" in doctor.stdout
        assert _automations(api) == ["duban: crash unresponsive flow runs"]
        assert "crashed runs: a flow run silent for 50 s is marked crashed" in doctor.stdout

        # The same database refuses an embedded `duban serve` beside the Prefect server.
        embedded = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
        refused = subprocess.run([str(BIN / "duban"), "serve", "--no-web"], env={**embedded, "DUBAN_LOCALE": "en"},
                                 cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1 and f"belong to the Prefect server at {api}" in refused.stderr

        _kill_a_worker_while_it_delivers(api, duban_url, sink, processes, tmp_path)
        _upgrade_in_order(api, env, duban_url, port, processes, tmp_path)
        print(f"whole runbook: {time.monotonic() - started:.1f} s")
    finally:
        _stop(processes)
        smtp.stop()


def _kill_a_worker_while_it_delivers(api: str, duban_url: str, sink: Sink, processes: list[subprocess.Popen[bytes]],
                                     tmp_path: Path) -> None:
    """SIGKILL the worker sending a delivery, and its flow run, after some of the mail went out;
    the rest goes out once, with the first run after the lease, from the other worker."""
    _seed(duban_url, title="营商环境意见", units=24, items=24, mailbox="desk")
    assert _run_deployments(api, "sweep/sweep", count=1) == ["COMPLETED"], _logs(tmp_path)
    before = len(sink.message_ids)
    sink.hold_after = before + 5
    [run] = _start_runs(api, "deliver/deliver", count=1, at=NOW)
    deadline = time.monotonic() + 120
    sender: subprocess.Popen[bytes] | None = None
    while time.monotonic() < deadline and (sender is None or _sent(duban_url) < before + 5 or sink.held == 0):
        # the worker whose flow-run process runs *this* run (the other may still be ending its last one)
        sender = sender or next((p for p in processes[1:] if any(
            f"PREFECT__FLOW_RUN_ID={run}".encode() in _environ(child) for child in _descendants(p.pid))), None)
        time.sleep(0.2)
    assert sender is not None and sink.held > 0, _logs(tmp_path)
    assert len(sink.message_ids) == _sent(duban_url) == before + 5  # what went out is recorded
    for pid in [sender.pid, *_descendants(sender.pid)]:
        os.kill(pid, signal.SIGKILL)
    sender.wait(timeout=30)
    processes.remove(sender)
    sink.hold_after = None

    with Session(make_engine(_as_superuser(duban_url))) as s:
        left = [m for m in s.exec(select(OutboxMessage)).all() if m.status != "sent"]
    assert left and all(m.claim for m in left)  # claimed by the dead run, leased
    # Before the lease ends, another run leaves them alone (the dead run might still be sending) ...
    early = NOW + timedelta(seconds=LEASE_SECONDS - 5)
    assert _run_deployments(api, "deliver/deliver", count=1, at=early) == ["COMPLETED"], _logs(tmp_path)
    assert len(sink.message_ids) == before + 5
    # ... and the first run after it sends them, each once, with the Message-ID the dead run used.
    late = NOW + timedelta(seconds=LEASE_SECONDS + 1)
    assert _run_deployments(api, "deliver/deliver", count=1, at=late) == ["COMPLETED"], _logs(tmp_path)
    with Session(make_engine(_as_superuser(duban_url))) as s:
        messages = s.exec(select(OutboxMessage)).all()
    assert all(m.status == "sent" for m in messages), [(m.id, m.status) for m in messages if m.status != "sent"]
    _assert_each_sent_once(sink, messages)
    assert len(sink.message_ids) > before + 5
    # The killed run itself: no heartbeat since the kill, so `duban deploy`'s automation marks it CRASHED
    # (Prefect's server alone would leave it RUNNING for ever).
    assert _final_state(api, run, timeout=150) == "CRASHED", _logs(tmp_path)


def _upgrade_in_order(api: str, env: dict[str, str], duban_url: str, port: int,
                      processes: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    """docs/deploy.md, Upgrading: workers down, then the server; `duban init`; the server up,
    `duban deploy`, the workers up; a sweep runs after it."""
    server, workers = processes[0], processes[1:]
    _stop(workers)
    assert all(w.returncode is not None for w in workers)
    _stop([server])
    processes.clear()
    _duban({k: v for k, v in env.items() if k != "PREFECT_API_URL"}, tmp_path, "init")
    server_log = tmp_path / "server-2.log"
    processes.append(_start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env, server_log))
    _wait_healthy(api, processes[0], server_log)
    _duban(env, tmp_path, *DEPLOY)
    assert _automations(api) == ["duban: crash unresponsive flow runs"]  # updated, not a second one
    processes += _start_workers(env, tmp_path, "w3", "w4")
    _seed(duban_url, title="乡村振兴意见", units=3, items=6, mailbox="village")
    with Session(make_engine(_as_superuser(duban_url))) as s:
        queued = len(s.exec(select(Notification)).all())
    assert _run_deployments(api, "sweep/sweep", count=1) == ["COMPLETED"], _logs(tmp_path)
    with Session(make_engine(_as_superuser(duban_url))) as s:
        assert len(s.exec(select(Notification)).all()) > queued  # the sweep after the upgrade did its work


def _duban(env: dict[str, str], cwd: Path, *args: str) -> None:
    done = subprocess.run([str(BIN / "duban"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _start_workers(env: dict[str, str], tmp_path: Path, *names: str) -> list[subprocess.Popen[bytes]]:
    # Workers run duban from its installation, in a directory of their own: no checkout needed.
    return [_start([str(BIN / "prefect"), "worker", "start", "--pool", "duban", "--type", "process", "--name", name],
                   env, tmp_path / f"{name}.log", cwd=tmp_path) for name in names]


def _assert_each_sent_once(sink: Sink, messages: list[OutboxMessage]) -> None:
    counts = Counter(sink.message_ids)
    assert sorted(counts) == sorted(m.message_id for m in messages)
    assert set(counts.values()) == {1}, f"sent twice: {[k for k, v in counts.items() if v > 1]}"


def _sent(duban_url: str) -> int:
    with Session(make_engine(_as_superuser(duban_url))) as s:
        return sum(1 for m in s.exec(select(OutboxMessage)).all() if m.status == "sent")


def _descendants(pid: int) -> list[int]:
    """The processes below `pid` (from /proc), children first."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _start_runs(api: str, name: str, count: int, at: datetime) -> list[uuid.UUID]:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: ":".join(AUTH)}):
        return [run_deployment(name, parameters={"now": at.isoformat()}, timeout=0).id for _ in range(count)]


def _run_deployments(api: str, name: str, count: int, at: datetime = NOW, timeout: float = 300) -> list[str]:
    """Start `count` runs of a deployment at once and wait for all of them; their final states."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    runs = _start_runs(api, name, count, at)
    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: ":".join(AUTH)}):
        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while True:
                states = [client.read_flow_run(r).state for r in runs]
                if all(s is not None and s.is_final() for s in states):
                    return [s.type.value for s in states if s is not None]
                if time.monotonic() > deadline:
                    return [s.type.value if s else "NONE" for s in states]
                time.sleep(1)


def _automations(api: str) -> list[str]:
    found = httpx.post(f"{api}/automations/filter", json={}, auth=AUTH, timeout=10)
    found.raise_for_status()
    return [a["name"] for a in found.json()]


def _final_state(api: str, run: uuid.UUID, timeout: float) -> str:
    """The run's state type once final, or its current one after `timeout` seconds."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: ":".join(AUTH)}):
        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while True:
                state = client.read_flow_run(run).state
                if (state is not None and state.is_final()) or time.monotonic() > deadline:
                    return state.type.value if state else "NONE"
                time.sleep(2)


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(tmp_path.glob("*.log")))
