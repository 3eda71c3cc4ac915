"""The official document layout (GB/T 9704-2012) in python-docx: page, red header, title, body, tables.

Everything here is layout; what a notice says comes from its builder. Figures and sizes are the
standard's (see ../shared/reference/gbt9704.md in the project's steering notes, summarised here):
A4 with a 156 x 225 mm text block (top 37 mm, left 28 mm), 22 lines of 28 characters, body in
3号 (16 pt) 仿宋, title in 2号 (22 pt) 小标宋, headings 一、 in 黑体 and （一） in 楷体, the issuer's
name in red above a red line, page numbers "— 1 —" in 4号 outside the text block, odd pages right
and even pages left. Each run names its East Asian font (w:eastAsia) so the file opens with the
office's own fonts; digits and Latin letters use Times New Roman.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docx import Document as new_document
from docx.document import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

FANGSONG, HEITI, KAITI, TITLE_FONT, LATIN = "仿宋", "黑体", "楷体", "方正小标宋简体", "Times New Roman"
BODY_PT, TITLE_PT, ISSUER_PT, PAGE_NUMBER_PT, TABLE_PT = 16, 22, 26, 14, 10.5  # 3号, 2号, 一号, 4号, 五号
LINE_PITCH = Pt(28.95)  # 225 mm / 22 lines
RED = RGBColor(0xE6, 0x00, 0x12)
_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    header: str
    width_mm: float
    align: str = "left"  # left, center, right


def official_document() -> Document:
    """An empty A4 document with the standard's margins, grid and page numbers."""
    document = new_document()
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28)  # page numbers sit below the text block, about 7 mm under it
    normal = document.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr(), FANGSONG)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE_PITCH
    document.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)
    return document


def issuer_mark(document: Document, issuer: str, number: str) -> None:
    """The red header: the issuer's name, the document number, and the red line under them."""
    mark = document.paragraphs[0] if document.paragraphs and not document.paragraphs[0].text else document.add_paragraph()
    mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
    mark.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    mark.paragraph_format.space_after = Pt(12)
    text(mark, issuer, TITLE_FONT, ISSUER_PT, bold=True, color=RED)
    numbered = document.add_paragraph()
    numbered.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if number:
        text(numbered, number, FANGSONG, BODY_PT)
    _bottom_border(numbered, RED)
    document.add_paragraph()


def title(document: Document, words: str) -> None:
    """The title, centred, broken into balanced lines by `title_lines` (explicit line breaks)."""
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.line_spacing = Pt(35)
    *upper, last = title_lines(words, title_capacity())
    for line in upper:
        text(paragraph, line, TITLE_FONT, TITLE_PT, bold=True).add_break()
    text(paragraph, last, TITLE_FONT, TITLE_PT, bold=True)
    document.add_paragraph()


def addressee(document: Document, words: str) -> None:
    """主送: flush left, ending with a full-width colon."""
    text(document.add_paragraph(), words, FANGSONG, BODY_PT)


def body(document: Document, words: str) -> Paragraph:
    """A body paragraph, first line indented two characters."""
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    text(paragraph, words, FANGSONG, BODY_PT)
    return paragraph


def heading(document: Document, words: str, level: int = 1) -> None:
    """一、 headings in 黑体; （一） headings in 楷体; both indented like body text."""
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    paragraph.paragraph_format.keep_with_next = True
    text(paragraph, words, HEITI if level == 1 else KAITI, BODY_PT)


