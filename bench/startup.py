"""Start-up of the read commands: `duban items --json`, `duban show`, `duban report` on a 10k ledger.

Each command runs as a fresh process, several times; prints the median wall and CPU time of each
against the target (issue 15: at most 0.3 s), a bare `python -c pass` for scale, the same commands
with DUBAN_PRELOAD=1 against a preloaded server (cli/preload.py), and where the import time goes
(`python -X importtime`, summed by top-level package).

Run: `.venv/bin/python -m bench.startup [--items 10000] [--units 500] [--runs 5]`.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.reminder_job import NOW, build

TARGET_S = 0.3
DUBAN = str(Path(sys.executable).with_name("duban"))


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` (CPU: the child's user + system time)."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def import_breakdown(argv: list[str], env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    """Milliseconds of import time per top-level package for one run (python -X importtime)."""
    script = f"import sys; sys.argv = {['duban', *argv]!r}; from cli.launch import main; main()"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", script], env=env, capture_output=True, text=True)
    per_package: collections.Counter[str] = collections.Counter()
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            per_package[match.group(2).split(".")[0]] += int(match.group(1))
    return [(name, us / 1000) for name, us in per_package.most_common(top)]


def preloaded(commands: dict[str, list[str]], env: dict[str, str], tmp: Path, runs: int) -> None:
    """The same commands with DUBAN_PRELOAD=1 against a running preloaded server (cli/preload.py).

    CPU is the caller's plus the forked child's (the server's count of its children's CPU time).
    """
    from cli import preload

    # A short directory of its own: a Unix socket's path has at most 107 bytes, and `tmp` may be deep.
    runtime = Path(tempfile.mkdtemp(prefix="duban-", dir="/tmp"))
    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"] = str(runtime)
    env = {**env, "DUBAN_PRELOAD": "1"}
    server = subprocess.Popen([sys.executable, "-m", "cli.preload"], cwd=preload.ROOT, env=env)
    try:
        while preload.status() is None:
            if server.poll() is not None:
                raise SystemExit("the preloaded server did not start")
            time.sleep(0.05)
        print("  with DUBAN_PRELOAD=1 (a preloaded server forks each command; CPU = caller + child):")
        for label, argv in commands.items():
            measured = []
            for _ in range(runs):
                before = preload.status()["children_cpu"]  # type: ignore[index]
                wall, cpu = timed([DUBAN, *argv, "--now", NOW.isoformat()], env)
                measured.append((wall, cpu + preload.status()["children_cpu"] - before))  # type: ignore[index]
            wall, cpu = statistics.median(w for w, _ in measured), statistics.median(c for _, c in measured)
            print(f"    {label}: {wall:.3f} s wall, {cpu:.3f} s CPU; target <= {TARGET_S} s: "
                  f"{wall / TARGET_S:.1f}x the target ({'met' if wall <= TARGET_S else 'missed'})")
        served = preload.status()["served"]  # type: ignore[index]
        if served != runs * len(commands):
            raise SystemExit(f"the server ran {served} commands, not {runs * len(commands)}: some ran in-process")
    finally:
        preload.stop()
        server.wait(timeout=30)
        shutil.rmtree(runtime, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="duban-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'duban.db'}"
        build(url, args.items, args.units)
        env = {**os.environ, "DUBAN_DATABASE_URL": url, "DUBAN_CONFIG": "/nonexistent/duban.toml", "COLUMNS": "200",
               "DUBAN_DATA_DIR": tmp}
        env.pop("PREFECT_API_URL", None)
        env.pop("DUBAN_PRELOAD", None)
        print(f"start-up of read commands: {args.items} items, {args.units} units, SQLite, median of {args.runs} runs; "
              f"load average {os.getloadavg()[0]:.2f}")
        bare = [timed([sys.executable, "-c", "pass"], env) for _ in range(args.runs)]
        print(f"  python -c pass: {statistics.median(w for w, _ in bare):.3f} s wall, "
              f"{statistics.median(c for _, c in bare):.3f} s CPU")
        commands = {"duban items --json": ["items", "--json"], "duban show": ["show", f"新时代意见/{args.items // 2}"],
                    "duban report": ["report"]}
        for label, argv in commands.items():
            runs = [timed([DUBAN, *argv, "--now", NOW.isoformat()], env) for _ in range(args.runs)]
            wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
            print(f"  {label}: {wall:.3f} s wall, {cpu:.3f} s CPU; target <= {TARGET_S} s: "
                  f"{wall / TARGET_S:.1f}x the target ({'met' if wall <= TARGET_S else 'missed'})")
        preloaded(commands, env, Path(tmp), args.runs)
        breakdown = import_breakdown(["items", "--json", "--now", NOW.isoformat()], env)
        print("  import time of duban items --json by package (ms): "
              + ", ".join(f"{name} {ms:.0f}" for name, ms in breakdown))
        print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
