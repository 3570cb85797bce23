"""python-docx building blocks so every family's Word version matches its PDF in content and order.

Word users in county offices edit with the fonts their machines have, so the DOCX names the faces offices have
(仿宋_GB2312 body and 方正小标宋简体 titles after GB/T 9704; 宋体, 黑体 in forms) rather than the faces the PDF
embeds. The author is the issuing office; no library name is left in the metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

import docx
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from .formats import cn_date, money

__all__ = ["cn_date", "money"]  # re-exported for the family builders, beside the helpers below

SONG, HEI, FANGSONG, TITLE_FACE = "宋体", "黑体", "仿宋_GB2312", "方正小标宋简体"


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


def _base(margins_mm: tuple[float, float, float, float], face: str, size: float, author: str) -> Document:
    doc = docx.Document()
    props = doc.core_properties  # python-docx's template says "python-docx" here: the office, nothing else
    props.author, props.last_modified_by, props.comments = author, author, ""
    props.title, props.subject, props.keywords, props.category = "", "", "", ""
    # python-docx's template carries its own dates (created 2013-12-23): the copy is made now
    props.created = props.modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    props.revision = 1
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
    return doc


def new_form_document(*, author: str = "") -> Document:
    doc = _base((16, 15, 14, 15), SONG, 10.5, author)
    _form_page_numbers(doc)
    return doc


def new_notice_document(*, author: str = "") -> Document:
    """GB/T 9704: top 37 mm, left 28 mm, body 仿宋 三号 (16 pt), 28 characters × 22 lines, page numbers
    "— 1 —" at the right on odd pages and the left on even pages."""
    doc = _base((37, 26, 35, 28), FANGSONG, 16, author)
    normal = doc.styles["Normal"].paragraph_format
    normal.line_spacing = Pt(28.94)  # 22 lines in 225 mm
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


def _form_page_numbers(doc: Document) -> None:
    paragraph = doc.sections[0].footer.paragraphs[0]
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
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(paragraph.add_run(text), face, size)
    paragraph.paragraph_format.space_after = Pt(6)
    return paragraph


def para(doc: Document, text: str, *, indent: bool = True, align: str = "justify",
         face: str | None = None, size: float | None = None) -> Paragraph:
    paragraph = doc.add_paragraph()
    paragraph.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "right": WD_ALIGN_PARAGRAPH.RIGHT,
                           "center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)
    run = paragraph.add_run(text)
    if face:
        set_font(run, face, size)
    elif size:
        run.font.size = Pt(size)
    return paragraph


def meta_line(doc: Document, left: str, right: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.tab_stops.add_tab_stop(Mm(180), WD_TAB_ALIGNMENT.RIGHT)
    paragraph.add_run(f"{left}\t{right}").font.size = Pt(10)


def note(doc: Document, text: str) -> None:
    para(doc, text, indent=False, size=9)


def grid(doc: Document, rows: Sequence[Sequence[str | None]], *, widths_mm: Sequence[float] | None = None,
         font_size: float | None = None) -> Table:
    """A bordered table; ``None`` in a row continues the cell to its left (horizontal merge).

    Linear in the number of cells: each row's cells are taken from its own ``<w:tr>`` once. (python-docx's
    ``table.cell(r, c)`` rebuilds the whole cell grid on every call, which made a 5,000-row list quadratic.)"""
    columns = max(len(r) for r in rows)
    table = doc.add_table(rows=len(rows), cols=columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [Mm(w) for w in widths_mm] if widths_mm else None
    for tr, row in zip(table._tbl.tr_lst, rows, strict=True):
        cells = [_Cell(tc, table) for tc in tr.tc_lst]
        if widths:
            for cell, width in zip(cells, widths, strict=False):
                cell.width = width
        spans: list[tuple[int, int]] = []  # (first, last) column of each merged run
        start = 0
        for c in range(columns + 1):
            value = row[c] if c < len(row) else None
            if c == columns or value is not None:
                if c - 1 > start:
                    spans.append((start, c - 1))
                if c < columns:
                    cells[c].text = value or ""
                    if font_size is not None:
                        for run in cells[c].paragraphs[0].runs:
                            run.font.size = Pt(font_size)
                    start = c
        for first, last in reversed(spans):  # right to left: merging never shifts a run still to merge
            cells[first].merge(cells[last])
    return table


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
    ])


def members_table(doc: Document, members: list[dict[str, Any]]) -> Table:
    rows: list[list[str | None]] = [
        ["共同生活家庭成员", "姓名", "与申请人关系", "身份证号码", "年龄", "劳动能力", "身份类别", "身体状况",
         "工作单位或就业情况", "月收入(元)"]
    ]
    for m in members:
        rows.append(["", m["name"], m["relation"], m["id_number"], str(m["age"]), m.get("labor") or "",
                     m["identity"], m["health_text"], m.get("work") or "", money(m["monthly_income"])])
    table = grid(doc, rows)
    if len(rows) > 1:
        table.cell(0, 0).merge(table.cell(len(rows) - 1, 0)).text = "共同生活家庭成员"
    return table


def form_head(doc: Document, text: str, d: dict[str, Any]) -> None:
    """Title and the labelled header line (乡镇（街道）：… 村（居）：… 编号：… 填表日期：…)."""
    title(doc, text)
    meta_line(doc, f"乡镇（街道）：{d['offices']['township']}　村（居）：{d['offices']['village']}",
              f"编号：{d['serial'] or ''}　填表日期：{cn_date(d['filled_on'])}")


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
    """One box per tier, as in the PDF: room for the opinion, 经办人 and 负责人 lines (names from the data or
    blank for a hand signature), the office, "（盖章）" and the date line."""
    rows: list[list[str | None]] = []
    for tier, label in labels:
        staff = d["staff"][tier]
        handler, head = staff["handler"] or "　　　　", staff["head"] or "　　　　"
        rows.append([label.replace("<br>", ""),
                     f"\n\n\n\n经办人：{handler}　　负责人：{head}\n{d['offices'][tier]}（盖章）\n年　　月　　日"])
    table = grid(doc, rows)
    for r in range(len(rows)):
        table.cell(r, 0).width = Mm(25)
        table.cell(r, 1).width = Mm(155)
        table.rows[r].height = Mm(48)
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
