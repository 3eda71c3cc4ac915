"""The one spreadsheet writer: text that looks like a formula stays text; header, widths, filter, print titles."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from models.sheets import DATE, DATETIME, PERCENT, Column, Table, sheet_title, xlsx

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


ERROR_LOOKING = ["#N/A", "#REF!", "#DIV/0!", "#NULL!", "#VALUE!", "#NAME?", "#NUM!"]


def test_text_that_looks_like_an_excel_error_is_stored_as_text() -> None:
    """An officer's progress note "#N/A" is a text, not a broken formula's result."""
    data = xlsx(Table("t", [Column("进展")], [[text] for text in ERROR_LOOKING]))
    sheet = load_workbook(io.BytesIO(data))["t"]
    cells = [sheet.cell(row, 1) for row in range(2, len(ERROR_LOOKING) + 2)]
    assert [(c.value, c.data_type) for c in cells] == [(text, "s") for text in ERROR_LOOKING]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b't="e"' not in archive.read("xl/worksheets/sheet1.xml")


def test_sheet_titles_excel_refuses_are_made_safe() -> None:
    assert sheet_title("a/b:c?[d]") == "a_b_c__d_"
    assert len(sheet_title("长" * 40)) == 31


# The direct writer against the openpyxl writer it replaced (tests/models/xlsx_reference.py):
# every cell, style and sheet setting openpyxl reads back from the two workbooks is equal.
CORPUS_TEXTS = [
    "#N/A", "#REF!", "#DIV/0!", "#NULL!", "#VALUE!", "#NAME?", "#NUM!", "#n/a", "#N/A ", "=", "==", "=1+1",
    "=SUM(A1:A2)", "+", "+86 10 1234", "-", "-5", "@", "@user", "\t=1", "\r=1", "\r", "\t", "0123", "1e5", "3.14",
    "-0", "TRUE", "2024-06-30", "a\x00b\x08c\x0bd\x0ce\x0ff\x1fg", "\x01", "line\nbreak", "cr\r\nlf", " lead",
    "trail ", "   ", " ", "", "<b>&amp;</b> \"q\" 'a'", "]]>", "_x0041_ 不是 A", "督办事项：推动政策落地见效，完善配套措施",
    "单位" * 20000, "=" + "x" * 40000, "😀 emoji", "\u3000全角空格\u3000", "%(x)s %s %%",
]
CORPUS_VALUES: list[object] = [
    None, 0, 1, -7, 2**53 + 1, 2**53 - 1, -(2**53) + 1, 10**20, 0.1, 1 / 3, -2.5e-12, 1e300, float("nan"), float("inf"), True, False,
    Decimal("12.345"), Decimal("1E+3"), date(2024, 6, 30), date(1900, 1, 1), date(1900, 3, 1), date(9999, 12, 31),
    datetime(2024, 6, 30, 23, 59, 59, 999999), datetime(2024, 6, 30), time(8, 30),  # noqa: DTZ001 - naive, as Excel
    timedelta(days=2, hours=3),
]


def _snapshot(data: bytes) -> list[dict[str, object]]:
    """What openpyxl reads back, sheet by sheet: every cell's value, type and style, and the sheet settings."""
    sheets = []
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        cells = [(c.coordinate, c.value, c.data_type, c.number_format, c.quotePrefix,
                  *(repr(style) for style in (c.font, c.alignment, c.fill, c.border, c.protection)))
                 for row in sheet.iter_rows() for c in row]
        sheets.append({
            "title": sheet.title, "freeze": sheet.freeze_panes, "filter": sheet.auto_filter.ref,
            "print_rows": sheet.print_title_rows, "size": (sheet.max_row, sheet.max_column),
            "widths": {k: (d.width, d.customWidth, d.min, d.max) for k, d in sheet.column_dimensions.items()},
            "cells": [(a, "nan" if isinstance(v, float) and v != v else v, *rest) for a, v, *rest in cells],
        })
    for sheet in load_workbook(io.BytesIO(data), read_only=True).worksheets:
        sheets.append({"title": sheet.title, "values": [
            tuple("nan" if isinstance(v, float) and v != v else v for v in row) for row in sheet.values]})
    return sheets


