"""临时救助申请审批表: the hardship, its cost, and the amount asked for."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..household import check_members, derive_household


def check(data: dict[str, Any]) -> list[FieldProblem]:
    problems = check_members(data)
    hardship = data["hardship"]
    if hardship["occurred_on"] > data["filled_on"]:
        problems.append(FieldProblem("hardship.occurred_on", "发生日期不能晚于填表日期"))
    if hardship["other_aid"] > hardship["expense"]:
        problems.append(FieldProblem("hardship.other_aid", "已获赔偿及救助不能超过自负费用"))
    return problems


def derive(view: dict[str, Any]) -> dict[str, Any]:
    view = derive_household(view, on=view["filled_on"])
    h = view["hardship"]
    view["uncovered"] = h["expense"] - h["other_aid"]
    return view


def build_docx(d: dict[str, Any]) -> Document:
    h = d["hardship"]
    doc = docx_kit.new_form_document()
    docx_kit.title(doc, "临时救助申请审批表")
    docx_kit.meta_line(doc, f"{d['offices']['township']} {d['offices']['village']}",
                       f"编号：{d['serial'] or ''}　填表日期：{docx_kit.cn_date(d['filled_on'])}")
    docx_kit.applicant_table(doc, d["applicant"], d["category"])
    docx_kit.members_table(doc, d["members"])
    docx_kit.grid(doc, [
        ["救助类型", h["type"], "致困原因", h["cause"], "发生日期", docx_kit.cn_date(h["occurred_on"]),
         "家庭人口", f"{d['household_size']}人"],
        ["自负费用", f"{docx_kit.money(h['expense'])}元", "已获赔偿及救助", f"{docx_kit.money(h['other_aid'])}元",
         "尚需自负", f"{docx_kit.money(d['uncovered'])}元", "申请金额", f"{docx_kit.money(h['requested'])}元"],
        ["申请事由", d["reason"], None, None, None, None, None, None],
        ["申请人承诺", "以上情况真实有效，如有虚报、隐瞒，愿退回救助金并承担相应责任。　　申请人（签字或手印）：",
         None, None, None, None, None, None],
    ])
    docx_kit.tier_boxes(doc, d["offices"])
    docx_kit.note(doc, "注：急难型救助可先行救助、事后补齐手续；各级意见栏以电子签章为准。")
    return doc
