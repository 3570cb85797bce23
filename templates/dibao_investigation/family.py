"""入户调查表: what two investigators of the township found at the household, signed by them and
the applicant (57号)."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    names = [i["name"] for i in data["investigators"]]
    if len(set(names)) != len(names):
        problems.append(FieldProblem("investigators[1].name", "入户调查应由两名不同的工作人员进行"))
    if data["visited_on"] > data["issued_on"]:
        problems.append(FieldProblem("visited_on", "入户调查日期不能晚于填表日期"))
    if data["household_size"] != len(data["members"]):
        problems.append(FieldProblem("household_size", f"家庭成员人数应与成员表一致（{len(data['members'])} 人）"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    a, f = d["applicant"], d["findings"]
    return papers.Paper("最低生活保障家庭入户调查表", parts=[
        papers.Rows([("申请人", f"{a['name']}（{a['id_number']}）"), ("居住地址", a["address"]),
                     ("调查日期", papers.cn_date(d["visited_on"])),
                     ("家庭人数", f"共同生活家庭成员{d['household_size']}人")]),
        papers.Table(["姓名", "与申请人关系", "年龄", "健康状况", "就业或就学"],
                     [[m["name"], m["relation"], str(m["age"]), m.get("health") or "", m.get("work") or ""]
                      for m in d["members"]], widths=[18, 20, 10, 20, 32]),
        papers.Rows([("住房情况", f["housing"]), ("收入情况", f["income"]), ("财产情况", f["property"]),
                     ("生活状况", f["living"]), ("调查结论", d["conclusion"])]),
    ], signers=[f"调查人（一）{d['investigators'][0]['name']}", f"调查人（二）{d['investigators'][1]['name']}",
                f"申请人 {a['name']}"])


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"], record=True)
