"""Run every benchmark under bench/ on SQLite and on PostgreSQL; print a table; write results.json.

    python -m bench            # full sizes, as the issues set them (takes a while: the 1M sweep alone minutes)
    python -m bench --quick    # small sizes: every benchmark in a few minutes
    python -m bench --smoke    # tiny sizes: does every benchmark still run? (the test suite does this)
    python -m bench --only sweep,deliver

Each benchmark runs as its own process (peak memory is then its own) and prints its figures; this
runner keeps each one's output in bench/results.json with the machine's description and the
command, and shows the last lines of each in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
NO_REDMINE = "/nonexistent/redmine"  # --smoke: the Redmine rows only check that they say "not measured"
PG_ADMIN = os.environ.get("DUBAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    smoke: tuple[str, ...]
    postgres: tuple[str, ...] | None  # extra arguments for PostgreSQL; None: SQLite only

    def commands(self, size: str = "full") -> list[tuple[str, list[str]]]:
        arguments = {"full": self.full, "quick": self.quick, "smoke": self.smoke}[size]
        base = [sys.executable, "-m", f"bench.{self.module}", *arguments]
        runs = [("sqlite", base)]
        if self.postgres is not None:
            runs.append(("postgresql", [*base, *self.postgres]))
        return runs


BENCHES = [
    Bench("import", "import_ledger", (), ("--items", "2000", "--units", "100"), ("--items", "100", "--units", "10"),
          ("--pg", PG_ADMIN)),
    Bench("sweep", "sweep", (), ("--sizes", "10000,100000"), ("--sizes", "2000"), ("--postgres",)),
    Bench("deliver", "deliver", (), ("--messages", "2000"), ("--messages", "100"), ("--postgres",)),
    Bench("digest", "digest", (), ("--units", "200", "--items", "20000"), ("--units", "10", "--items", "500"), None),
    Bench("reminder job", "reminder_job", (), ("--items", "2000", "--units", "100"), ("--items", "200", "--units", "10"),
          ("--postgres",)),
    Bench("reminder job vs Redmine", "reminder_job", ("--redmine",),
          ("--redmine", "--items", "2000", "--units", "100", "--rounds", "1"), ("--redmine", "--redmine-root", NO_REDMINE),
          None),
    Bench("start-up", "startup", (), ("--items", "2000", "--units", "100", "--runs", "3"),
          ("--items", "200", "--units", "10", "--runs", "1"), None),
    Bench("web", "web", (), ("--items", "20000", "--units", "200", "--seconds", "10"),
          ("--items", "500", "--units", "10", "--seconds", "2", "--clients", "4", "--workers", "1"), None),
    Bench("web vs Redmine", "web", ("--redmine", "--items", "10000", "--units", "500", "--rounds", "3"),
          ("--redmine", "--items", "2000", "--units", "100", "--seconds", "10", "--rounds", "1"),
          ("--redmine", "--redmine-root", NO_REDMINE), None),
    Bench("items export", "export_items", (), ("--items", "2000", "--units", "100"), ("--items", "100", "--units", "10"),
          None),
    Bench("weekly notice", "notice", (), ("--units", "200", "--items", "4000"), ("--units", "10", "--items", "300"),
          None),
    Bench("score", "score", (), ("--items", "10000", "--units", "200"), ("--items", "300", "--units", "10"), None),
    Bench("figures", "figures", (), ("--items", "20000", "--units", "200"), ("--items", "300", "--units", "10",
                                                                          "--repeat", "1"), None),
    Bench("prefect overhead", "prefect_overhead", (), (), ("--items", "500"), None),
]


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="small sizes: every benchmark in a few minutes")
    sizes.add_argument("--smoke", action="store_true", help="tiny sizes: check that every benchmark still runs")
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(b.name for b in BENCHES))
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    # An installation keeps its compiled modules (pip compiles what it installs; Python writes the
    # project's .pyc on first import): a start-up measured under PYTHONDONTWRITEBYTECODE, as some
    # sandboxes set it, pays for compiling the project's modules on every start instead.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    if "PYTHONDONTWRITEBYTECODE" in os.environ:
        print("PYTHONDONTWRITEBYTECODE is set here: the benchmarks run without it, as an installation does", flush=True)
    results = []
    for bench in BENCHES:
        if wanted and bench.name not in wanted:
            continue
        for database, command in bench.commands("quick" if args.quick else "smoke" if args.smoke else "full"):
            if database == "postgresql" and args.no_postgres:
                continue
            print(f"== {bench.name} on {database}: {' '.join(command[1:])}", flush=True)
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent, env=env)
            seconds = round(time.perf_counter() - started, 1)
            output = (done.stdout + ("\n" + done.stderr if done.returncode else "")).strip()
            print(output + "\n", flush=True)
            results.append({"benchmark": bench.name, "database": database, "command": " ".join(command[1:]),
                            "exit_code": done.returncode, "seconds": seconds, "output": output.splitlines()})
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "quick": args.quick,  # noqa: DTZ005
              "smoke": args.smoke,
              "machine": machine(), "results": results}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _table(results)
    _targets(results)
    print(f"\nwritten: {args.out}")
    return 1 if any(r["exit_code"] for r in results) else 0


def _table(results: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="duban benchmarks", title_justify="left")
    for column in ("benchmark", "database", "exit", "seconds", "figures (last lines)"):
        table.add_column(column, overflow="fold")
    for r in results:
        lines = [line for line in r["output"] if line.strip()]  # type: ignore[attr-defined]
        table.add_row(str(r["benchmark"]), str(r["database"]), str(r["exit_code"]), str(r["seconds"]),
                      "\n".join(lines[-4:]))
    Console(width=160).print(table)



def _targets(results: list[dict[str, object]]) -> None:
    """Every line a benchmark printed about a target (it names the target and says met or missed,
    or why it was not measured), gathered in one table after the figures."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="targets (from the issues): each benchmark's own verdict", title_justify="left")
    for column in ("benchmark", "database", "figure and target"):
        table.add_column(column, overflow="fold")
    for r in results:
        for line in r["output"]:  # type: ignore[attr-defined]
            if "target" in line:
                table.add_row(str(r["benchmark"]), str(r["database"]), line.strip())
    Console(width=160).print(table)


if __name__ == "__main__":
    sys.exit(main())
