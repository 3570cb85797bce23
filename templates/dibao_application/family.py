"""最低生活保障申请审批表: household rules, derived figures and the editable Word version."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..form_text import DIBAO_LABELS, DIBAO_PROMISE, dibao_foot
from ..household import check_members, derive_household, form_facts
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    return check_members(data)


def derive(view: dict[str, Any], rules: DocumentRules) -> dict[str, Any]:
    view = derive_household(view, on=view["filled_on"])
    view["facts"] = form_facts(view) | {"kind": "dibao"}
    return view


def build_docx(d: dict[str, Any]) -> Document:
    doc = docx_kit.new_form_document(author=d["offices"]["village"])
    docx_kit.form_head(doc, "最低生活保障申请审批表", d)
    docx_kit.applicant_table(doc, d["applicant"], d["category"])
    docx_kit.members_table(doc, d["members"])
    docx_kit.facts_table(doc, [
        ["家庭人口", f"{d['household_size']}人", "家庭月总收入", f"{docx_kit.money(d['total_income'])}元",
         "月人均收入", f"{docx_kit.money(d['per_capita_income'])}元",
         "人均金融资产", f"{docx_kit.money(d['economy']['financial_assets_per_capita'])}元"],
        ["房产情况", d["economy"]["housing"], None, None, "机动车辆", d["economy"]["vehicles"], None, None],
        ["申请理由", d["reason"], None, None, None, None, None, None],
        *docx_kit.declaration_rows(d, DIBAO_PROMISE),
    ], "dibao_facts")
    docx_kit.tier_boxes(doc, d, DIBAO_LABELS)
    docx_kit.note(doc, dibao_foot(d["offices"]))
    return doc


TEMPLATE_HELPERS = {"promise": DIBAO_PROMISE, "tier_labels": DIBAO_LABELS, "foot": dibao_foot}
