"""Prefect's overhead: the same sweep in-process, through the Prefect engine, and via a worker.

On one 10,000-item ledger with 1% due (each run on a fresh copy of the same SQLite file):
  1. local    - the sweep flow's plain function, in this process (what one-shot commands do);
  2. engine   - the same flow run by the Prefect engine in this process, against a Prefect server;
  3. worker   - the `sweep` deployment run by a `prefect worker` (process pool) on the same server,
                measured from `run_deployment` to the run's completion.
Prints the three times and the differences. Starts its own Prefect server (SQLite, a temporary
home) and one worker; `--server-db postgresql+asyncpg://...` puts the server on PostgreSQL.
Run: `.venv/bin/python -m bench.prefect_overhead [--items 10000]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.deliver import free_port
from bench.sweep import NOW, build

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _copy(template: Path, name: str) -> str:
    target = template.with_name(name)
    shutil.copy(template, target)
    return f"sqlite:///{target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--server-db", help="the Prefect server's database URL (default: SQLite in a temp home)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="duban-prefect-bench-"))
    template = tmp / "template.db"
    build(f"sqlite:///{template}", args.items, 0.01)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false", "PREFECT_WORKER_QUERY_SECONDS": "1",
           "PREFECT_TASKS_DEFAULT_NO_CACHE": "true", "DUBAN_DATABASE_URL": _copy(template, "deploy.db"),
           "DUBAN_DATA_DIR": str(tmp / "data")}
    env.pop("PREFECT_API_URL", None)
    if args.server_db:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = args.server_db
    os.environ.update({k: v for k, v in env.items() if k.startswith(("PREFECT_", "DO_NOT"))})
    processes = [subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait(api)
        env["PREFECT_API_URL"] = os.environ["PREFECT_API_URL"] = api
        subprocess.run([str(BIN / "duban"), "deploy", "--paused"], env=env, cwd=tmp, check=True, capture_output=True)
        processes.append(subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "duban", "--type",
                                           "process"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        from flows.runtime import run_flow
        from flows.sweep import sweep

        now = NOW.isoformat()
        started = time.perf_counter()
        local = run_flow(sweep, engine="local", now=now, database_url=_copy(template, "local.db"))
        t_local = time.perf_counter() - started
        run_flow(sweep, engine="prefect", now=now, database_url=_copy(template, "warm.db"))  # warm up the client
        started = time.perf_counter()
        engine = run_flow(sweep, engine="prefect", now=now, database_url=_copy(template, "engine.db"))
        t_engine = time.perf_counter() - started
        t_worker, state = _via_worker(now, _copy(template, "worker.db"))
    finally:
        for p in reversed(processes):
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker busy shutting down its pool: the figures are taken
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    examined = local.result["examined"]
    assert engine.result["examined"] == examined
    print(f"sweep of {args.items} items, {examined} due, the same data each time:")
    print(f"  local (plain function, in-process):       {t_local:7.2f} s")
    print(f"  Prefect engine, in-process, with server:  {t_engine:7.2f} s   (+{t_engine - t_local:.2f} s)")
    print(f"  deployment via a process worker:          {t_worker:7.2f} s   (+{t_worker - t_local:.2f} s; {state})")
    print("  (the worker figure includes its poll interval (1 s) and starting a Python process for the run)")


def _via_worker(now: str, database_url: str) -> tuple[float, str]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    started = time.perf_counter()
    run = run_deployment("sweep/sweep", parameters={"now": now, "database_url": database_url}, timeout=0)
    with get_client(sync_client=True) as client:
        while True:
            state = client.read_flow_run(run.id).state
            if state is not None and state.is_final():
                return time.perf_counter() - started, state.type.value
            time.sleep(0.2)


def _wait(api: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"{api}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the Prefect server did not start")


if __name__ == "__main__":
    main()
