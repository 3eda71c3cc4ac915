"""Every spreadsheet duban writes: text stays text (never a live formula), and a header that reads well.

Usage (one call, rows streamed into the archive, so a large table stays small in memory):

    data = xlsx(Table("台账", [Column("事项", 40), Column("完成时限", 12, DATE)], rows))

A text value starting with `=`, `+`, `-`, `@`, tab or CR (OWASP's CSV-injection list) is stored
as a string cell with Excel's quote-prefix flag: Excel shows it as typed and does not turn it into
a formula when the cell is edited. Nothing written here is ever a formula, nor an error value: a text such as `#N/A` is stored as
the text typed (openpyxl's writer made it an error cell).

The workbook is written as its XML parts directly: the same parts, cells and styles openpyxl's
write-only mode wrote here before (openpyxl reads every workbook back cell for cell equal, see
tests/models/test_sheets.py), at about a tenth of its cost a cell. openpyxl still lends its rules:
which characters are dropped, the default date formats, the serial
day numbers and the numbering of duplicate sheet names.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from math import isinf, isnan
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, get_time_format
from openpyxl.styles.colors import COLOR_INDEX
from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.child import avoid_duplicate_name
from openpyxl.writer.theme import theme_xml

from config import clock

__all__ = ["DATE", "DATETIME", "PERCENT", "XLSX", "Column", "Table", "xlsx"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"
PERCENT = "0.0%"
RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_MAX_TEXT = 32767  # Excel's limit of a cell's text
_FLUSH_ROWS = 2000  # rows of XML held before they go into the archive
_EXACT = 2**53  # an int below this in size is a float exactly, so "%.16g" writes its digits


@dataclass(frozen=True)
class Column:
    """A column: its header, width in characters (a Chinese character counts two), and number format."""

    header: str
    width: float = 12
    number_format: str | None = None
    wrap: bool = False


@dataclass
class Table:
    """One sheet: `above` are lines over the header (a title, "as of ..."), then the header, then rows."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]
    above: Sequence[Sequence[object]] = ()


