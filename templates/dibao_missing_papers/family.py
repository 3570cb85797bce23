"""一次性告知书: every missing paper of an incomplete application named at once, and where to hand them in."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    seen: set[str] = set()
    for i, item in enumerate(data["missing"]):
        if item in seen:
            problems.append(FieldProblem(f"missing[{i}]", f"「{item}」重复列出"))
        seen.add(item)
    if data["issued_on"] < data["received_on"]:
        problems.append(FieldProblem("issued_on", "成文日期不能早于申请日期"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    a = d["applicant"]
    return papers.Paper("最低生活保障申请材料补正一次性告知书", number=d["doc_number"], to=a["name"], parts=[
        f"你（你家庭）于{papers.cn_date(d['received_on'])}提出的最低生活保障申请，经审查，申请材料尚不齐全。"
        f"现将需要补正的全部材料一次性告知如下：",
        papers.Items(list(d["missing"])),
        f"请备齐上述材料后，递交至{d['submit_to']}。材料补齐之日起，本机关即予受理；"
        "补正期间不影响你再次提出申请的权利。",
        f"联系电话：{d['contact_phone']}。",
    ])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"])
