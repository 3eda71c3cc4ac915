"""Every benchmark under bench/ still runs and prints its figures (tiny sizes; no timing is judged)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from bench.__main__ import BENCHES
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
MAIL = {"deliver", "reminder job"}  # these measure against postfix's smtp-sink / smtp-source
RUNS = [
    pytest.param(bench, database, command, id=f"{bench.name.replace(' ', '-')}-{database}",
                 marks=[pytest.mark.postgres] if database == "postgresql" else [])
    for bench in BENCHES for database, command in bench.commands("smoke")
]


@pytest.mark.parametrize(("bench", "database", "command"), RUNS)
def test_benchmark_runs_and_prints_figures(request: pytest.FixtureRequest, bench: object, database: str,
                                           command: list[str], tmp_path: Path) -> None:
    if database == "postgresql":
        request.getfixturevalue("pg_server_url")  # skips (or fails, in CI) without a server
    if getattr(bench, "name", "") in MAIL and not os.access("/usr/sbin/smtp-sink", os.X_OK):
        reason = "postfix's smtp-sink is not installed (apt-get install postfix; .ci/run does)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, f"{' '.join(command[1:])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    figures = [line for line in done.stdout.splitlines() if re.search(r"\d", line)]
    assert figures, f"{' '.join(command[1:])} printed no figures:\n{done.stdout[-2000:]}"
