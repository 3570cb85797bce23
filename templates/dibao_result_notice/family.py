"""最低生活保障审核确认结果公布 (by the county): who was confirmed, from when, and where to complain."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from .. import docx_kit
from ..notice_list import build_list_docx, derive_list


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
    return build_list_docx(d, body_paragraphs(d), [
        ("乡镇(街道)", lambda h: h["township"], None),
        ("村(社区)", lambda h: h["village"], None),
        ("保障人数", lambda h: str(h["persons"]), f"{d['total_persons']}人"),
        ("保障类别", lambda h: h["category"], None),
        ("月保障金额(元)", lambda h: docx_kit.money(h["monthly_amount"]), docx_kit.money(d["total_amount"])),
    ])