def table(document: Document, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> Table:
    """A bordered table in 五号 (10.5 pt): a header row in 黑体 repeated on every page, fixed column widths.

    One data row is laid out and then copied for every row (setting only its texts): laying out
    each cell anew cost ~2.5 ms. Its cells take their font, size and alignment from a paragraph
    style rather than from properties of their own: lxml holds about 400 bytes a node, and the
    properties were three quarters of a row's nodes (a 6,000-row table took 205 MiB, now 60)."""
    grid = document.add_table(rows=2, cols=len(columns))
    grid.style = document.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    _fixed_layout(grid)
    for grid_column, column in zip(grid.columns, columns, strict=True):
        grid_column.width = Mm(column.width_mm)  # the grid (w:gridCol) is what Word and LibreOffice lay out by
    header, prototype = grid.rows
    _repeat_header(header)
    for cell, column in zip(header.cells, columns, strict=True):
        _cell(cell, column.header, HEITI, "center", column.width_mm)
    for cell, column in zip(prototype.cells, columns, strict=True):
        cell.width = Mm(column.width_mm)
        paragraph = cell.paragraphs[0]
        paragraph.style = _table_text(document, column.align)
        paragraph.add_run("-")  # a w:t to fill in each copy
    template = prototype._tr
    for shown in template.iter(qn("w:t")):
        shown.set(qn("xml:space"), "preserve")  # a cell's leading spaces stay
    body = template.getparent()
    body.remove(template)
    for values in rows:
        row = copy.deepcopy(template)
        for shown, value in zip(row.iter(qn("w:t")), values, strict=True):
            shown.text = plain(value)
        body.append(row)
    document.add_paragraph()
    return grid


def _table_text(document: Document, align: str) -> Any:
    """The paragraph style of a table's data cells: 五号 仿宋, single spacing, aligned `align`."""
    name = f"Table text {align}"
    if name in [style.name for style in document.styles]:
        return document.styles[name]
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.font.size = Pt(TABLE_PT)
    _fonts(style.element.get_or_add_rPr(), FANGSONG)
    style.paragraph_format.first_line_indent = Pt(0)
    style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    style.paragraph_format.alignment = _ALIGN.get(align, WD_ALIGN_PARAGRAPH.LEFT)
    return style


def signature(document: Document, issuer: str, dated: str) -> None:
    """The date right-aligned four characters from the margin, the issuer centred over it (GB/T 9704
    7.3.5.2); both kept on the page of the text above, never a date alone on the next page."""
    last = document.paragraphs[-1] if document.paragraphs else None
    ends_blank = last is not None and not last.text and last._p is document.element.body[-2]  # [-1]: sectPr
    (last if ends_blank and last is not None else document.add_paragraph()).paragraph_format.keep_with_next = True
    centred = max(0.0, 4 + (width_in_characters(dated) - width_in_characters(issuer)) / 2)
    for words, indent in ((issuer, centred), (dated, 4.0)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.right_indent = Pt(BODY_PT * indent)
        paragraph.paragraph_format.keep_with_next = words is issuer
        text(paragraph, words, FANGSONG, BODY_PT)


def width_in_characters(words: str) -> float:
    """How many full-width characters `words` takes: half-width digits and Latin letters count half."""
    return sum(0.5 if ord(char) < 0x2E80 else 1.0 for char in words)


def text(paragraph: Paragraph, words: str, east_asian: str, size: float, *, bold: bool = False,
         color: RGBColor | None = None) -> Run:
    """A run with its East Asian font named explicitly (Word otherwise falls back to the theme's)."""
    run = paragraph.add_run(plain(words))
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    _fonts(run._element.get_or_add_rPr(), east_asian)
    return run


def plain(words: str) -> str:
    """`words` without the control characters XML 1.0 cannot hold (a pasted form feed, say)."""
    return _CONTROL.sub("", words)


def _fonts(rpr: Any, east_asian: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), LATIN)
    fonts.set(qn("w:eastAsia"), east_asian)


def _cell(cell: object, value: str, east_asian: str, align: str, width_mm: float) -> None:
    cell.width = Mm(width_mm)  # type: ignore[attr-defined]
    paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    paragraph.alignment = _ALIGN.get(align, WD_ALIGN_PARAGRAPH.LEFT)
    text(paragraph, value, east_asian, TABLE_PT)


def _fixed_layout(grid: Table) -> None:
    properties = grid._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    properties.append(layout)


def _repeat_header(row: object) -> None:
    properties = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    properties.append(repeat)


def _bottom_border(paragraph: Paragraph, color: RGBColor) -> None:
    """The red separator line: a paragraph border across the text block."""
    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    line = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "6"), ("w:color", str(color))):
        line.set(qn(name), value)
    borders.append(line)
    properties.append(borders)


