"""The schema refuses bad input with every bad field named, before anything renders."""

from __future__ import annotations

from datetime import date

import pytest

from signer.errors import FieldProblem, TemplateDataError, UnknownFamilyError
from templates import Catalogue, PdfRenderer
from templates.validators import (
    check_credit_code,
    check_id_number,
    check_phone,
    credit_code_check_char,
    id_check_char,
    mask_id_number,
    parse_amount,
)


def test_gb11643_check_character() -> None:
    assert id_check_char("11010519491231002") == "X"  # the standard's own example
    assert check_id_number("11010519491231002X") is None
    assert check_id_number("110105194912310021") == "身份证号码校验位错误"
    assert "出生日期" in (check_id_number("110105194902300020") or "")
    assert check_id_number("11010519491231002x") is not None  # lower-case x is normalised by the schema, not here
    assert "不合理" in (check_id_number("110105209912310023", today=date(2026, 1, 1)) or "")
    assert mask_id_number("13063419680512002X") == "130634********002X"


def test_gb32100_credit_code() -> None:
    code = "91350100M000100Y4"
    full = code + credit_code_check_char(code)
    assert check_credit_code(full) is None
    wrong = full[:-1] + ("0" if full[-1] != "0" else "1")
    assert check_credit_code(wrong) == "统一社会信用代码校验位错误"
    assert check_credit_code("91350100M000100YI3") is not None  # I is not in the alphabet


def test_amounts_phones() -> None:
    assert str(parse_amount("520")) == "520.00"
    assert str(parse_amount(520.5)) == "520.50"
    assert isinstance(parse_amount("520.555"), str)
    assert isinstance(parse_amount("-1"), str)
    assert isinstance(parse_amount(True), str)
    assert check_phone("13831207788") is None and check_phone("0312-4211234") is None
    assert check_phone("12345") is not None


def test_every_bad_field_is_named(catalogue: Catalogue) -> None:
    data = catalogue.family("dibao_application").sample()
    data["filled_on"] = "2026-02-30"
    data["category"] = "城镇"
    data["applicant"]["id_number"] = "130634196805120020"
    data["applicant"]["phone"] = "888"
    data["members"][1]["monthly_income"] = "12.345"
    data["members"][2]["relation"] = "邻居"
    data["members"][2]["name"] = ""
    data["economy"]["financial_assets_per_capita"] = "abc"
    data["surprise"] = True
    del data["reason"]
    with pytest.raises(TemplateDataError) as caught:
        catalogue.prepare("dibao_application", data)
    paths = {p.path for p in caught.value.problems}
    assert paths == {
        "filled_on", "category", "applicant.id_number", "applicant.phone", "members[1].monthly_income",
        "members[2].relation", "members[2].name", "economy.financial_assets_per_capita", "surprise", "reason",
    }
    assert all(p.message for p in caught.value.problems)
    assert caught.value.to_dict()["code"] == "INVALID_DATA"
    assert "身份证号码校验位错误" in str(caught.value)


def test_cross_field_rules(catalogue: Catalogue) -> None:
    data = catalogue.family("dibao_application").sample()
    data["members"][0]["id_number"] = data["members"][1]["id_number"]
    data["members"][2]["disability_grade"] = "一级"
    with pytest.raises(TemplateDataError) as caught:
        catalogue.prepare("dibao_application", data)
    paths = {p.path for p in caught.value.problems}
    assert {"members[0].id_number", "members[1].id_number", "members[2].disability_grade"} <= paths

    cert = catalogue.family("dibao_certificate").sample() | {"valid_until": "2026-01-01"}
    with pytest.raises(TemplateDataError) as caught:
        catalogue.prepare("dibao_certificate", cert)
    assert [p.path for p in caught.value.problems] == ["valid_until"]


def test_wrong_shapes_are_refused_not_crashed(catalogue: Catalogue) -> None:
    for bad in ([], "text", None, 3):
        with pytest.raises(TemplateDataError) as caught:
            catalogue.prepare("dibao_notice", bad)
        assert caught.value.problems == [FieldProblem("$", "数据应为一个 JSON 对象")]
    data = catalogue.family("dibao_notice").sample() | {"households": {"a": 1}, "period": "7天"}
    with pytest.raises(TemplateDataError) as caught:
        catalogue.prepare("dibao_notice", data)
    assert {p.path for p in caught.value.problems} == {"households", "period"}
    with pytest.raises(UnknownFamilyError):
        catalogue.prepare("no_such_family", {})