def _texts_stay_text(snapshot: list[dict[str, object]]) -> list[dict[str, object]]:
    """The reference writer's snapshot with its one intended difference undone: openpyxl stored a text
    such as `#N/A` as an error cell ("e"); duban stores it as the text typed ("s"). Only texts: a number
    out of Excel's date range in a date column also reads back as an error, in both, and stays one."""
    undone = []
    for sheet in snapshot:
        cells = cast(list[tuple[object, ...]], sheet.get("cells"))
        if cells is not None:
            sheet = {**sheet, "cells": [(a, v, "s" if t == "e" and fmt == "General" else t, fmt, *rest)
                                        for a, v, t, fmt, *rest in cells]}
        undone.append(sheet)
    return undone


def _corpus_tables() -> list[Table]:
    values = [*CORPUS_TEXTS, *CORPUS_VALUES]
    layouts = [Column("事项", 40), Column("完成时限", 12, DATE), Column("落实率", 9.5, PERCENT),
               Column("进展", 40, wrap=True), Column("时间", 16, DATETIME, wrap=True), Column("=header", 8),
               Column("#N/A", 10), Column("", 12)]
    # every value in every kind of column, shifted a column each row
    rows = [[values[(r + c) % len(values)] for c in range(len(layouts))] for r in range(len(values))]
    return [
        Table("台账", layouts, rows, above=[["督办事项台账", None, "截至 2024-06-30"], [], [date(2024, 6, 30), 3, "=1"]]),
        Table("台账", [Column("a", 12), Column("b", 12), Column("c", 9)], [[1, 2, 3, 4, 5], [], [None, "x"]]),
        Table("a/b:c?[d]'s \"&<sheet>\" 的名字很长很长很长很长很长很长很长很长很长", [Column("x")], []),
        Table("empty", [], [["no columns"]]),
        Table("生成器", [Column("n", 6), Column("text", 30, wrap=True)], ([n, f"第{n}行"] for n in range(3000))),
    ]


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")  # 1e300 in a date column, in both
def test_the_direct_writer_reads_back_as_the_openpyxl_writer_wrote() -> None:
    from tests.models.xlsx_reference import xlsx as reference_xlsx

    tz = ZoneInfo("Asia/Shanghai")
    aware = Table("时区", [Column("at", 16, DATETIME)], [[datetime(2024, 6, 30, 17, 30, tzinfo=UTC)], [None]])
    new, old = xlsx(*_corpus_tables(), aware, tz=tz), reference_xlsx(*_corpus_tables(), aware, tz=tz)
    assert _snapshot(new) == _texts_stay_text(_snapshot(old))
    assert_no_formulas(new)


def test_the_escalation_list_reads_back_as_the_openpyxl_writer_wrote() -> None:
    from notifications import digest
    from tests.models import xlsx_reference

    rows = [{"ref": f"文件{n}〔2024〕{n}号", "title": text, "lead_unit": "单位1", "level": n % 3, "days_overdue": n,
             "original_deadline": date(2024, 5, 1 + n % 28), "deadline": date(2024, 5, 1 + n % 28),
             "last_progress": text, "last_progress_at": datetime(2024, 5, 2, 16, 30, tzinfo=UTC) if n % 2 else None,
             "times_returned": n % 2} for n, text in enumerate(CORPUS_TEXTS)]
    tz = ZoneInfo("Asia/Shanghai")
    for locale in ("zh-CN", "en"):
        new = digest.escalation_xlsx(rows, locale, tz)
        original, digest.xlsx = digest.xlsx, xlsx_reference.xlsx  # type: ignore[assignment]
        try:
            old = digest.escalation_xlsx(rows, locale, tz)
        finally:
            digest.xlsx = original
        assert _snapshot(new) == _texts_stay_text(_snapshot(old))


def test_the_comparison_sees_a_difference() -> None:
    """The snapshot above can fail: a changed width, format, alignment or quote flag shows."""
    base = _snapshot(xlsx(Table("t", [Column("a", 12, DATETIME)], [[date(2024, 6, 30)], ["=1"]])))
    assert _snapshot(xlsx(Table("t", [Column("a", 12, DATETIME)], [[date(2024, 6, 30)], ["=1"]]))) == base
    assert _snapshot(xlsx(Table("t", [Column("a", 13, DATETIME)], [[date(2024, 6, 30)], ["=1"]]))) != base
    assert _snapshot(xlsx(Table("t", [Column("a", 12, DATE)], [[date(2024, 6, 30)], ["=1"]]))) != base
    assert _snapshot(xlsx(Table("t", [Column("a", 12, DATETIME, wrap=True)], [[date(2024, 6, 30)], ["=1"]]))) != base
    assert _snapshot(xlsx(Table("t", [Column("a", 12, DATETIME)], [[date(2024, 6, 30)], ["1"]]))) != base
