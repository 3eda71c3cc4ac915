"""`duban items` on a SQLite file without filters (or with --archived, --limit) reads through
models.read.listed without SQLAlchemy: SQL compiled from the statements list_rows runs
(models/read/report_sql.py, generated; tests/cli/test_report_plain.py keeps it current), the same
rows made into the same output. These tests compare the command's output with what it printed
through the ORM, on the demo ledger with the awkward rows added and on an empty one."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from tests.cli.test_report_plain import demo as demo
from tests.cli.test_report_plain import read_command
from tests.ledger.test_cli import duban

ARGS = [("--json",), ("--json", "--limit", "3"), ("--json", "--archived"), ("--json", "--limit", "-1"),
        (), ("--limit", "2"), ("--archived",), ("--json", "--overdue"), ("--json", "--status", "assigned")]


def _items(cwd: Path, *args: str, orm: bool, locale: str = "en") -> subprocess.CompletedProcess[str]:
    return read_command(cwd, "items", *args, orm=orm, locale=locale)


def _awkward(database: Path) -> None:
    """Titles to escape, an archived document, an urged item, a deadline moved, a 签收."""
    with sqlite3.connect(database) as connection:
        first, second, third = (row[0] for row in connection.execute("SELECT id FROM item ORDER BY id LIMIT 3"))
        connection.execute("UPDATE item SET title = ? WHERE id = ?", ('引号"\\ <b>&amp; \u2028 😀 \x1f end', first))
        connection.execute("UPDATE item SET deadline = '2031-01-02', escalation_level = 2 WHERE id = ?", (second,))
        connection.execute("INSERT INTO item_event (item_id, at, kind, payload, actor_label) VALUES (?, '2023-06-20 01:00:00', "
                           "'urged', '{}', 'office')", (third,))
        connection.execute("INSERT INTO item_event (item_id, at, kind, payload, actor_label) VALUES (?, '2023-06-21 01:00:00', "
                           "'urged', '{}', 'office')", (third,))
        document = connection.execute("SELECT document_id FROM item WHERE id = ?", (third,)).fetchone()[0]
        connection.execute("UPDATE document SET archived_at = '2023-06-25 00:00:00' WHERE id != ?", (document,))


def test_items_print_what_they_printed_through_the_orm_without_importing_sqlalchemy(demo):
    _awkward(demo / "duban.db")
    for args in ARGS:
        for now in ("2023-06-26T09:00+08:00", "2023-07-20T23:30+08:00"):
            plain = _items(demo, *args, "--now", now, orm=False)
            orm = _items(demo, *args, "--now", now, orm=True)
            assert plain.returncode == orm.returncode == 0, plain.stderr + orm.stderr
            assert plain.stdout == orm.stdout and len(plain.stdout) > 100, args
            filtered = "--overdue" in args or "--status" in args  # filters still read through the ORM
            assert plain.stderr.splitlines()[-1] == str(filtered) and orm.stderr.splitlines()[-1] == "True"
    plain = _items(demo, "--json", "--limit", "5", orm=False, locale="zh-CN")
    assert plain.stdout == _items(demo, "--json", "--limit", "5", orm=True, locale="zh-CN").stdout
    assert '"urged": 2' in _items(demo, "--json", orm=False).stdout


def test_an_empty_ledger_lists_as_it_did(tmp_path, sqlite_url):
    assert duban(tmp_path, sqlite_url, "init").returncode == 0
    (tmp_path / "duban.toml").write_text(f'database_url = "{sqlite_url}"\n', encoding="utf-8")
    for args in (("--json",), (), ("--json", "--limit", "4")):
        plain, orm = _items(tmp_path, *args, orm=False), _items(tmp_path, *args, orm=True)
        assert plain.returncode == orm.returncode == 0 and plain.stdout == orm.stdout, plain.stderr


def test_the_plain_list_refuses_a_database_as_the_orm_did(tmp_path):
    (tmp_path / "duban.toml").write_text('database_url = "sqlite:///missing/duban.db"\n', encoding="utf-8")
    plain, orm = _items(tmp_path, "--json", orm=False), _items(tmp_path, "--json", orm=True)
    assert plain.returncode == orm.returncode == 1
    assert plain.stdout == orm.stdout and plain.stderr.splitlines()[:-1] == orm.stderr.splitlines()[:-1]


def test_the_json_written_from_the_columns_is_json_text_of_the_rows(demo):
    """`sqlite_items_json` against json_text of `sqlite_items`' rows, also on values of an unexpected
    type (SQLite keeps what it is given) and with every due state and light at some instant."""
    from cli.common import json_text
    from config.clock import parse_instant
    from models.read.listed import sqlite_items, sqlite_items_json
    from tests.conftest import TZ

    _awkward(demo / "duban.db")
    with sqlite3.connect(demo / "duban.db") as connection:
        ids = [row[0] for row in connection.execute("SELECT id FROM item ORDER BY id LIMIT 8")]
        connection.execute("UPDATE item SET escalation_level = '2.5x', version = 3.0 WHERE id = ?", (ids[3],))
        connection.execute("UPDATE item SET title = 12, number = 70007 WHERE id = ?", (ids[4],))
        connection.execute("UPDATE item SET status = 'signed_off' WHERE id = ?", (ids[5],))
        connection.execute("UPDATE item SET status = 'submitted' WHERE id = ?", (ids[6],))
        connection.execute("UPDATE item SET status = 'cancelled' WHERE id = ?", (ids[7],))
    connection = sqlite3.connect(demo / "duban.db")
    try:
        for now in ("2023-06-26T09:00+08:00", "2023-07-20T23:30+08:00", "2030-01-01T00:00Z"):
            for archived, limit in ((False, 0), (True, 0), (False, 5), (True, 1)):
                at = parse_instant(now)
                rows = sqlite_items(connection, at, TZ, archived=archived, limit=limit)
                assert "".join(sqlite_items_json(connection, at, TZ, archived=archived, limit=limit)) == \
                    json_text([row.as_dict() for row in rows])
    finally:
        connection.close()
