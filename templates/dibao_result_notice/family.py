"""最低生活保障审核确认结果公布 (by the county, 57号 art. 24): who was confirmed, from when, where to complain."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..notice_list import build_list_docx, derive_list, list_columns
from ..rules import CITED_RULE, RULE, DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    """Support starts in the month after the decision (57号 art. 21): never earlier."""
    decided = data.get("decided_on")
    start = data["benefit_from"]
    problems = []
    if start.day != 1:
        problems.append(FieldProblem("benefit_from", "保障金自审核确认决定的次月起发放，起始日期应为某月1日"))
    if decided is not None:
        first = (decided.replace(day=1) + timedelta(days=32)).replace(day=1)
        if start < first:
            problems.append(FieldProblem(
                "benefit_from", f"保障金应自审核确认决定的次月起发放（{RULE}第二十一条）：决定日期"
                f"{docx_kit.cn_date(decided)}，起始发放最早为{docx_kit.cn_date(first)}"))
        if decided > data["issued_on"]:
            problems.append(FieldProblem("decided_on", "审核确认日期不能晚于公布日期"))
    return problems


def derive(view: dict[str, Any], rules: DocumentRules) -> dict[str, Any]:
    return derive_list(view, default_heading="最低生活保障审核确认结果公布", columns=lambda d: list_columns(
        d, township=True, category=rules.show_category, amount_label="月保障金额(元)"))


def notice_outcome(households: list[dict[str, Any]]) -> str:
    """What the 公示 found, case by case: the townships that did the 初审 by name, and which households drew an
    objection that the re-investigation did not uphold (``objected``); the others drew none."""
    townships = list(dict.fromkeys(str(h.get("township") or "") for h in households if h.get("township")))
    objected = [h for h in households if h.get("objected")]
    done = f"经{'、'.join(townships)}初审并在申请人所在村（社区）公示，" if townships else "经初审并公示，"
    if not objected:
        return done + ("公示无异议" if len(households) == 1 else f"{len(households)}户公示均无异议")
    names = "、".join(str(h["head_name"]) for h in objected)
    rest = len(households) - len(objected)
    return done + f"{names}{len(objected)}户公示期间有异议，经复查异议不成立" + \
        (f"，其余{rest}户公示无异议" if rest else "")


def body_paragraphs(d: dict[str, Any]) -> list[str]:
    s = d["supervision"]
    return [
        f"根据{CITED_RULE}，{notice_outcome(d['households'])}，本机关审核确认以下"
        f"{d['total_households']}户{d['total_persons']}人为最低生活保障对象，自"
        f"{docx_kit.cn_date(d['benefit_from'])}起发放最低生活保障金，现予公布。",
        f"如对公布结果有异议，请拨打监督电话{s['phone']}，或来信至{s['address']}。",
    ]


TEMPLATE_HELPERS = {"body_paragraphs": body_paragraphs}


def build_docx(d: dict[str, Any]) -> Document:
    return build_list_docx(d, body_paragraphs(d))
