"""临时救助申请审批表: the hardship, its cost, the amount asked for, and who may approve it.

The township proposes an amount and a form of help at its seal step; the approver records the approved amount.
Up to the township's limit (a setting, default 3 × the monthly urban 低保标准) the township approves and the file
ends there; above it the county approves (signer/relief_route.py)."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..form_text import RELIEF_LABELS, RELIEF_PROMISE, relief_foot
from ..household import check_members, derive_household, form_facts
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = check_members(data)
    hardship = data["hardship"]
    if hardship["occurred_on"] > data["filled_on"]:
        problems.append(FieldProblem("hardship.occurred_on", "发生日期不能晚于填表日期"))
    if hardship["other_aid"] > hardship["expense"]:
        problems.append(FieldProblem("hardship.other_aid", "已报销/已救助金额不能超过总费用"))
    return problems


def derive(view: dict[str, Any], rules: DocumentRules) -> dict[str, Any]:
    view = derive_household(view, on=view["filled_on"])
    h = view["hardship"]
    view["uncovered"] = h["expense"] - h["other_aid"]
    view["facts"] = form_facts(view) | {"kind": "relief", "requested": str(h["requested"])}
    return view


def build_docx(d: dict[str, Any]) -> Document:
    h = d["hardship"]
    doc = docx_kit.new_form_document(author=d["offices"]["village"])
    docx_kit.form_head(doc, "临时救助申请审批表", d)
    docx_kit.applicant_table(doc, d["applicant"], d["category"])
    docx_kit.members_table(doc, d["members"])
    docx_kit.facts_table(doc, [
        ["救助类型", h["type"], "致困原因", h["cause"], "发生日期", docx_kit.cn_date(h["occurred_on"]),
         "申请依据", d["residence"]],
        ["总费用", f"{docx_kit.money(h['expense'])}元", "已报销/\n已救助", f"{docx_kit.money(h['other_aid'])}元",
         "尚需自负", f"{docx_kit.money(d['uncovered'])}元", "申请金额", f"{docx_kit.money(h['requested'])}元"],
        ["家庭人口", f"{d['household_size']}人", "月人均收入", f"{docx_kit.money(d['per_capita_income'])}元",
         "", None, None, None],
        ["申请事由", d["reason"], None, None, None, None, None, None],
        *docx_kit.declaration_rows(d, RELIEF_PROMISE),
    ], "relief_facts")
    docx_kit.tier_boxes(doc, d, RELIEF_LABELS)
    docx_kit.note(doc, relief_foot(d["offices"]))
    return doc


TEMPLATE_HELPERS = {"promise": RELIEF_PROMISE, "tier_labels": RELIEF_LABELS, "foot": relief_foot}
