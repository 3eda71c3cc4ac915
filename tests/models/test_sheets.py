"""The one spreadsheet writer: text that looks like a formula stays text; header, widths, filter, print titles."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from models.sheets import DATE, PERCENT, Column, Table, sheet_title, xlsx

# What an attacker (or a careless officer) types into a title or a progress report.
RISKY = ['=HYPERLINK("http://evil.test","x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1+1", "=1+1"]


def formulas_in(data: bytes) -> list[str]:
    """Every <f> element in any sheet's XML: a live formula, whatever openpyxl would make of it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [name for name in archive.namelist()
                if name.startswith("xl/worksheets/") and re.search(rb"<f[\s>/]", archive.read(name))]


def assert_no_formulas(data: bytes) -> None:
    """No cell is a formula, read by openpyxl and in the raw sheet XML."""
    assert formulas_in(data) == []
    workbook = load_workbook(io.BytesIO(data))
    formulas = [(ws.title, c.coordinate) for ws in workbook.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []


def test_risky_text_is_stored_as_the_text_typed() -> None:
    data = xlsx(Table("台账", [Column("事项", 40), Column("进展", 40)], [[text, text] for text in RISKY]))
    assert_no_formulas(data)
    sheet = load_workbook(io.BytesIO(data))["台账"]
    # Exactly as typed, a CR too: openpyxl writes through lxml (a dependency of python-docx), which
    # escapes it (&#13;) rather than leaving a bare CR that XML would read back as a line feed.
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == RISKY
    assert all(sheet.cell(row, 1).quotePrefix for row in range(2, len(RISKY) + 2))
    assert not sheet.cell(1, 1).quotePrefix


def test_plain_openpyxl_would_have_written_a_formula() -> None:
    """The check above can fail: the same value through openpyxl unguarded is a live formula."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    workbook.create_sheet("x").append([RISKY[0]])
    out = io.BytesIO()
    workbook.save(out)
    assert formulas_in(out.getvalue()) != []


def test_header_is_bold_frozen_filtered_and_repeated_on_every_printed_page() -> None:
    rows = [["甲", date(2024, 6, 30), 0.515], ["乙", date(2024, 7, 1), 1]]
    data = xlsx(Table("figures", [Column("名称", 30), Column("完成时限", 12, DATE), Column("落实率", 9, PERCENT)],
                      rows, above=[["截至 2024-06-30"]]))
    sheet = load_workbook(io.BytesIO(data))["figures"]
    assert sheet["A2"].value == "名称" and sheet["A2"].font.b
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:C4"
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.column_dimensions["A"].width == 30
    assert sheet["B3"].value.date() == date(2024, 6, 30) and sheet["B3"].number_format == DATE
    assert sheet["C3"].number_format == PERCENT


def test_aware_times_are_shown_in_the_given_zone_and_control_characters_dropped() -> None:
    at = datetime(2024, 6, 30, 1, 30, tzinfo=UTC)
    data = xlsx(Table("t", [Column("时间"), Column("文字")], [[at, "a\x0bb"]]), tz=ZoneInfo("Asia/Shanghai"))
    sheet = load_workbook(io.BytesIO(data))["t"]
    assert sheet["A2"].value == at.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert sheet["B2"].value == "ab"
    with pytest.raises(TypeError, match="tz"):
        xlsx(Table("t", [Column("时间")], [[at]]))


def test_sheet_titles_excel_refuses_are_made_safe() -> None:
    assert sheet_title("a/b:c?[d]") == "a_b_c__d_"
    assert len(sheet_title("长" * 40)) == 31
