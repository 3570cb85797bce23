"""python-docx building blocks so every family's Word version matches its PDF in content and order.

Word users in county offices edit with the fonts their machines have, so the DOCX names the faces offices have
(仿宋_GB2312 body and 方正小标宋简体 titles after GB/T 9704; 宋体, 黑体 in forms) rather than the faces the PDF
embeds. The author is the issuing office; no library name is left in the metadata.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Sequence
from copy import deepcopy
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

import docx
from docx.document import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from .columns import FORM_WIDTHS, TIER_HEIGHTS_MM
from .formats import cn_date, money
from .titles import balanced_lines
from .unbreakable import whole

__all__ = ["cn_date", "money"]  # re-exported for the family builders, beside the helpers below

SONG, HEI, FANGSONG, TITLE_FACE = "宋体", "黑体", "仿宋_GB2312", "方正小标宋简体"

#: GB/T 9704 text block (156 × 225 mm): 22 lines of 28 characters of 3号 (16 pt)
BLOCK_MM, LINES, CHARS, BODY_PT = (156.0, 225.0), 22, 28, 16.0
#: a record's body size (record.css)
RECORD_PT = 12.0
#: the notice line's height, as the PDF's (notice.css: 22 lines in 225 mm)
LINE_PT = 28.94
#: the character pitch of the grid: 28 characters fill 156 mm (the PDF's 15.79 pt, letter-spacing -0.21 pt)
CHAR_PT = BLOCK_MM[0] / 25.4 * 72 / CHARS
#: the body's character spacing in ⅟₂₀ pt: the largest step that fits 28 characters of 16 pt in 156 mm
BODY_SPACING_TWENTIETHS = math.floor((CHAR_PT - BODY_PT) * 20)  # −4.14 → −5 (−4: 28 × 15.8 pt overflows)
#: an amount in a table cell (1,260.00 / 870.00元): right-aligned, as the PDF's ``num right`` cells
_AMOUNT = re.compile(r"-?\d[\d,]*\.\d{2}(元.*)?")


def to_bytes(document: Document) -> bytes:
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def set_font(run: Run, face: str, size: float | None = None) -> None:
    run.font.name = face
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), face)
    if size is not None:
        run.font.size = Pt(size)


def _put(parent: Any, tag: str, **attrs: str) -> Any:
    """Add (or replace) ``tag`` in a ``w:pPr`` / ``w:rPr`` / ``w:tblPr`` in the place the schema gives it: Word
    refuses a file whose properties are out of order."""
    old = parent.find(qn(tag))
    if old is not None:
        parent.remove(old)
    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), value)
    sequence = _ORDER[parent.tag]
    parent.insert_element_before(element, *sequence[sequence.index(tag) + 1:])
    return element


#: the schema's order of the properties this kit sets (ECMA-376 CT_PPrBase, CT_TblPr)
_ORDER = {
    qn("w:pPr"): ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
                  "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
                  "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                  "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
                  "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                  "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"),
    qn("w:rPr"): ("w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
                  "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
                  "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs",
                  "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
                  "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath"),
    qn("w:tblPr"): ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
                    "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders",
                    "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
                    "w:tblPrChange"),
}


def _base(margins_mm: tuple[float, float, float, float], face: str, size: float, author: str) -> Document:
    doc = docx.Document()
    props = doc.core_properties  # python-docx's template says "python-docx" here: the office, nothing else
    props.author, props.last_modified_by, props.comments = author, author, ""
    props.title, props.subject, props.keywords, props.category = "", "", "", ""
    # python-docx's template carries its own dates (created 2013-12-23): the copy is made now
    props.created = props.modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    props.revision = 1
    # python-docx's template also carries a thumbnail of some other document: an office's copy shows its own
    for rel_id, rel in list(doc.part.package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del doc.part.package.rels[rel_id]
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    top, right, bottom, left = margins_mm
    section.top_margin, section.right_margin = Mm(top), Mm(right)
    section.bottom_margin, section.left_margin = Mm(bottom), Mm(left)
    normal = doc.styles["Normal"]
    normal.font.name = face
    normal.font.size = Pt(size)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), face)
    normal.paragraph_format.space_after = Pt(0)
    # no extra space between Chinese and digits or Latin (Word's default adds a quarter em: "2026 年"); the PDF
    # sets 2026年11月23日 solid
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    ppr_default = defaults.find(qn("w:pPrDefault")) if defaults is not None else None
    lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}") if defaults is not None else None
    if lang is not None:  # Chinese text (python-docx's template says en-US): Chinese line-breaking rules
        lang.set(qn("w:eastAsia"), "zh-CN")
    for ppr in (normal.element.get_or_add_pPr(),
                *([ppr_default.find(qn("w:pPr"))] if ppr_default is not None else [])):
        if ppr is not None:
            # no punctuation hanging past the block's right edge (a 29th character), as the PDF
            for tag in ("w:overflowPunct", "w:autoSpaceDE", "w:autoSpaceDN"):
                _put(ppr, tag, val="0")
    return doc


def text_width_mm(doc: Document) -> float:
    section = doc.sections[-1]
    return float(section.page_width - section.left_margin - section.right_margin) / 36000


def _document_grid(doc: Document) -> None:
    """The section's line grid (``w:docGrid``, 22 lines of 579 twips in the 225 mm block) and 28 characters a
    line: the body's 16 pt characters set 0.25 pt closer (Word's ⅟₂₀ pt steps; the PDF's −0.21 pt), 28 × 15.75 pt
    in the 156 mm line — without it a line holds 27.

    Not ``linesAndChars``: with a character pitch under the glyph's 16 pt (15.79 pt for 28 in 156 mm),
    LibreOffice 7.4 gives every Chinese character two cells of the grid — 14 a line — where Word compresses; the
    spacing gives the same 28 in Word, WPS and LibreOffice (measured through LibreOffice, tests/templates)."""
    sect_pr = doc.sections[0]._sectPr
    element = sect_pr.find(qn("w:docGrid"))
    if element is None:
        element = OxmlElement("w:docGrid")
        sect_pr.append(element)
    element.set(qn("w:type"), "lines")
    element.set(qn("w:linePitch"), str(int(BLOCK_MM[1] / 25.4 * 1440 / LINES)))  # 579 twips
    _put(doc.styles["Normal"].element.get_or_add_rPr(), "w:spacing", val=str(BODY_SPACING_TWENTIETHS))


def _off_grid(paragraph: Paragraph) -> None:
    """A paragraph that keeps its own size and line height (titles, table text at 12 pt): a 22 pt character on
    the 16 pt grid would take two cells."""
    _put(paragraph._p.get_or_add_pPr(), "w:snapToGrid", val="0")


#: the forms' line height, as form.css (line-height 1.35)
FORM_LINE = 1.35


def new_form_document(*, author: str = "") -> Document:
    doc = _base((16, 15, 14, 15), SONG, 10.5, author)
    doc.styles["Normal"].paragraph_format.line_spacing = FORM_LINE
    section = doc.sections[0]
    _form_page_numbers(section.footer.paragraphs[0])
    # the first page has its own head (form_head) and no running head; its footer numbers it like the others
    section.different_first_page_header_footer = True
    _form_page_numbers(section.first_page_footer.paragraphs[0])
    return doc


def new_notice_document(*, author: str = "", record: bool = False) -> Document:
    """GB/T 9704: top 37 mm, left 28 mm, body 仿宋 三号 (16 pt), 28 characters × 22 lines, page numbers
    "— 1 —" at the right on odd pages and the left on even pages. A ``record`` (入户调查表, 评议记录 …) keeps the
    block but sets its body at 12 pt on 20 pt lines, as record.css."""
    doc = _base((37, 26, 35, 28), FANGSONG, RECORD_PT if record else BODY_PT, author)
    normal = doc.styles["Normal"].paragraph_format
    if record:
        normal.line_spacing = Pt(20)
    else:
        normal.line_spacing = Pt(LINE_PT)  # 22 lines in 225 mm
        _document_grid(doc)
    settings = doc.settings.element
    even_odd = OxmlElement("w:evenAndOddHeaders")
    settings.append(even_odd)
    section = doc.sections[0]
    _page_numbers(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_numbers(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)
    return doc


def _field(paragraph: Paragraph, instruction: str, face: str, size: float) -> None:
    run = paragraph.add_run()
    set_font(run, face, size)
    for kind, text in (("begin", None), (None, instruction), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)


def _form_page_numbers(paragraph: Paragraph) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(paragraph.add_run("第 "), SONG, 9)
    _field(paragraph, "PAGE", SONG, 9)
    set_font(paragraph.add_run(" 页 共 "), SONG, 9)
    _field(paragraph, "NUMPAGES", SONG, 9)
    set_font(paragraph.add_run(" 页"), SONG, 9)


def _page_numbers(paragraph: Paragraph, alignment: Any) -> None:
    paragraph.alignment = alignment
    paragraph.paragraph_format.left_indent = paragraph.paragraph_format.right_indent = Pt(14)
    set_font(paragraph.add_run("— "), SONG, 14)
    _field(paragraph, "PAGE", SONG, 14)
    set_font(paragraph.add_run(" —"), SONG, 14)


def title(doc: Document, text: str, *, face: str = HEI, size: float = 18) -> Paragraph:
    """A form's title (one line, as the PDF's)."""
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(paragraph.add_run(text), face, size)
    paragraph.paragraph_format.space_after = Pt(6)
    _off_grid(paragraph)
    core = doc.core_properties
    core.title = core.title or text
    return paragraph


def doc_title(doc: Document, text: str, *, number: str | None = None) -> Paragraph:
    """The GB/T 9704 title in 2号 (22 pt) 小标宋, broken between words into balanced lines at the very points the
    PDF breaks it (:func:`templates.titles.balanced_lines`, explicit line breaks), then the 文号 line centred."""
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.line_spacing = Pt(LINE_PT)
    paragraph.paragraph_format.space_after = Pt(LINE_PT / 2 if number else LINE_PT)
    _off_grid(paragraph)
    for i, line in enumerate(balanced_lines(text)):
        run = paragraph.add_run(line)
        set_font(run, TITLE_FACE, 22)
        run.bold = True
        _no_spacing(run._element.get_or_add_rPr())
        if i:
            run._element.addprevious(_break())
    core = doc.core_properties
    core.title = text
    if number:
        numbered = para(doc, number, indent=False, align="center")
        numbered.paragraph_format.space_after = Pt(LINE_PT / 2)
    return paragraph


def _no_spacing(rpr: Any) -> None:
    """Text outside the body (titles, tables) keeps its natural spacing, as in the PDF (letter-spacing 0)."""
    _put(rpr, "w:spacing", val="0")


def _break() -> Any:
    run = OxmlElement("w:r")
    run.append(OxmlElement("w:br"))
    return run


def para(doc: Document, text: str, *, indent: bool = True, align: str = "justify",
         face: str | None = None, size: float | None = None) -> Paragraph:
    paragraph = doc.add_paragraph()
    paragraph.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "right": WD_ALIGN_PARAGRAPH.RIGHT,
                           "center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    if indent:  # two characters of the body (2 × 15.79 pt on the grid, as the PDF); firstLineChars for Word
        body = doc.styles["Normal"].font.size.pt
        paragraph.paragraph_format.first_line_indent = Pt(2 * CHAR_PT if body == BODY_PT else 2 * body)
        paragraph._p.get_or_add_pPr().get_or_add_ind().set(qn("w:firstLineChars"), "200")
    run = paragraph.add_run(text)
    if face:
        set_font(run, face, size)
    elif size:
        run.font.size = Pt(size)
    if size:
        _off_grid(paragraph)
    return paragraph


def gap(doc: Document, mm: float) -> Paragraph:
    """An empty paragraph ``mm`` high: the PDF's margin between two tables (which Word would otherwise join)."""
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.line_spacing = Mm(mm)
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.paragraph_format.first_line_indent = Pt(0)
    _off_grid(paragraph)
    return paragraph


