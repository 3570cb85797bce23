"""临时救助审批决定通知书: the approval (amount, form of help) or the refusal with reasons, and the
remedies (国发〔2014〕47号)."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    if data["outcome"] == "批准":
        if data.get("amount") is None or data["amount"] <= 0:
            problems.append(FieldProblem("amount", "批准救助的，应写明救助金额"))
        if not data.get("form"):
            problems.append(FieldProblem("form", "批准救助的，应写明救助方式"))
    elif not data.get("reasons"):
        problems.append(FieldProblem("reasons", "不予批准的，应写明理由"))
    if data["decided_on"] < data["accepted_on"]:
        problems.append(FieldProblem("decided_on", "审批日期不能早于受理日期"))
    if data["issued_on"] < data["decided_on"]:
        problems.append(FieldProblem("issued_on", "成文日期不能早于审批日期"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    a = d["applicant"]
    head = f"你（你家庭）于{papers.cn_date(d['accepted_on'])}受理的临时救助申请，经审核，"
    if d["outcome"] == "批准":
        parts: list[papers.Part] = [
            head + f"本机关于{papers.cn_date(d['decided_on'])}决定给予临时救助：救助方式为{d['form']}，救助金额"
                   f"{papers.money(d['amount'])}元。",
            f"救助金通过社会救助资金发放渠道支付；如有疑问，请与{d['issuer']}民政工作人员联系。"]
    else:
        parts = [head + f"不符合临时救助条件，本机关于{papers.cn_date(d['decided_on'])}决定不予批准。理由如下：",
                 papers.Items(list(d["reasons"]))]
    return papers.Paper("临时救助审批决定通知书", number=d["doc_number"], to=a["name"],
                        parts=[*parts, papers.remedies(d)])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"])