def xlsx(*tables: Table, tz: tzinfo | None = None) -> bytes:
    """The workbook's bytes. Aware datetimes are shown in `tz` (Excel has no time zones)."""
    out = io.BytesIO()
    styles = _Styles()
    sheets: list[tuple[str, int, str | None]] = []  # title, header row, filtered range
    created = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")  # the document's properties, as openpyxl wrote them
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("docProps/app.xml", _APP)
        archive.writestr("docProps/core.xml", _CORE.format(at=created))
        archive.writestr("xl/theme/theme1.xml", theme_xml)
        for number, table in enumerate(tables, start=1):
            title = avoid_duplicate_name([name for name, _, _ in sheets], sheet_title(table.title))
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                sheets.append((title, len(table.above) + 1, _write_sheet(part, table, tz, styles)))
        archive.writestr("xl/styles.xml", styles.xml())
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook_xml(sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
    return out.getvalue()


def sheet_title(title: str) -> str:
    """Excel refuses []:*?/\\ in a sheet name and cuts it at 31 characters."""
    return _SHEET_TITLE_BAD.sub("_", title).strip("'")[:31] or "Sheet"


class _Styles:
    """The cell formats used, numbered in order of first use as openpyxl numbers them (0 is plain)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[bool, str, bool, bool], int] = {(False, "General", False, False): 0}
        self.formats: dict[str, int] = {}  # custom number formats -> numFmtId

    def id(self, bold: bool, number_format: str, wrap: bool, quote: bool) -> int:
        key = (bold, number_format, wrap, quote)
        found = self.ids.get(key)
        if found is None:
            if number_format not in BUILTIN_FORMATS_REVERSE and number_format not in self.formats:
                self.formats[number_format] = 164 + len(self.formats)
            found = self.ids[key] = len(self.ids)
        return found

    def xml(self) -> str:
        formats = "".join(f"<numFmt numFmtId=\"{n}\" formatCode={quoteattr(code)}/>" for code, n in self.formats.items())
        xfs = []
        for bold, number_format, wrap, quote in self.ids:
            number = BUILTIN_FORMATS_REVERSE.get(number_format) or self.formats.get(number_format, 0)
            align = ' applyAlignment="1"' if wrap else ""
            head = (f'<xf numFmtId="{number}" fontId="{int(bold)}" fillId="0" borderId="0"{align} pivotButton="0" '
                    f'quotePrefix="{int(quote)}" xfId="0"')
            xfs.append(f'{head}><alignment vertical="top" wrapText="1"/></xf>' if wrap else f"{head}/>")
        return (f'<styleSheet xmlns="{_MAIN}">'
                + (f'<numFmts count="{len(self.formats)}">{formats}</numFmts>' if self.formats else "")
                + _FONTS_FILLS_BORDERS + f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>' + _STYLES_TAIL)


def _write_sheet(part: IO[bytes], table: Table, tz: tzinfo | None, styles: _Styles) -> str | None:
    """One worksheet's XML into `part`; returns the filtered range (header and rows), if any."""
    header_row = len(table.above) + 1
    width = len(table.columns)
    letters = [get_column_letter(index) for index in range(1, max(width, 1) + 1)]
    cols = "".join(f'<col width="{column.width:.16g}" customWidth="1" min="{n}" max="{n}"/>'
                   for n, column in enumerate(table.columns, start=1))
    part.write((f'<worksheet xmlns="{_MAIN}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr/>'
                f'</sheetPr><sheetViews><sheetView workbookViewId="0"><pane ySplit="{header_row}" '
                f'topLeftCell="A{header_row + 1}" activePane="bottomLeft" state="frozen"/><selection '
                f'pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews><sheetFormatPr baseColWidth="8" '
                f'defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}<sheetData>').encode())
    writer = _Cells(styles, tz)
    chunk: list[str] = []
    row_number = 0
    for row_number, line in enumerate(table.above, start=1):
        chunk.append(writer.row(row_number, line, letters, None, False))
    chunk.append(writer.row(header_row, [column.header for column in table.columns], letters, None, True))
    row_number = header_row
    columns = list(table.columns)
    for row_number, values in enumerate(table.rows, start=header_row + 1):
        chunk.append(writer.row(row_number, values, letters, columns, False))
        if len(chunk) >= _FLUSH_ROWS:
            part.write("".join(chunk).encode())
            chunk.clear()
    filtered = f"A{header_row}:{letters[width - 1]}{row_number}" if width else None
    chunk.append("</sheetData>")
    if filtered:
        chunk.append(f'<autoFilter ref="{filtered}"/>')
    chunk.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')
    part.write("".join(chunk).encode())
    return filtered


class _Cells:
    """Each value's <c> element: the type, text and format openpyxl's cell would give it."""

    def __init__(self, styles: _Styles, tz: tzinfo | None) -> None:
        self.styles, self.tz = styles, tz
        self.serials: dict[object, str] = {}  # a date or time -> its serial day number, as written
        self.attributes: dict[tuple[bool, str, bool, bool], str] = {}  # a format -> its cells' style attribute

    def row(self, number: int, values: Iterable[object], letters: list[str],
            columns: list[Column] | None, bold: bool) -> str:
        cells = []
        suffix = str(number)
        if columns is None:
            for index, value in enumerate(values):
                if value is not None:
                    cells.append(self.cell(_letter(letters, index) + suffix, value, None, bold))
        else:
            for letter, value, column in zip(letters, values, columns, strict=False):
                kind = type(value)
                if kind is str:  # the common cells written here, as `cell` writes them, without its checks
                    cells.append(self.text(letter + suffix, value, bold, column.wrap))
                elif kind is int and -_EXACT < value < _EXACT:  # type: ignore[operator]
                    style = self.style(bold, column.number_format or "General", column.wrap, False)
                    cells.append(f'<c r="{letter}{suffix}"{style} t="n"><v>{value}</v></c>')
                elif value is not None:
                    cells.append(self.cell(letter + suffix, value, column, bold))
        return f'<row r="{number}">{"".join(cells)}</row>' if cells else f'<row r="{number}"/>'

    def cell(self, ref: str, value: object, column: Column | None, bold: bool) -> str:
        number_format = column.number_format if column is not None else None
        wrap = column is not None and column.wrap
        kind = type(value)
        if kind is str or isinstance(value, (str, bytes)):
            return self.text(ref, value, bold, wrap)  # type: ignore[arg-type]
        if kind is int and -_EXACT < value < _EXACT:  # type: ignore[operator]
            body, data_type = str(value), "n"  # what _number writes of it
            number_format = number_format or "General"
        elif kind is bool:
            body, data_type = ("1" if value else "0"), "b"
            number_format = number_format or "General"
        elif isinstance(value, (int, float, Decimal)):
            body, data_type = _number(value), "n"
            number_format = number_format or "General"
        elif isinstance(value, (date, time, timedelta)):
            body, data_type = self.serial(value), "n"
            number_format = number_format or get_time_format(type(value))
        else:
            raise ValueError(f"Cannot convert {value!r} to Excel")
        return f'<c r="{ref}"{self.style(bold, number_format, wrap, False)} t="{data_type}"><v>{body}</v></c>'

    def style(self, bold: bool, number_format: str, wrap: bool, quote: bool) -> str:
        """The cell's ` s="n"` attribute ("" for the plain format), remembered per format."""
        key = (bold, number_format, wrap, quote)
        found = self.attributes.get(key)
        if found is None:
            style = self.styles.id(bold, number_format, wrap, quote)
            found = self.attributes[key] = f' s="{style}"' if style else ""
        return found

    def text(self, ref: str, value: str | bytes, bold: bool, wrap: bool) -> str:
        if isinstance(value, bytes):
            value = value.decode("utf-8")
            if ILLEGAL_CHARACTERS_RE.search(value):
                raise ValueError(f"{value} cannot be used in worksheets.")
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        quote = text.startswith(RISKY_STARTS)
        text = str(text)[:_MAX_TEXT]
        s = self.style(bold, "General", wrap, quote)
        if not text:
            return f'<c r="{ref}"{s} t="inlineStr"></c>'
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'

    def serial(self, value: date | time | timedelta) -> str:
        if isinstance(value, datetime) and value.tzinfo is not None:
            if self.tz is None:
                raise TypeError("an aware datetime needs xlsx(..., tz=...): Excel has no time zones")
            value = value.astimezone(self.tz).replace(tzinfo=None)
        elif isinstance(value, time) and value.tzinfo is not None:
            raise TypeError("Excel does not support timezones in datetimes. "
                            "The tzinfo in the datetime/time object must be set to None.")
        found = self.serials.get(value)
        if found is None:
            found = self.serials[value] = _number(to_excel(value))
        return found


def _letter(letters: list[str], index: int) -> str:
    if index >= len(letters):
        letters.extend(get_column_letter(n) for n in range(len(letters) + 1, index + 2))
    return letters[index]


def _number(value: float | Decimal) -> str:
    if isnan(value) or isinf(value):
        return ""
    return "%.16g" % value  # noqa: UP031 - openpyxl's rendering of a number, kept


def _escape(text: str) -> str:
    """Element text: &, < and > as entities, and CR as a reference (a bare CR reads back as a line feed)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _workbook_xml(sheets: list[tuple[str, int, str | None]]) -> str:
    entries, names = [], []
    for index, (title, header_row, filtered) in enumerate(sheets):
        entries.append(f'<sheet xmlns:r="{_REL}" name={quoteattr(title)} sheetId="{index + 1}" state="visible" '
                       f'r:id="rId{index + 1}"/>')
        quoted = "'" + title.replace("'", "''") + "'"
        if filtered:
            absolute = _CELL_REF.sub(r"$\1$\2", filtered)
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
                         f"{escape(quoted)}!{absolute}</definedName>")
        names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
                     f"{escape(quoted)}!${header_row}:${header_row}</definedName>")
    return (f'<workbook xmlns="{_MAIN}"><workbookPr/><workbookProtection/><bookViews><workbookView '
            'visibility="visible" minimized="0" showHorizontalScroll="1" showVerticalScroll="1" showSheetTabs="1" '
            'tabRatio="600" firstSheet="0" activeTab="0" autoFilterDateGrouping="1"/></bookViews>'
            f'<sheets>{"".join(entries)}</sheets><definedNames>{"".join(names)}</definedNames>'
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')


def _workbook_rels(count: int) -> str:
    sheets = "".join(f'<Relationship Type="{_OFFICE_REL}/worksheet" Target="/xl/worksheets/sheet{n}.xml" Id="rId{n}"/>'
                     for n in range(1, count + 1))
    return (f'<Relationships xmlns="{_PACKAGE_REL}">{sheets}'
            f'<Relationship Type="{_OFFICE_REL}/styles" Target="styles.xml" Id="rId{count + 1}"/>'
            f'<Relationship Type="{_OFFICE_REL}/theme" Target="theme/theme1.xml" Id="rId{count + 2}"/></Relationships>')


def _content_types(count: int) -> str:
    office = "application/vnd.openxmlformats-officedocument"
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                     f'ContentType="{office}.spreadsheetml.worksheet+xml"/>' for n in range(1, count + 1))
    return ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{office}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/theme/theme1.xml" ContentType="{office}.theme+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{office}.extended-properties+xml"/>'
            f'{sheets}<Override PartName="/xl/workbook.xml" ContentType="{office}.spreadsheetml.sheet.main+xml"/>'
            "</Types>")


_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OFFICE_REL = _REL
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_APP = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel Compatible / duban</Application></Properties>")
_CORE = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
         'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>duban</dc:creator>'
         '<dcterms:created xsi:type="dcterms:W3CDTF">{at}</dcterms:created>'
         '<dcterms:modified xsi:type="dcterms:W3CDTF">{at}</dcterms:modified></cp:coreProperties>')
_ROOT_RELS = (f'<Relationships xmlns="{_PACKAGE_REL}">'
              f'<Relationship Type="{_OFFICE_REL}/officeDocument" Target="xl/workbook.xml" Id="rId1"/>'
              f'<Relationship Type="{_PACKAGE_REL}/metadata/core-properties" Target="docProps/core.xml" Id="rId2"/>'
              f'<Relationship Type="{_OFFICE_REL}/extended-properties" Target="docProps/app.xml" Id="rId3"/>'
              "</Relationships>")
_FONTS_FILLS_BORDERS = (
    '<fonts count="2"><font><name val="Calibri"/><family val="2"/><color theme="1"/><sz val="11"/>'
    '<scheme val="minor"/></font><font><b val="1"/></font></fonts><fills count="2"><fill><patternFill/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
    '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0"/></cellStyleXfs>')
_STYLES_TAIL = (
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" hidden="0"/></cellStyles>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/>'
    "<colors><indexedColors>" + "".join(f'<rgbColor rgb="{rgb}"/>' for rgb in COLOR_INDEX[:64])
    + "</indexedColors></colors></styleSheet>")
