"""Redmine 5 as the yardstick: a throw-away Redmine instance holding the benchmarks' ledger shape.

Debian's redmine package (/usr/share/redmine) runs one instance per directory named by
REDMINE_INSTANCE, relative to <root>/instances; this module gives it a temporary directory of
its own (config/database.yml on a fresh SQLite file, secret, log, tmp, files) and never touches
/etc/redmine/default or its database. The schema and Redmine's default data come from Redmine's
own rake tasks; projects, users, memberships and issues are then inserted with plain SQL, which
takes a second where creating them through Redmine would take many minutes. Nothing here
installs anything: `missing()` names what is absent and the benchmarks print "not measured".

One unit is one project with one assignee (a member with the Developer role, mail address
unitN@example.gov.cn); item n is issue n, in project n % units, assigned to that project's user,
due `today + (n % 40 - 10)` days, as bench/reminder_job.py spreads duban's deadlines.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DEFAULT_ROOT = Path(os.environ.get("DUBAN_BENCH_REDMINE_ROOT", "/usr/share/redmine"))
ADMIN_LOGIN = "bench"
ADMIN_PASSWORD = "bench password"  # noqa: S105 - a throw-away instance on loopback
MODULES = ("issue_tracking", "time_tracking", "news", "documents", "files", "wiki", "repository", "boards",
           "calendar", "gantt")  # Redmine's default_projects_modules
DEVELOPER_ROLE, NEW_STATUS, NORMAL_PRIORITY, BUG_TRACKER = 4, 1, 2, 1  # ids from Redmine's default data (en)
STATUS_OF = {"assigned": 1, "in_progress": 2, "submitted": 3, "signed_off": 5, "cancelled": 6}  # duban's -> Redmine's


def missing(root: Path, *, web: bool = False) -> str | None:
    """What is absent for running Redmine here, or None; the benchmark prints it as "not measured"."""
    if not (root / "config.ru").is_file() or not (root / "lib" / "redmine" / "version.rb").is_file():
        return f"Redmine is not installed (no {root}/config.ru; apt-get install redmine redmine-sqlite)"
    for tool, package in (("ruby", "ruby"), ("rake", "rake")) + ((("puma", "puma"),) if web else ()):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package})"
    if subprocess.run(["ruby", "-e", "require 'sqlite3'"], capture_output=True).returncode:
        return "Redmine's SQLite adapter is not installed (apt-get install redmine-sqlite)"
    return None


def version(root: Path) -> str:
    text = (root / "lib" / "redmine" / "version.rb").read_text()
    parts = [re.search(rf"{name}\s*=\s*(\d+)", text) for name in ("MAJOR", "MINOR", "TINY")]
    return ".".join(m.group(1) for m in parts if m) or "?"


def password_hash(password: str, salt: str) -> str:
    """Redmine's User.hash_password scheme: sha1(salt + sha1(password))."""
    inner = hashlib.sha1(password.encode()).hexdigest()  # noqa: S324 - Redmine's scheme, not ours
    return hashlib.sha1((salt + inner).encode()).hexdigest()  # noqa: S324


