"""最低生活保障审核确认结果公布 (by the county): who was confirmed, from when, and where to complain."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from .. import docx_kit
from ..notice_list import derive_list


def derive(view: dict[str, Any]) -> dict[str, Any]:
    return derive_list(view, default_heading="最低生活保障审核确认结果公布")


def body_paragraphs(d: dict[str, Any]) -> list[str]:
    s = d["supervision"]
    return [
        f"根据《最低生活保障审核确认办法》（民发〔2021〕57号），经乡镇（街道）初审、公示无异议，本机关审核确认以下"
        f"{d['total_households']}户{d['total_persons']}人为最低生活保障对象，自"
        f"{docx_kit.cn_date(d['benefit_from'])}起发放最低生活保障金，现予公布。",
        f"如对公布结果有异议，请拨打监督电话{s['phone']}，或来信至{s['address']}。",
    ]


TEMPLATE_HELPERS = {"body_paragraphs": body_paragraphs}


def build_docx(d: dict[str, Any]) -> Document:
    doc = docx_kit.new_notice_document()
    docx_kit.title(doc, d["heading"], face=docx_kit.SONG, size=22)
    for text in body_paragraphs(d):
        docx_kit.para(doc, text)
    id_column: list[str | None] = ["身份证号码"] if d["show_id"] else []
    header: list[str | None] = ["序号", "户主姓名", *id_column, "乡镇(街道)", "村(社区)", "保障人数", "保障类别",
                                "月保障金额(元)"]
    rows: list[list[str | None]] = [header]
    for i, h in enumerate(d["households"], 1):
        rows.append([str(i), h["head_name"], *([h.get("id_number") or ""] if d["show_id"] else []), h["township"],
                     h["village"], str(h["persons"]), h["category"], docx_kit.money(h["monthly_amount"])])
    rows.append(["合计", f"{d['total_households']}户", *([None] if d["show_id"] else []), None, None,
                 f"{d['total_persons']}人", None, docx_kit.money(d["total_amount"])])
    docx_kit.repeat_header(docx_kit.grid(doc, rows))
    docx_kit.closing(doc, d["issuer"], d["issued_on"])
    return doc
