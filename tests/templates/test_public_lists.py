"""Public lists after 民发〔2021〕57号: art. 24 (name, persons, amount — no ID, not even masked; no 保障类别 unless
a setting turns it on), art. 19 (7-day 公示 per village), art. 21 (support from the month after the decision)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pytest

from api.cli.main import main
from api.services.documents import DocumentService
from api.services.local_rules import document_rules
from api.services.offices import DEMO_REGISTRY, Registry
from api.settings import Settings
from signer.errors import TemplateDataError
from templates import Catalogue, PdfRenderer
from templates.notice_list import split_by_village
from tests.support import pdftools

ID_LIKE = re.compile(r"\d{6}\*+\d{3}[\dX]|\d{17}[\dX]")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("family_id", ["dibao_notice", "dibao_result_notice"])
def test_public_lists_carry_no_id_number_not_even_masked(family_id: str, documents: DocumentService,
                                                         write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = documents.catalogue.family(family_id).sample()
    assert any(h.get("id_number") for h in sample["households"]), "the input does carry ID numbers"
    out = documents.render(family_id, sample, with_docx=True)
    text = pdftools.text(write_pdf(out.rendered.pdf))
    assert not ID_LIKE.search(text), ID_LIKE.search(text)
    assert "身份证" not in text and "13831207788" not in text
    assert "申请人姓名" in _flat(text) and "保障人数" in _flat(text)
    word = docx.Document(str(write_pdf(out.docx or b"", "n.docx")))
    cells = " ".join(c.text for t in word.tables for r in t.rows for c in r.cells)
    assert not ID_LIKE.search(cells) and "身份证" not in cells


def test_category_only_when_a_setting_turns_it_on(catalogue: Catalogue, renderer: PdfRenderer,
                                                  write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = catalogue.family("dibao_result_notice").sample()
    registry = Registry.load(DEMO_REGISTRY)
    off = DocumentService(Settings(), catalogue=catalogue, renderer=renderer, registry=registry)
    on = DocumentService(Settings(notice_show_category=True), catalogue=catalogue, renderer=renderer,
                         registry=registry)
    assert "保障类别" not in _flat(pdftools.text(write_pdf(off.render("dibao_result_notice", sample).rendered.pdf)))
    shown = _flat(pdftools.text(write_pdf(on.render("dibao_result_notice", sample).rendered.pdf, "on.pdf")))
    assert "保障类别" in shown and "B类" in shown


def test_notice_shorter_than_seven_days_is_refused_naming_the_rule(documents: DocumentService) -> None:
    sample = documents.catalogue.family("dibao_notice").sample()
    sample["period"]["days"] = 5
    with pytest.raises(TemplateDataError) as caught:
        documents.render("dibao_notice", sample)
    problem = caught.value.problems[0]
    assert problem.path == "period.days" and "7天" in problem.message and "第十九条" in problem.message


def test_notice_floor_is_a_setting(catalogue: Catalogue, renderer: PdfRenderer) -> None:
    sample = catalogue.family("dibao_notice").sample()
    sample["period"] = {"start": sample["period"]["start"]}
    longer = DocumentService(Settings(notice_days=10), catalogue=catalogue, renderer=renderer,
                             registry=Registry.load(DEMO_REGISTRY))
    prepared = longer.catalogue.prepare("dibao_notice", sample, rules=document_rules(longer.settings))
    assert prepared.view["period"]["days"] == 10  # the default period is the local rule's
    sample["period"]["days"] = 7
    with pytest.raises(TemplateDataError, match="共 1 处"):
        longer.catalogue.prepare("dibao_notice", sample, rules=document_rules(longer.settings))


def test_benefits_start_the_month_after_the_decision(documents: DocumentService) -> None:
    sample = documents.catalogue.family("dibao_result_notice").sample()
    sample["decided_on"], sample["benefit_from"] = "2026-11-28", "2026-11-01"
    with pytest.raises(TemplateDataError) as caught:
        documents.render("dibao_result_notice", sample)
    assert "次月" in caught.value.problems[0].message and "第二十一条" in caught.value.problems[0].message
    sample["benefit_from"] = "2026-12-01"
    assert documents.render("dibao_result_notice", sample).rendered.page_count >= 1


def test_split_by_village_one_notice_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = Catalogue.load().family("dibao_notice").sample()
    parts = split_by_village(data)
    assert [v for v, _ in parts] == ["东沟南村", "北养马村", "西燕川村"]
    assert [len(p["households"]) for _, p in parts] == [2, 1, 1]
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(tmp_path / "var"))
    out = tmp_path / "公示.pdf"
    code = main(["render", "dibao_notice", "--data", str(Catalogue.load().family("dibao_notice").sample_path),
                 "-o", str(out), "--split-by-village"])
    assert code == 0
    for village, part in parts:
        text = _flat(pdftools.text(tmp_path / f"公示-{village}.pdf"))
        assert village in text
        names = {h["head_name"] for h in part["households"]}
        others = {h["head_name"] for h in data["households"]} - names
        assert all(n in text for n in names) and not any(n in text for n in others)
    assert not out.exists()


def test_split_by_village_groups_by_village_id_each_with_its_own_number(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two townships' 东沟南村 are two villages: a county-wide list splits by village id (or, without ids, by
    township and village), and each village's notice is its own document with its own 文号."""
    data = Catalogue.load().family("dibao_result_notice").sample()
    data["households"].append({"head_name": "孙玉梅", "township": "孝墓镇", "village": "东沟南村",
                               "village_id": "130634101203", "persons": 2, "monthly_amount": "700.00"})
    parts = split_by_village(data)
    assert [v for v, _ in parts] == ["燕赵镇东沟南村", "下河村", "孝墓镇东沟南村"]
    assert [[h["head_name"] for h in p["households"]] for _, p in parts] == [["王秀英", "刘长福"], ["赵志刚"],
                                                                             ["孙玉梅"]]
    assert [p["notice_no"] for _, p in parts] == ["曲民公〔2026〕23号", "曲民公〔2026〕24号", "曲民公〔2026〕25号"]
    for household in data["households"]:
        household.pop("village_id")
    assert [v for v, _ in split_by_village(data)] == ["燕赵镇东沟南村", "下河村", "孝墓镇东沟南村"]
    source = tmp_path / "list.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(tmp_path / "var"))
    out = tmp_path / "公布.pdf"
    assert main(["render", "dibao_result_notice", "--data", str(source), "-o", str(out), "--split-by-village"]) == 0
    numbers = set()
    for label, part in parts:
        text = _flat(pdftools.text(tmp_path / f"公布-{label}.pdf"))
        assert all(h["head_name"] in text for h in part["households"])
        assert [n for n in ("王秀英", "赵志刚", "孙玉梅") if n in text] == [part["households"][0]["head_name"]]
        numbers.add(re.search(r"曲民公〔2026〕\d+号", text).group(0))  # type: ignore[union-attr]
    assert len(numbers) == 3, numbers
    data["notice_no"] = "曲民公字第23号"
    with pytest.raises(TemplateDataError, match="文号"):
        split_by_village(data)
