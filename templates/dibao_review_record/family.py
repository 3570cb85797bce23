"""民主评议记录: the review held after an objection to the 公示 (57号), its votes and conclusion,
signed by those present."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    v = data["votes"]
    total = v["agree"] + v["disagree"] + v["abstain"]
    if total < 1 or total > len(data["attendees"]):
        problems.append(FieldProblem("votes", f"表决票数（{total}）应在 1 至参加人数（{len(data['attendees'])}）之间"))
    if data["held_on"] > data["issued_on"]:
        problems.append(FieldProblem("held_on", "评议日期不能晚于记录日期"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    v = d["votes"]
    return papers.Paper("最低生活保障民主评议记录", parts=[
        papers.Rows([("评议时间", papers.cn_date(d["held_on"])), ("评议地点", d["place"]),
                     ("主持人", d["chair"]), ("记录人", d["recorder"]),
                     ("参加人员", f"{'、'.join(d['attendees'])}（共{len(d['attendees'])}人）"),
                     ("评议对象", d["applicant"]["name"]), ("异议内容", d["objection"]),
                     ("评议情况", d["discussion"]),
                     ("表决结果", f"同意{v['agree']}票，不同意{v['disagree']}票，弃权{v['abstain']}票"),
                     ("评议结论", d["conclusion"])]),
    ], signers=[f"主持人 {d['chair']}", f"记录人 {d['recorder']}", "参加人员"])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"], record=True)
