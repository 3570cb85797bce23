"""审核确认决定书: the county's decision (57号 art. 21) with the figures it fixed, support from the next month, and the
applicant's remedies."""

from __future__ import annotations

import re
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    if not MONTH.match(data["start_month"]):
        problems.append(FieldProblem("start_month", "起始月份应写作 YYYY-MM，如 2027-01"))
    elif data["start_month"] <= data["decided_on"].strftime("%Y-%m"):
        problems.append(FieldProblem("start_month", "保障金自审核确认的次月起发放"))
    if data["decided_on"] < data["accepted_on"]:
        problems.append(FieldProblem("decided_on", "审核确认日期不能早于受理日期"))
    if data["issued_on"] < data["decided_on"]:
        problems.append(FieldProblem("issued_on", "成文日期不能早于审核确认日期"))
    if data["monthly_amount"] <= 0:
        problems.append(FieldProblem("monthly_amount", "月保障金额应大于零"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    a = d["applicant"]
    card = f"低保证编号：{d['card_number']}。" if d.get("card_number") else ""
    return papers.Paper("最低生活保障审核确认决定书", number=d["doc_number"], to=a["name"], parts=[
        f"你（你家庭）于{papers.cn_date(d['accepted_on'])}受理的最低生活保障申请，经入户调查、家庭经济状况核对和"
        "公示，符合最低生活保障条件。依据《最低生活保障审核确认办法》（民发〔2021〕57号）第二十一条，本机关决定：",
        f"自{papers.month_text(d['start_month'])}起将你家庭纳入{d['category']}最低生活保障范围，保障人数"
        f"{d['persons']}人，月保障金额{papers.money(d['monthly_amount'])}元（当地{d['category']}低保标准"
        f"{papers.money(d['standard'])}元/人·月）。{card}",
        f"家庭人口、收入、财产状况发生变化的，请及时向{d.get('report_to') or '户籍所在地乡镇人民政府'}报告。",
        papers.remedies(d),
    ])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"])
