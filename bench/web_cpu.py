"""Server CPU per request for each page of bench/web.py, in one process, without HTTP or a load generator.

The ASGI app is called directly in one event loop: what a page costs the server, readable on a
loaded machine where bench/web.py's latencies mostly measure waiting for a core. Prints CPU and
wall ms per request (best of `--rounds`) and the load average.
Run: `.venv/bin/python -m bench.web_cpu --reuse /tmp/bench.db` [--items 100000 --units 1000
--requests 100 --rounds 3 --only items,item --profile] (the ledger is bench/web.py's).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx

from bench.web import PASSWORD, build, duban_pages, settled_cookies
from config import clock


async def _call(app: Any, path: str, cookie: str) -> tuple[int, bytes]:
    """One GET through the whole app (middleware, dependencies, route), as uvicorn would make it."""
    route, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": route, "raw_path": route.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {}}
    status, body = 0, []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


async def _cookie(app: Any, email: str) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        page = await client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = await client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
        assert response.status_code == 303, response.text[:300]
        return "; ".join(f"{name}={value}" for name, value in (await settled_cookies(client)).items())


async def measure(n_items: int, n_units: int, requests: int, rounds: int, only: set[str], profile: bool) -> None:
    from web.app import create_app

    app = create_app()
    cookies = {who: await _cookie(app, f"{who}@bench.gov.cn") for who in ("sup", "officer")}
    pages = [(key, who, path) for key, _label, who, path in duban_pages(n_items, n_units)]
    print(f"load average {os.getloadavg()[0]:.2f} before")
    print(f"{'page':<12}{'CPU ms':>8}{'wall ms':>9}{'bytes':>8}   (a request, best of {rounds} x {requests})")
    for name, who, path in pages:
        if only and name not in only:
            continue
        warm = random.Random(1)
        for _ in range(5):  # templates compiled, statement caches and the dashboard's figures filled
            status, _ = await _call(app, path(warm), cookies[who])
            assert status == 200, (name, status)
        best: tuple[float, float] | None = None
        profiler = cProfile.Profile() if profile else None
        for _ in range(rounds):
            rng = random.Random(2)
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for _ in range(requests):
                status, body = await _call(app, path(rng), cookies[who])
                assert status == 200, (name, status)
            if profiler:
                profiler.disable()
            spent = (time.process_time() - cpu, time.perf_counter() - wall)
            best = spent if best is None or spent[0] < best[0] else best
        assert best is not None
        print(f"{name:<12}{best[0] * 1000 / requests:>8.2f}{best[1] * 1000 / requests:>9.2f}{len(body):>8}")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    print(f"load average {os.getloadavg()[0]:.2f} after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=100, help="requests a page in each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", type=Path, help="a SQLite file: built there once, reused by later runs")
    parser.add_argument("--only", default="", help="pages, comma-separated (dashboard,items,filtered,item,...)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's view of each page (slower)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-web-cpu-"))
    database = args.reuse or workdir / "bench.db"
    url = f"sqlite:///{database}"
    os.environ.update(DUBAN_DATABASE_URL=url, DUBAN_DATA_DIR=str(workdir / "data"),
                      DUBAN_SECRET_KEY="bench-secret-key-0123456789", DO_NOT_TRACK="1")
    if not database.exists():
        build(url, args.items, args.units, clock.now().astimezone(UTC))
    asyncio.run(measure(args.items, args.units, args.requests, args.rounds,
                        {p for p in args.only.split(",") if p}, args.profile))


if __name__ == "__main__":
    main()
