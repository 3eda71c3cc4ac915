"""`duban show` on a SQLite file reads through models.read.shown without SQLAlchemy: SQL compiled
from the statements find_item and item_detail run (models/read/report_sql.py, generated;
tests/cli/test_report_plain.py keeps it current). These tests compare the command's output with
what it printed through the ORM: text and JSON, both languages, every kind of event the demo has,
签收, evidence files, escaping, and the refusals of a reference that names no item."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from tests.cli.test_report_plain import demo as demo
from tests.cli.test_report_plain import read_command


def _show(cwd: Path, *args: str, orm: bool, locale: str = "en", columns: int = 200) -> subprocess.CompletedProcess[str]:
    return read_command(cwd, "show", *args, orm=orm, locale=locale, columns=columns)


def _awkward(database: Path) -> list[str]:
    """A title to escape, urged twice, an evidence file, a 签收 by import; the references to show."""
    with sqlite3.connect(database) as connection:
        refs = [f"{document}/{number}" for document, number in connection.execute(
            "SELECT document.short_name, item.number FROM item JOIN document ON document.id = item.document_id "
            "ORDER BY (SELECT count(*) FROM item_event WHERE item_id = item.id) DESC, item.id LIMIT 4")]
        first = connection.execute("SELECT min(id) FROM item").fetchone()[0]
        connection.execute("UPDATE item SET title = ?, deadline = '2031-01-02' WHERE id = ?",
                           ('引号"\\ <b>&amp; [red]x[/] \u2028 😀 end', first))
        for day in ("20", "21"):
            connection.execute("INSERT INTO item_event (item_id, at, kind, payload, actor_label) VALUES "
                               f"(?, '2023-06-{day} 01:00:00.000000', 'urged', ?, 'office')",
                               (first, '{"text": "请尽快\\n办理 \\"now\\""}'))
        event = connection.execute("SELECT max(id) FROM item_event").fetchone()[0]
        connection.execute("INSERT INTO attachment (item_id, event_id, name, size, sha256, content_type, person_id, at) "
                           "VALUES (?, ?, '佐证 材料.pdf', 12345, ?, 'application/pdf', 1, '2023-06-21 02:03:04.000005')",
                           (first, event, "ab" * 32))
        unit = connection.execute("SELECT lead_unit_id FROM item WHERE id = ?", (first,)).fetchone()[0]
        connection.execute("INSERT OR IGNORE INTO item_acknowledgement (item_id, unit_id, person_id, at) "
                           "VALUES (?, ?, NULL, '2023-06-19 08:00:00.000000')", (first, unit))
        return [str(first), *refs]


def test_show_prints_what_it_printed_through_the_orm_without_importing_sqlalchemy(demo):
    refs = _awkward(demo / "duban.db")
    for ref in refs:
        for args in ((), ("--json",)):
            for locale in ("en", "zh-CN"):
                every = (ref, *args, "--now", "2023-06-26T09:00+08:00")
                plain, orm = _show(demo, *every, orm=False, locale=locale), _show(demo, *every, orm=True, locale=locale)
                assert plain.returncode == orm.returncode == 0, plain.stderr + orm.stderr
                assert plain.stdout == orm.stdout and len(plain.stdout) > 100, (ref, args)
                assert plain.stderr.splitlines()[-1] == "False" and orm.stderr.splitlines()[-1] == "True"
    shown = _show(demo, refs[0], "--json", orm=False).stdout
    assert '"urged"' in shown and "佐证 材料.pdf" in shown and '"by_import"' not in shown


def test_a_reference_to_no_item_is_refused_as_it_was(demo):
    for ref in ("999999", "nosuchdoc/1", "x", "/3", " 1 ", "新时代意见/nosuch"):
        for locale in ("en", "zh-CN"):
            plain, orm = _show(demo, ref, orm=False, locale=locale), _show(demo, ref, orm=True, locale=locale)
            assert plain.returncode == orm.returncode, (ref, plain.stderr, orm.stderr)
            assert plain.stdout == orm.stdout and plain.stderr.splitlines()[:-1] == orm.stderr.splitlines()[:-1], ref


def test_show_names_the_supervisor_as_the_item_page_does(demo):
    """The demo's 督办人 by name (李督查), not by address; one without a name by their whole address,
    as the item page shows them (models.states.shown_name), through either reading."""
    at = ("--now", "2023-06-26T09:00+08:00")
    for orm in (False, True):
        assert "督办人：李督查\n" in _show(demo, "2023年工作计划/2", *at, orm=orm, locale="zh-CN").stdout
    with sqlite3.connect(demo / "duban.db") as connection:
        connection.execute("UPDATE person SET name = 'duban-sup1' WHERE email = 'duban-sup1@example.gov.cn'")
    for orm in (False, True):
        shown = _show(demo, "2023年工作计划/2", *at, orm=orm, locale="zh-CN").stdout
        assert "督办人：duban-sup1@example.gov.cn\n" in shown
        assert '"supervisor": "duban-sup1@example.gov.cn"' in _show(demo, "2023年工作计划/2", *at, "--json", orm=orm).stdout


def test_the_timeline_at_120_columns_keeps_each_detail_whole(demo):
    """Each detail on its own line: a deadline is never folded ("时限：20" / "23-06-30")."""
    import re

    at = ("--now", "2023-06-26T09:00+08:00")
    for locale, label in (("zh-CN", "时限："), ("en", "deadline: ")):
        shown = _show(demo, "2023年工作计划/2", *at, orm=False, locale=locale, columns=120).stdout
        assert max(len(line) for line in shown.splitlines()) <= 120
        cells = [re.sub(r"\s*│\s*$", "", line.rsplit("│", 2)[-2]).strip() for line in shown.splitlines()
                 if line.count("│") == 5]
        assert f"{label}2023-06-30" in cells, cells
        assert not any(cell.endswith(label.strip()) or cell.endswith(f"{label}20") for cell in cells)
