"""A command closes its database when it exits: on SQLite the write-ahead log is folded back into
duban.db, so a copy of that one file (a backup, a hand-over) holds what the command wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("argv", [["sweep"], ["items"], ["show", "no-such-item"]])
def test_a_command_leaves_no_write_ahead_log_behind(sqlite_url: str, tmp_path: Path, argv: list[str]) -> None:
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    code = f"import sys; sys.argv = ['duban', *{argv!r}]; from cli.launch import main; main()"  # the console script
    env = {**os.environ, "DUBAN_DATABASE_URL": sqlite_url, "DUBAN_PRELOAD": "0"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    assert not database.with_name(database.name + "-wal").exists(), (argv, done.stdout, done.stderr)
