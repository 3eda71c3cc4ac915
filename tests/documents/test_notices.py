"""The weekly 通报 and the 督办通知单 as .docx: the office's sentences, tables and layout, read back with python-docx."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from sqlmodel import Session

from config.calendar import load_calendar
from config.settings import load_settings
from models.tables import Role, Status
from notifications.documents.facts import item_facts, weekly_facts
from notifications.documents.notices import (
    DocumentFigure,
    day_words,
    figure_sentence,
    item_notice,
    weekly_notice,
)
from tests.factories import make_document, make_item, make_person, make_unit

NOW = datetime(2024, 10, 8, 1, 0, tzinfo=UTC)  # Tuesday 8 October 2024, 09:00 in Shanghai
FORMULA = '=HYPERLINK("http://evil.test","x")'


def test_the_offices_sentence_as_in_its_own_summary() -> None:
    figure = DocumentFigure("新时代意见", total=103, signed_off=53, overdue=0)
    assert figure_sentence(figure, date(2024, 10, 8), "zh-CN") == "截至10月8日，《新时代意见》103项事项已落实53项，占51.5%。"
    assert figure_sentence(figure, date(2024, 10, 8), "en") == (
        "As of 8 October, “新时代意见”: 53 of 103 items implemented (51.5%).")
    assert day_words(date(2023, 4, 13), "zh-CN") == "2023年4月13日"


@pytest.fixture
def ledger(session: Session) -> dict[str, Any]:
    fgw = make_unit(session, "市发改委", contact_emails=["fgw@example.gov.cn"])
    jxw = make_unit(session, "市经信委", contact_emails=["jxw@example.gov.cn"])
    supervisor = make_person(session, Role.SUPERVISOR, name="王督查", email="sup@dc.gov.cn")
    doc = make_document(session, "新时代意见")
    late = make_item(session, document=doc, lead_unit=fgw, co_units=(jxw,), supervisor=supervisor, number="3",
                     title=FORMULA + " <w:p>及时</w:p>", deadline=date(2024, 9, 30), status=Status.IN_PROGRESS)
    make_item(session, document=doc, lead_unit=jxw, number="4", deadline=date(2024, 12, 31))
    make_item(session, document=doc, lead_unit=jxw, number="5", deadline=date(2024, 6, 30), status=Status.SIGNED_OFF)
    session.commit()
    return {"late": late}


def _text(path: Path) -> tuple[str, list[list[list[str]]]]:
    document = Document(str(path))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, tables


def test_weekly_notice_says_the_figures_names_the_overdue_and_ranks_the_units(
    session: Session, ledger: dict[str, Any], tmp_path: Path
) -> None:
    settings = load_settings(office_name="赣州市苏区振兴发展工作办公室")
    weekly_notice(weekly_facts(session, settings, "2024-W41", NOW)).save(str(tmp_path / "weekly.docx"))
    text, tables = _text(tmp_path / "weekly.docx")

    assert text.startswith("赣州市苏区振兴发展工作办公室\n督通〔2024〕41号")
    assert "关于2024年第41周\n督查督办事项落实情况的通报" in text, "the title in two lines, the lower longer"
    assert "截至10月8日，全部3项事项已落实1项，占33.3%。" in text
    assert "截至10月8日，《新时代意见》3项事项已落实1项，占33.3%。" in text
    assert "截至10月8日，共有1项事项逾期未办结，涉及1个牵头单位：" in text
    assert text.rstrip().endswith("赣州市苏区振兴发展工作办公室\n2024年10月8日")
    overdue, ranking = tables
    assert overdue[0] == ["序号", "牵头单位", "文件", "编号", "事项", "办理时限", "逾期天数"] or overdue[0][0] == "序号"
    assert overdue[1][1:4] == ["市发改委", "新时代意见", "3"] and overdue[1][6] == "8"
    assert overdue[1][4] == FORMULA + " <w:p>及时</w:p>", "item text stays plain text"
    assert [row[1] for row in ranking[1:]] == ["市经信委", "市发改委"]  # 50% before 0%
    assert [row[0] for row in ranking[1:]] == ["1", "2"]


def test_weekly_notice_follows_the_official_layout(session: Session, ledger: dict[str, Any], tmp_path: Path) -> None:
    weekly_notice(weekly_facts(session, load_settings(), None, NOW)).save(str(tmp_path / "weekly.docx"))
    document = Document(str(tmp_path / "weekly.docx"))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1) and abs(section.page_height - Mm(297)) < Mm(0.1), "A4"
    assert abs(section.top_margin - Mm(37)) < Mm(1) and abs(section.left_margin - Mm(28)) < Mm(1)
    mark = document.paragraphs[0].runs[0]
    assert str(mark.font.color.rgb) == "E60012", "the issuer's name is red"
    assert document.paragraphs[1]._p.find(qn("w:pPr")).find(qn("w:pBdr")) is not None, "the red line"
    body = next(p for p in document.paragraphs if p.text.startswith("截至"))
    fonts = body.runs[0]._element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋" and body.runs[0].font.size.pt == 16
    assert document.settings.odd_and_even_pages_header_footer
    assert "PAGE" in section.footer.paragraphs[0]._p.xml and "PAGE" in section.even_page_footer.paragraphs[0]._p.xml


def test_item_notice_says_what_is_late_and_what_is_required_by_when(
    session: Session, ledger: dict[str, Any], tmp_path: Path
) -> None:
    facts = item_facts(session, load_settings(), ledger["late"], NOW, load_calendar())
    item_notice(facts).save(str(tmp_path / "item.docx"))
    text, tables = _text(tmp_path / "item.docx")
    assert "督办通知单" in text and f"督办〔2024〕{ledger['late'].id}号" in text
    assert "市发改委：" in text
    assert "完成时限为2024年9月30日" in text
    assert "截至2024年10月8日，该事项已逾期，已逾期8天。" in text or "已逾期8天" in text
    assert "请于2024年10月11日前报送办理进展及佐证材料" in text  # three working days after Tuesday
    fields = dict(tables[0][1:])
    assert fields["配合单位"] == "市经信委" and fields["督办人"] == "王督查"


def test_bad_weeks_and_closed_items_are_refused_in_words(session: Session, ledger: dict[str, Any]) -> None:
    from models.errors import InvalidInput

    settings = load_settings()
    for week, code in (("2024-40", "notice.bad_week"), ("2024-W60", "notice.bad_week"), ("2024-W50", "notice.future_week")):
        with pytest.raises(InvalidInput) as refused:
            weekly_facts(session, settings, week, NOW)
        assert refused.value.code == code
    signed = make_item(session, status=Status.SIGNED_OFF)
    with pytest.raises(InvalidInput) as refused:
        item_facts(session, settings, signed, NOW, load_calendar())
    assert refused.value.code == "notice.item_closed"


def test_no_items_no_notice(sqlite_url: str) -> None:
    from models.db import make_engine
    from models.errors import InvalidInput

    engine = make_engine(sqlite_url)
    with Session(engine) as session, pytest.raises(InvalidInput) as refused:
        weekly_facts(session, load_settings(), None, NOW)
    engine.dispose()
    assert refused.value.code == "notice.no_data"


def test_the_cli_writes_both_documents_and_refuses_a_bad_week_in_one_line(
    db_url: str, session: Session, ledger: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    from config.settings import get_settings
    from tests.clirun import cli_runner

    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    run = cli_runner(monkeypatch, capsys)
    weekly = run("notice", "weekly", "--week", "2024-W41", "--out", str(tmp_path / "w.docx"), "--now", NOW.isoformat())
    assert weekly.code == 0 and "已写入" in weekly.out and (tmp_path / "w.docx").exists()
    single = run("notice", "item", "新时代意见/3", "--out", str(tmp_path / "i.docx"), "--now", NOW.isoformat())
    assert single.code == 0 and (tmp_path / "i.docx").exists()
    refused = run("notice", "weekly", "--week", "W41", "--out", str(tmp_path / "x.docx"), "--now", NOW.isoformat())
    assert refused.code == 1 and "不是有效的周" in refused.err and "Traceback" not in refused.err
    assert not (tmp_path / "x.docx").exists()
    get_settings.cache_clear()


def test_table_rows_keep_their_own_texts_and_drop_control_characters(tmp_path: Path) -> None:
    from notifications.documents import layout

    document = layout.official_document()
    layout.table(document, [layout.Column("A", 50), layout.Column("B", 50, "right")],
                 [["一\x0c二", "1"], ["<w:p>三</w:p>", "2"], ["  四", "3"]])
    document.save(str(tmp_path / "t.docx"))
    rows = [[cell.text for cell in row.cells] for row in Document(str(tmp_path / "t.docx")).tables[0].rows]
    assert rows == [["A", "B"], ["一二", "1"], ["<w:p>三</w:p>", "2"], ["  四", "3"]]


def test_table_cells_read_in_the_table_font_and_alignment(tmp_path: Path) -> None:
    from notifications.documents import layout

    document = layout.official_document()
    layout.table(document, [layout.Column("A", 50), layout.Column("B", 50, "center")], [["一", "1"]])
    document.save(str(tmp_path / "t.docx"))
    left, centred = Document(str(tmp_path / "t.docx")).tables[0].rows[1].cells
    for cell, alignment in ((left, "LEFT"), (centred, "CENTER")):
        style = cell.paragraphs[0].style
        assert style.font.size.pt == 10.5 and style.paragraph_format.alignment.name == alignment
        assert style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋"


def test_a_unit_with_more_overdue_items_than_listed_shows_the_longest_overdue_and_counts_the_rest(
    session: Session, tmp_path: Path
) -> None:
    from models.read.figures import build_figures

    fgw, jxw = make_unit(session, "市发改委"), make_unit(session, "市经信委")
    doc = make_document(session, "新时代意见")
    for n in range(1, 6):  # five overdue, the longest overdue last numbered
        make_item(session, document=doc, lead_unit=fgw, number=str(n), deadline=date(2024, 10, 1 + n) - timedelta(days=7 * n),
                  status=Status.IN_PROGRESS)
    make_item(session, document=doc, lead_unit=jxw, number="9", deadline=date(2024, 9, 30))
    make_item(session, document=doc, lead_unit=jxw, number="10", deadline=date(2024, 9, 1), status=Status.SIGNED_OFF)
    session.commit()
    settings = load_settings(weekly_notice_items_per_unit=2)
    facts = weekly_facts(session, settings, None, NOW)
    weekly_notice(facts).save(str(tmp_path / "weekly.docx"))
    text, (overdue, ranking) = _text(tmp_path / "weekly.docx")

    assert "截至10月8日，共有6项事项逾期未办结，涉及2个牵头单位：" in text
    assert "各单位列出逾期时间最长的2项，其余项数列于其后。" in text
    assert overdue[1:] == [
        ["1", "市发改委", "新时代意见", "5", "推动政策落地见效", "2024-09-01", "37"],
        ["2", "市发改委", "新时代意见", "4", "推动政策落地见效", "2024-09-07", "31"],
        ["", "市发改委", "", "", "……等5项（另有3项未列出）", "", ""],
        ["3", "市经信委", "新时代意见", "9", "推动政策落地见效", "2024-09-30", "8"],
    ]
    figures = {row.name: row.overdue for row in build_figures(session, None, NOW, settings.tz).units}
    assert {unit.unit: unit.count for unit in facts.overdue} == {"市发改委": 5, "市经信委": 1} == {
        name: n for name, n in figures.items() if n}
    assert {row[1]: int(row[5]) for row in ranking[1:]} == figures, "the ranking counts every overdue item"


def test_a_unit_with_no_more_than_listed_has_no_rest_line(session: Session, ledger: dict[str, Any]) -> None:
    facts = weekly_facts(session, load_settings(weekly_notice_items_per_unit=1), None, NOW)
    assert [(u.unit, u.count, u.rest) for u in facts.overdue] == [("市发改委", 1, 0)]
    document = weekly_notice(facts)
    assert not any(p.text.startswith("各单位列出") for p in document.paragraphs)


def test_the_number_of_items_listed_per_unit_is_a_checked_setting() -> None:
    from config.settings import SettingsError

    assert load_settings().weekly_notice_items_per_unit == 5
    with pytest.raises(SettingsError, match="DUBAN_WEEKLY_NOTICE_ITEMS_PER_UNIT"):
        load_settings(weekly_notice_items_per_unit=0)