def _page_number(paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    """"— N —" with a PAGE field, 4号 half-width digits."""
    paragraph.alignment = align
    paragraph.paragraph_format.right_indent = paragraph.paragraph_format.left_indent = Pt(PAGE_NUMBER_PT)
    text(paragraph, "— ", FANGSONG, PAGE_NUMBER_PT)
    run = text(paragraph, "", FANGSONG, PAGE_NUMBER_PT)
    for kind, code in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif code == " PAGE ":
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = code
            run._r.append(instruction)
        else:
            shown = OxmlElement("w:t")
            shown.text = code
            run._r.append(shown)
    text(paragraph, " —", FANGSONG, PAGE_NUMBER_PT)


# A title's line breaks (GB/T 9704 7.3.3: words kept whole, lines arranged symmetrically).
TYPE_AREA_WIDTH = Mm(156)
_GENRES = ("通知单", "通报", "通知", "报告", "意见", "决定", "请示", "批复", "方案", "纪要", "函")
_OPENING, _CLOSING = "《（(“‘〔【「", "》）)”’〕】」、，。；：！？,.;:!?%"
_UNIT = re.compile(
    r"《[^》]*》"  # a quoted document name, never broken
    r"|第?[0-9０-９]+(?:[.:：／/-][0-9０-９]+)*[年月日周号期次届项个条号%]?"  # a number with its counter
    r"|[A-Za-z][A-Za-z0-9'’.-]* ?"  # a Latin word and the space after it
    r"|.", re.DOTALL)
_GOOD, _FAIR, _POOR = 0, 1, 8  # the cost of breaking at a point: a phrase boundary, likely a word's, maybe inside a word


def title_capacity(size_pt: float = TITLE_PT) -> int:
    """How many full-width characters of a `size_pt` title fit on a line of the type area (二号: 20)."""
    return int(TYPE_AREA_WIDTH.pt // size_pt)


def title_lines(title: str, per_line: int) -> list[str]:
    """`title` broken into lines of at most `per_line` full-width characters, words kept whole.

    Breaks fall where a phrase ends: after a leading 关于, around a 《…》 name, after a number such as
    2024年第41周, before the closing 的通报/的通知; never inside 《》 or a number, nor before closing or
    after opening punctuation. Of the fewest lines that fit, the ones chosen are the most even with
    each line no longer than the next (梯形), breaking mid-phrase only where nothing else fits; where
    no 梯形 fits, a line more is tried for a 梯形 or a 菱形 (GB/T 9704 7.3.3 allows both)."""
    units = _UNIT.findall(title.strip())
    widths = [width_in_characters(unit) for unit in units]
    if sum(widths) <= per_line or len(units) < 2:
        return [title.strip()]
    costs = [_break_cost(units, at) for at in range(1, len(units))]  # costs[at - 1]: a break before units[at]
    limit = max(per_line, *widths)  # a 《》 name longer than a line gets a line of its own, overfull
    for lines in range(math.ceil(sum(widths) / limit), len(units) + 1):
        if math.comb(len(units) - 1, lines - 1) > 100_000:
            break  # a title of several hundred characters: fill the lines instead
        best = _best_breaks(widths, costs, lines, limit)
        if best is None:
            continue
        if best[0] > _TRAPEZOID and lines < len(units):  # a line more may give a symmetric shape
            more = _best_breaks(widths, costs, lines + 1, limit)
            if more is not None and more[0] < best[0]:
                best = more
        return _cut(units, best[1])
    return _cut(units, _filled(widths, limit))


def _cut(units: Sequence[str], breaks: Sequence[int]) -> list[str]:
    edges = [0, *breaks, len(units)]
    return ["".join(units[start:end]).strip() for start, end in itertools.pairwise(edges)]


def _filled(widths: Sequence[float], limit: float) -> list[int]:
    """Break points that fill each line in turn (the fallback for an overlong title)."""
    breaks, used = [], 0.0
    for at, width in enumerate(widths):
        if used + width > limit and at:
            breaks.append(at)
            used = 0.0
        used += width
    return breaks


def _break_cost(units: Sequence[str], at: int) -> float | None:
    before, after = units[at - 1], units[at]
    if after[0] in _CLOSING or before[-1] in _OPENING:
        return None
    rest = "".join(units[at:])
    if (at == 2 and units[0] + before == "关于") or after.startswith("《") or before.endswith("》"):
        return _GOOD
    if rest.startswith("的") and rest[1:] in _GENRES:
        return _GOOD
    if any(c.isdigit() for c in before) and (after[0] == "第" or after[0].isdigit()):
        return _POOR  # 2024年 | 第41周
    if before.endswith(" ") or before[-1] in "、，；：" or any(c.isdigit() for c in before) or before == "的":
        return _FAIR
    if before.isascii() and after.isascii():
        return None  # inside a Latin word
    return _POOR


_TRAPEZOID, _DIAMOND, _OTHER = 0, 1, 2  # shapes, the better first


def _shape(spans: Sequence[float]) -> int:
    """梯形: each line no longer than the next; 菱形: longer to a widest line, then shorter."""
    if all(upper <= lower for upper, lower in itertools.pairwise(spans)):
        return _TRAPEZOID
    widest = spans.index(max(spans))
    if 0 < widest < len(spans) - 1 and _shape(spans[:widest + 1]) == _TRAPEZOID \
            and _shape(spans[widest:][::-1]) == _TRAPEZOID:
        return _DIAMOND
    return _OTHER


def _best_breaks(widths: Sequence[float], costs: Sequence[float | None], lines: int,
                 per_line: int) -> tuple[int, tuple[int, ...]] | None:
    """The shape and break points (unit indices) of the best `lines`-line layout, or None when none fits.

    A 梯形 beats a 菱形, which beats any other shape; within a shape, the lowest sum of break costs
    plus the spread between the longest and the shortest line wins."""
    starts = [0.0]
    for width in widths:
        starts.append(starts[-1] + width)
    best: tuple[tuple[int, float], tuple[int, ...]] | None = None
    for breaks in itertools.combinations(range(1, len(widths)), lines - 1):
        if any(costs[at - 1] is None for at in breaks):
            continue
        edges = (0, *breaks, len(widths))
        spans = [starts[end] - starts[start] for start, end in itertools.pairwise(edges)]
        if max(spans) > per_line:
            continue
        score = (_shape(spans), sum(costs[at - 1] or 0 for at in breaks) + max(spans) - min(spans))
        if best is None or score < best[0]:
            best = (score, breaks)
    return None if best is None else (best[0][0], best[1])
