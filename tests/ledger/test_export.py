"""The items export in the ledger's columns: edited and imported again, it applies exactly the edits."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from models.ledger.apply import import_ledger
from models.ledger.export import COLUMNS, ledger_table
from models.ledger.parse import HEADERS
from models.ledger.validate import STATUS_WORDS, STATUSES
from models.lifecycle import Action, apply
from models.queries import find_item, find_person
from models.sheets import xlsx
from models.tables import Item, Status

TZ = ZoneInfo("Asia/Shanghai")
EDITABLE = sum(1 for c in COLUMNS if c.field)


def export(session: Session, now: datetime, path: Path, locale: str = "zh-CN") -> Path:
    ids = list(session.exec(select(Item.id).order_by(col(Item.id))).all())
    path.write_bytes(xlsx(ledger_table(session, ids, now=now, tz=TZ, locale=locale), tz=TZ))
    return path


def rows_of(path: Path) -> list[tuple[object, ...]]:
    return list(load_workbook(path).active.iter_rows(values_only=True))


def test_export_has_the_import_headers_then_read_only_columns(session, ledger_files, now, tmp_path):
    import_ledger(session, ledger_files, now=now)
    session.commit()
    sheet = load_workbook(export(session, now, tmp_path / "items.xlsx")).active
    assert sheet.title == "台账"
    header = [c.value for c in sheet[1]]
    assert header[:EDITABLE] == [aliases[0] for aliases in HEADERS["ledger"].values()]
    assert header[EDITABLE:] == ["逾期天数", "升级督办", "最近进展", "进展日期"]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert (first["编号"], first["配合单位"], first["督办人"], first["状态"]) == ("1", "市财政局", "sup1@example.gov.cn", "已交办")
    assert first["完成时限"] == datetime(2024, 6, 30) and sheet["G2"].is_date  # a real date, not text  # noqa: DTZ001


def test_an_edited_export_imports_exactly_the_edits_and_exports_again_as_edited(session, ledger_files, now, tmp_path):
    import_ledger(session, ledger_files, now=now)
    apply(session, find_item(session, "新时代意见/1"), Action.REPORT_PROGRESS,
          find_person(session, "fgw@example.gov.cn"), now, text='=HYPERLINK("http://evil.test","x")')
    session.commit()
    path = export(session, now, tmp_path / "items.xlsx")
    unedited = import_ledger(session, [path], now=now, dry_run=True)
    assert (unedited.items_unchanged, unedited.items_updated, unedited.items_created) == (3, 0, 0)

    workbook = load_workbook(path)
    sheet = workbook.active
    sheet["C2"] = "支持建设国家级示范区"  # 事项 of 新时代意见/1
    sheet["G3"] = date(2024, 10, 31)  # 完成时限 of 新时代意见/2
    sheet["N2"] = "an officer's note in a read-only column"  # ignored by the import
    workbook.save(path)

    dry = import_ledger(session, [path], now=now, dry_run=True)
    session.rollback()
    assert dry.changes == [{"item": "新时代意见/1", "title": ["支持建设示范区", "支持建设国家级示范区"]},
                           {"item": "新时代意见/2", "deadline": ["2024-09-30", "2024-10-31"]}]
    applied = import_ledger(session, [path], now=now)
    session.commit()
    assert (applied.items_updated, applied.items_unchanged) == (2, 1)
    assert find_item(session, "新时代意见/2").deadline == date(2024, 10, 31)

    again = rows_of(export(session, now, tmp_path / "again.xlsx"))
    edited = rows_of(path)
    assert [row[:EDITABLE] for row in again] == [row[:EDITABLE] for row in edited]
    assert again[1][13] == '=HYPERLINK("http://evil.test","x")'  # the progress text, as text


def test_english_export_imports_too(session, ledger_files, now, tmp_path):
    import_ledger(session, ledger_files, now=now)
    session.commit()
    path = export(session, now, tmp_path / "items.xlsx", locale="en")
    sheet = load_workbook(path).active
    assert sheet.title == "Ledger"
    assert [c.value for c in sheet[1]][:3] == ["Document", "Number", "Title"]
    assert import_ledger(session, [path], now=now, dry_run=True).items_unchanged == 3


def test_an_extended_deadline_exported_is_not_a_change(session, ledger_files, now, tmp_path):
    import_ledger(session, ledger_files, now=now)
    item = find_item(session, "新时代意见/1")
    apply(session, item, Action.REQUEST_EXTENSION, find_person(session, "fgw@example.gov.cn"), now,
          deadline=date(2024, 12, 31), reason="等待批复")
    apply(session, item, Action.APPROVE_EXTENSION, find_person(session, "sup1@example.gov.cn"), now)
    session.commit()
    path = export(session, now, tmp_path / "items.xlsx")
    assert rows_of(path)[1][6] == datetime(2024, 12, 31)  # noqa: DTZ001
    assert import_ledger(session, [path], now=now, dry_run=True).items_unchanged == 3


@pytest.mark.parametrize("locale", list(STATUS_WORDS))
def test_every_state_the_export_writes_is_a_word_the_import_accepts(locale):
    for status, word in STATUS_WORDS[locale].items():
        key = word.lower() if word.isascii() else word
        # an import never changes an existing item's state; a new one cannot start submitted
        assert STATUSES[key] == (Status.IN_PROGRESS if status == Status.SUBMITTED else status)


def test_overdue_items_show_their_days_and_level(session, ledger_files, now, tmp_path):
    import_ledger(session, ledger_files, now=now)
    session.commit()
    later = datetime(2024, 7, 3, 1, 0, tzinfo=ZoneInfo("UTC"))  # 3 July in Shanghai: 新时代意见/1 is 3 days overdue
    first = rows_of(export(session, later, tmp_path / "items.xlsx"))[1]
    assert (first[1], first[11]) == ("1", 3)
