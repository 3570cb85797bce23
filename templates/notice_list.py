"""What the 公示 and 公布 notices share: the household list as 57号 art. 24 allows it, its totals, its column
widths, the per-village split (art. 19) and the Word version.

A public list shows 申请人姓名, village, 保障人数 (家庭成员数量) and 保障金额 — never an ID number (not even masked),
phone, address or income; 保障类别 only where a local rule turns it on (:class:`DocumentRules`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem, TemplateDataError

from . import docx_kit
from .formats import money


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[dict[str, Any]], str]
    #: its cell in the total row; None: merged into the cell to its left
    total: str | None
    #: numbers keep their width and never wrap; text may wrap inside its cell
    numeric: bool = False


def text_width(text: str) -> float:
    """Width in ems at the list's size: CJK and full-width characters 1, the rest (digits, Latin) 0.55."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


#: the list's usable width in ems of its 12 pt type: 156 mm / (12 pt = 4.233 mm)
LIST_WIDTH_EM = 36.8
#: cell padding left + right, in ems
_PAD_EM = 1.0


def fit_columns(rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> list[float]:
    """Column widths in percent, fitted to content: numeric columns get their widest cell (they never wrap);
    text columns share the rest in proportion to what they hold, each at least its header's longest word."""
    header_min = [text_width(str(rows[0][i])) + _PAD_EM for i in range(len(numeric))]
    natural = [max(max(text_width(str(r[i])) for r in rows[1:]) + _PAD_EM if rows[1:] else 0.0, header_min[i])
               for i in range(len(numeric))]
    fixed = sum(n for n, num in zip(natural, numeric, strict=True) if num)
    flexible = [max(n, h) if not num else 0.0 for n, h, num in zip(natural, header_min, numeric, strict=True)]
    room = max(LIST_WIDTH_EM - fixed, 0.0)
    want = sum(flexible)
    widths = []
    for i, num in enumerate(numeric):
        if num:
            widths.append(natural[i])
        elif want <= room:
            widths.append(flexible[i] + (room - want) / max(sum(1 for x in numeric if not x), 1))
        else:
            widths.append(max(header_min[i], room * flexible[i] / want))
    total = sum(widths)
    return [round(100 * w / total, 2) for w in widths]


def list_columns(d: dict[str, Any], *, township: bool, category: bool, amount_label: str) -> list[Column]:
    columns = [Column("序号", lambda h: str(h["no"]), "合计", numeric=True),
               Column("申请人姓名", lambda h: h["head_name"], f"{d['total_households']}户")]
    if township:
        columns.append(Column("乡镇(街道)", lambda h: h["township"], None))
    columns.append(Column("村(社区)", lambda h: h["village"], None))
    columns.append(Column("保障人数", lambda h: str(h["persons"]), f"{d['total_persons']}人", numeric=True))
    if category:
        columns.append(Column("保障类别", lambda h: h["category"], ""))
    columns.append(Column(amount_label, lambda h: money(h["monthly_amount"]), money(d["total_amount"]), numeric=True))
    return columns


def derive_list(view: dict[str, Any], *, default_heading: str, columns: Callable[[dict[str, Any]], list[Column]]) \
        -> dict[str, Any]:
    households = [dict(h, no=i) for i, h in enumerate(view["households"], 1)]
    for h in households:  # nothing private reaches a public list, whatever the input carried
        h.pop("id_number", None)
        h.pop("phone", None)
    view["households"] = households
    view["total_households"] = len(households)
    view["total_persons"] = sum(h["persons"] for h in households)
    view["total_amount"] = sum((h["monthly_amount"] for h in households), Decimal("0.00"))
    view["heading"] = view.get("title") or f"{view['issuer']}{default_heading}"
    cols = columns(view)
    view["columns"] = cols
    view["rows"] = [[c.cell(h) for c in cols] for h in households]
    total_row = [c.total for c in cols]
    view["total_row"] = _merged(total_row)
    view["column_widths"] = fit_columns([[c.header for c in cols], *view["rows"],
                                         [t or "" for t in total_row]], [c.numeric for c in cols])
    return view


def _merged(cells: Sequence[str | None]) -> list[tuple[str, int, bool]]:
    """The total row as (text, colspan, numeric-looking) cells: a None continues the cell to its left."""
    out: list[tuple[str, int, bool]] = []
    for cell in cells:
        if cell is None and out:
            text, span, num = out[-1]
            out[-1] = (text, span + 1, num)
        else:
            out.append((cell or "", 1, bool(cell) and str(cell)[0].isdigit()))
    return out


#: a 文号's serial at its end: 燕赵民公〔2026〕11号 → (燕赵民公〔2026〕, 11)
_SERIAL = re.compile(r"^(.*〕)(\d+)号$")


def village_key(household: dict[str, Any]) -> tuple[str, ...]:
    """Which village a household is in: its registry id (``village_id``) where the list carries one, else its
    township and village names together — two townships may each have a 东沟南村, never the same id."""
    if household.get("village_id"):
        return ("id", str(household["village_id"]))
    return ("name", str(household.get("township", "")), str(household.get("village", "")))


def split_by_village(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One notice per village out of a township-wide list (57号 art. 19: the 公示 is posted in the applicant's
    own village): (label, data) in the order villages first appear, grouped by village id (``village_key``).
    The label is the village's name, with its township where two villages share the name. Each notice is its
    own document with its own 文号: the list's 文号 is the first of a run, village i takes serial N+i-1."""
    villages: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for household in data.get("households") or []:
        villages.setdefault(village_key(household), []).append(household)
    labels = _labels([group[0] for group in villages.values()])
    numbers = _serial_run(str(data["notice_no"]), len(villages)) if data.get("notice_no") else None
    out = []
    for i, (label, households) in enumerate(zip(labels, villages.values(), strict=True)):
        part = dict(data, households=households)
        if data.get("title"):
            part["title"] = f"{data['title']}（{label}）"
        if numbers:
            part["notice_no"] = numbers[i]
        out.append((label, part))
    return out


def _labels(firsts: list[dict[str, Any]]) -> list[str]:
    """Each village's name; with its township where names repeat; with its id (or place) where both do."""
    plain = [str(h.get("village", "")) for h in firsts]
    full = [f"{h.get('township') or ''}{h.get('village', '')}" if plain.count(p) > 1 else p
            for h, p in zip(firsts, plain, strict=True)]
    return [f"{f}-{h.get('village_id') or i + 1}" if full.count(f) > 1 else f
            for i, (h, f) in enumerate(zip(firsts, full, strict=True))]


def _serial_run(notice_no: str, count: int) -> list[str]:
    """``count`` consecutive 文号 from ``notice_no`` (GB/T 9704 §7.2.4: 机关代字、年份、发文顺序号)."""
    match = _SERIAL.match(notice_no.strip())
    if match is None:
        raise TemplateDataError([FieldProblem("notice_no", "按村分开时各村公示各用一个文号：文号应以“〔年份〕序号号”"
                                                           "结尾，各村自此号起依次编号")])
    prefix, first = match.group(1), int(match.group(2))
    return [f"{prefix}{first + i}号" for i in range(count)]


def build_list_docx(d: dict[str, Any], paragraphs: Sequence[str]) -> Document:
    """The Word version of a household-list notice: title, 文号, body, the list (header repeated on every page,
    a total row) and the issuing office and date."""
    doc = docx_kit.new_notice_document(author=d["issuer"])
    docx_kit.doc_title(doc, d["heading"], number=d.get("notice_no"))
    for text in paragraphs:
        docx_kit.para(doc, text)
    columns: list[Column] = d["columns"]
    rows: list[list[str | None]] = [[c.header for c in columns], *d["rows"], [c.total for c in columns]]
    # the PDF's list: its fitted widths, cells centred, amounts right, 12 pt on 17 pt lines, 3.6 pt padding
    table = docx_kit.grid(doc, rows, widths=d["column_widths"], aligns=["center"] * len(columns), head_rows=1,
                          merged_align="center", font_size=12, line_pt=17, pad_mm=3.6 * 25.4 / 72,
                          pad_v_mm=2.5 * 25.4 / 72)
    docx_kit.repeat_header(table)
    docx_kit.closing(doc, d["issuer"], d["issued_on"])
    return doc
