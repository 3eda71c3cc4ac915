"""Web benchmark: 100,000 items, 1,000 units; dashboard, item list (first page, filtered), item page.

20 concurrent clients (asyncio) for 30 seconds against uvicorn on loopback, in separate
processes (`--workers`, as `duban serve --workers N` runs it); prints requests/second and
p50/p95 latency per page, after a few seconds of the same load that are not counted (every server
process warmed; the first request of each page, cold, is printed on its own). Target: p95 < 100 ms. The ledger is built with bulk INSERTs (no ORM).
Run: `.venv/bin/python -m bench.web` [--items 100000 --units 1000 --clients 20 --seconds 30
--workers 2 --database-url postgresql://...].

The load generator shares the machine's cores with the server, so by default its clients are
plain keep-alive HTTP/1.1 connections (a few dozen lines below) rather than httpx, which costs
2 to 4 ms of CPU a request on this machine; `--client httpx` measures with httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from config import clock
from migrations.runner import upgrade
from models.accounts import hash_password
from models.db import make_engine
from models.tables import Document, Item, ItemCoUnit, ItemEvent, Person, Unit

PASSWORD = "bench password"
CHUNK = 5000
TARGET_P95_MS = 60  # every page, 20 clients, 2 processes (issue 15)


def build(url: str, n_items: int, n_units: int, now: datetime) -> None:
    """Units, people, 20 documents, items in every state, co-units, sign-off events over 10 weeks."""
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(n_items)
    today = now.date()
    hashed = hash_password(PASSWORD)
    with engine.begin() as conn:
        conn.execute(insert(Unit.__table__), [  # type: ignore[attr-defined]
            {"id": u + 1, "name": f"第{u + 1}单位", "code": f"U{u + 1:04d}", "parent_id": None,
             "contact_emails": [f"u{u + 1}@example.gov.cn"], "leader_emails": []} for u in range(n_units)
        ])
        people = [{"id": 1, "name": "督查一", "email": "sup@bench.gov.cn", "role": "supervisor", "unit_id": None,
                   "locale": None, "active": True, "password_hash": hashed},
                  {"id": 2, "name": "科员一", "email": "officer@bench.gov.cn", "role": "officer", "unit_id": 1,
                   "locale": None, "active": True, "password_hash": hashed}]
        people += [{"id": 3 + s, "name": f"督查{s + 2}", "email": f"sup{s}@bench.gov.cn", "role": "supervisor",
                    "unit_id": None, "locale": None, "active": True, "password_hash": None} for s in range(19)]
        conn.execute(insert(Person.__table__), people)  # type: ignore[attr-defined]
        conn.execute(insert(Document.__table__), [  # type: ignore[attr-defined]
            {"id": d + 1, "short_name": f"文件{d + 1}号", "title": f"关于第{d + 1}号文件的意见", "issuer": "",
             "issue_date": None} for d in range(20)
        ])
        items, co_units, events = [], [], []
        for i in range(1, n_items + 1):
            roll = rng.random()
            status = ("signed_off" if roll < 0.4 else "submitted" if roll < 0.5 else "in_progress" if roll < 0.8
                      else "assigned" if roll < 0.98 else "cancelled")
            deadline = today + timedelta(days=rng.randint(-120, 180))
            overdue = status in ("assigned", "in_progress") and deadline < today
            items.append({
                "id": i, "document_id": rng.randint(1, 20), "number": str(i), "title": f"推进第{i}项重点任务落实见效",
                "category": "", "lead_unit_id": rng.randint(1, n_units), "supervisor_id": rng.choice([None, 1, 3, 4]),
                "original_deadline": deadline, "deadline": deadline, "notes": "", "status": status,
                "deadline_version": 1, "escalation_level": rng.choice([1, 1, 2, 3]) if overdue and rng.random() < 0.5 else 0,
                "next_action_at": None, "version": 1, "created_at": now - timedelta(days=200),
                "updated_at": now - timedelta(days=rng.randint(0, 100)),
            })
            if rng.random() < 0.3:
                co_units.append({"item_id": i, "unit_id": rng.randint(1, n_units)})
            if status == "signed_off":
                events.append({"item_id": i, "kind": "signed_off", "at": now - timedelta(days=rng.randint(0, 300)),
                               "actor_id": 1, "actor_label": "督查一", "from_status": "submitted",
                               "to_status": "signed_off", "payload": {}})
        for table, rows in ((Item.__table__, items), (ItemCoUnit.__table__, _unique(co_units)),  # type: ignore[attr-defined]
                            (ItemEvent.__table__, events)):  # type: ignore[attr-defined]
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[start:start + CHUNK])
        if engine.dialect.name == "postgresql":
            for table in ("unit", "person", "document", "item"):
                conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def _unique(rows: list[dict[str, int]]) -> list[dict[str, int]]:
    return list({(r["item_id"], r["unit_id"]): r for r in rows}.values())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int, data_dir: str, workers: int) -> None:
    """The server: uvicorn with `workers` processes, each building the app from the environment."""
    from web import server

    os.environ.update(DUBAN_DATABASE_URL=url, DUBAN_DATA_DIR=data_dir, DUBAN_SECRET_KEY="bench-secret-key-0123456789")
    server.run("web.app:create_app", factory=True, workers=workers, host="127.0.0.1", port=port,
               log_level="warning", access_log=False, timeout_keep_alive=30)


class PlainClient:
    """One keep-alive HTTP/1.1 connection sending GETs with a fixed Cookie header."""

    def __init__(self, base: str, cookies: httpx.Cookies) -> None:
        self.host, self.port = base.removeprefix("http://").split(":")
        self.cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, int(self.port))
        reader, writer = self.streams
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nCookie: {self.cookie}\r\n\r\n".encode())
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            else:  # chunked
                chunks = []
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    chunks.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                await reader.readexactly(2)
                body = b"".join(chunks)
            if headers.get("connection") == "close":
                await self.aclose()
            return int(head[0].split()[1]), body
        except (OSError, asyncio.IncompleteReadError):
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _login(base: str, email: str) -> httpx.Cookies:
    async with httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = await client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
        assert response.status_code == 303, response.text[:300]
        return await settled_cookies(client)


async def settled_cookies(client: httpx.AsyncClient) -> httpx.Cookies:
    """The cookies a browser holds once logged in: login starts a fresh session without a CSRF token,
    and the first page it sees adds one (a new cookie). Clients sending the login's cookie as it
    was made the server add a token and sign a new cookie on every request, which a browser's
    requests never cost. A page that is cheap in every process (not the dashboard's figures)."""
    response = await client.get("/password")
    assert response.status_code == 200 and "set-cookie" in response.headers, response.status_code
    return client.cookies


def duban_pages(n_items: int, n_units: int) -> list[tuple[str, str, str, Callable[[random.Random], str]]]:
    """The page mix: (short name, label, who asks, the path for a random generator). bench/web_cpu.py
    and bench/redmine.py measure these same pages."""
    return [
        ("dashboard", "dashboard", "sup", lambda r: "/"),
        ("items", "items, first page", "sup", lambda r: "/items"),
        ("filtered", "items, filtered", "sup", lambda r: f"/items?unit=U{r.randint(1, n_units):04d}&overdue=1&sort=level"),
        ("item", "item page", "sup", lambda r: f"/items/{r.randint(1, n_items)}"),
        ("off_dash", "officer dashboard", "officer", lambda r: "/"),
        ("off_items", "officer items", "officer", lambda r: "/items"),
    ]


def stop(server: subprocess.Popen[bytes], timeout: float) -> None:
    """Terminate a server process; kill it if it has not exited after `timeout` seconds."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def load(base: str, n_items: int, n_units: int, clients: int, seconds: float,
               think: float = 0.0, client: str = "plain", *, pages: list[Any] | None = None,
               cookies: dict[str, Any] | None = None, warmup: float | None = None) -> tuple[dict[str, list[float]], float]:
    """`pages`, `cookies`: another page mix or server (bench/redmine.py); by default duban's six pages.
    `warmup`: seconds of load before the timed window, not counted (default a fifth of it, at most 3 s)."""
    cookies = cookies or {who: await _login(base, f"{who}@bench.gov.cn") for who in ("sup", "officer")}
    pages = pages or [(label, who, path) for _key, label, who, path in duban_pages(n_items, n_units)]
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    async with httpx.AsyncClient(base_url=base, timeout=120) as first:
        print("first request of each page (cold caches):", flush=True)
        for name, who, path in pages:
            started = time.perf_counter()
            await first.get(path(random.Random(0)), cookies=cookies[who])
            print(f"  {name:<20}{(time.perf_counter() - started) * 1000:>10.1f} ms", flush=True)
    stop = time.monotonic() + (min(3.0, seconds / 5) if warmup is None else warmup)

    async def worker(n: int) -> None:
        rng = random.Random(n)
        sessions: dict[str, Any] = {
            who: PlainClient(base, jar) if client == "plain" else httpx.AsyncClient(base_url=base, cookies=jar, timeout=30)
            for who, jar in cookies.items()
        }
        k = n
        while time.monotonic() < stop:
            name, who, path = pages[k % len(pages)]
            k += 1
            started = time.perf_counter()
            try:
                response = await sessions[who].get(path(rng))
            except (httpx.TransportError, OSError, asyncio.IncompleteReadError):
                errors[name] += 1
                continue
            elapsed = time.perf_counter() - started
            status = response[0] if isinstance(response, tuple) else response.status_code
            if status != 200:
                errors[name] += 1
            timings[name].append(elapsed)
            if think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        for session in sessions.values():
            await session.aclose()

    # Every server process warms its caches before the timed window: the first requests above all
    # reach one process (one connection), so without this the others would work out the dashboards'
    # figures inside the window. `warmup` seconds at full concurrency on fresh connections, not counted.
    await asyncio.gather(*(worker(n) for n in range(clients)))
    timings.clear()
    errors.clear()
    stop = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    elapsed = time.monotonic() - started
    for name, count in errors.items():
        print(f"  {name}: {count} non-200 responses")
    return timings, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each client waits between requests (0: back to back, the saturation test)")
    parser.add_argument("--reuse", type=Path, help="a SQLite file: built there once, reused by later runs")
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2: one a core here)")
    parser.add_argument("--client", choices=("plain", "httpx"), default="plain",
                        help="the load generator's HTTP client (plain: cheap keep-alive connections)")
    parser.add_argument("--redmine", action="store_true",
                        help="item list and item page against Redmine under puma (where Debian's redmine is installed)")
    parser.add_argument("--redmine-root", type=Path, default=Path(os.environ.get("DUBAN_BENCH_REDMINE_ROOT", "/usr/share/redmine")),
                        help="Redmine's application directory")
    parser.add_argument("--rounds", type=int, default=2, help="with --redmine: rounds of duban then Redmine")
    parser.add_argument("--serve", nargs=4, metavar=("URL", "PORT", "DATA_DIR", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2], int(args.serve[3]))
        return
    if args.redmine:
        from bench.redmine import compare_web

        compare_web(args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-web-"))
    url = args.database_url or f"sqlite:///{args.reuse or workdir / 'bench.db'}"
    if not (args.reuse and args.reuse.exists()):
        started = time.perf_counter()
        build(url, args.items, args.units, clock.now().astimezone(UTC))
        print(f"built {args.items:,} items, {args.units:,} units in {time.perf_counter() - started:.1f} s "
              f"({url.split(':')[0]})", flush=True)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.web", "--serve", url, str(port), str(workdir / "data"),
                               str(args.workers)], env={**os.environ, "DO_NOT_TRACK": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        load_before = os.getloadavg()
        timings, elapsed = asyncio.run(load(base, args.items, args.units, args.clients, args.seconds, args.think,
                                            args.client))
        load_after = os.getloadavg()
    finally:
        stop(server, timeout=10)
    total = sum(len(t) for t in timings.values())
    mode = f"think time ~{args.think:g} s" if args.think else "back to back"
    print(f"{args.clients} clients ({mode}, {args.client} client), {args.workers} server process(es), {elapsed:.0f} s: "
          f"{total:,} requests, {total / elapsed:.1f} requests/s")
    print(f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"{'page':<20}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  p95 target <= {TARGET_P95_MS} ms")
    for name, values in timings.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"{name:<20}{len(values):>10}{statistics.median(values) * 1000:>10.1f}{p95 * 1000:>10.1f}"
              f"{ordered[-1] * 1000:>10.1f}  {p95 * 1000 / TARGET_P95_MS:.2f}x the target "
              f"({'met' if p95 * 1000 <= TARGET_P95_MS else 'missed'})")


if __name__ == "__main__":
    main()
