"""Delivery benchmark: 10,000 queued messages to postfix's smtp-sink, against smtp-source's rate.

In one run, on one smtp-sink: duban's delivery (one process, DUBAN_SMTP_MAX_CONNECTIONS
connections, claims, commits and all) sends N queued outbox messages; then postfix's smtp-source
sends N messages of the same size with the same concurrency over kept-open connections (-d).
Prints messages/second for both, their ratio (target >= 0.5, issue 15) and the delivery process's peak
memory. Run: `.venv/bin/python -m bench.deliver [--messages 10000] [--connections 4]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

SMTP_SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
SMTP_SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"


def require_postfix_tools() -> None:
    """The mail benchmarks measure against postfix's smtp-sink and smtp-source: say so when missing."""
    missing = [tool for tool in (SMTP_SINK, SMTP_SOURCE) if not os.access(tool, os.X_OK)]
    if missing:
        raise SystemExit(f"{', '.join(missing)} not found: the mail benchmarks need postfix's test tools; "
                         "install them with `apt-get install postfix` (.ci/run does)")
NOW = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)


TARGET_RATIO = 0.5  # of smtp-source's rate at equal connections (issue 15)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample_message() -> str:
    """A realistic grouped reminder: five items, Chinese text and HTML."""
    from notifications.builders import (
        Envelope,
        ItemLine,
        build_notice,
        message_id_for,
        ordered_sections,
    )

    lines = [ItemLine(item_id=i, ref=f"新时代意见/{i}", title="推动数字经济和实体经济深度融合，完善配套政策" * 2,
                      lead_unit="市发展和改革委员会", deadline=date(2024, 6, 10), original_deadline=date(2024, 6, 10),
                      days_left=7, url=f"https://duban.example.gov.cn/items/{i}") for i in range(1, 6)]
    envelope = Envelope("duban@dc.gov.cn", "督办系统", ["unit@example.gov.cn"], message_id_for("bench", "duban@dc.gov.cn"), NOW)
    return build_notice(envelope, locale="zh-CN", sections=ordered_sections({"reminder": lines})).raw


def build_outbox(url: str, count: int) -> int:
    """Queue `count` outbox rows (bulk INSERT); returns the message size in bytes."""
    from migrations.runner import upgrade
    from models.db import make_engine
    from models.outbox import OutboxBody, OutboxMessage

    engine = make_engine(url)
    upgrade(engine)
    raw = sample_message()
    marker = raw.split("Message-ID: ", 1)[1].split("\r\n", 1)[0]
    rows: list[dict[str, Any]] = [{
        "id": i + 1, "key": f"bench:{i}", "kind": "reminder", "locale": "zh-CN",
        "recipients": [f"unit{i % 1000}@example.gov.cn"],
        "refused_recipients": {}, "item_ids": [1, 2, 3, 4, 5], "notification_ids": [], "subject": "bench",
        "message_id": f"<bench.{i}@dc.gov.cn>",
        "status": "pending", "attempts": 0, "next_attempt_at": NOW, "claim": None, "last_error": "",
        "created_at": NOW, "sent_at": None,
    } for i in range(count)]
    bodies = [{"outbox_id": i + 1, "raw": raw.replace(marker, f"<bench.{i}@dc.gov.cn>")} for i in range(count)]
    with engine.begin() as conn:
        for start in range(0, count, 2000):
            conn.execute(insert(OutboxMessage.__table__), rows[start:start + 2000])  # type: ignore[attr-defined]
            conn.execute(insert(OutboxBody.__table__), bodies[start:start + 2000])  # type: ignore[attr-defined]
        if url.startswith("postgresql"):  # ids given explicitly: move the sequence past them
            conn.exec_driver_sql("SELECT setval('outbox_message_id_seq', (SELECT max(id) FROM outbox_message))")
    engine.dispose()
    return len(raw.encode())


PG_ADMIN_URL = os.environ.get("DUBAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def create_pg_database() -> str:
    import psycopg

    name = f"duban_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def child(url: str, port: int, connections: int) -> None:
    """The delivery process itself: deliver everything once, print figures as JSON."""
    from config.settings import load_settings
    from models.db import make_engine
    from notifications.delivery import deliver

    settings = load_settings(smtp_port=port, smtp_max_connections=connections, delivery_window=False)
    engine = make_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    summary = deliver(engine, NOW, settings, group=False)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"sent": summary.sent, "retried": summary.retried, "dead": summary.dead, "seconds": elapsed,
                      "cpu": cpu, "errors": summary.errors[:3]}))


def run_sink(port: int, pipelining: bool = True) -> subprocess.Popen[bytes]:
    require_postfix_tools()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    options = [] if pipelining else ["-p"]
    sink = subprocess.Popen([SMTP_SINK, *user, *options, f"127.0.0.1:{port}", "1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return sink
        except OSError:
            time.sleep(0.05)
    sink.kill()
    raise SystemExit(f"smtp-sink did not start: {sink.stderr.read().decode() if sink.stderr else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-pipelining", action="store_true",
                        help="smtp-sink does not offer PIPELINING: duban sends through aiosmtplib, one command a round trip")
    parser.add_argument("--postgres", action="store_true",
                        help="use a fresh database on the PostgreSQL server at DUBAN_TEST_PG_URL (default: SQLite)")
    parser.add_argument("--child", nargs=3, metavar=("URL", "PORT", "CONNECTIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    require_postfix_tools()

    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-deliver-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    if args.postgres:
        url = create_pg_database()
    size = build_outbox(url, args.messages)
    port = free_port()
    sink = run_sink(port, pipelining=not args.no_pipelining)
    try:
        out = subprocess.run([sys.executable, "-m", "bench.deliver", "--child", url, str(port), str(args.connections)],
                             capture_output=True, text=True, check=True)
        ours = json.loads(out.stdout.strip().splitlines()[-1])
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        # smtp-source sends headers of its own on top of -l bytes of body; subtract them roughly.
        started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([SMTP_SOURCE, "-d", "-s", str(args.connections), "-m", str(args.messages),
                        "-l", str(max(1, size - 300)), "-f", "duban@dc.gov.cn", "-t", "unit@example.gov.cn",
                        "-M", "bench.local", f"127.0.0.1:{port}"], check=True)
        source_seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        source_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.postgres:
            drop_pg_database(url)

    our_rate = ours["sent"] / ours["seconds"]
    source_rate = args.messages / source_seconds
    print(f"messages: {args.messages} of {size} bytes, {args.connections} connections, "
          f"database {'postgresql' if args.postgres else 'sqlite'}, "
          f"PIPELINING {'not offered' if args.no_pipelining else 'offered'} by smtp-sink")
    print(f"duban deliver : {ours['sent']} sent, {ours['retried']} retried, {ours['dead']} dead in "
          f"{ours['seconds']:.2f} s = {our_rate:,.0f} msg/s ({ours['cpu']:.2f} s CPU); peak RSS {peak_mib:.0f} MiB")
    print(f"smtp-source   : {args.messages} in {source_seconds:.2f} s = {source_rate:,.0f} msg/s ({source_cpu:.2f} s CPU)")
    print(f"load average  : {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    ratio = our_rate / source_rate
    print(f"ratio         : {ratio:.2f} (target >= {TARGET_RATIO}, issue 15: {'met' if ratio >= TARGET_RATIO else 'missed'})")
    if ours["errors"]:
        print(f"errors        : {ours['errors']}")


if __name__ == "__main__":
    main()
