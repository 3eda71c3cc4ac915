"""`duban progress|submit ... --file PATH` (repeatable) and the files in `duban show --json`."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlmodel import Session, func, select

from models.attachments import Attachment
from models.tables import ItemEvent, Role
from tests.factories import make_document, make_item, make_person, make_unit

NOW = "2024-06-03T09:00+08:00"
PDF = b"%PDF-1.7\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture
def item(engine, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUBAN_DATA_DIR", str(tmp_path / "data"))
    with Session(engine) as s:
        fgw = make_unit(s, "市发改委", code="FGW")
        make_person(s, Role.OFFICER, fgw, email="officer@fgw.gov.cn")
        make_item(s, document=make_document(s, "新时代意见"), number="12", lead_unit=fgw, deadline=date(2024, 6, 30))
        s.commit()
    return "新时代意见/12"


def test_progress_with_two_files_and_show_lists_them(duban, item, tmp_path, engine):
    (tmp_path / "会议纪要.pdf").write_bytes(PDF)
    (tmp_path / "photo.jpg").write_bytes(JPEG)
    done = duban("progress", item, "--by", "officer@fgw.gov.cn", "--text", "已召开协调会",
                 "--file", str(tmp_path / "会议纪要.pdf"), "--file", str(tmp_path / "photo.jpg"), "--now", NOW)
    assert done.code == 0, done.err
    shown = duban("show", item, "--json").json()
    assert [(a["name"], a["size"], a["sha256"]) for a in shown["attachments"]] == [
        ("会议纪要.pdf", len(PDF), hashlib.sha256(PDF).hexdigest()),
        ("photo.jpg", len(JPEG), hashlib.sha256(JPEG).hexdigest())]
    stored = tmp_path / "data" / "attachments"
    assert sorted(p.name for p in stored.rglob("*") if p.is_file()) == sorted(
        hashlib.sha256(d).hexdigest() for d in (PDF, JPEG))


def test_a_refused_file_leaves_nothing_and_says_why(duban, item, tmp_path, engine):
    (tmp_path / "report.pdf").write_bytes(b"MZ\x90\x00 not a pdf")
    refused = duban("submit", item, "--by", "officer@fgw.gov.cn", "--evidence", "已完成",
                    "--file", str(tmp_path / "report.pdf"), "--now", NOW)
    assert refused.code == 1 and "report.pdf: not an accepted kind of file" in refused.err
    missing = duban("submit", item, "--by", "officer@fgw.gov.cn", "--evidence", "已完成",
                    "--file", str(tmp_path / "nowhere.pdf"), "--now", NOW)
    assert missing.code == 1 and "no such file" in missing.err
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Attachment)).one() == 0
        assert s.exec(select(func.count()).select_from(ItemEvent)).one() == 0
    assert not [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
