"""Reading ledger files (.xlsx, .csv) into raw rows: sheets, header aliases, encodings, lists."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from models.ledger.problems import Problem

Kind = Literal["units", "ledger"]
ProgressFn = Callable[[str, int, int | None], None]

# field -> accepted headers (compared after `_header_key`); the first is how messages name it.
HEADERS: dict[Kind, dict[str, tuple[str, ...]]] = {
    "units": {
        "code": ("单位编码", "code", "编码", "单位代码"),
        "name": ("单位名称", "name", "单位", "名称", "unit"),
        "parent": ("上级单位", "parent", "parent_unit"),
        "emails": ("联系邮箱", "emails", "email", "邮箱", "contact_emails"),
        "leader_emails": ("分管领导邮箱", "leader_emails", "leader_email", "领导邮箱"),
    },
    "ledger": {
        "document": ("文件", "document", "文件名称", "政策文件"),
        "number": ("编号", "number", "事项编号", "no"),
        "title": ("事项", "title", "事项内容", "item"),
        "category": ("类别", "category", "分类"),
        "lead_unit": ("牵头单位", "lead_unit", "责任单位"),
        "co_units": ("配合单位", "co_units", "协办单位"),
        "deadline": ("完成时限", "deadline", "时限", "完成时间"),
        "supervisor": ("督办人", "supervisor", "督办人邮箱"),
        "status": ("状态", "status"),
        "notes": ("备注", "notes", "note"),
        "frequency": ("频次", "frequency", "报送频次", "频率"),
    },
}
REQUIRED: dict[Kind, tuple[str, ...]] = {
    "units": ("name", "emails"),
    "ledger": ("document", "number", "title", "lead_unit", "deadline"),
}
SHEET_NAMES: dict[str, Kind] = {"单位": "units", "units": "units", "台账": "ledger", "ledger": "ledger"}
_HEADER_SCAN_ROWS = 10
_LIST_SEPARATORS = re.compile(r"[、,，;；\n\r]+")


def _header_key(text: object) -> str:
    """Headers compare loosely: width, case, spaces, '*' marks and bracketed hints are ignored."""
    key = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    key = re.sub(r"\(.*?\)|\[.*?\]|【.*?】|[*＊]", "", key).strip()
    return re.sub(r"[\s\-]+", "_", key)


_ALIASES: dict[Kind, dict[str, str]] = {
    kind: {_header_key(alias): name for name, aliases in fields.items() for alias in aliases}
    for kind, fields in HEADERS.items()
}


def column_label(kind: Kind, name: str) -> str:
    chinese, english = HEADERS[kind][name][:2]
    return f"{chinese}|{english}"


def split_list(value: object) -> list[str]:
    """`a、b, c；d` -> [a, b, c, d]: any of 、 , ， ; ； or a newline separates."""
    return [part.strip() for part in _LIST_SEPARATORS.split(str(value or "")) if part.strip()]


@dataclass
class RawRow:
    """One data row: values by field, and the header each came from (for messages)."""

    file: str
    sheet: str | None
    row: int
    values: dict[str, Any]
    columns: dict[str, str]

    def text(self, name: str) -> str:
        return cell_text(self.values.get(name))

    def has(self, name: str) -> bool:
        return name in self.columns


@dataclass
class ParsedFiles:
    units: list[RawRow] = field(default_factory=list)
    ledger: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value.strip() if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class XlsxLimits:
    """What a workbook may hold before it is opened (settings `xlsx_max_*`).

    An .xlsx is a zip: a 1 MB upload can unpack to a 1 GB string, and openpyxl keeps every shared
    string in memory. The sizes checked are those the zip declares, which also bound what
    reading it can unpack (zipfile stops at the declared size).
    """

    unzipped_bytes: int = 100 * 1024 * 1024
    shared_strings: int = 500_000
    shared_strings_bytes: int = 50 * 1024 * 1024
    cells: int = 2_000_000


_MB = 1024 * 1024
_SHARED_STRING = re.compile(rb"<(?:\w{1,10}:)?si[\s>/]")
_CELL = re.compile(rb"<(?:\w{1,10}:)?c[\s>/]")


def xlsx_problem(path: Path, limits: XlsxLimits) -> Problem | None:
    """Why a workbook is too big to open (unpacked size, shared strings, cells), or None."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None  # openpyxl then says it cannot open the file
    with archive:
        entries = archive.infolist()
        unzipped = sum(entry.file_size for entry in entries)
        if unzipped > limits.unzipped_bytes:
            return _too_big(path, unzipped, limits.unzipped_bytes, code="ledger.file.unzipped_too_large")
        cells = 0
        for entry in entries:
            name = entry.filename.lower()
            if name.endswith("sharedstrings.xml"):
                if entry.file_size > limits.shared_strings_bytes:
                    return _too_big(path, entry.file_size, limits.shared_strings_bytes,
                                    code="ledger.file.shared_strings_too_large")
                count = _count(archive, entry, _SHARED_STRING, limits.shared_strings)
                if count > limits.shared_strings:
                    return Problem(path.name, None, None, None, code="ledger.file.too_many_shared_strings",
                                   params={"limit": limits.shared_strings})
            elif name.startswith("xl/worksheets/") and name.endswith(".xml"):
                cells += _count(archive, entry, _CELL, limits.cells - cells)
                if cells > limits.cells:
                    return Problem(path.name, None, None, None, code="ledger.file.too_many_cells",
                                   params={"limit": limits.cells})
    return None