class Instance:
    """A Redmine instance in `workdir`: build once, then `reset()` back to the built ledger before each round."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.root, self.dir = root, workdir
        self.db = workdir / "redmine.sqlite3"
        self.template = workdir / "ledger.sqlite3"
        for sub in ("config", "log", "tmp", "files", "public"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        (workdir / "config" / "database.yml").write_text(
            f"production:\n  adapter: sqlite3\n  database: {self.db}\n  timeout: 10000\n  encoding: utf8\n")
        (workdir / "config" / "secret_key.txt").write_text(secrets.token_hex(32) + "\n")
        self.configure_smtp(25)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "REDMINE_INSTANCE": os.path.relpath(self.dir, self.root / "instances"),
                "RAILS_ENV": "production", "REDMINE_LANG": "en"}

    def configure_smtp(self, port: int) -> None:
        """Redmine's email delivery: SMTP to the sink on loopback, no TLS, no authentication."""
        (self.dir / "config" / "configuration.yml").write_text(
            "production:\n  email_delivery:\n    delivery_method: :smtp\n    smtp_settings:\n"
            f"      address: 127.0.0.1\n      port: {port}\n      domain: bench.example.gov.cn\n"
            "      enable_starttls_auto: false\n")

    def rake(self, *task: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["rake", *task], cwd=self.root, env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"rake {' '.join(task)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done

    def build(self, items: int, units: int, today: date, now: datetime,
              issues: list[tuple[int, int, date]] | None = None) -> None:
        """Schema and default data through Redmine, then the ledger by SQL; keeps a copy for reset().

        `issues`: (unit index, Redmine status id, due date) for issue 1, 2, ...; by default `items`
        open issues spread as bench/reminder_job.py spreads duban's deadlines.
        """
        if issues is None:
            issues = [(n % units, NEW_STATUS, today + timedelta(days=n % 40 - 10)) for n in range(items)]
        self.rake("db:migrate")
        self.rake("redmine:load_default_data")
        stamp = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        db = sqlite3.connect(self.db)
        with db:
            first_user = db.execute("SELECT max(id) FROM users").fetchone()[0] + 1
            admin = first_user + units
            salt = secrets.token_hex(16)
            db.executemany(
                "INSERT INTO users (id, login, hashed_password, firstname, lastname, admin, status, language,"
                " created_on, updated_on, type, mail_notification, salt, must_change_passwd, passwd_changed_on)"
                " VALUES (?, ?, ?, ?, ?, ?, 1, 'zh', ?, ?, 'User', 'only_my_events', ?, 0, ?)",
                [(first_user + u, f"unit{u}", password_hash(ADMIN_PASSWORD, salt), f"单位{u:04d}", "联络员", 0,
                  stamp, stamp, salt, stamp) for u in range(units)]
                + [(admin, ADMIN_LOGIN, password_hash(ADMIN_PASSWORD, salt), "督查", "一", 1, stamp, stamp, salt,
                    stamp)])
            db.executemany(
                "INSERT INTO email_addresses (user_id, address, is_default, notify, created_on, updated_on)"
                " VALUES (?, ?, 1, 1, ?, ?)",
                [(first_user + u, f"unit{u}@example.gov.cn", stamp, stamp) for u in range(units)]
                + [(admin, "sup@bench.gov.cn", stamp, stamp)])
            db.executemany(
                "INSERT INTO projects (id, name, description, is_public, created_on, updated_on, identifier, status,"
                " lft, rgt) VALUES (?, ?, '', 1, ?, ?, ?, 1, ?, ?)",
                [(u + 1, f"单位{u:04d}", stamp, stamp, f"unit{u:04d}", 2 * u + 1, 2 * u + 2) for u in range(units)])
            db.executemany("INSERT INTO enabled_modules (project_id, name) VALUES (?, ?)",
                           [(u + 1, name) for u in range(units) for name in MODULES])
            db.executemany("INSERT INTO projects_trackers (project_id, tracker_id) VALUES (?, ?)",
                           [(u + 1, t) for u in range(units) for t in (1, 2, 3)])
            db.executemany("INSERT INTO members (id, user_id, project_id, created_on, mail_notification)"
                           " VALUES (?, ?, ?, ?, 0)", [(u + 1, first_user + u, u + 1, stamp) for u in range(units)])
            db.executemany("INSERT INTO member_roles (member_id, role_id) VALUES (?, ?)",
                           [(u + 1, DEVELOPER_ROLE) for u in range(units)])
            created = (now - timedelta(days=60)).astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
            db.executemany(
                "INSERT INTO issues (id, tracker_id, project_id, subject, description, due_date, status_id,"
                " assigned_to_id, priority_id, author_id, lock_version, created_on, updated_on, start_date,"
                " done_ratio, root_id, lft, rgt, is_private) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, 0, ?, ?, ?,"
                " 0, ?, 1, 2, 0)",
                [(n + 1, BUG_TRACKER, unit + 1, f"推动第{n + 1}项政策落地见效", due.isoformat(), status,
                  first_user + unit, NORMAL_PRIORITY, admin, created, created,
                  (today - timedelta(days=60)).isoformat(), n + 1)
                 for n, (unit, status, due) in enumerate(issues)])
        db.execute("ANALYZE")
        # WAL, as a Redmine on SQLite serving several threads needs: in the default rollback journal the
        # session token's once-a-minute UPDATE waits behind the list pages' long reads, and the readers
        # queue behind it until requests fail with "database is locked" (seen with 20 clients)
        db.execute("PRAGMA journal_mode=WAL")
        db.close()
        shutil.copyfile(self.db, self.template)

    def reset(self) -> None:
        for stale in (self.db.with_name(self.db.name + "-wal"), self.db.with_name(self.db.name + "-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(self.template, self.db)
        shutil.rmtree(self.dir / "tmp" / "cache", ignore_errors=True)

    def served_times(self) -> list[float]:
        """Milliseconds of every request Redmine's production.log says it completed, in order."""
        log = self.dir / "log" / "production.log"
        if not log.exists():
            return []
        return [float(ms) for ms in re.findall(r"Completed \d{3} .*? in (\d+)ms", log.read_text(errors="replace"))]

    def reminders_command(self, days: int = 7) -> list[str]:
        return ["rake", "redmine:send_reminders", f"days={days}"]

    @contextmanager
    def serving(self, port: int, workers: int = 2, threads: int = 5) -> Iterator[str]:
        """puma in production, `workers` processes x `threads` threads, on loopback; yields the base URL."""
        log = (self.dir / "log" / "puma.log").open("wb")
        server = subprocess.Popen(
            ["puma", "--environment", "production", "--workers", str(workers), "--threads", f"{threads}:{threads}",
             "--bind", f"tcp://127.0.0.1:{port}", str(self.root / "config.ru")],
            cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            for _ in range(600):
                if server.poll() is not None:
                    raise SystemExit(f"puma exited {server.returncode}; see {self.dir / 'log' / 'puma.log'}")
                try:
                    if httpx.get(base + "/login", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield base
        finally:
            from bench.web import stop

            stop(server, timeout=30)
            log.close()


async def login(base: str) -> object:
    """The admin's session cookies (Redmine's login form with its authenticity token)."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/login")
        token = re.search(r'name="authenticity_token" value="([^"]+)"', page.text)
        if token is None:
            raise SystemExit("Redmine's login page has no authenticity_token")
        response = await client.post("/login", data={"authenticity_token": token.group(1), "username": ADMIN_LOGIN,
                                                      "password": ADMIN_PASSWORD, "back_url": base + "/"})
        if response.status_code != 302 or "/login" in response.headers.get("location", "/login"):
            raise SystemExit(f"could not log in to Redmine: {response.status_code} {response.text[:300]}")
        return client.cookies


def compare_web(args: argparse.Namespace) -> None:
    """bench/web.py --redmine: duban and Redmine on the same ledger, the same load generator, the same two
    pages (item list, first page; a random item's page), alternately; requests/s and p50/p95 of each."""
    from bench import web
    from config import clock

    reason = missing(args.redmine_root, web=True)
    if reason:
        print(f"web against Redmine (target >= 25x its requests/s on the item list and item page): not measured: "
              f"{reason}")
        return
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-web-redmine-"))
    try:
        url = f"sqlite:///{workdir / 'duban.db'}"
        now = clock.now()
        web.build(url, args.items, args.units, now)
        with sqlite3.connect(workdir / "duban.db") as db:
            rows = db.execute("SELECT lead_unit_id, status, deadline FROM item ORDER BY id").fetchall()
        instance = Instance(args.redmine_root, workdir / "redmine")
        instance.build(len(rows), args.units, now.date(), now,
                       [(unit - 1, STATUS_OF[status], date.fromisoformat(due)) for unit, status, due in rows])
        print(f"web against Redmine {version(args.redmine_root)}: {args.items:,} items/issues, {args.units:,} "
              f"units/projects; duban: uvicorn, {args.workers} processes; Redmine: puma {args.workers} workers x "
              f"{REDMINE_THREADS} threads, production, SQLite; {args.clients} clients back to back, {args.seconds:g} s "
              f"a run, {args.rounds} round(s) alternately", flush=True)
        n = args.items
        duban_pages = [(label, who, path) for key, label, who, path in web.duban_pages(n, args.units)
                       if key in ("items", "item")]
        redmine_pages = [("items, first page", "sup", lambda r: "/issues"),
                         ("item page", "sup", lambda r: f"/issues/{r.randint(1, n)}")]
        rates: dict[str, dict[str, list[float]]] = {"duban": defaultdict(list), "Redmine": defaultdict(list)}
        for round_ in range(1, args.rounds + 1):
            port = web._free_port()
            server = subprocess.Popen([sys.executable, "-m", "bench.web", "--serve", url, str(port),
                                       str(workdir / "data"), str(args.workers)],
                                      env={**os.environ, "DO_NOT_TRACK": "1"})
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_for(base + "/login")
                _report("duban", round_, rates, asyncio.run(
                    web.load(base, n, args.units, args.clients, args.seconds, pages=duban_pages)))
            finally:
                web.stop(server, timeout=30)
            instance.reset()
            with instance.serving(web._free_port(), args.workers, REDMINE_THREADS) as base:
                cookies = asyncio.run(login(base))
                logged = instance.served_times()
                _report("Redmine", round_, rates, asyncio.run(
                    web.load(base, n, args.units, args.clients, args.seconds, pages=redmine_pages,
                             cookies={"sup": cookies})))
                served = sorted(instance.served_times()[len(logged):])
                if served:
                    print(f"  round {round_}, Redmine's own log: {len(served)} requests completed, time in Rails p50 "
                          f"{statistics.median(served):.0f} ms, p95 {served[int(0.95 * (len(served) - 1))]:.0f} ms "
                          "(the rest of the client's time is outside Rails: queued in puma or on the connection)", flush=True)
        for page in ("items, first page", "item page"):
            ours, theirs = statistics.median(rates["duban"][page]), statistics.median(rates["Redmine"][page])
            ratio = ours / max(theirs, 0.001)
            print(f"  {page}: duban {ours:.1f} requests/s against Redmine {theirs:.2f} (medians): {ratio:.1f}x "
                  f"(target >= 25x Redmine's requests/s: {'met' if ratio >= 25 else 'missed'})")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


REDMINE_THREADS = 5


def _wait_for(address: str) -> None:
    import httpx

    for _ in range(600):
        try:
            httpx.get(address, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {address}")


def _report(server: str, round_: int, rates: dict[str, dict[str, list[float]]],
            result: tuple[dict[str, list[float]], float]) -> None:
    timings, elapsed = result
    for page, values in timings.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        rates[server][page].append(len(values) / elapsed)
        print(f"  round {round_}, {server:<8}{page:<20}{len(values) / elapsed:>8.2f} requests/s, p50 "
              f"{statistics.median(values) * 1000:>8.1f} ms, p95 {p95 * 1000:>8.1f} ms; load "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
