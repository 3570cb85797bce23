"""最低生活保障申请审批表: household rules, derived figures and the editable Word version."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..household import check_members, derive_household


def check(data: dict[str, Any]) -> list[FieldProblem]:
    return check_members(data)


def derive(view: dict[str, Any]) -> dict[str, Any]:
    return derive_household(view, on=view["filled_on"])


def build_docx(d: dict[str, Any]) -> Document:
    doc = docx_kit.new_form_document()
    docx_kit.title(doc, "最低生活保障申请审批表")
    docx_kit.meta_line(doc, f"{d['offices']['township']} {d['offices']['village']}",
                       f"编号：{d['serial'] or ''}　填表日期：{docx_kit.cn_date(d['filled_on'])}")
    docx_kit.applicant_table(doc, d["applicant"], d["category"])
    docx_kit.members_table(doc, d["members"])
    docx_kit.grid(doc, [
        ["家庭人口", f"{d['household_size']}人", "家庭月总收入", f"{docx_kit.money(d['total_income'])}元",
         "月人均收入", f"{docx_kit.money(d['per_capita_income'])}元",
         "人均金融资产", f"{docx_kit.money(d['economy']['financial_assets_per_capita'])}元"],
        ["房产情况", d["economy"]["housing"], None, None, "机动车辆", d["economy"]["vehicles"], None, None],
        ["申请理由", d["reason"], None, None, None, None, None, None],
        ["申请人承诺", "以上情况及所附材料真实有效，同意民政部门核对家庭经济状况；如有虚报、隐瞒，愿承担相应责任。"
         "　　申请人（签字或手印）：", None, None, None, None, None, None],
    ])
    docx_kit.tier_boxes(doc, d["offices"])
    docx_kit.note(doc, "注：本表一式两份，县级民政部门、乡镇（街道）各存一份；各级意见栏以电子签章为准。")
    return doc