def meta_line(doc: Document, left: str, right: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.tab_stops.add_tab_stop(Mm(180), WD_TAB_ALIGNMENT.RIGHT)
    paragraph.add_run(f"{left}\t{right}").font.size = Pt(10)


def note(doc: Document, text: str) -> None:
    para(doc, text, indent=False, size=9)


def _twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


def _cell_style(doc: Document, size: float | None, line_pt: float | None) -> str:
    """A paragraph style for table text (created once per size): off the character grid and with the table's
    own line height, as the PDF's cells (12 pt on 17 pt in a list, not the body's 28.94 pt lines)."""
    name = f"表格文字{size or ''}-{line_pt or ''}"
    styles = doc.styles
    if name not in [st.name for st in styles]:
        style = styles.add_style(name, 1)  # WD_STYLE_TYPE.PARAGRAPH
        style.base_style = styles["Normal"]
        if size:
            style.font.size = Pt(size)
        fmt = style.paragraph_format
        fmt.line_spacing = Pt(line_pt) if line_pt else FORM_LINE
        fmt.first_line_indent = Pt(0)
        _put(style.element.get_or_add_pPr(), "w:snapToGrid", val="0")
        _no_spacing(style.element.get_or_add_rPr())
    return str(styles[name].style_id)


def grid(doc: Document, rows: Sequence[Sequence[str | None]], *, widths: Sequence[float] | None = None,
         aligns: Sequence[str] | None = None, merged_align: str = "left", head_rows: int = 0,
         font_size: float | None = None, line_pt: float | None = None, pad_mm: float = 1.2,
         pad_v_mm: float = 1.0, ruled: bool = True) -> Table:
    """A bordered table laid out as the PDF's: ``None`` in a row continues the cell to its left (horizontal merge).

    ``widths`` are the PDF's column widths in per cent of the text block (``w:tblGrid``, each cell's width, fixed
    layout); equal without them. Each cell is aligned as the PDF's: head rows centred, amounts right, a merged
    cell ``merged_align``, the rest by its column (``aligns``, left by default). A cell that is one unbreakable run
    (number with unit, ID number, 文号, short name: :func:`templates.unbreakable.whole`) is kept on one line.

    Linear in the number of cells: each row's cells are taken from its own ``<w:tr>`` once. (python-docx's
    ``table.cell(r, c)`` rebuilds the whole cell grid on every call, which made a 5,000-row list quadratic.)"""
    columns = max(len(r) for r in rows)
    table = doc.add_table(rows=len(rows), cols=columns)
    if ruled:
        table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # fixed layout: the widths below, whatever the text
    total = text_width_mm(doc)
    shares = list(widths) if widths else [100.0 / columns] * columns
    col_twips = [_twips(total * w / sum(shares)) for w in shares]
    size = font_size or doc.styles["Normal"].font.size.pt
    _fit_whole(col_twips, rows[head_rows:], size, pad_mm)
    _table_frame(table, col_twips, pad_mm, pad_v_mm)
    style_id = _cell_style(doc, font_size, line_pt)
    paragraph_props = {align: _cell_paragraph(style_id, align) for align in ("left", "center", "right")}
    # the PDF's cells: vertical-align middle (hand-signature rows: at the foot, under the room to sign)
    v_align = OxmlElement("w:vAlign")
    v_align.set(qn("w:val"), "center" if ruled else "bottom")
    for r, (tr, row) in enumerate(zip(table._tbl.tr_lst, rows, strict=True)):
        cells = [_Cell(tc, table) for tc in tr.tc_lst]
        spans: list[tuple[int, int]] = []  # (first, last) column of each merged run
        start = 0
        for c in range(columns + 1):
            value = row[c] if c < len(row) else None
            if c == columns or value is not None:
                if c - 1 > start:
                    spans.append((start, c - 1))
                if c < columns:
                    start = c
        merged_from = {first for first, _ in spans}
        for c in range(columns):
            value = row[c] if c < len(row) else None
            if value is None:
                continue
            cell = cells[c]
            cell.text = value
            text = value.strip()
            if r < head_rows:
                align = "center"
            elif _AMOUNT.fullmatch(text):
                align = "right"
            elif c in merged_from:
                align = merged_align
            else:
                align = aligns[c] if aligns else "left"
            # (copies of prepared elements: python-docx's setters cost ~0.3 ms a cell, a 2,000-row list 3 s)
            cell.paragraphs[0]._p.insert(0, deepcopy(paragraph_props[align]))
            cell_props = cell._tc.get_or_add_tcPr()
            if "\n" not in value and whole(value):
                cell_props.append(OxmlElement("w:noWrap"))
            cell_props.append(deepcopy(v_align))
        for first, last in reversed(spans):  # right to left: merging never shifts a run still to merge
            cells[first].merge(cells[last])
        at = 0  # each cell's width: the columns it spans
        for tc in tr.tc_lst:
            tc.width = sum(col_twips[at:at + tc.grid_span]) * 635  # twips → EMU
            at += tc.grid_span
    return table


#: room a renderer takes beyond the text's own width (LibreOffice breaks an 18-digit ID number 1.9 pt short)
_SLACK_PT = 4.0


def _fit_whole(col_twips: list[int], rows: Sequence[Sequence[str | None]], size_pt: float, pad_mm: float) -> None:
    """Widen a column where one of its unmerged cells is an unbreakable run (ID number, amount, date, name) wider
    than the column, taking the room from the columns that have some to spare: Word and LibreOffice ignore
    ``w:noWrap`` in a fixed-layout table, so only the width keeps the run on one line."""
    need = [0] * len(col_twips)
    for row in rows:
        for c, value in enumerate(row):
            merged = c + 1 < len(row) and row[c + 1] is None
            if value and not merged and "\n" not in value and whole(value):
                width_pt = _ems(value.strip()) * size_pt + _SLACK_PT
                need[c] = max(need[c], round(width_pt * 20) + 2 * _twips(pad_mm))
    short = sum(max(n - w, 0) for n, w in zip(need, col_twips, strict=True))
    spare = [max(w - n, 0) for n, w in zip(need, col_twips, strict=True)]
    if not short or sum(spare) < short:
        return
    for c, (n, w) in enumerate(zip(need, col_twips, strict=True)):
        col_twips[c] = n if n > w else w - round(short * spare[c] / sum(spare))


def _ems(text: str) -> float:
    """Width in ems: Chinese and full-width characters 1, digits and Latin 0.5 (the faces' own advances), and a
    quarter em where Chinese meets digits or Latin (LibreOffice's autospace, which ignores ``w:autoSpaceDE``)."""
    wide = [unicodedata.east_asian_width(ch) in "WF" for ch in text]
    return sum(1.0 if w else 0.5 for w in wide) + 0.25 * sum(a != b for a, b in itertools.pairwise(wide))


def _cell_paragraph(style_id: str, align: str) -> Any:
    """A cell paragraph's properties: the table text style and the alignment."""
    props = OxmlElement("w:pPr")
    for tag, value in (("w:pStyle", style_id), ("w:jc", align)):
        element = OxmlElement(tag)
        element.set(qn("w:val"), value)
        props.append(element)
    return props


def _table_frame(table: Table, col_twips: Sequence[int], pad_mm: float, pad_v_mm: float) -> None:
    """The grid's column widths, the table's width and its cells' padding (the PDF's)."""
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, col_twips, strict=True):
        col.w = width * 635
    tbl_pr = table._tbl.tblPr
    _put(tbl_pr, "w:tblW", w=str(sum(col_twips)), type="dxa")
    margins = _put(tbl_pr, "w:tblCellMar")
    for side, pad in (("top", pad_v_mm), ("left", pad_mm), ("bottom", pad_v_mm), ("right", pad_mm)):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), str(_twips(pad)))
        element.set(qn("w:type"), "dxa")
        margins.append(element)


