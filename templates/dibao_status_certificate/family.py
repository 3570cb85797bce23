"""限定用途证明: what a school or employer needs — the holder's name, the 低保 status and until when — and nothing more
(个人信息保护法 art. 6)."""

from __future__ import annotations

from typing import Any

from docx.document import Document

from signer.errors import FieldProblem

from .. import papers
from ..rules import DocumentRules


def check(data: dict[str, Any], rules: DocumentRules) -> list[FieldProblem]:
    if data["valid_until"] <= data["issued_on"]:
        return [FieldProblem("valid_until", "有效期应晚于出具日期")]
    return []


def paper(d: dict[str, Any]) -> papers.Paper:
    return papers.Paper("最低生活保障对象证明（限定用途）", number=f"编号：{d['serial']}", to=d["recipient"], parts=[
        f"兹证明{d['holder']['name']}家庭为本辖区最低生活保障对象，目前仍在保障期内。",
        f"本证明仅用于{d['purpose']}，不得用于其他用途。",
        "特此证明。",
    ], footnote=f"本证明有效期至{papers.cn_date(d['valid_until'])}，扫描左侧二维码可核验真伪及是否仍然有效。")


TEMPLATE_HELPERS = {"paper": paper}


def build_docx(d: dict[str, Any]) -> Document:
    return papers.build_docx(d, paper(d), issuer=d["issuer"], issued_on=d["issued_on"])
