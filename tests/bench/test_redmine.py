"""The --redmine modes where Redmine is absent: one "not measured" line, exit 0, nothing built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.redmine import Instance, password_hash

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("module", "what"), [("reminder_job", "reminder job"), ("web", "web")])
def test_redmine_mode_without_redmine_says_not_measured(module: str, what: str, tmp_path: Path) -> None:
    absent = tmp_path / "no-redmine"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run([sys.executable, "-m", f"bench.{module}", "--redmine", "--redmine-root", str(absent)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith(f"{what} against Redmine (target >= 25x")
    assert f"not measured: Redmine is not installed (no {absent}/config.ru" in lines[0]
    assert list(scratch.iterdir()) == []  # no ledger built, no instance made


def test_instance_lives_in_its_own_directory(tmp_path: Path) -> None:
    root, workdir = tmp_path / "redmine", tmp_path / "bench" / "instance"
    (root / "instances").mkdir(parents=True)
    instance = Instance(root, workdir)
    assert (root / "instances" / instance.env["REDMINE_INSTANCE"]).resolve() == workdir.resolve()
    assert f"database: {workdir / 'redmine.sqlite3'}\n" in (workdir / "config" / "database.yml").read_text()
    instance.configure_smtp(2525)
    assert "port: 2525\n" in (workdir / "config" / "configuration.yml").read_text()
    assert list((root / "instances").iterdir()) == []


def test_password_hash_is_redmines_salted_sha1() -> None:
    # computed with Ruby as Redmine's User.hash_password does it:
    # Digest::SHA1.hexdigest("0123abcd" + Digest::SHA1.hexdigest("bench password"))
    assert password_hash("bench password", "0123abcd") == "56211c6d265ae9c9b6bf9d35badd81d95c5f5ffa"
