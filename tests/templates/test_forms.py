"""The 申请审批表 in the terms of 民发〔2021〕57号, PDF and DOCX alike, and Word files an office would send."""

from __future__ import annotations

import re
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest

from api.services.documents import DocumentService
from api.services.sealing import DEFAULT_OPINIONS
from signer.errors import TemplateDataError
from signer.pki import Tier
from templates.form_text import DEFAULT_OPINIONS as FORM_OPINIONS

FORMS = ["dibao_application", "temp_relief_application"]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _word_text(path: Path) -> str:
    word = docx.Document(str(path))
    return _flat("".join(p.text for p in word.paragraphs) + "".join(
        c.text for t in word.tables for r in t.rows for c in r.cells))


@pytest.mark.parametrize("family_id", FORMS)
def test_form_uses_the_terms_of_57(family_id: str, documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = documents.catalogue.family(family_id).sample()
    sample["kinship"] = {"registered": True, "detail": "申请人之妹为东沟南村村委会委员王秀兰"}
    sample["staff"] = {"village": {"handler": "李协理"}}
    out = documents.render(family_id, sample, with_docx=True)
    raw = subprocess.run(["pdftotext", "-raw", str(write_pdf(out.rendered.pdf)), "-"], capture_output=True,
                         text=True, check=True).stdout
    pdf_text = _flat(raw)
    word_text = _word_text(write_pdf(out.docx or b"", "f.docx"))
    for text in (pdf_text, word_text):
        assert "与申请人" in text and "关系" in text  # the PDF's column head runs over two lines
        for term in ("申请人姓名", "劳动能力", "近亲属", "申请人之妹为东沟南村村委会委员王秀兰",
                     "申请人（签字或手印）：", "乡镇（街道）：燕赵镇人民政府" if family_id == "dibao_application"
                     else "乡镇（街道）：孝墓镇人民政府", "村（居）：", "编号：", "填表日期：", "李协理"):
            assert term in text, term
        assert "户主" not in text, "57号 names an 申请人, not a 户主"
        # every box: 经办人 and 负责人 lines, （盖章） and the date line for a hand-signed copy
        assert text.count("经办人：") == 3 and text.count("负责人：") == 3 and text.count("（盖章）") == 3
        assert text.count("年月日") >= 3
    if family_id == "temp_relief_application":
        for term in ("总费用", "已报销/已救助", "尚需自负", "申请依据", "本地户籍"):
            assert term in pdf_text and term in word_text, term
        assert "自负费用" not in pdf_text


def test_kinship_needs_with_whom(documents: DocumentService) -> None:
    sample = documents.catalogue.family("dibao_application").sample()
    sample["kinship"] = {"registered": True}
    with pytest.raises(TemplateDataError) as caught:
        documents.render("dibao_application", sample)
    assert caught.value.problems[0].path == "kinship.detail" and "第十一条" in caught.value.problems[0].message


def test_default_opinions_in_the_wording_of_57() -> None:
    village = DEFAULT_OPINIONS[Tier.VILLAGE]
    assert "协助" in village and "同意" not in village, "the village assists and reports, it does not approve"
    for kind in FORM_OPINIONS.values():
        assert all("民主评议" not in text for text in kind.values()), "民主评议 only after an objection (art. 19)"
    assert "公示" in DEFAULT_OPINIONS[Tier.TOWNSHIP] and "审核确认" in DEFAULT_OPINIONS[Tier.COUNTY]


@pytest.mark.parametrize("family_id", ["dibao_application", "dibao_notice", "dibao_certificate"])
def test_docx_author_faces_and_page_numbers(family_id: str, documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    out = documents.render(family_id, documents.catalogue.family(family_id).sample(), with_docx=True)
    path = write_pdf(out.docx or b"", "d.docx")
    word = docx.Document(str(path))
    prepared = documents.catalogue.prepare(family_id, documents.catalogue.family(family_id).sample())
    assert word.core_properties.author == prepared.issuer
    # issue 22 item 10: the copy's dates are its own, not python-docx's template's (created 2013-12-23)
    created = word.core_properties.created
    assert created is not None
    assert abs((datetime.now(UTC) - created.replace(tzinfo=created.tzinfo or UTC)).total_seconds()) < 600
    assert word.core_properties.modified == created
    with zipfile.ZipFile(path) as package:
        meta = b"".join(package.read(n) for n in package.namelist() if n.startswith("docProps/"))
        body = package.read("word/document.xml").decode()
        styles = package.read("word/styles.xml").decode()
        settings = package.read("word/settings.xml").decode()
        footers = [package.read(n).decode() for n in package.namelist() if n.startswith("word/footer")]
    assert b"python-docx" not in meta.lower() and b"python" not in meta.lower()
    if family_id != "dibao_application":
        assert "仿宋_GB2312" in styles and "方正小标宋简体" in body
        assert "evenAndOddHeaders" in settings, "page numbers odd right, even left"
        aligns = {re.search(r'<w:jc w:val="(\w+)"', f).group(1) for f in footers if "PAGE" in f}  # type: ignore[union-attr]
        assert aligns == {"right", "left"}
    else:
        assert any("NUMPAGES" in f for f in footers), "第 1 页 共 2 页"
