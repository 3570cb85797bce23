"""The papers of a case as families: bad input refused with every bad field named at once, each family's own
rules (dates in order, two different investigators, payments within the approval, a refusal with reasons …), and
the PDF and the Word copy saying the same sentences."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import docx
import pytest

from api.services.documents import DocumentService
from signer.errors import TemplateDataError
from templates import Catalogue
from tests.support import pdftools

PAPERS = ["dibao_acceptance_notice", "dibao_missing_papers", "dibao_authorisation", "dibao_investigation",
          "dibao_review_record", "dibao_decision", "dibao_card", "dibao_refusal_letter", "relief_decision",
          "relief_payment", "dibao_status_certificate"]


def refused(catalogue: Catalogue, family: str, data: dict[str, Any]) -> set[str]:
    with pytest.raises(TemplateDataError) as error:
        catalogue.prepare(family, data)
    return {p.path for p in error.value.problems}


@pytest.mark.parametrize("family", PAPERS)
def test_every_bad_field_is_named_at_once(catalogue: Catalogue, family: str) -> None:
    data = copy.deepcopy(catalogue.family(family).sample())
    data["issued_on"] = "2026-02-30"  # no such day
    data["issuer"] = ""  # required
    data["typed_by_hand"] = "x"  # not in the family
    assert refused(catalogue, family, data) >= {"issued_on", "issuer", "typed_by_hand"}


@pytest.mark.parametrize(("family", "change", "named"), [
    ("dibao_acceptance_notice", {"accepted_on": "2026-11-01"}, "accepted_on"),
    ("dibao_missing_papers", {"missing": ["户口簿", "户口簿"]}, "missing[1]"),
    ("dibao_missing_papers", {"missing": []}, "missing"),
    ("dibao_authorisation", {"signers": [{"name": "李晓梅", "relation": "女", "id_number": "130634201009020048"}]},
     "signers[0].id_number"),
    ("dibao_investigation", {"investigators": [{"name": "王干事"}, {"name": "王干事"}]}, "investigators[1].name"),
    ("dibao_investigation", {"household_size": 5}, "household_size"),
    ("dibao_review_record", {"votes": {"agree": 9, "disagree": 0, "abstain": 0}}, "votes"),
    ("dibao_decision", {"start_month": "2026-12"}, "start_month"),
    ("dibao_decision", {"start_month": "2027-13"}, "start_month"),
    ("dibao_card", {"valid_until": "2026-12-01"}, "valid_until"),
    ("dibao_refusal_letter", {"reasons": []}, "reasons"),
    ("dibao_refusal_letter", {"reasons": ["  "]}, "reasons[0]"),
    ("relief_decision", {"amount": None}, "amount"),
    ("relief_decision", {"outcome": "不予批准", "reasons": []}, "reasons"),
    ("relief_payment", {"payments": [{"paid_on": "2026-11-25", "amount": "3000.00", "method": "现金"}]}, "payments"),
    ("dibao_status_certificate", {"recipient": ""}, "recipient"),
])
def test_each_family_keeps_its_rules(catalogue: Catalogue, family: str, change: dict[str, Any], named: str) -> None:
    data = {**copy.deepcopy(catalogue.family(family).sample()), **change}
    assert named in refused(catalogue, family, data)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("family", "sentences"), [
    ("dibao_decision", ["自2027年1月起将你家庭纳入农村最低生活保障范围", "月保障金额1,780.00元",
                        "60日内向曲阳县人民政府申请行政复议", "6个月内向曲阳县人民法院提起行政诉讼"]),
    ("dibao_refusal_letter", ["决定不予确认", "小型汽车一辆", "曲阳县人民政府申请行政复议"]),
    ("dibao_missing_papers", ["一次性告知", "李建国残疾人证复印件", "东沟南村村民服务站"]),
    ("dibao_authorisation", ["授权曲阳县民政局、燕赵镇人民政府", "签字或手印", "不得用于其他用途"]),
    ("dibao_investigation", ["调查人（一）王干事", "调查人（二）李委员", "申请人王秀英"]),
    ("relief_payment", ["领取人赵志刚", "2,610.00"]),
    ("dibao_status_certificate", ["仅用于办理学生资助", "最低生活保障对象"]),
])
def test_pdf_and_word_say_the_same(documents: DocumentService, write_pdf: Any, family: str,
                                   sentences: list[str]) -> None:
    out = documents.render(family, documents.catalogue.family(family).sample(), with_docx=True)
    assert out.docx is not None
    pdf_text = _flat(pdftools.text(write_pdf(out.rendered.pdf)))
    word = docx.Document(str(write_pdf(out.docx, "copy.docx")))
    word_text = _flat("".join(p.text for p in word.paragraphs) + "".join(
        c.text for t in word.tables for r in t.rows for c in r.cells))
    for sentence in sentences:
        assert _flat(sentence) in pdf_text, (family, sentence)
        assert _flat(sentence) in word_text, (family, sentence)


def test_the_purpose_limited_certificate_names_no_number_and_no_amount(documents: DocumentService,
                                                                       write_pdf: Any) -> None:
    family = "dibao_status_certificate"
    assert {p for p, _ in documents.catalogue.family(family).schema.flat} == {
        "issuer", "serial", "issued_on", "valid_until", "recipient", "purpose", "holder", "holder.name"}
    out = documents.render(family, documents.catalogue.family(family).sample())
    text = pdftools.text(write_pdf(out.rendered.pdf))
    assert "元" not in text and not re.search(r"[0-9]{15}", text)


def test_a_refusal_without_reasons_is_never_rendered(catalogue: Catalogue) -> None:
    data = catalogue.family("dibao_refusal_letter").sample()
    data.pop("reasons")
    assert "reasons" in refused(catalogue, "dibao_refusal_letter", data)
    assert Path(catalogue.family("dibao_refusal_letter").directory, "template.html.j2").exists()
