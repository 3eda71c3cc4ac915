"""Server mode end to end: a Prefect server on PostgreSQL, deployments, two racing workers.

It follows docs/deploy.md's set-up: a role owning each database, `duban init` as duban's role,
the Prefect server on loopback with its API's basic authentication, `duban deploy`, two workers
started outside any checkout, then a sweep and two racing deliveries, `duban doctor`, and an
embedded `duban serve` refused on the cluster's database.

Run alone with `python -m pytest -m integration`. It starts real processes (the Prefect server,
two `prefect worker` processes) and takes a minute or two.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
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
NOW = "2024-07-01T10:00+08:00"  # a Monday, inside the delivery window


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        from email import message_from_bytes

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


def _seed(duban_url: str) -> int:
    """Five units, 40 open items: some overdue, some due within the reminder window, some later.

    Written as the PostgreSQL superuser into the database `duban init` migrated as its owner."""
    engine = make_engine(_as_superuser(duban_url))
    today = date(2024, 7, 1)
    with Session(engine) as s:
        document = make_document(s, "新时代意见")
        units = [make_unit(s, f"单位{i}", contact_emails=[f"unit{i}@example.gov.cn"]) for i in range(5)]
        for n in range(40):
            item = make_item(s, document=document, number=str(n + 1), lead_unit=units[n % 5],
                             deadline=today + timedelta(days=n - 20))
            item.next_action_at = item.created_at  # "recompute at the next sweep", as the import does
        s.commit()
    engine.dispose()
    return 40


def test_sweep_and_delivery_through_deployments_deliver_each_mail_once(databases, tmp_path):
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
        "DUBAN_DATABASE_URL": duban_url,
        "DUBAN_DATABASE_PASSWORD_FILE": str(password_file),
        "PREFECT_SERVER_API_AUTH_STRING": ":".join(AUTH),
        "PREFECT_API_AUTH_STRING": ":".join(AUTH),
        "DUBAN_SMTP_HOST": "127.0.0.1",
        "DUBAN_SMTP_PORT": str(smtp.port),
        "DUBAN_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("PREFECT_API_URL", None)
    # Step 3: `duban init` as duban's own role (no superuser), then the test's data.
    initialised = subprocess.run([str(BIN / "duban"), "init"], env=env, cwd=tmp_path, capture_output=True, text=True,
                                 timeout=300)
    assert initialised.returncode == 0, initialised.stdout + initialised.stderr
    _seed(duban_url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server_log = tmp_path / "server.log"
        processes.append(_start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env, server_log))
        _wait_healthy(api, processes[0], server_log)
        assert httpx.post(f"{api}/deployments/filter", json={}, timeout=10).status_code == 401  # no auth, no API
        env["PREFECT_API_URL"] = api
        deployed = subprocess.run([str(BIN / "duban"), "deploy", "--paused"], env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=300)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        for name in ("w1", "w2"):
            # Workers run duban from its installation, in a directory of their own: no checkout needed.
            processes.append(_start([str(BIN / "prefect"), "worker", "start", "--pool", "duban", "--type", "process",
                                     "--name", name], env, tmp_path / f"{name}.log", cwd=tmp_path))

        sweep = _run_deployments(api, "sweep/sweep", count=1)
        assert sweep == ["COMPLETED"], _logs(tmp_path)
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
        counts = Counter(sink.message_ids)
        assert sorted(counts) == sorted(m.message_id for m in messages)
        assert set(counts.values()) == {1}, f"sent twice: {[k for k, v in counts.items() if v > 1]}"
        # grouped: one mail per unit address, not one per item
        assert len(messages) < queued

        doctor = subprocess.run([str(BIN / "duban"), "doctor"], env={**env, "DUBAN_LOCALE": "en", "COLUMNS": "300"},
                                cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert f"schedules: the Prefect server at {api}" in doctor.stdout, doctor.stdout + doctor.stderr
        assert "deployments: paused: sweep, deliver, digest" in doctor.stdout  # deployed --paused above
        assert "work pool: duban: 2 worker(s) online" in doctor.stdout

        # The same database refuses an embedded `duban serve` beside the Prefect server.
        embedded = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
        refused = subprocess.run([str(BIN / "duban"), "serve", "--no-web"], env={**embedded, "DUBAN_LOCALE": "en"},
                                 cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1 and f"belong to the Prefect server at {api}" in refused.stderr
    finally:
        _stop(processes)
        smtp.stop()


def _run_deployments(api: str, name: str, count: int, timeout: float = 300) -> list[str]:
    """Start `count` runs of a deployment at once and wait for all of them; their final states."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: ":".join(AUTH)}):
        runs = [run_deployment(name, parameters={"now": NOW}, timeout=0) for _ in range(count)]
        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while True:
                states = [client.read_flow_run(r.id).state for r in runs]
                if all(s is not None and s.is_final() for s in states):
                    return [s.type.value for s in states if s is not None]
                if time.monotonic() > deadline:
                    return [s.type.value if s else "NONE" for s in states]
                time.sleep(1)


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(tmp_path.glob("*.log")))
