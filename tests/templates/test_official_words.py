"""Issue 22, round 2: what an official signs reads as issued text — real office names instead of placeholders,
57号's terms, the 公示 outcome case by case (measured with poppler on the rendered PDFs)."""

from __future__ import annotations

import re

import pytest

from api.services.documents import DocumentService
from tests.support import pdftools

PLACEHOLDERS = ("乡镇（街道）入户调查", "乡镇人民政府（街道办事处）", "县级民政部门、乡镇（街道）",
                "由乡镇（街道）审批")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("family_id", ["dibao_notice", "dibao_result_notice", "dibao_application",
                                       "temp_relief_application"])
def test_issued_text_names_the_real_office(family_id: str, documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = documents.catalogue.family(family_id).sample()
    out = documents.render(family_id, sample, with_docx=True)
    text = _flat(pdftools.text(write_pdf(out.rendered.pdf)))
    assert not [p for p in PLACEHOLDERS if p in text], "a placeholder reached issued text"
    expected = {"dibao_notice": "经本人申请、燕赵镇人民政府入户调查",
                "dibao_result_notice": "经燕赵镇、孝墓镇初审",
                "dibao_application": "曲阳县民政局、燕赵镇人民政府各存一份",
                "temp_relief_application": "在孝墓镇人民政府审批权限以内的由孝墓镇人民政府审批，"
                                           "超过的报曲阳县民政局审批"}
    assert expected[family_id] in text


def test_village_opinion_reports_to_its_township_by_name() -> None:
    from templates.form_text import default_opinion

    for kind in ("dibao", "relief"):
        text = default_opinion(kind, "village", reports_to="燕赵镇人民政府")
        assert text.endswith("报燕赵镇人民政府审核。") and "（街道办事处）" not in text


@pytest.mark.parametrize("family_id", ["dibao_notice", "dibao_result_notice"])
def test_id_number_label_is_the_applicants(family_id: str, documents: DocumentService) -> None:
    """57号 names an 申请人, not a 户主: a refused ID number is reported under the 2021 term."""
    spec = documents.catalogue.family(family_id).schema.root.child("households")
    assert spec is not None and (child := spec.child("id_number")) is not None
    assert child.label == "申请人身份证号码"


def test_result_notice_states_the_notice_outcome_per_case(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = documents.catalogue.family("dibao_result_notice").sample()
    text = _flat(pdftools.text(write_pdf(documents.render("dibao_result_notice", sample).rendered.pdf)))
    assert "3户公示均无异议" in text
    sample["households"][2]["objected"] = True
    text = _flat(pdftools.text(write_pdf(documents.render("dibao_result_notice", sample).rendered.pdf, "b.pdf")))
    assert "赵志刚1户公示期间有异议，经复查异议不成立，其余2户公示无异议" in text
    assert "、公示无异议，本机关" not in text


def test_the_notice_names_one_phone_for_objections(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """Issue 23: the 公示 has one phone, for objections — the same words (异议受理电话, 异议受理地点) in the
    family's labels (which name a refused field on the desk), the printed notice and the desk's build form."""
    import datetime as dt
    from pathlib import Path

    from signer.errors import TemplateDataError

    family = documents.catalogue.family("dibao_notice")
    objection = next(c for c in family.schema.root.children if c.name == "objection")
    assert [c.label for c in objection.children] == ["异议受理单位", "异议受理电话", "异议受理地点"]
    sample = family.sample()
    missing = {**sample, "objection": {k: v for k, v in sample["objection"].items() if k != "phone"}}
    with pytest.raises(TemplateDataError) as refused:
        documents.check("dibao_notice", missing, today=dt.date(2026, 11, 22))
    assert [p.message for p in refused.value.problems] == ["必填项「异议受理电话」未填写"]
    text = _flat(pdftools.text(write_pdf(documents.render("dibao_notice", sample).rendered.pdf)))
    assert f"异议受理电话：{sample['objection']['phone']}" in text and "联系电话" not in text
    desk = (Path(__file__).parents[2] / "api/http/pages/desk/notices.html.j2").read_text("utf-8")
    assert "异议受理电话" in desk and ">受理电话" not in desk
