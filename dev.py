#!/usr/bin/env python3
"""Set up and run duban from a fresh clone, with only Python 3.11+.

    python3 dev.py demo    # create .venv, install pinned dependencies, run the demo
    python3 dev.py test    # the same setup, then lint and the whole test suite (in parallel)
    python3 dev.py test tests/web -x   # arguments go to pytest as given (one process)
    python3 dev.py test --integration   # only the tests that start a Prefect server and workers
    python3 dev.py bench   # the same setup, then every benchmark under bench/

Dependencies are pinned in constraints.txt; the install is skipped when nothing changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".duban-installed"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _has_pip() -> bool:
    python = BIN / "python"
    return python.exists() and subprocess.run([str(python), "-m", "pip", "--version"],
                                              capture_output=True).returncode == 0


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 is
        sys.exit(f"duban needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not _has_pip():  # none yet, or one left half-made by an interrupted first run
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("installing pinned dependencies (constraints.txt) ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-c", "constraints.txt", "-e", ".[dev]"], cwd=ROOT, check=True)
    STAMP.write_text(_fingerprint())


def run(*args: str) -> int:
    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.run(list(args), cwd=ROOT, env=env).returncode


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    extra = sys.argv[2:]
    if command not in ("demo", "test", "bench"):
        print(__doc__)
        return 2
    setup()
    if command == "demo":
        return run(str(BIN / "duban"), "demo", *extra)
    if command == "bench":
        return run(str(BIN / "python"), "-m", "bench", *extra)
    for check in ([str(BIN / "ruff"), "check", "."],
                  [str(BIN / "mypy"), "config", "models", "notifications", "flows", "cli"]):
        if code := run(*check):
            return code
    pytest = [str(BIN / "python"), "-m", "pytest"]
    if "--integration" in extra:  # the cluster runbook (tests/integration): Prefect server, workers
        return run(*pytest, "-m", "integration", *(arg for arg in extra if arg != "--integration"))
    if extra:
        return run(*pytest, *extra)
    # The whole suite: every test but the cluster's spread over up to four processes (pytest-xdist;
    # each has its own databases, mail sinks and ports), then the cluster tests on their own, since
    # they start a Prefect server and workers and would otherwise compete with a second process.
    workers = min(os.cpu_count() or 1, 4)
    parallel = ["-n", str(workers)] if workers > 1 else []
    return run(*pytest, *parallel, "-m", "not integration") or run(*pytest, "-m", "integration")


if __name__ == "__main__":
    sys.exit(main())
