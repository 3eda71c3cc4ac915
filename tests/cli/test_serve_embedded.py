"""`duban serve` in embedded mode is one process: the web app and the scheduled flows, no Prefect server."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from sqlmodel import Session, select

from models.db import make_engine
from models.sweep_tables import SweepRun
from tests.cli.test_serve_modes import DUBAN, _env


def _children(pid: int) -> list[str]:
    """The command lines of the processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append((stat.parent / "cmdline").read_text().replace("\0", " ").strip())
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    return found


def test_serve_runs_the_web_app_and_the_scheduled_sweep_in_one_process(sqlite_url, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(sqlite_url, tmp_path, DUBAN_SWEEP_CRON="* * * * *")  # the sweep's next run within a minute
    env.pop("PREFECT_API_URL", None)
    process = subprocess.Popen([DUBAN, "serve", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    engine = make_engine(sqlite_url)
    try:
        status, swept, children = None, [], []
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not swept:
            children += _children(process.pid)
            try:
                status = status or httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code
            except httpx.HTTPError:
                pass
            with Session(engine) as session:
                swept = session.exec(select(SweepRun)).all()
            time.sleep(0.5)
        children += _children(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        engine.dispose()
    assert status == 200, output
    assert len(swept) == 1, output  # the scheduler ran the sweep job on its time
    assert children == [], f"serve started other processes: {children}"
    assert not (tmp_path / "data" / "prefect").exists()  # Prefect was never set up
    assert "this process owns the schedules" in output and "Traceback" not in output


def test_serve_help_names_both_engines():
    result = subprocess.run([DUBAN, "serve", "--help"], capture_output=True, text=True, timeout=60,
                            env={**_env("sqlite://", Path("/nonexistent")), "COLUMNS": "200"})
    assert "no Prefect server" in result.stdout and "--engine" in result.stdout
