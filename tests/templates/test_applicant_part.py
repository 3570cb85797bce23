"""Issue 22 item 9: the applicant's part of the form is consistent — the signature line carries its date, the
劳动能力 column is never empty beside 无劳动能力, and an implausible kinship/age is refused until the clerk
confirms it."""

from __future__ import annotations

import re

import pytest

from api.services.documents import DocumentService
from signer.errors import TemplateDataError
from templates.validators import id_check_char
from tests.support import pdftools


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("family_id", ["dibao_application", "temp_relief_application"])
def test_signature_line_dated_and_labour_derived(family_id: str, documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = documents.catalogue.family(family_id).sample()
    sample.pop("signed_on", None)
    text = pdftools.text(write_pdf(documents.render(family_id, sample).rendered.pdf))
    filled = documents.catalogue.prepare(family_id, sample).view["filled_on"]
    line = next(ln for ln in text.splitlines() if "签字或手印" in ln)
    assert f"{filled.year}年{filled.month}月{filled.day}日" in _flat(line), line
    if family_id == "dibao_application":
        rows = [ln for ln in pdftools.layout(write_pdf(documents.render(family_id, sample).rendered.pdf, "b.pdf"))[0]
                .lines]
        assert "完全丧失劳动能力" in _flat("".join(r.text for r in rows)), "李建国: 无劳动能力 → 完全丧失劳动能力"


def test_a_son_older_than_the_applicant_needs_the_clerks_confirmation(documents: DocumentService) -> None:
    sample = documents.catalogue.family("dibao_application").sample()
    first17 = "13063419600101003"  # born 1960: 66 in 2026, the applicant 58
    sample["members"].append({"name": "李长子", "relation": "子", "id_number": first17 + id_check_char(first17),
                              "identity": "务农", "health": "健康", "monthly_income": "0"})
    with pytest.raises(TemplateDataError) as caught:
        documents.render("dibao_application", sample)
    problem = caught.value.problems[0]
    assert problem.path == "members[3].relation" and "66 岁" in problem.message and "核实" in problem.message
    sample["members"][3]["confirmed"] = True
    assert documents.render("dibao_application", sample).rendered.page_count >= 1
