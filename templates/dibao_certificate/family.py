"""低保证明: who is covered, since when, for how much, and until when the certificate holds."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import docx_kit
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    if data["valid_until"] <= data["issued_on"]:
        problems.append(FieldProblem("valid_until", "有效期应晚于出具日期"))
    if data["since"] > data["issued_on"]:
        problems.append(FieldProblem("since", "纳入保障日期不能晚于出具日期"))
    return problems


def statement(d: dict[str, Any]) -> str:
    """The ID number (18 characters that never break, ~10 of the line's 28) comes right after 兹证明身份证号码为,
    where it always fits the first line: after the name it was pushed to the second, leaving the first 61 mm
    short."""
    h = d["holder"]
    return (
        f"兹证明身份证号码为{h['id_number']}的{h['name']}（{h['gender']}），户籍地{h['registered_address']}，"
        f"其家庭自{docx_kit.cn_date(d['since'])}起为{d['category']}最低生活保障对象，保障人数{d['persons']}人，"
        f"月保障金额{docx_kit.money(d['monthly_amount'])}元，目前仍在保障期内。"
        + (f"本证明{d['purpose']}。" if d.get("purpose") else "")
    )


TEMPLATE_HELPERS = {"statement": statement}


def build_docx(d: dict[str, Any]) -> Document:
    doc = docx_kit.new_notice_document(author=d["issuer"])
    docx_kit.doc_title(doc, "最低生活保障证明")
    docx_kit.para(doc, f"编号：{d['serial']}", indent=False, align="right", size=12)
    if d.get("recipient"):
        docx_kit.para(doc, f"{d['recipient']}：", indent=False)
    docx_kit.para(doc, statement(d))
    docx_kit.para(doc, "特此证明。")
    docx_kit.closing(doc, d["issuer"], d["issued_on"])
    docx_kit.para(doc, f"本证明有效期至{docx_kit.cn_date(d['valid_until'])}，扫描二维码可核验真伪及是否仍然有效。",
                  indent=False, size=12)
    return doc
