"""低保拟保障对象公示 (by the township, 57号 art. 19): the period, where to object, and who is proposed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..notice_list import build_list_docx, derive_list, list_columns
from ..rules import CITED_RULE, DocumentRules

LAW = f"根据{CITED_RULE}和省、市有关规定"


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    if data["period"]["start"] < data["issued_on"]:
        problems.append(FieldProblem("period.start", "公示开始日期不能早于成文日期"))
    start, span = data["period"]["start"], data["period"].get("days")
    wrong = rules.notice.mismatch(rules.notice.counted(start, start + timedelta(days=span - 1))) if span else None
    if wrong:
        problems.append(FieldProblem("period.days", wrong))
    return problems


def derive(view: dict[str, Any], rules: DocumentRules) -> dict[str, Any]:
    """``period.days`` is the calendar span printed (共N天); without it the period is the local rule's."""
    period = dict(view["period"])
    end = period["start"] + timedelta(days=period["days"] - 1) if period.get("days") \
        else rules.notice.end(period["start"])
    period["days"] = (end - period["start"]).days + 1
    period["end"] = end
    view["period"] = period
    return derive_list(view, default_heading="最低生活保障拟保障对象公示", columns=lambda d: list_columns(
        d, township=False, category=False, amount_label="月保障金额(元)"))


def body_paragraphs(d: dict[str, Any]) -> list[str]:
    o, p = d["objection"], d["period"]
    return [
        f"{LAW}，经本人申请、{d['issuer']}入户调查和家庭经济状况核对，拟将以下{d['total_households']}户"
        f"{d['total_persons']}人纳入最低生活保障范围，现予以公示。",
        f"公示期：{docx_kit.cn_date(p['start'])}至{docx_kit.cn_date(p['end'])}（共{p['days']}天）。公示期间，"
        f"如对公示对象有异议，请向{o['office']}实名反映。异议受理电话：{o['phone']}；异议受理地点：{o['address']}。"
        "我们将依法保护反映人的个人信息。",
    ]


def build_docx(d: dict[str, Any]) -> Document:
    return build_list_docx(d, body_paragraphs(d))


TEMPLATE_HELPERS = {"body_paragraphs": body_paragraphs}
