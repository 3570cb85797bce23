"""Issue 22 item 3, measured with ``pdftotext -bbox-layout``: numbers with their units, ID numbers, 文号 and short
names never break across lines; no cell or paragraph leaves one character alone on its last line; the
certificate's first line is full; a member table that crosses a page repeats its heading."""

from __future__ import annotations

import copy
import re

from api.services.documents import DocumentService
from templates.validators import id_check_char
from tests.support import pdftools
from tests.support.pdftools import MM


def _lines(pdf) -> list[pdftools.Line]:  # type: ignore[no-untyped-def]
    return [ln for page in pdftools.layout(pdf) for ln in page.lines]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _on_one_line(lines: list[pdftools.Line], token: str) -> bool:
    return any(token in _flat(ln.text) for ln in lines)


def test_amounts_ids_and_names_in_form_cells_stay_whole(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    data = documents.catalogue.family("dibao_application").sample()
    data["members"][0]["monthly_income"] = "12345.67"
    data["members"][2]["work"] = "孝墓镇中学"
    data["economy"]["financial_assets_per_capita"] = "11800.00"
    pdf = write_pdf(documents.render("dibao_application", data).rendered.pdf)
    lines = _lines(pdf)
    for token in ("12,345.67", "13063419680512002X", "130634200809020041", "11,800.00元", "中学"):
        assert _on_one_line(lines, token), token
    for value in ("孝墓镇中学", "无劳动能力", "曲阳县第一中学", "在家务农"):
        assert not [ln for ln in lines if _flat(ln.text) == value[-1]], f"「{value}」 leaves {value[-1]} alone"


def test_notice_numbers_and_units_stay_whole(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    for family_id, tokens in (("dibao_result_notice", ("民发〔2021〕57号", "曲民公〔2026〕23号")),
                              ("dibao_notice", ("民发〔2021〕57号", "0312-4211234")),
                              ("dibao_decision", ("民发〔2021〕57号", "700.00元/人·月", "1,780.00元"))):
        pdf = write_pdf(documents.render(family_id, documents.catalogue.family(family_id).sample()).rendered.pdf,
                        f"{family_id}.pdf")
        lines = _lines(pdf)
        for token in tokens:
            assert _on_one_line(lines, token), (family_id, token)


def test_notice_first_lines_are_full(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """The rule's citation fills the first line of 28 exactly, its 文号 starting the second whole; the certificate
    opens with the ID number, which always fits the first line (it ended 61 mm short): what remains is at most
    the name's （女）， that may not be parted (4 characters)."""
    for family_id, short in (("dibao_notice", 1), ("dibao_result_notice", 1), ("dibao_certificate", 4)):
        pdf = write_pdf(documents.render(family_id, documents.catalogue.family(family_id).sample()).rendered.pdf,
                        f"{family_id}.pdf")
        first = next(ln for ln in _lines(pdf) if _flat(ln.text).startswith(("根据", "兹证明")))
        assert 184 - first.x1 / MM <= short * 15.79 / MM, (family_id, first.text, round(184 - first.x1 / MM, 1))


def test_member_table_repeats_its_heading_on_the_next_page(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    data = documents.catalogue.family("dibao_application").sample()
    extra = copy.deepcopy(data["members"][2])
    ids = [f"1306342010010{i}00{i}" for i in range(1, 8)]
    data["members"] += [dict(extra, name=f"李小{c}", id_number=n + id_check_char(n), relation="子")
                        for n, c in zip(ids, "一二三四五六七", strict=True)]
    for member in data["members"]:
        member["work"] = "曲阳县燕赵镇东沟南村小学附属幼儿园食堂临时帮工兼做保洁"
    data["reason"] = "家庭困难。" * 60
    pdf = write_pdf(documents.render("dibao_application", data).rendered.pdf)
    pages = pdftools.layout(pdf)
    rows = {p.number: [ln for ln in p.lines if re.match(r"李小[一二三四五六七]", _flat(ln.text))] for p in pages}
    spanned = [n for n, found in rows.items() if found]
    if len(spanned) < 2:  # pragma: no cover - the data is built to cross a page
        raise AssertionError(f"the member table should cross a page: {spanned}")
    for n in spanned:
        assert any("身份证号码" in _flat(ln.text) for ln in pages[n - 1].lines), f"page {n}: no heading"
