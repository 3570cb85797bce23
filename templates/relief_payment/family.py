"""临时救助金发放记录: each payment of approved 临时救助, never more than approved, signed by the recipient."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    total = sum((p["amount"] for p in data["payments"]), Decimal("0"))
    if total > data["approved_amount"]:
        problems.append(FieldProblem("payments", f"发放合计 {papers.money(total)} 元超过批准金额 "
                                                 f"{papers.money(data['approved_amount'])} 元"))
    for i, p in enumerate(data["payments"]):
        if p["paid_on"] > data["issued_on"]:
            problems.append(FieldProblem(f"payments[{i}].paid_on", "发放日期不能晚于记录日期"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    a = d["applicant"]
    total = sum((p["amount"] for p in d["payments"]), Decimal("0"))
    rows = [[papers.cn_date(p["paid_on"]), papers.money(p["amount"]), p["method"], p.get("reference") or ""]
            for p in d["payments"]]
    return papers.Paper("临时救助金发放记录", parts=[
        papers.Rows([("救助对象", f"{a['name']}（{a['id_number']}）"), ("审批文号", d.get("decision_number") or "—"),
                     ("批准金额", f"{papers.money(d['approved_amount'])}元")]),
        papers.Table(["发放日期", "金额（元）", "发放方式", "凭证号"], [*rows, ["合计", papers.money(total), "", ""]],
                     widths=[28, 22, 20, 30]),
    ], signers=[f"领取人 {a['name']}", f"经办人 {d['handled_by']}"])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"], record=True)
