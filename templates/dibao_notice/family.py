"""低保拟保障对象公示 (by the township): the period, where to object, and who is proposed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..notice_list import build_list_docx, derive_list

LAW = "根据《最低生活保障审核确认办法》（民发〔2021〕57号）和省、市有关规定"


def check(data: dict[str, Any]) -> list[FieldProblem]:
    if data["period"]["start"] < data["issued_on"]:
        return [FieldProblem("period.start", "公示开始日期不能早于成文日期")]
    return []


def derive(view: dict[str, Any]) -> dict[str, Any]:
    period = dict(view["period"])
    days = period.get("days") or 7
    period["days"] = days
    period["end"] = period["start"] + timedelta(days=days - 1)
    view["period"] = period
    return derive_list(view, default_heading="最低生活保障拟保障对象公示")


def body_paragraphs(d: dict[str, Any]) -> list[str]:
    o, p = d["objection"], d["period"]
    return [
        f"{LAW}，经本人申请、入户调查、家庭经济状况核对和民主评议，拟将以下{d['total_households']}户"
        f"{d['total_persons']}人纳入最低生活保障范围，现予以公示。",
        f"公示期：{docx_kit.cn_date(p['start'])}至{docx_kit.cn_date(p['end'])}（共{p['days']}天）。公示期间，"
        f"如对公示对象有异议，请向{o['office']}实名反映。联系电话：{o['phone']}；地址：{o['address']}。"
        "我们将依法保护反映人的个人信息。",
    ]


def build_docx(d: dict[str, Any]) -> Document:
    return build_list_docx(d, body_paragraphs(d), [
        ("所在村(社区)", lambda h: h["village"], None),
        ("保障人数", lambda h: str(h["persons"]), f"{d['total_persons']}人"),
        ("月保障金额(元)", lambda h: docx_kit.money(h["monthly_amount"]), docx_kit.money(d["total_amount"])),
    ])
TEMPLATE_HELPERS = {"body_paragraphs": body_paragraphs}