def repeat_header(table: Table) -> None:
    """Mark the first row as a header row, repeated on every page (like <thead> in the PDF)."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def applicant_table(doc: Document, a: dict[str, Any], category: str) -> Table:
    return grid(doc, [
        ["申请人姓名", a["name"], "性别", a["gender"], "出生日期", cn_date(a.get("birth_date")), "申请类别", category],
        ["身份证号码", a["id_number"], None, None, "联系电话", a.get("phone") or "", None, None],
        ["户籍所在地", a["registered_address"], None, None, None, None, None, None],
        ["现住址", a["address"], None, None, None, None, None, None],
    ], widths=FORM_WIDTHS["applicant"], aligns=_LABELLED)


#: the forms' label–value columns: labels and short values centred, dates and numbers left, as form_parts.html.j2
_LABELLED = ("center", "left", "center", "center", "center", "left", "center", "center")


def members_table(doc: Document, members: list[dict[str, Any]]) -> Table:
    rows: list[list[str | None]] = [
        ["共同生活家庭成员", "姓名", "与申请人关系", "身份证号码", "年龄", "劳动能力", "身份类别", "身体状况",
         "工作单位或就业情况", "月收入(元)"]
    ]
    for m in members:
        rows.append(["", m["name"], m["relation"], m["id_number"], str(m["age"]), m.get("labor") or "",
                     m["identity"], m["health_text"], m.get("work") or "", money(m["monthly_income"])])
    table = grid(doc, rows, widths=FORM_WIDTHS["members"], aligns=["center"] * 10, head_rows=1, font_size=9.5,
                 pad_mm=0.8, pad_v_mm=0.6)
    if len(rows) > 1:  # the label and the column below it read as one cell
        merged = table.cell(0, 0).merge(table.cell(len(rows) - 1, 0))
        for paragraph in merged.paragraphs[1:]:  # the empty paragraphs of the cells merged in
            merged._tc.remove(paragraph._p)
    return table


def facts_table(doc: Document, rows: Sequence[Sequence[str | None]], widths: str) -> Table:
    """The form's own figures (household, income, hardship) with its declaration rows: labels and short values
    centred, amounts right, the long texts left."""
    return grid(doc, rows, widths=FORM_WIDTHS[widths], aligns=["center"] * 8)


def form_head(doc: Document, text: str, d: dict[str, Any]) -> None:
    """Title and the labelled header lines (乡镇（街道）：… 编号：… / 村（居）：… 填表日期：…); on every later page the
    running head the PDF prints (title, applicant and serial)."""
    head = doc.sections[0].header.paragraphs[0]
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(head.add_run(f"{text}　申请人：{d['applicant']['name']}　编号：{d['serial'] or ''}"), SONG, 9)
    title(doc, text)
    meta_line(doc, f"乡镇（街道）：{d['offices']['township']}", f"编号：{d['serial'] or ''}")
    meta_line(doc, f"村（居）：{d['offices']['village']}", f"填表日期：{cn_date(d['filled_on'])}")


def declaration_rows(d: dict[str, Any], promise: str) -> list[list[str | None]]:
    """近亲属备案 (57号 art. 11) and the applicant's promise with the signature and date line."""
    signed = cn_date(d["signed_on"]) if d.get("signed_on") else "　　　　年　　月　　日"
    return [
        ["近亲属备案", f"申请人家庭成员是否为经办人员或村（居）委会成员的近亲属：{d['kinship_text']}",
         None, None, None, None, None, None],
        ["申请人承诺", f"{promise}\n申请人（签字或手印）：　　　　　　　　{signed}",
         None, None, None, None, None, None],
    ]


