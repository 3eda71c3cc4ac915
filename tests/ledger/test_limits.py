"""What a ledger file may be before it is parsed (unpacked size, shared strings, cells), encodings
that are neither UTF-8 nor GB18030, and contact addresses that are not plain addr-specs (no database)."""

from __future__ import annotations

import zipfile

import pytest

from models.ledger.parse import ParsedFiles, RawRow, XlsxLimits, read_files, xlsx_problem
from models.ledger.plan import LedgerError, Snapshot
from models.ledger.validate import build_plan
from tests.ledger.conftest import LEDGER, LEDGER_HEADER, write_csv, write_xlsx
from web.i18n import problem_message


def _workbook(tmp_path, rows=LEDGER):  # type: ignore[no-untyped-def]
    return write_xlsx(tmp_path / "ledger.xlsx", {"台账": [LEDGER_HEADER, *rows]})


def test_a_workbook_within_the_limits_is_read(tmp_path):
    assert xlsx_problem(_workbook(tmp_path), XlsxLimits()) is None


def _with_shared_strings(tmp_path, xml: bytes, rows=LEDGER):  # type: ignore[no-untyped-def]
    """The workbook with a shared-strings part added (openpyxl itself writes inline strings)."""
    path = tmp_path / "shared.xlsx"
    with zipfile.ZipFile(_workbook(tmp_path, rows)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.infolist():
            out.writestr(entry, source.read(entry))
        out.writestr("xl/sharedStrings.xml", xml)
    return path


def test_a_small_file_that_unpacks_to_a_huge_string_is_refused_before_opening(tmp_path):
    path = _with_shared_strings(tmp_path, b"<sst><si><t>" + b"A" * (8 * 1024 * 1024) + b"</t></si></sst>")
    assert path.stat().st_size < 100_000
    limits = XlsxLimits(unzipped_bytes=4 * 1024 * 1024)
    parsed = read_files([path], limits=limits)
    assert [p.code for p in parsed.problems] == ["ledger.file.unzipped_too_large"]
    assert parsed.ledger == []
    assert "xlsx_max_unzipped_mb" in parsed.problems[0].reason
    texts = read_files([path], limits=XlsxLimits(shared_strings_bytes=1024 * 1024)).problems
    assert [p.code for p in texts] == ["ledger.file.shared_strings_too_large"]


def test_shared_strings_and_cells_are_counted_against_their_limits(tmp_path):
    rows = [[f"文件{i}", str(i), f"事项{i}", "", "市发改委", "", "2024-06-30", "", ""] for i in range(60)]
    texts = b"".join(b'<si><t xml:space="preserve">%d</t></si>' % i for i in range(60))
    path = _with_shared_strings(tmp_path, b'<sst count="1" uniqueCount="1">' + texts + b"</sst>", rows)
    strings = xlsx_problem(path, XlsxLimits(shared_strings=50))
    assert strings is not None and strings.code == "ledger.file.too_many_shared_strings"
    cells = xlsx_problem(path, XlsxLimits(cells=300))
    assert cells is not None and cells.code == "ledger.file.too_many_cells"
    assert problem_message(cells, "zh-CN") == "工作簿单元格超过300个（设置项xlsx_max_cells）"
    assert xlsx_problem(path, XlsxLimits(shared_strings=1000, cells=10_000)) is None


def test_a_progress_function_can_stop_the_reading(tmp_path):
    class Stop(Exception):
        pass

    def stop(stage: str, done: int, total: int | None) -> None:
        raise Stop

    with pytest.raises(Stop):
        read_files([_workbook(tmp_path)], stop)


@pytest.mark.parametrize("encoding", ["big5", "shift_jis"])
def test_a_file_in_another_encoding_is_named_as_such_not_as_missing_its_header(tmp_path, encoding):
    header = ["文件", "編號", "事項", "牽頭單位", "完成時限"] if encoding == "big5" else ["ファイル", "番号", "事項", "担当", "期限"]
    path = write_csv(tmp_path / "ledger.csv", [header, ["新時代意見", "1", "推進營商環境", "市發改委", "2024-06-30"]]
                     if encoding == "big5" else [header, ["新時代", "1", "ビジネス環境の推進", "市", "2024-06-30"]],
                     encoding=encoding)
    problems = read_files([path]).problems
    assert [p.code for p in problems] == ["ledger.file.bad_encoding"]
    assert problems[0].reason.startswith("cannot read the file as UTF-8 or GB18030")


def test_big5_with_english_headers_is_not_read_as_a_jumble(tmp_path):
    header = ["document", "number", "title", "lead_unit", "deadline"]
    path = write_csv(tmp_path / "ledger.csv", [header, ["新時代意見", "1", "推進營商環境改革與開放", "市發改委", "2024-06-30"]],
                     encoding="big5")
    assert [p.code for p in read_files([path]).problems] == ["ledger.file.bad_encoding"]


def test_a_gb18030_file_without_a_header_says_it_cannot_read_the_file(tmp_path):
    path = write_csv(tmp_path / "ledger.csv", [["随便", "什么"], ["没有", "表头"]], encoding="gb18030")
    assert [p.code for p in read_files([path]).problems] == ["ledger.file.bad_encoding"]


def test_a_utf8_file_without_a_header_still_says_no_header(tmp_path):
    path = write_csv(tmp_path / "ledger.csv", [["随便", "什么"], ["没有", "表头"]])
    assert [p.code for p in read_files([path]).problems] == ["ledger.sheet.no_header"]


UNIT_COLUMNS = {"name": "单位名称", "emails": "联系邮箱", "leader_emails": "分管领导邮箱"}


@pytest.mark.parametrize("address", ["Bcc:x@example.gov.cn", '"x"@example.gov.cn', "x..y@example.gov.cn",
                                     "x@-example.gov.cn"])
def test_a_contact_address_must_be_a_plain_addr_spec(address):
    row = RawRow("units.csv", None, 3, {"name": "市发改委", "emails": f"ok@example.gov.cn、{address}"}, UNIT_COLUMNS)
    with pytest.raises(LedgerError) as refused:
        build_plan(ParsedFiles(units=[row], files=["units.csv"]), Snapshot())
    [problem] = refused.value.problems
    assert (problem.file, problem.row, problem.column, problem.code) == (
        "units.csv", 3, "联系邮箱", "ledger.row.not_plain_email")
    assert address in problem.reason and "name@domain" in problem.reason
    assert "不是单纯的邮箱地址" in problem_message(problem, "zh-CN")


def test_a_contact_address_before_the_at_must_be_ascii_its_domain_need_not_be():
    row = RawRow("units.csv", None, 3, {"name": "市发改委", "emails": "fgw@督办.中国、张三@督办.中国"}, UNIT_COLUMNS)
    with pytest.raises(LedgerError) as refused:
        build_plan(ParsedFiles(units=[row], files=["units.csv"]), Snapshot())
    [problem] = refused.value.problems
    assert (problem.column, problem.code) == ("联系邮箱", "ledger.row.email_not_ascii")
    assert "'张三@督办.中国'" in problem.reason and "SMTPUTF8" in problem.reason
    assert "“张三@督办.中国”的@前部分含非ASCII字符" in problem_message(problem, "zh-CN")


def test_a_leader_or_supervisor_address_is_checked_the_same_way():
    row = RawRow("units.csv", None, 2, {"name": "市发改委", "emails": "ok@example.gov.cn",
                                        "leader_emails": "Cc:boss@example.gov.cn"}, UNIT_COLUMNS)
    with pytest.raises(LedgerError) as refused:
        build_plan(ParsedFiles(units=[row], files=["units.csv"]), Snapshot())
    assert [(p.column, p.code) for p in refused.value.problems] == [("分管领导邮箱", "ledger.row.not_plain_email")]
