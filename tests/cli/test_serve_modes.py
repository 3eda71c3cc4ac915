"""`duban serve` in server mode: the web app only; the Prefect server owns the schedules."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import Session, select

from models.db import make_engine
from models.sweep_tables import SchedulerLease

DUBAN = str(Path(sys.executable).with_name("duban"))


def _env(sqlite_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "DUBAN_DATABASE_URL": sqlite_url, "DUBAN_CONFIG": str(tmp_path / "none.toml"),
            "DUBAN_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300", "DUBAN_LOCALE": "en", **extra}


def test_server_mode_serves_the_web_app_and_schedules_nothing(sqlite_url, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _env(sqlite_url, tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api")  # never contacted here
    process = subprocess.Popen([DUBAN, "serve", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        status = None
        for _ in range(120):
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert status == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert "server mode: the schedules live on the Prefect server at http://127.0.0.1:9/api" in output
    assert "Traceback" not in output
    with Session(make_engine(sqlite_url)) as session:
        assert session.exec(select(SchedulerLease)).all() == []  # no scheduler took the lease


def test_server_mode_without_web_is_refused_with_the_reason(sqlite_url, tmp_path):
    env = _env(sqlite_url, tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api")
    result = subprocess.run([DUBAN, "serve", "--no-web"], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 1
    assert "--no-web leaves this process nothing to do" in result.stderr and "Traceback" not in result.stderr
