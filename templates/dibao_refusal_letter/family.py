"""不予确认告知书: the refusal in writing with its reasons and the applicant's remedies (57号: within
3 working days)."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    if data["decided_on"] < data["accepted_on"]:
        problems.append(FieldProblem("decided_on", "决定日期不能早于受理日期"))
    if data["issued_on"] < data["decided_on"]:
        problems.append(FieldProblem("issued_on", "成文日期不能早于决定日期"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    a = d["applicant"]
    basis = d.get("basis") or "《最低生活保障审核确认办法》（民发〔2021〕57号）"
    return papers.Paper("最低生活保障不予确认告知书", number=d["doc_number"], to=a["name"], parts=[
        f"你（你家庭）于{papers.cn_date(d['accepted_on'])}受理的最低生活保障申请，经审核，不符合最低生活保障条件，"
        f"依据{basis}，本机关于{papers.cn_date(d['decided_on'])}决定不予确认。理由如下：",
        papers.Items(list(d["reasons"])),
        papers.remedies(d, "告知"),
    ])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"])
