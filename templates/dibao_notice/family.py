"""低保拟保障对象公示 (by the township): the period, where to object, and who is proposed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..notice_list import derive_list

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
    doc = docx_kit.new_notice_document()
    docx_kit.title(doc, d["heading"], face=docx_kit.SONG, size=22)
    for text in body_paragraphs(d):
        docx_kit.para(doc, text)
    id_column: list[str | None] = ["身份证号码"] if d["show_id"] else []
    header: list[str | None] = ["序号", "户主姓名", *id_column, "所在村(社区)", "保障人数", "月保障金额(元)"]
    rows: list[list[str | None]] = [header]
    for i, h in enumerate(d["households"], 1):
        rows.append([str(i), h["head_name"], *([h.get("id_number") or ""] if d["show_id"] else []),
                     h["village"], str(h["persons"]), docx_kit.money(h["monthly_amount"])])
    rows.append(["合计", f"{d['total_households']}户", *([None] if d["show_id"] else []), None,
                 f"{d['total_persons']}人", docx_kit.money(d["total_amount"])])
    docx_kit.repeat_header(docx_kit.grid(doc, rows))
    docx_kit.closing(doc, d["issuer"], d["issued_on"])
    return doc
TEMPLATE_HELPERS = {"body_paragraphs": body_paragraphs}
