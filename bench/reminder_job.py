"""The end-to-end reminder job: sweep and deliver the reminders of a 10,000-item ledger.

A ledger of 10,000 open items across 500 units, deadlines spread over 40 days around the run's
time (a quarter overdue, the rest due within the next 30 days). From process start, the job
reminds, flags and escalates what is due and sends the grouped mail to postfix's smtp-sink, run
two ways on the same ledger built afresh: `duban run` (one process) and `duban sweep` then
`duban deliver` (two processes). Prints each one's wall and CPU time and how many messages the
sink received, and `duban run`'s peak RSS (target < 300 MB).

`--redmine` compares with Redmine 5 where Debian's redmine package is installed (it installs
nothing itself; without Redmine it prints "not measured" and exits 0): the same ledger shape in a
throw-away Redmine instance (bench/redmine.py), then `duban run` and `rake redmine:send_reminders
days=7` alternately, each on its ledger as built, each to its own smtp-sink; prints both times,
the medians and the ratios (targets: >= 25x Redmine's wall time, >= 15x its CPU time).

Run: `.venv/bin/python -m bench.reminder_job [--items 10000] [--units 500] [--postgres]
[--redmine [--rounds 3] [--redmine-root /usr/share/redmine]]`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.deliver import (
    SMTP_SINK,
    create_pg_database,
    drop_pg_database,
    free_port,
    require_postfix_tools,
    run_sink,
)
from bench.redmine import DEFAULT_ROOT as DEFAULT_REDMINE_ROOT

NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai, inside the delivery window
DUBAN = str(Path(sys.executable).with_name("duban"))


def build(url: str, items: int, units: int) -> None:
    from migrations.runner import upgrade
    from models.db import make_engine
    from models.tables import Document, Item, Unit

    engine = make_engine(url)
    upgrade(engine)
    created = NOW - timedelta(days=60)
    today = date(2024, 6, 3)
    with engine.begin() as conn:
        conn.execute(insert(Unit), [
            {"id": u + 1, "code": f"U{u:04d}", "name": f"单位{u:04d}", "contact_emails": [f"unit{u}@example.gov.cn"],
             "leader_emails": [f"leader{u}@example.gov.cn"]} for u in range(units)
        ])
        conn.execute(insert(Document), [{"id": 1, "short_name": "新时代意见", "title": "", "issuer": ""}])
        rows = []
        for n in range(items):
            deadline = today + timedelta(days=(n % 40) - 10)
            rows.append({
                "document_id": 1, "number": str(n + 1), "title": f"推动第{n + 1}项政策落地见效", "category": "",
                "lead_unit_id": n % units + 1, "original_deadline": deadline, "deadline": deadline, "notes": "",
                "status": "assigned", "deadline_version": 1, "escalation_level": 0, "version": 1,
                "next_action_at": created, "created_at": created, "updated_at": created,
            })
        for start in range(0, len(rows), 2000):
            conn.execute(insert(Item), rows[start:start + 2000])
    engine.dispose()


def run(url: str, items: int, units: int, one_process: bool) -> dict[str, object]:
    build(url, items, units)
    port = free_port()
    sink = run_sink_counting(port)
    env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_SMTP_PORT": str(port), "DUBAN_SMTP_HOST": "127.0.0.1",
           "DUBAN_CONFIG": "/nonexistent/duban.toml", "COLUMNS": "200"}
    env.pop("PREFECT_API_URL", None)
    commands = [["run"]] if one_process else [["sweep"], ["deliver"]]
    done = [measured([DUBAN, *command, "--now", NOW.isoformat(), "--json"], env) for command in commands]
    received = stop_sink(sink)
    if any(process.returncode for process in done):
        raise SystemExit("the job failed:\n" + "\n".join(process.stderr for process in done))
    summaries = [json.loads(process.stdout) for process in done]
    swept = summaries[0]["sweep"] if one_process else summaries[0]
    return {"items": items, "units": units, "processes": len(commands),
            "wall_s": round(sum(process.wall_s for process in done), 2),
            "cpu_s": round(sum(process.cpu_s for process in done), 2),
            "peak_rss_mb": max(process.peak_rss_mb for process in done),
            "notifications": swept["notifications"], "messages_received": received,
            "sweep_s": swept.get("seconds")}  # the sweep's own wall time, inside the first process


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float  # user + system of the process and every child it waited for
    peak_rss_mb: float  # the largest resident set of the process or of any child it waited for


def measured(command: list[str], env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Run `command` to its end; its own wall time, CPU time and peak RSS (wait4's rusage, not this process's)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(process.returncode, out.read().decode(), err.read().decode(), round(wall, 2),
                        round(usage.ru_utime + usage.ru_stime, 2), round(usage.ru_maxrss / 1024, 1))


def run_sink_counting(port: int) -> subprocess.Popen[bytes]:
    """smtp-sink with -c: it prints a running count of completed mail transactions."""
    require_postfix_tools()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([SMTP_SINK, "-c", *user, f"127.0.0.1:{port}", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    probe = run_sink.__globals__["socket"]
    for _ in range(100):
        try:
            probe.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return sink
        except OSError:
            time.sleep(0.05)
    raise SystemExit("smtp-sink did not start")


def stop_sink(sink: subprocess.Popen[bytes]) -> int:
    time.sleep(0.3)
    sink.terminate()
    out, _ = sink.communicate(timeout=10)
    counts = re.findall(rb"(\d+)", out)
    # the probe connection of run_sink_counting sent no mail; the counter counts transactions
    return int(counts[-1]) if counts else 0


def compare_with_redmine(args: argparse.Namespace) -> None:
    """`duban run` and Redmine's `rake redmine:send_reminders days=7` on the same ledger shape, alternately."""
    from bench import redmine
    from config import clock

    reason = redmine.missing(args.redmine_root) or (
        None if os.access(SMTP_SINK, os.X_OK) else f"postfix's smtp-sink is not installed ({SMTP_SINK})")
    if reason:
        print(f"reminder job against Redmine (target >= 25x its wall time, >= 15x its CPU time): not measured: {reason}")
        return
    database = "postgresql" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory(prefix="duban-bench-redmine-") as tmp:
        instance = redmine.Instance(args.redmine_root, Path(tmp) / "redmine")
        now = clock.now()
        started = time.perf_counter()
        instance.build(args.items, args.units, now.date(), now)
        print(f"reminder job against Redmine {redmine.version(args.redmine_root)} (rake redmine:send_reminders days=7,"
              f" SQLite, SMTP to smtp-sink on loopback): {args.items} open items/issues, {args.units} units/projects"
              f" with one assignee each; Redmine ledger built in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"load average at start {_load()}", flush=True)
        duban_runs, redmine_runs = [], []
        for round_ in range(1, args.rounds + 1):
            with tempfile.TemporaryDirectory(prefix="duban-bench-") as duban_tmp:
                url = create_pg_database() if args.postgres else f"sqlite:///{Path(duban_tmp) / 'duban.db'}"
                try:
                    duban_runs.append(run(url, args.items, args.units, one_process=True))
                finally:
                    if args.postgres:
                        drop_pg_database(url)
            instance.reset()
            port = free_port()
            sink = run_sink_counting(port)
            instance.configure_smtp(port)
            done = measured(instance.reminders_command(), instance.env, instance.root)
            received = stop_sink(sink)
            if done.returncode:
                raise SystemExit(f"rake redmine:send_reminders failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
            redmine_runs.append({"wall_s": done.wall_s, "cpu_s": done.cpu_s, "messages_received": received})
            one, other = duban_runs[-1], redmine_runs[-1]
            print(f"  round {round_}: duban run ({database}) {one['wall_s']} s wall, {one['cpu_s']} s CPU, "
                  f"{one['messages_received']} mails (the sweep {one['sweep_s']} s of it), peak RSS {one['peak_rss_mb']} MB; Redmine {other['wall_s']} s "
                  f"wall, {other['cpu_s']} s CPU, {other['messages_received']} mails; load {_load()}", flush=True)
    wall = [statistics.median(float(r["wall_s"]) for r in runs) for runs in (duban_runs, redmine_runs)]  # type: ignore[arg-type]
    cpu = [statistics.median(float(r["cpu_s"]) for r in runs) for runs in (duban_runs, redmine_runs)]  # type: ignore[arg-type]
    rss = max(float(r["peak_rss_mb"]) for r in duban_runs)  # type: ignore[arg-type]
    wall_ratio, cpu_ratio = wall[1] / max(wall[0], 0.01), cpu[1] / max(cpu[0], 0.01)
    print(f"  medians of {args.rounds} rounds: duban {wall[0]:.2f} s wall, {cpu[0]:.2f} s CPU; "
          f"Redmine {wall[1]:.2f} s wall, {cpu[1]:.2f} s CPU")
    print(f"  duban against Redmine: {wall_ratio:.1f}x on wall time (target >= 25x: "
          f"{'met' if wall_ratio >= 25 else 'missed'}), {cpu_ratio:.1f}x on CPU time (target >= 15x: "
          f"{'met' if cpu_ratio >= 15 else 'missed'})")
    print(f"  duban run peak RSS {rss:.0f} MB (target < 300 MB: {'met' if rss < 300 else 'missed'})")
    print(f"load average at the end {_load()}")


def _load() -> str:
    return " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database instead of SQLite")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--redmine", action="store_true",
                        help="compare with Redmine's rake redmine:send_reminders (where Debian's redmine is installed)")
    parser.add_argument("--redmine-root", type=Path, default=DEFAULT_REDMINE_ROOT,
                        help=f"Redmine's application directory (default {DEFAULT_REDMINE_ROOT})")
    parser.add_argument("--rounds", type=int, default=3, help="with --redmine: rounds of duban then Redmine")
    args = parser.parse_args()
    if args.redmine:
        compare_with_redmine(args)
        return
    runs = []
    for one_process in (True, False):
        with tempfile.TemporaryDirectory(prefix="duban-bench-") as tmp:
            url = create_pg_database() if args.postgres else f"sqlite:///{Path(tmp) / 'duban.db'}"
            try:
                runs.append(run(url, args.items, args.units, one_process))
            finally:
                if args.postgres:
                    drop_pg_database(url)
    one, two = runs
    figures = {"database": "postgresql" if args.postgres else "sqlite", "items": args.items, "units": args.units,
               "wall_s": one["wall_s"], "cpu_s": one["cpu_s"], "two_process_wall_s": two["wall_s"],
               "two_process_cpu_s": two["cpu_s"], "notifications": one["notifications"],
               "messages_received": one["messages_received"], "two_process_messages_received": two["messages_received"],
               "peak_rss_mb": one["peak_rss_mb"]}
    if args.json:
        print(json.dumps(figures))
        return
    print(f"reminder job on {figures['database']}: {args.items} open items, {args.units} units, deadlines over 40 days")
    for label, r in (("duban run (one process)", one), ("duban sweep + duban deliver", two)):
        print(f"  {label}, from process start: {r['wall_s']} s wall, {r['cpu_s']} s CPU; "
              f"notifications {r['notifications']}, messages received by smtp-sink {r['messages_received']}, "
              f"peak RSS {r['peak_rss_mb']} MB")
    print(f"  one process against two: {two['wall_s'] / max(one['wall_s'], 0.01):.2f}x faster (wall)")  # type: ignore[operator]
    rss = float(one["peak_rss_mb"])  # type: ignore[arg-type]
    print(f"  duban run peak RSS {rss:.0f} MB (target < 300 MB: {'met' if rss < 300 else 'missed'})")
    print("  against Redmine (target >= 25x its wall time, >= 15x its CPU time): run with --redmine")


if __name__ == "__main__":
    main()
