"""Reading ledger files: sheets, header aliases, encodings, list separators (pure, no database)."""

from __future__ import annotations

from datetime import datetime

import pytest

from models.ledger.parse import read_files, split_list
from tests.ledger.conftest import LEDGER, LEDGER_HEADER, UNITS, UNITS_HEADER, write_csv, write_xlsx


@pytest.mark.parametrize(
    "text",
    ["a、b、c", "a,b,c", "a，b，c", "a;b;c", "a；b；c", "a\nb\nc", "a\r\nb、 c", " a 、b ,, c ；"],
)
def test_every_list_separator_splits(text):
    assert split_list(text) == ["a", "b", "c"]


def test_empty_list_is_empty():
    assert split_list("") == [] and split_list(None) == []


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = write_csv(tmp_path / "ledger.csv", [LEDGER_HEADER, *LEDGER], encoding=encoding)
    parsed = read_files([path])
    assert parsed.problems == []
    assert [row.text("lead_unit") for row in parsed.ledger] == ["市发改委", "CZJ", "市商务局"]
    assert parsed.ledger[0].values["document"] == "新时代意见"


def test_csv_is_recognised_by_its_header_row(tmp_path):
    units = write_csv(tmp_path / "a.csv", [UNITS_HEADER, *UNITS])
    ledger = write_csv(tmp_path / "b.csv", [LEDGER_HEADER, *LEDGER])
    parsed = read_files([units, ledger])
    assert (len(parsed.units), len(parsed.ledger)) == (3, 3)


def test_english_headers_with_loose_spelling_are_accepted(tmp_path):
    header = ["Document", "Number", "TITLE", "Lead Unit", "co-units", "deadline", "Supervisor *", "notes"]
    path = write_csv(tmp_path / "ledger.csv", [header, ["D", "1", "t", "U", "V、W", "2024-06-30", "s@x.cn", "n"]])
    row = read_files([path]).ledger[0]
    assert row.values == {"document": "D", "number": "1", "title": "t", "lead_unit": "U", "co_units": "V、W",
                          "deadline": "2024-06-30", "supervisor": "s@x.cn", "notes": "n"}
    assert row.columns["lead_unit"] == "Lead Unit"


def test_chinese_header_aliases_and_bracketed_hints_are_accepted(tmp_path):
    header = ["文件名称", "事项编号", "事项内容", "责任单位", "完成时限（年月日）", "*督办人"]
    path = write_csv(tmp_path / "ledger.csv", [header, ["D", "1", "t", "U", "2024-06-30", "s@x.cn"]])
    parsed = read_files([path])
    assert parsed.problems == []
    assert set(parsed.ledger[0].values) == {"document", "number", "title", "lead_unit", "deadline", "supervisor"}


def test_xlsx_reads_named_sheets_and_keeps_excel_date_cells(tmp_path):
    deadline = datetime(2024, 6, 30)  # noqa: DTZ001 - an Excel date cell
    path = write_xlsx(tmp_path / "book.xlsx", {
        "说明": [["本台账由督查室维护"]],
        "单位": [UNITS_HEADER, *UNITS],
        "台账": [LEDGER_HEADER, ["新时代意见", 12, "t", "", "市发改委", "", deadline, "", ""]],
    })
    parsed = read_files([path])
    assert parsed.problems == []
    assert len(parsed.units) == 3
    row = parsed.ledger[0]
    assert (row.sheet, row.row, row.values["deadline"], row.text("number")) == ("台账", 2, deadline, "12")


def test_xlsx_header_below_a_title_row_and_blank_rows_keep_spreadsheet_row_numbers(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", {
        "ledger": [["2024年重点事项台账"], [], LEDGER_HEADER, LEDGER[0], [], LEDGER[1]],
    })
    parsed = read_files([path])
    assert parsed.problems == []
    assert [row.row for row in parsed.ledger] == [4, 6]


def test_workbook_without_named_sheets_is_recognised_by_header(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", {"Sheet1": [LEDGER_HEADER, *LEDGER]})
    parsed = read_files([path])
    assert parsed.problems == [] and len(parsed.ledger) == 3


def test_workbook_with_no_ledger_sheet_is_a_problem_naming_its_sheets(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", {"Sheet1": [["姓名", "电话"], ["张三", "123"]], "汇总": [["x"]]})
    (problem,) = read_files([path]).problems
    assert problem.file == "book.xlsx"
    assert "no sheet named 单位/units or 台账/ledger" in problem.reason and "Sheet1, 汇总" in problem.reason


def test_missing_required_column_is_named_with_the_header_row(tmp_path):
    header = [h for h in LEDGER_HEADER if h != "完成时限"]
    path = write_xlsx(tmp_path / "book.xlsx", {"台账": [header, LEDGER[0][:6] + LEDGER[0][7:]]})
    (problem,) = read_files([path]).problems
    assert (problem.file, problem.sheet, problem.row, problem.column) == ("book.xlsx", "台账", 1, "完成时限|deadline")
    assert problem.reason == "required column is missing"


def test_unknown_file_type_and_missing_file_are_problems(tmp_path):
    (tmp_path / "ledger.txt").write_text("x")
    problems = read_files([tmp_path / "ledger.txt", tmp_path / "nope.csv"]).problems
    assert [p.file for p in problems] == ["ledger.txt", "nope.csv"]
    assert "unknown file type" in problems[0].reason and "no such file" in problems[1].reason


def test_not_an_excel_file_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(b"this is not a zip")
    (problem,) = read_files([path]).problems
    assert "cannot open as an Excel workbook" in problem.reason


def test_named_sheet_without_its_header_row_is_a_problem(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", {"台账": [["序号", "内容"], ["1", "x"]]})
    (problem,) = read_files([path]).problems
    assert (problem.file, problem.sheet, problem.row) == ("book.xlsx", "台账", 1)
    assert problem.reason.startswith("no ledger header row in the first 10 rows (expected columns 文件|document")
