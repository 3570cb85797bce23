"""核对授权书: the applicant and every adult member authorise the offices to check their economic situation, for that
purpose only."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..household import age_on, birth_date
from ..rules import DocumentRules

SCOPE = ("户籍", "银行存款", "有价证券", "不动产", "车辆", "工商登记", "社会保险", "住房公积金", "纳税")


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    seen: set[str] = set()
    for i, signer in enumerate(data["signers"]):
        age = age_on(birth_date(signer["id_number"]), data["issued_on"])
        if age is not None and age < 18:
            problems.append(FieldProblem(f"signers[{i}].id_number", f"{signer['name']}未满18周岁，由监护人代为授权"))
        if signer["id_number"] in seen:
            problems.append(FieldProblem(f"signers[{i}].id_number", "身份证号码重复"))
        seen.add(signer["id_number"])
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    names = "、".join(s["name"] for s in d["signers"])
    return papers.Paper("家庭经济状况核对授权书", to=d["authorised"], parts=[
        f"本人{d['applicant']['name']}申请最低生活保障。为核对家庭经济状况，申请人及共同生活的成年家庭成员"
        f"（{names}）授权{d['authorised']}通过有关部门和机构查询、核对我们的{'、'.join(SCOPE)}等信息。",
        "本授权仅用于最低生活保障的审核确认和此后的动态管理复核，不得用于其他用途；查询所得信息依法保密。",
        "我们承诺所提供的家庭收入、财产和人员情况真实、完整；如有隐瞒或虚报，愿意承担相应的法律责任。",
        papers.Table(["姓名", "与申请人关系", "身份证号码", "签字或手印"],
                     [[s["name"], s["relation"], s["id_number"], ""] for s in d["signers"]],
                     widths=[16, 22, 38, 24]),
    ], signers=[f"授权人 {s['name']}" for s in d["signers"]])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"], record=True)