def _too_big(path: Path, size: int, limit: int, *, code: str) -> Problem:
    return Problem(path.name, None, None, None, code=code,
                   params={"mb": -(-size // _MB), "limit_mb": max(1, limit // _MB)})


def _count(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, tag: re.Pattern[bytes], most: int) -> int:
    """How many times `tag` occurs in `entry`, read in chunks; stops counting once past `most`."""
    count, carry = 0, b""
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(1024 * 1024):
                data = carry + chunk
                cut = max(0, len(data) - 16)  # a tag cut in two is counted with the next chunk
                count += sum(1 for match in tag.finditer(data) if match.start() < cut)
                carry = data[cut:]
                if count > most:
                    return count
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        return count  # openpyxl then says what is wrong with the file
    return count + sum(1 for _ in tag.finditer(carry))


def read_files(paths: Iterable[Path], progress: ProgressFn | None = None,
               limits: XlsxLimits | None = None) -> ParsedFiles:
    parsed = ParsedFiles()
    for path in paths:
        parsed.files.append(path.name)
        if progress:
            progress("read", 0, None)  # a caller's progress function may stop the reading here
        if not path.is_file():
            parsed.problems.append(Problem(path.name, None, None, None, code="ledger.file.missing",
                                           params={"path": str(path)}))
            continue
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            if too_big := xlsx_problem(path, limits or XlsxLimits()):
                parsed.problems.append(too_big)
                continue
            _read_xlsx(path, parsed, progress)
        elif suffix == ".csv":
            _read_csv(path, parsed, progress)
        else:
            parsed.problems.append(Problem(path.name, None, None, None, code="ledger.file.bad_type",
                                           params={"suffix": suffix}))
    return parsed


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what Excel writes on Chinese Windows).

    Raises UnicodeDecodeError for neither. GB18030 decodes most byte strings, so text in another
    legacy encoding (Big5, Shift-JIS) comes out as a jumble of rare characters: that counts as
    neither too (see `_plausible_gb`).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    if not _plausible_gb(text):
        raise UnicodeDecodeError("gb18030", data, 0, len(data), "mostly characters outside GB2312")
    return text


def _plausible_gb(text: str, sample: int = 20_000) -> bool:
    """Chinese read rightly is almost all GB2312 (the 6,763 common hanzi); Big5 read as GB18030 is
    about half rare characters, Shift-JIS nearly all. A third is the line."""
    wide = [c for c in text[:sample * 4] if ord(c) > 0x7F][:sample]
    rare = 0
    for char in wide:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            rare += 1
    return rare * 3 <= len(wide)


def _read_csv(path: Path, parsed: ParsedFiles, progress: ProgressFn | None) -> None:
    data = path.read_bytes()
    try:
        text = decode_csv(data)
    except UnicodeDecodeError:
        parsed.problems.append(Problem(path.name, None, None, None, code="ledger.file.bad_encoding"))
        return
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    read_as_gb = not data.isascii() and not _is_utf8(data)
    found = _read_table(path.name, None, enumerate(rows, start=1), None, parsed, progress, quiet=read_as_gb)
    if read_as_gb and not found:  # GB18030 read it, but found no header: most likely another encoding
        parsed.problems.append(Problem(path.name, None, None, None, code="ledger.file.bad_encoding"))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_xlsx(path: Path, parsed: ParsedFiles, progress: ProgressFn | None) -> None:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken or foreign file
        parsed.problems.append(Problem(path.name, None, None, None, code="ledger.file.not_excel",
                                       params={"error": str(exc)}))
        return
    try:
        named = {ws.title: SHEET_NAMES.get(_header_key(ws.title)) for ws in workbook.worksheets}
        chosen = [ws for ws in workbook.worksheets if named[ws.title]]
        # A workbook without a 单位/台账 sheet: each sheet is recognised by its header row instead.
        candidates = chosen or list(workbook.worksheets)
        found = 0
        for ws in candidates:
            rows = enumerate(ws.iter_rows(values_only=True), start=1)
            found += _read_table(path.name, ws.title, rows, named[ws.title], parsed, progress, quiet=not chosen)
        if not found and not chosen:
            parsed.problems.append(Problem(path.name, None, None, None, code="ledger.file.no_sheet",
                                           params={"sheets": [ws.title for ws in workbook.worksheets]}))
    finally:
        workbook.close()


def _match_header(cells: tuple[Any, ...], kind: Kind) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(cells):
        name = _ALIASES[kind].get(_header_key(cell))
        if name and name not in found:
            found[name] = (index, cell_text(cell))
    return found


def _find_header(
    rows: Iterator[tuple[int, tuple[Any, ...]]], kind: Kind | None
) -> tuple[Kind, int, dict[str, tuple[int, str]]] | None:
    """The header row: the first of the top rows naming two or more known columns."""
    for number, cells in rows:
        if number > _HEADER_SCAN_ROWS:
            return None
        for candidate in ((kind,) if kind else ("ledger", "units")):
            matched = _match_header(tuple(cells), candidate)
            if len(matched) >= 2 and (kind or candidate == "ledger" or "title" not in matched):
                return candidate, number, matched
    return None


def _read_table(
    file: str,
    sheet: str | None,
    rows: Iterator[tuple[int, Any]],
    kind: Kind | None,
    parsed: ParsedFiles,
    progress: ProgressFn | None,
    quiet: bool = False,
) -> int:
    """Read one sheet or CSV into `parsed`; returns 1 if it was a units or ledger table, else 0."""
    header = _find_header(rows, kind)
    if header is None:
        if quiet:
            return 0
        if kind is None:
            parsed.problems.append(Problem(file, sheet, 1, None, code="ledger.sheet.no_header",
                                           params={"rows": _HEADER_SCAN_ROWS}))
        else:
            expected = [column_label(kind, name) for name in REQUIRED[kind]]
            parsed.problems.append(Problem(
                file, sheet, 1, None,
                code="ledger.sheet.no_units_header" if kind == "units" else "ledger.sheet.no_ledger_header",
                params={"rows": _HEADER_SCAN_ROWS, "expected": expected},
            ))
        return 0
    kind, header_row, columns = header
    missing = [name for name in REQUIRED[kind] if name not in columns]
    for name in missing:
        parsed.problems.append(Problem(file, sheet, header_row, column_label(kind, name),
                                       code="ledger.column.missing"))
    if missing:
        return 1
    target = parsed.units if kind == "units" else parsed.ledger
    labels = {name: label for name, (_, label) in columns.items()}
    count = 0
    for number, cells in rows:
        if not any(cell_text(c) for c in cells):
            continue
        values = {name: cells[index] if index < len(cells) else None for name, (index, _) in columns.items()}
        target.append(RawRow(file, sheet, number, values, labels))
        count += 1
        if progress and count % 500 == 0:
            progress("read", count, None)
    if progress:
        progress("read", count, None)
    return 1