def test_characters_our_fonts_cannot_draw_are_refused(catalogue: Catalogue, renderer: PdfRenderer) -> None:
    data = catalogue.family("dibao_certificate").sample()
    data["holder"]["name"] = "王\U000F0001"  # a private-use code point: none of our faces has it
    data["purpose"] = "用于入学😀"
    prepared = catalogue.prepare("dibao_certificate", data)
    with pytest.raises(TemplateDataError) as caught:
        renderer.render(prepared)
    assert {p.path for p in caught.value.problems} == {"holder.name", "purpose"}
    assert "U+F0001" in str(caught.value)
    # rare but covered characters (喆, 堃; 𪚥 and 𠮷 from CJK Extension B) render with our own fallback faces
    data = catalogue.family("dibao_certificate").sample()
    data["holder"]["name"] = "王喆堃𪚥𠮷"
    renderer.render(catalogue.prepare("dibao_certificate", data))


def test_full_width_ids_are_normalised_and_control_characters_refused(catalogue: Catalogue) -> None:
    data = catalogue.family("dibao_application").sample()
    ascii_id = data["members"][1]["id_number"]
    data["members"][0]["id_number"] = ascii_id.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    with pytest.raises(TemplateDataError) as caught:
        catalogue.prepare("dibao_application", data)
    assert {"members[0].id_number", "members[1].id_number"} <= {p.path for p in caught.value.problems}
    notice = catalogue.family("dibao_notice").sample()
    wide = notice["households"][1]["id_number"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    notice["households"][1]["id_number"] = wide
    assert catalogue.prepare("dibao_notice", notice).data["households"][1]["id_number"].isascii()
    for bad, shown in (("王\x7f秀英", "U+007F"), ("王\u202e秀英", "U+202E"), ("王\x85英", "U+0085")):
        notice["households"][0]["head_name"] = bad
        with pytest.raises(TemplateDataError) as caught:
            catalogue.prepare("dibao_notice", notice)
        assert [p.path for p in caught.value.problems] == ["households[0].head_name"]
        assert shown in str(caught.value)


def test_docx_table_builder_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-docx's table.cell() rebuilds the whole grid per call (quadratic in the rows): the builder takes each
    row's cells from its own row, so the number of whole-table walks does not grow with the rows. Counted, not
    timed (the timings, 100 against 800 rows, are in bench/bench_bounds.py)."""
    from docx.oxml.table import CT_Tbl

    from templates import docx_kit

    walks = 0
    iter_tcs = CT_Tbl.iter_tcs

    def counted(self: CT_Tbl) -> object:
        nonlocal walks
        walks += 1
        return iter_tcs(self)

    monkeypatch.setattr(CT_Tbl, "iter_tcs", counted)

    def build(n: int) -> tuple[int, list[list[str]]]:
        nonlocal walks
        doc = docx_kit.new_notice_document()
        rows: list[list[str | None]] = [[str(i), "张三", "东沟南村", "3", "1,260.00"] for i in range(n)]
        rows.append(["合计", f"{n}户", None, "3人", "1.00"])
        walks = 0
        table = docx_kit.grid(doc, rows)
        made = walks
        monkeypatch.setattr(CT_Tbl, "iter_tcs", iter_tcs)  # reading the result back may walk freely
        try:
            text = [[tc.xpath("string(.)") for tc in tr.tc_lst] for tr in table._tbl.tr_lst]
        finally:
            monkeypatch.setattr(CT_Tbl, "iter_tcs", counted)
        return made, text

    small, small_text = build(100)
    large, large_text = build(800)
    assert large == small, f"whole-table walks: {small} for 100 rows, {large} for 800 rows"
    assert len(large_text) == 801 and large_text[799] == ["799", "张三", "东沟南村", "3", "1,260.00"]
    assert large_text[800] == ["合计", "800户", "3人", "1.00"]  # the None cell merged into the one on its left
    assert small_text[100] == ["合计", "100户", "3人", "1.00"]
