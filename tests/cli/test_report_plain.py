"""`duban report` on a SQLite file reads through models.read.counts without SQLAlchemy: SQL compiled
from the statements build_report runs (models/read/report_sql.py, generated), the same rows made
into the same figures. These tests keep the generated module current, compare the two readings,
and compare the command's output with what it printed through the ORM."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from models.read import report_sql
from models.read.counts import sqlite_report
from models.read.figures import build_report, compiled_report_sql
from tests.conftest import TZ
from tests.ledger.test_cli import duban


def assert_plain_report_agrees(session: Session, now: datetime) -> None:
    """On SQLite: sqlite_report through the session's own DBAPI connection gives build_report's figures
    at `now` and a few days either side (due soon, overdue and on-time limits move with the day)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.connection().connection.dbapi_connection
    for days in (-40, -3, 0, 1, 9, 60):
        at = now + timedelta(days=days)
        assert sqlite_report(raw, at, TZ) == build_report(session, at, TZ), at  # type: ignore[arg-type]


def test_the_generated_statements_are_the_ones_build_report_runs():
    assert compiled_report_sql() == Path(report_sql.__file__).read_text(encoding="utf-8"), \
        "models/read/report_sql.py is stale: run python -m models.read.figures"


@pytest.fixture
def demo(tmp_path: Path, sqlite_url: str) -> Path:
    done = duban(tmp_path, sqlite_url, "demo", "--dir", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stderr
    return tmp_path / "demo"


def _report(cwd: Path, *args: str, orm: bool, locale: str = "en") -> subprocess.CompletedProcess[str]:
    return read_command(cwd, "report", *args, orm=orm, locale=locale)


def read_command(cwd: Path, name: str, *args: str, orm: bool, locale: str = "en",
                 columns: int = 200) -> subprocess.CompletedProcess[str]:
    """`duban NAME` in `cwd` (the demo's duban.toml: a relative sqlite:///duban.db), through the plain
    reading or, with `orm`, through the ORM as before; and whether SQLAlchemy was imported."""
    script = ("import sys; import cli.views; from cli.main import main\n"
              f"if {orm!r}: cli.views.sqlite_path = lambda: None\n"
              f"sys.argv = ['duban', {name!r}, *{list(args)!r}]\n"
              "try:\n    main()\nfinally:\n    print('sqlalchemy' in sys.modules, file=sys.stderr)\n")
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": str(columns), "DUBAN_LOCALE": locale, "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_report_prints_what_it_printed_through_the_orm_without_importing_sqlalchemy(demo):
    for args in (("--now", "2023-06-26T09:00+08:00"), ("--now", "2023-07-20T09:00+08:00", "--json"),
                 ("--now", "2023-06-26T09:00+08:00", "--json")):
        for locale in ("en", "zh-CN"):
            plain, orm = _report(demo, *args, orm=False, locale=locale), _report(demo, *args, orm=True, locale=locale)
            assert plain.returncode == orm.returncode == 0, plain.stderr + orm.stderr
            assert plain.stdout == orm.stdout and len(plain.stdout) > 500
            assert plain.stderr.splitlines()[-1] == "False" and orm.stderr.splitlines()[-1] == "True"


def test_the_plain_report_refuses_a_database_as_the_orm_did(tmp_path):
    (tmp_path / "duban.toml").write_text('database_url = "sqlite:///missing/duban.db"\n', encoding="utf-8")
    plain, orm = _report(tmp_path, orm=False), _report(tmp_path, orm=True)
    assert plain.returncode == orm.returncode == 1
    assert plain.stdout == orm.stdout and plain.stderr.splitlines()[:-1] == orm.stderr.splitlines()[:-1]
    assert "cannot connect to the database" in plain.stderr
    (tmp_path / "duban.toml").write_text('database_url = "sqlite:///empty.db"\n', encoding="utf-8")
    plain, orm = _report(tmp_path, orm=False), _report(tmp_path, orm=True)
    assert plain.returncode == orm.returncode == 1
    assert plain.stderr.splitlines()[:-1] == orm.stderr.splitlines()[:-1] and "not initialised" in plain.stderr
