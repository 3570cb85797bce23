"""The 卷内目录 (index page) of a 案卷: the case, one row per paper (序号 / 文件名称 / 日期 / 页数 / 印章 / 备注), and
the exporting office's closing block, whose seal slot lets that office seal the whole 案卷 as a single-issuer
document (slot table family ``case_file``, PDF keywords ``case_file``).

The rows are the manifest's paper entries (``signer.case_file.describe``), so the page shows exactly what the
manifest inside the same file records. The page is PDF/A-3b when the renderer writes PDF/A: PDF/A-3 is the part
that allows arbitrary embedded files (the papers), which ``signer.case_file.assemble`` adds afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from signer.errors import FieldProblem, TemplateDataError

from .formats import cn_date_text

if TYPE_CHECKING:
    from .render_pdf import PdfRenderer, RenderedPdf

#: the slot table's family and the PDF's keywords: what makes a sealed PDF recognisable as a 案卷
PAGE_ID = "case_file"
TITLE = "卷内目录"
TEMPLATE = "assets/case_file_index.html.j2"
STYLESHEETS = ("assets/common.css", "assets/record.css", "assets/case_file_index.css")
#: the case's heading when the caller gives no ``kind_label`` (the case register's labels are the home; these
#: only cover a caller that passes the bare kind)
KIND_FALLBACK = {"dibao": "最低生活保障", "relief": "临时救助"}
#: the case fields the heading needs
CASE_FIELDS = ("number", "applicant_name", "village")

_lock = threading.Lock()
_default: PdfRenderer | None = None


def _renderer() -> PdfRenderer:
    """A renderer for callers that have none (scripts, tests); the service passes its own."""
    global _default
    with _lock:
        if _default is None:
            from .catalogue import Catalogue
            from .render_pdf import PdfRenderer

            _default = PdfRenderer(Catalogue.load())
        return _default


def heading(case: Mapping[str, Any]) -> dict[str, str]:
    """The case as the index page shows it; every missing field is named at once."""
    problems = [FieldProblem(f"case.{name}", "缺少此项") for name in CASE_FIELDS if not str(case.get(name) or "")]
    kind_label = str(case.get("kind_label") or KIND_FALLBACK.get(str(case.get("kind") or ""), ""))
    if not kind_label:
        problems.append(FieldProblem("case.kind", "缺少案件类别（dibao 或 relief）"))
    if problems:
        raise TemplateDataError(problems, "卷内目录缺少案件信息")
    return {"kind_label": kind_label, **{name: str(case[name]) for name in CASE_FIELDS}}


def index_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The manifest's paper entries as table rows: the date in Chinese, the seals joined by 、."""
    out = []
    for number, row in enumerate(rows, start=1):
        title = str(row.get("title") or "")
        if not title:
            raise TemplateDataError([FieldProblem(f"rows[{number - 1}].title", "缺少文件名称")], "卷内目录数据有误")
        seals = [str(s) for s in row.get("seals") or ()]
        out.append({
            "name": str(row.get("name") or ""), "title": title,
            "date_text": cn_date_text(row["issued_on"]) if row.get("issued_on") else "",
            "pages": int(row.get("pages") or 0), "seals_text": "、".join(seals) or "无",
            "note": str(row.get("note") or ""),
        })
    return out


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def render_index_pdf(case: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], *, issuer: str, issued_on: date,
                     issuer_id: str | None = None, renderer: PdfRenderer | None = None) -> RenderedPdf:
    """:func:`render_index` with the rendered page's facts (page count, slots, WeasyPrint's warnings)."""
    renderer = renderer or _renderer()
    head, table = heading(case), index_rows(rows)
    if not issuer:
        raise TemplateDataError([FieldProblem("issuer", "缺少出具单位")], "卷内目录缺少出具单位")
    missing = renderer.fonts.missing(_strings([head, table, issuer]))
    if missing:
        chars = "、".join(f"「{c}」(U+{ord(c):04X})" for c in missing)
        raise TemplateDataError([FieldProblem("case", f"含有文书字体无法显示的字符：{chars}")],
                                "卷内目录含有无法显示的字符")
    variant = renderer.pdf_variant
    context = {
        "family": {"id": PAGE_ID, "title": TITLE}, "issuer": issuer, "issued_on": issued_on,
        "created": f"{issued_on.isoformat()}T00:00:00+00:00", "case": head, "rows": table,
        "total_pages": sum(r["pages"] for r in table),
    }
    return renderer.render_page(
        TEMPLATE, context, page_id=PAGE_ID, title=TITLE, stylesheets=STYLESHEETS,
        office_ids={"issuer": issuer_id} if issuer_id else None,
        pdf_variant="pdf/a-3b" if variant and variant.startswith("pdf/a") else None)


def render_index(case: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], *, issuer: str, issued_on: date,
                 issuer_id: str | None = None, renderer: PdfRenderer | None = None) -> bytes:
    """The index page as PDF bytes. ``case``: ``number`` (案卷号), ``kind`` ("dibao" | "relief") or
    ``kind_label``, ``applicant_name``, ``village`` (its name). ``rows``: the manifest's ``papers``.
    ``issuer_id``: the exporting office's registry id — the seal step seals only a slot that names it.
    ``renderer``: the service's renderer (one environment and font cache per process)."""
    return render_index_pdf(case, rows, issuer=issuer, issued_on=issued_on, issuer_id=issuer_id,
                            renderer=renderer).pdf
