"""The papers of a case (letters, records, cards): one body per paper, written once in its family's ``family.py``
and laid out twice — as HTML for the PDF (``assets/paper.html.j2``) and as python-docx for the editable copy — so
the two never say different things.

A body is a title, an optional number line (文号 / 编号), an optional addressee, a list of parts (paragraphs,
numbered items, tables, label–value rows), the people who sign it by hand (签字或手印) and a closing note."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from docx.document import Document
from docx.shared import Mm

from . import docx_kit
from .columns import FORM_WIDTHS
from .formats import cn_date, money

__all__ = ["Items", "Paper", "Rows", "Table", "build_docx", "cn_date", "money", "month_text", "remedies"]


@dataclass(frozen=True)
class Items:
    """A numbered list (reasons, missing papers)."""

    items: Sequence[str]
    kind: str = "ol"


@dataclass(frozen=True)
class Table:
    """A ruled table with a heading row repeated on every page; ``widths`` in per cent."""

    head: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[int] = ()
    kind: str = "table"


@dataclass(frozen=True)
class Rows:
    """Label–value rows (a record's facts), two columns."""

    rows: Sequence[tuple[str, str]]
    kind: str = "rows"


Part = str | Items | Table | Rows


@dataclass(frozen=True)
class Paper:
    title: str
    parts: Sequence[Part]
    number: str | None = None
    to: str | None = None
    signers: Sequence[str] = field(default_factory=tuple)
    footnote: str | None = None

    def blocks(self) -> list[dict[str, Any]]:
        """The parts as the HTML template reads them."""
        out: list[dict[str, Any]] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append({"kind": "p", "text": part})
            else:
                out.append({"kind": part.kind, "part": part})
        return out


def month_text(value: str) -> str:
    """``2027-01`` → 2027年1月."""
    year, month = value.split("-")
    return f"{int(year)}年{int(month)}月"


def remedies(d: dict[str, Any], what: str = "决定") -> str:
    """The applicant's remedies, as every decision and refusal states them (行政复议法 art. 20, 行政诉讼法 art. 46)."""
    a = d["appeal"]
    return (f"如对本{what}不服，可以自收到本{what}书之日起{a['review_days']}日内向{a['review_body']}申请行政复议，"
            f"也可以自收到之日起{a['litigation_months']}个月内向{a['court']}提起行政诉讼。")


def build_docx(d: dict[str, Any], paper: Paper, *, issuer: str, issued_on: date, record: bool = False) \
        -> Document:
    """The editable copy: the same title, number, addressee, parts, signature rows and closing as the PDF; a
    ``record`` in the records' denser type (record.css)."""
    doc = docx_kit.new_notice_document(author=issuer, record=record)
    docx_kit.doc_title(doc, paper.title, number=paper.number)
    if paper.to:
        docx_kit.para(doc, f"{paper.to}：", indent=False, align="left")
    for part in paper.parts:
        if isinstance(part, str):
            docx_kit.para(doc, part)
        elif isinstance(part, Items):
            for n, item in enumerate(part.items, start=1):
                docx_kit.para(doc, f"{n}. {item}")
        elif isinstance(part, Table):
            docx_kit.gap(doc, 3)  # table.record: margin 3 mm (and two tables side by side would merge in Word)
            table = docx_kit.grid(doc, [list(part.head), *[list(r) for r in part.rows]], widths=part.widths or None,
                                  head_rows=1, font_size=12, line_pt=20, pad_mm=1.5)
            docx_kit.repeat_header(table)
        elif isinstance(part, Rows):
            docx_kit.gap(doc, 3)
            docx_kit.grid(doc, [[label, value] for label, value in part.rows], widths=FORM_WIDTHS["rows"],
                          aligns=("center", "left"), font_size=12, line_pt=20, pad_mm=1.5)
    if paper.signers:  # signatures.html.j2: rows 15 mm high for a signature or fingerprint, 6 mm below the text
        docx_kit.gap(doc, 6)
        signatures = docx_kit.grid(doc, [[who, "签字或手印：", "日期：    年  月  日"] for who in paper.signers],
                                   widths=FORM_WIDTHS["signatures"], font_size=12, line_pt=16, pad_mm=0,
                                   pad_v_mm=0, ruled=False)
        for row in signatures.rows:
            row.height = Mm(15)
    docx_kit.closing(doc, issuer, issued_on)
    if paper.footnote:
        docx_kit.para(doc, paper.footnote, indent=False, size=12)
    return doc
