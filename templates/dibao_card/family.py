"""低保证: the household's card issued with the county's decision (57号 art. 21), valid until the
yearly review."""

from __future__ import annotations

import re
from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    problems = []
    if data["valid_until"] <= data["issued_on"]:
        problems.append(FieldProblem("valid_until", "有效期应晚于发证日期"))
    if not MONTH.match(data["since_month"]):
        problems.append(FieldProblem("since_month", "起始月份应写作 YYYY-MM，如 2027-01"))
    return problems


def paper(d: dict[str, Any]) -> papers.Paper:
    h = d["holder"]
    return papers.Paper("最低生活保障证", number=f"证号：{d['card_number']}", parts=[
        papers.Rows([("户主", f"{h['name']}（{h['gender']}）"), ("身份证号码", h["id_number"]),
                     ("户籍地", h["registered_address"]), ("保障类别", f"{d['category']}最低生活保障"),
                     ("保障人数", f"{d['persons']}人"), ("月保障金额", f"{papers.money(d['monthly_amount'])}元"),
                     ("起始发放", papers.month_text(d["since_month"]))]),
        papers.Table(["家庭成员", "与户主关系"], [[m["name"], m["relation"]] for m in d["members"]], widths=[50, 50]),
    ], footnote=f"本证有效期至{papers.cn_date(d['valid_until'])}，请妥善保管，不得转借、涂改；"
                "扫描左侧二维码可核验真伪及是否仍然有效。")


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"])