def tier_boxes(doc: Document, d: dict[str, Any], labels: Sequence[tuple[str, str]]) -> Table:
    """One box per tier in the PDF's proportions and heights: room for the opinion, then "（盖章）" at the right
    and, on the last line, the 经办人 and 负责人 (names from the data or blank for a hand signature) at the left
    and the date line at the right."""
    rows: list[list[str | None]] = [[label.replace("<br>", "\n"), ""] for _, label in labels]
    table = grid(doc, rows, widths=FORM_WIDTHS["tiers"], aligns=("center", "left"))
    inner = Mm(text_width_mm(doc) * FORM_WIDTHS["tiers"][1] / 100 - 2 * 1.2)
    for row, (tier, _) in zip(table.rows, labels, strict=True):
        row.height = Mm(TIER_HEIGHTS_MM[tier])  # at least: an opinion typed in grows its box
        cell = row.cells[1]
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
        staff = d["staff"][tier]
        handler, head = staff["handler"] or "　　　　", staff["head"] or "　　　　"
        stamp = cell.paragraphs[0]
        stamp.add_run("（盖章）")
        stamp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        stamp.paragraph_format.right_indent = Mm(14)
        last = cell.add_paragraph(f"经办人：{handler}　　负责人：{head}\t年　　月　　日")
        last.style = stamp.style
        last.paragraph_format.tab_stops.add_tab_stop(inner - Mm(10), WD_TAB_ALIGNMENT.RIGHT)
    return table


def closing(doc: Document, issuer: str, issued_on: date) -> None:
    """Office and date at the lower right, kept on the page of the text before them (the seal never stands
    alone on a page)."""
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    spacer = doc.add_paragraph()
    spacer.paragraph_format.keep_with_next = True
    for text in (issuer, cn_date(issued_on)):
        paragraph = para(doc, text, indent=False, align="right")
        paragraph.paragraph_format.right_indent = Pt(64)
        paragraph.paragraph_format.keep_with_next = True


def qr_code(doc: Document, url: str, *, size_mm: float = 24) -> None:
    """The verification QR code, as in the PDF's QR slot: its image and the caption 扫码核验真伪, left-aligned
    after the closing."""
    from io import BytesIO

    from .render_pdf import check_verify_url, qr_png

    check_verify_url(url)
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
    paragraph.add_run().add_picture(BytesIO(qr_png(url)), width=Mm(size_mm), height=Mm(size_mm))
    para(doc, "扫码核验真伪", indent=False, align="left", size=9)
