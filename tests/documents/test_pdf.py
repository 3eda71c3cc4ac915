"""The 通报 and the 督办通知单 as PDF: converted by LibreOffice where it is installed, refused in words where not."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from models.tables import Role, Status
from notifications.documents import layout, pdf
from tests.factories import make_document, make_item, make_person, make_unit

NOW = datetime(2024, 10, 8, 1, 0, tzinfo=UTC)  # Tuesday 8 October 2024, 09:00 in Shanghai
needs_soffice = pytest.mark.skipif(pdf.converter() is None,
                                   reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")


@pytest.fixture
def ledger(session: Session) -> None:
    fgw = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, name="王督查", email="sup@dc.gov.cn")
    doc = make_document(session, "新时代意见")
    make_item(session, document=doc, lead_unit=fgw, supervisor=supervisor, number="3", title="推进数字经济发展",
              deadline=date(2024, 9, 30), status=Status.IN_PROGRESS)
    make_item(session, document=doc, lead_unit=fgw, number="5", deadline=date(2024, 6, 30), status=Status.SIGNED_OFF)
    session.commit()


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    from config.settings import get_settings
    from tests.clirun import cli_runner

    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    monkeypatch.setenv("DUBAN_OFFICE_NAME", "赣州市苏区振兴发展工作办公室")
    get_settings.cache_clear()
    yield cli_runner(monkeypatch, capsys)
    get_settings.cache_clear()


def _fake_soffice(tmp_path: Path, script: str) -> str:
    path = tmp_path / "soffice"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return str(path)


def _squeezed(text: str) -> str:
    """pdftotext's text without the spaces and line breaks it puts between CJK, digits and lines."""
    return re.sub(r"\s+", "", text)


def test_without_libreoffice_a_pdf_is_refused_naming_what_to_install_and_nothing_is_written(
    session: Session, ledger: None, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "COMMANDS", (str(tmp_path / "no-such-soffice"),))
    assert pdf.converter() is None and not pdf.available()
    for args in (("weekly", "--week", "2024-W41"), ("item", "新时代意见/3")):
        refused = run("notice", *args, "--out", str(tmp_path / "n.pdf"), "--now", NOW.isoformat())
        assert refused.code == 1 and "Traceback" not in refused.err
        assert "LibreOffice" in refused.err and "libreoffice-writer-nogui" in refused.err
        assert not (tmp_path / "n.pdf").exists()
    with pytest.raises(pdf.ConverterMissing) as missing:
        pdf.to_pdf(layout.official_document())
    assert missing.value.code == "pdf.no_converter"


def test_only_docx_and_pdf_files_are_written(session: Session, ledger: None, run: Any, tmp_path: Path) -> None:
    refused = run("notice", "weekly", "--week", "2024-W41", "--out", str(tmp_path / "n.doc"), "--now", NOW.isoformat())
    assert refused.code == 1 and ".docx" in refused.err and ".pdf" in refused.err
    assert not (tmp_path / "n.doc").exists()


def test_a_failing_or_hung_converter_is_reported_and_leaves_nothing(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "COMMANDS", (_fake_soffice(tmp_path, "echo 'source file could not be loaded' >&2; exit 3"),))
    with pytest.raises(pdf.ConversionFailed) as failed:
        pdf.to_pdf(layout.official_document())
    assert failed.value.code == "pdf.failed" and "exit 3: source file could not be loaded" in str(failed.value)

    monkeypatch.setattr(pdf, "COMMANDS", (_fake_soffice(tmp_path, "exit 0"),))  # says yes, writes nothing
    with pytest.raises(pdf.ConversionFailed, match="no PDF written"):
        pdf.to_pdf(layout.official_document())

    monkeypatch.setattr(pdf, "COMMANDS", (_fake_soffice(tmp_path, "sleep 60 & sleep 60"),))
    with pytest.raises(pdf.ConversionFailed, match="no answer within 0.5 s"):
        pdf.to_pdf(layout.official_document(), timeout=0.5)
    lingering = subprocess.run(["pgrep", "-f", f"^/bin/sh {tmp_path}/soffice"], capture_output=True, text=True)
    assert lingering.stdout == "", "the timeout kills the converter's whole process group"


@needs_soffice
def test_both_documents_convert_to_pdf_with_the_offices_words(
    session: Session, ledger: None, run: Any, tmp_path: Path
) -> None:
    weekly = run("notice", "weekly", "--week", "2024-W41", "--out", str(tmp_path / "w.pdf"), "--now", NOW.isoformat())
    single = run("notice", "item", "新时代意见/3", "--out", str(tmp_path / "i.pdf"), "--now", NOW.isoformat())
    assert weekly.code == 0 and single.code == 0, weekly.err + single.err
    for name in ("w.pdf", "i.pdf"):
        assert (tmp_path / name).read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDFs were written but their text is not checked")
    weekly_text = _squeezed(subprocess.run(["pdftotext", str(tmp_path / "w.pdf"), "-"], capture_output=True,
                                           text=True, check=True).stdout)
    assert weekly_text.startswith("赣州市苏区振兴发展工作办公室督通〔2024〕41号")
    assert "关于2024年第41周督查督办事项落实情况的通报" in weekly_text
    assert "截至10月8日，《新时代意见》2项事项已落实1项，占50.0%。" in weekly_text
    item_text = _squeezed(subprocess.run(["pdftotext", str(tmp_path / "i.pdf"), "-"], capture_output=True,
                                         text=True, check=True).stdout)
    assert "督办通知单" in item_text and "市发改委：" in item_text and "已逾期8天" in item_text
    assert re.search(r"督办〔2024〕\d+号", item_text)
