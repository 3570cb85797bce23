"""Every family renders from its sample through the real stack, and poppler reads back what we meant."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from api.services.documents import DocumentService
from templates import Catalogue, Prepared, render_docx
from tests.support import pdftools

FAMILIES = ["dibao_application", "temp_relief_application", "dibao_notice", "dibao_result_notice",
            "dibao_certificate",
            # the papers of a case (templates/papers.py)
            "dibao_acceptance_notice", "dibao_missing_papers", "dibao_authorisation", "dibao_investigation",
            "dibao_review_record", "dibao_decision", "dibao_card", "dibao_refusal_letter", "relief_decision",
            "relief_payment", "dibao_status_certificate"]
OUR_FACES = {"AR-PL-SungtiL-GB", "WenQuanYi-Zen-Hei-Medium", "WenQuanYi-Zen-Hei", "AR-PL-KaitiM-GB",
             "AR-PL-UMing-CN-Light", "AR-PL-UMing-CN", "HanaMinB-Medium", "HanaMinB", "FandolFang", "FandolSong-Bold"}
MM = 72 / 25.4


def test_catalogue_lists_every_family(catalogue: Catalogue) -> None:
    assert sorted(f.id for f in catalogue) == sorted(FAMILIES)
    for family in catalogue:
        assert family.sample_path.exists()
        paths = [p for p, _ in family.schema.flat]
        assert len(paths) == len(set(paths)), family.id


@pytest.mark.parametrize("family_id", FAMILIES)
def test_sample_renders_with_our_fonts_metadata_and_slots(
    family_id: str, documents: DocumentService, write_pdf, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    family = documents.catalogue.family(family_id)
    out = documents.render(family_id, family.sample(), with_docx=True)
    pdf = write_pdf(out.rendered.pdf)
    assert out.rendered.warnings == (), "WeasyPrint logged problems"

    # Text: title and issuer are really there, as text a reader can extract
    text = pdftools.text(pdf)
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", family.title) in flat or family.kind == "notice"
    prepared = documents.catalogue.prepare(family_id, family.sample())
    assert prepared.issuer in flat

    # Fonts: only the faces we chose, embedded, subset, with ToUnicode
    fonts = pdftools.fonts(pdf)
    names = {f["name"].split("+", 1)[1] for f in fonts}
    assert names <= OUR_FACES, f"unexpected fallback faces: {names - OUR_FACES}"
    assert "AR-PL-SungtiL-GB" in names or family.kind != "form"
    if family.kind != "form":  # GB/T 9704: 仿宋 body, 小标宋-like title
        assert {"FandolFang", "FandolSong-Bold"} <= names
    assert all((f["emb"], f["sub"], f["uni"]) == ("yes", "yes", "yes") for f in fonts), fonts

    # Metadata: title, author = issuing office, creation date; PDF/A-2b identification
    info = pdftools.info(pdf)
    assert info["Author"] == prepared.issuer
    assert info["Title"]
    assert info["CreationDate"].startswith("20")
    xmp = PdfReader(pdf).trailer["/Root"]["/Metadata"].get_object().get_data()
    assert re.search(rb"pdfaid:part(>|=\")2", xmp) and re.search(rb"pdfaid:conformance(>|=\")B", xmp)

    # Seal slots: one per tier box for forms; issuer + QR on the last page for notices and certificates
    slots = {s.name: s for s in out.rendered.slots}
    width, height = out.rendered.page_size
    assert (round(width), round(height)) == (595, 842)
    for slot in slots.values():
        x1, y1, x2, y2 = slot.rect
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, slot
    if family.kind == "form":
        assert list(slots) == ["village", "township", "county"]
        assert {s.purpose for s in slots.values()} == {"tier"}
        order = [(slots[t].page_index, -slots[t].rect[1]) for t in ("village", "township", "county")]
        assert order == sorted(order), "tier boxes run top to bottom (over pages) in route order"
        for s in slots.values():
            assert s.rect[2] - s.rect[0] > 100 * MM and s.rect[3] - s.rect[1] >= 38 * MM
    else:  # a record stays in the case file: no QR slot
        assert set(slots) == ({"issuer", "qr"} if family.public else {"issuer"})
        last = out.rendered.page_count - 1
        assert all(s.page_index == last for s in slots.values())
        side = slots["issuer"].rect[2] - slots["issuer"].rect[0]
        assert 45 * MM <= side <= 50 * MM  # room for any registry seal at its own diameter
        # unregistered (no verify_url given): the QR slot stays empty, no address that leads nowhere
        assert out.verify_url is None and "扫码核验" not in flat
    json.dumps([s.to_dict() for s in out.rendered.slots])

    # Word version: same content, read back with python-docx
    assert out.docx is not None
    word = docx.Document(str(write_pdf(out.docx, "doc.docx")))
    word_text = "".join(p.text for p in word.paragraphs) + "".join(
        c.text for t in word.tables for r in t.rows for c in r.cells)
    assert prepared.issuer in word_text


def test_form_pages_have_nothing_outside_their_margins_but_running_head_and_numbers(
    documents: DocumentService, write_pdf, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """Issue 11 replaced "a form is one page": a form runs over pages with its title, applicant and serial
    repeated (top margin) and "第 1 页 共 2 页" (bottom margin); the body stays inside the margins."""
    for family_id in ("dibao_application", "temp_relief_application"):
        out = documents.render(family_id, documents.catalogue.family(family_id).sample())
        pdf = write_pdf(out.rendered.pdf)
        pages = out.rendered.page_count
        for page in range(1, pages + 1):
            image = pdftools.page_png(pdf, tmp_path / f"{family_id}{page}", page=page)
            w, h = image.size
            left, right = round(15 * MM) - 1, w - round(15 * MM) + 1
            top, bottom = round(16 * MM) - 1, h - round(14 * MM) + 1
            px = image.load()
            outside = [(x, y) for y in range(h) for x in range(w)
                       if not (left <= x <= right and top - (12 * MM if page > 1 else 0) <= y <= bottom + 12 * MM)
                       and px[x, y] < 200]
            assert outside == [], f"{family_id} p{page}: ink outside the margins at {outside[:5]}"
            text = pdftools.text(pdf, page=page)
            assert f"第 {page} 页 共 {pages} 页" in text
            if page > 1:
                sample = documents.catalogue.family(family_id).sample()
                head = re.sub(r"\s+", "", text.split("\n\n")[0] if text.strip() else "")
                assert sample["applicant"]["name"] in re.sub(r"\s+", "", text) and sample["serial"] in \
                    re.sub(r"\s+", "", text), head


def test_notice_margins_follow_gbt9704(documents: DocumentService, write_pdf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = documents.render("dibao_notice", documents.catalogue.family("dibao_notice").sample())
    image = pdftools.page_png(write_pdf(out.rendered.pdf), tmp_path / "notice")
    w, h = image.size
    px = image.load()
    ink = [(x, y) for y in range(h) for x in range(w) if px[x, y] < 200]
    xs, ys = [x for x, _ in ink], [y for _, y in ink]
    # text block starts 37 mm from the top and 28 mm from the left; nothing in the side margins
    assert abs(min(ys) - 37 * MM) < 4 * MM
    assert min(xs) >= 28 * MM - 2 and max(xs) <= w - 26 * MM + 2
    text = pdftools.text(write_pdf(out.rendered.pdf))
    assert "— 1 —" in text


def test_public_notice_omits_ids_and_phones(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """Issue 11 replaced the masked ID column: 57号 art. 24 allows no ID number on a public list at all."""
    sample = documents.catalogue.family("dibao_notice").sample()
    full_id = sample["households"][0]["id_number"]
    phone = sample["households"][0]["phone"]
    out = documents.render("dibao_notice", sample, with_docx=True)
    text = re.sub(r"\s+", "", pdftools.text(write_pdf(out.rendered.pdf)))
    assert full_id not in text and phone not in text and full_id[:6] not in text
    assert full_id.encode() not in out.rendered.pdf
    word = docx.Document(str(write_pdf(out.docx or b"", "n.docx")))
    cells = "".join(c.text for t in word.tables for r in t.rows for c in r.cells)
    assert full_id not in cells and phone not in cells and full_id[:6] not in cells


def test_internal_form_shows_full_id(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = documents.catalogue.family("dibao_application").sample()
    out = documents.render("dibao_application", sample)
    assert sample["applicant"]["id_number"] in pdftools.text(write_pdf(out.rendered.pdf))


def _households(n: int) -> list[dict[str, object]]:
    villages = ["东沟南村", "北养马村", "西燕川村", "南赵邱村"]
    return [{"head_name": f"户主{i:04d}", "village": villages[i % 4], "persons": 1 + i % 5,
             "monthly_amount": f"{500 + i % 900}.50"} for i in range(n)]


@pytest.mark.slow
def test_notice_with_1000_households_repeats_header_on_every_page(
    documents: DocumentService, write_pdf  # type: ignore[no-untyped-def]
) -> None:
    data = documents.catalogue.family("dibao_notice").sample() | {"households": _households(1000)}
    out = documents.render("dibao_notice", data)
    pdf = write_pdf(out.rendered.pdf)
    assert out.rendered.page_count > 20
    pages = pdftools.text(pdf).split("\f")[: out.rendered.page_count]
    seen = set()
    for number, page in enumerate(pages, 1):
        rows = re.findall(r"户主(\d{4})", page)
        seen.update(rows)
        if rows:
            assert "申请人姓名" in page and "月保障金额" in page, f"page {number} lacks the table header"
        assert f"— {number} —" in page, f"page {number} lacks its page number"
    assert len(seen) == 1000
    # every row whole on one line: name, village, persons, amount (nothing wrapped or split across pages)
    whole = re.findall(r"户主\d{4}\s+\S{3}村\s+\d\s+[\d,]+\.50\s*$", "\n".join(pages), re.M)
    assert len(whole) == 1000
    assert "合计" in pages[-1] or "合计" in pages[-2]
    assert out.rendered.slot("issuer").page_index == out.rendered.page_count - 1


def test_injection_attempts_render_as_text(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    sample = documents.catalogue.family("dibao_application").sample()
    evil = "<img src=file:///etc/passwd> {{ 7*7 }} {% raw %} </td></table><style>*{display:none}</style>"
    sample["reason"] = evil
    sample["applicant"]["address"] = "<link rel=stylesheet href=http://127.0.0.1:9/x.css>"
    out = documents.render("dibao_application", sample)
    assert out.rendered.warnings == ()
    text = re.sub(r"\s+", "", pdftools.text(write_pdf(out.rendered.pdf)))
    assert "<imgsrc=file:///etc/passwd>{{7*7}}" in text
    assert "{%raw%}" in text and "<style>" in text
    assert "root:x:0" not in text
    assert "最低生活保障申请审批表" in text  # the style tag did not hide the page


def test_fetcher_reads_only_template_assets(renderer) -> None:  # type: ignore[no-untyped-def]
    from templates.render_pdf import ASSETS, AssetOnlyFetcher

    fetcher = AssetOnlyFetcher(ASSETS.parent)
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.css", f"file://{ASSETS}/../../pyproject.toml",
                "ftp://example.org/x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    response = fetcher.fetch(f"file://{ASSETS}/common.css")
    assert response is not None


def test_docx_matches_pdf_content(catalogue: Catalogue, tmp_path: Path) -> None:
    prepared: Prepared = catalogue.prepare("temp_relief_application",
                                           catalogue.family("temp_relief_application").sample())
    path = tmp_path / "t.docx"
    path.write_bytes(render_docx(prepared))
    word = docx.Document(str(path))
    # (labels break where the PDF breaks them: 村(居)委会 / 意见)
    cells = [re.sub(r"\s", "", c.text) for t in word.tables for r in t.rows for c in r.cells]
    for expected in ("赵志刚", "突发重大疾病", "86,500.00元", "34,200.00元", "8,000.00元", "村(居)委会意见",
                     "总费用", "已报销/已救助", "尚需自负", "本地户籍"):
        assert any(expected in c for c in cells), expected
    assert word.sections[0].page_width is not None
