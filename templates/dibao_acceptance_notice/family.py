"""受理通知书: the township tells the applicant the application is complete and accepted, and by when the county decides
(民发〔2021〕57号)."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    if data["accepted_on"] < data["received_on"]:
        problems.append(FieldProblem("accepted_on", "受理日期不能早于申请日期"))
    if data["issued_on"] < data["accepted_on"]:
        problems.append(FieldProblem("issued_on", "成文日期不能早于受理日期"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    a = d["applicant"]
    return papers.Paper("最低生活保障申请受理通知书", number=d["doc_number"], to=a["name"], parts=[
        f"你（你家庭）于{papers.cn_date(d['received_on'])}提出的最低生活保障申请，经审查，申请材料齐全，符合受理条件，"
        f"本机关已于{papers.cn_date(d['accepted_on'])}受理。",
        f"我们将依照《最低生活保障审核确认办法》（民发〔2021〕57号）开展入户调查、家庭经济状况核对，并在你所在的"
        f"{a['village'].removesuffix('村民委员会').removesuffix('居民委员会')}公示，由县级人民政府民政部门自受理之日起"
        f"{d['decide_within_days']}个工作日内作出审核确认决定；特殊情况下可延长至45个工作日。",
        "请你和共同生活的家庭成员配合入户调查，如实提供家庭收入、财产和生活情况；家庭情况发生变化的，请及时告知。",
        f"联系电话：{d['contact_phone']}。",
    ])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"])
