"""What the 公示 and 公布 notices share: totals of the household list and the default heading."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from docx.document import Document

from . import docx_kit

#: a list column after 序号/户主姓名/身份证号码: its header, its cell, and its cell in the total row
#: (None: merged into the cell to its left)
Column = tuple[str, Callable[[dict[str, Any]], str], str | None]


def derive_list(view: dict[str, Any], *, default_heading: str) -> dict[str, Any]:
    households = view["households"]
    view["total_households"] = len(households)
    view["total_persons"] = sum(h["persons"] for h in households)
    view["total_amount"] = sum((h["monthly_amount"] for h in households), Decimal("0.00"))
    view["heading"] = view.get("title") or f"{view['issuer']}{default_heading}"
    # the masked ID column appears only when the input carried ID numbers
    view["show_id"] = any(h.get("id_number") for h in households)
    return view


def build_list_docx(d: dict[str, Any], paragraphs: Sequence[str], columns: Sequence[Column]) -> Document:
    """The Word version of a household-list notice: title, body, the list (header repeated on every page,
    a total row) and the issuing office and date."""
    doc = docx_kit.new_notice_document()
    docx_kit.title(doc, d["heading"], face=docx_kit.SONG, size=22)
    for text in paragraphs:
        docx_kit.para(doc, text)
    id_column: list[Column] = (
        [("身份证号码", lambda h: h.get("id_number") or "", None)] if d["show_id"] else [])
    all_columns: list[Column] = [("户主姓名", lambda h: h["head_name"], f"{d['total_households']}户"),
                                 *id_column, *columns]
    rows: list[list[str | None]] = [["序号", *(label for label, _cell, _total in all_columns)]]
    for i, h in enumerate(d["households"], 1):
        rows.append([str(i), *(cell(h) for _label, cell, _total in all_columns)])
    rows.append(["合计", *(total for _label, _cell, total in all_columns)])
    docx_kit.repeat_header(docx_kit.grid(doc, rows))
    docx_kit.closing(doc, d["issuer"], d["issued_on"])
    return doc
