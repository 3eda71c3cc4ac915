"""Prefect's overhead: the same sweep in-process, through the Prefect engine, and via a worker.

On one 10,000-item ledger with 1% due (each run on a fresh copy of the same SQLite file):
  1. local    - the sweep flow's plain function, in this process (what one-shot commands do);
  2. engine   - the same flow run by the Prefect engine in this process, against a Prefect server;
  3. worker   - the `sweep` deployment run by a `prefect worker` (process pool) on the same server,
                measured from `run_deployment` to the run's completion.
Prints the three times and the differences. Starts its own Prefect server (SQLite, a temporary
home) and one worker; `--server-db postgresql+asyncpg://...` puts the server on PostgreSQL.
`--burst N` then starts N sweep runs at once (each on its own copy) on the one worker and prints
how many flow runs a minute that worker sustains, and the load average: docs/deploy.md's sizing.
Run: `.venv/bin/python -m bench.prefect_overhead [--items 10000] [--burst 20]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
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
    parser.add_argument("--burst", type=int, default=0, help="then N sweep runs at once on the one worker")
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
        burst = _burst(now, [_copy(template, f"burst{i}.db") for i in range(args.burst)]) if args.burst else None
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
    if burst:
        seconds, states, load = burst
        print(f"{args.burst} sweep runs started at once on one process worker: all final after {seconds:.1f} s "
              f"({args.burst / seconds * 60:.1f} runs/min; {dict(states)}); load average at the end {load}")


def _burst(now: str, database_urls: list[str]) -> tuple[float, Counter[str], str]:
    """Start one sweep run per database at once; seconds until all are final, their states, the load."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    started = time.perf_counter()
    runs = [run_deployment("sweep/sweep", parameters={"now": now, "database_url": url}, timeout=0).id
            for url in database_urls]
    with get_client(sync_client=True) as client:
        while True:
            states = [client.read_flow_run(r).state for r in runs]
            if all(s is not None and s.is_final() for s in states):
                load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                return time.perf_counter() - started, Counter(s.type.value for s in states if s), load
            time.sleep(0.5)


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
