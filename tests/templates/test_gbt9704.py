"""Notices and certificates on the GB/T 9704-2012 grid, measured with poppler's ``pdftotext -bbox-layout``:
the text block 156 × 225 mm (top 37, left 28), 22 lines × 28 characters of 3号仿宋; titles broken between
words; the issuing block never alone and its seal within one line of the body; tables that never overflow."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest

from api.services.documents import DocumentService
from templates.titles import balanced_lines
from tests.support import pdftools

MM = 72 / 25.4
PITCH = 225 / 22  # mm per line
Line = tuple[float, float, float, float, str]  # xMin, yMin, xMax, yMax (mm, from the top left), text


def lines(pdf: Path, page: int) -> list[Line]:
    html = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    out = []
    for match in re.finditer(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
                             html, re.S):
        words = "".join(re.findall(r">([^<]*)</word>", match.group(5)))
        out.append((*(float(match.group(i)) / MM for i in range(1, 5)), words))  # type: ignore[misc]
    return out


def body_lines(page: list[Line]) -> list[Line]:
    """A page's 3号 body lines (taller than 5 mm, with a Chinese comma or full stop)."""
    return [ln for ln in page if ln[3] - ln[1] > 5 and re.search(r"[，。]", ln[4])]


def line_pitches(body: list[Line]) -> list[float]:
    """The distances (mm) between consecutive lines of one paragraph run (a gap of a line or more excluded)."""
    return [b[1] - a[1] for a, b in itertools.pairwise(body) if 0 < b[1] - a[1] < 12]


@pytest.mark.parametrize("family_id", ["dibao_notice", "dibao_certificate"])
def test_text_block_is_156_by_225_mm(family_id: str, documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    out = documents.render(family_id, documents.catalogue.family(family_id).sample())
    pdf = write_pdf(out.rendered.pdf)
    page = lines(pdf, 1)
    body = body_lines(page)
    assert len(body) >= 4
    # left edge 28 mm, right edge 28 + 156 = 184 mm (a justified full line), both ±1 mm
    # every line starts at 28 mm, or 2 characters in (a paragraph's first line)
    lefts = [ln[0] for ln in body]
    assert lefts and all(abs(x - 28) <= 1 or abs(x - 28 - 2 * 15.79 / MM) <= 1 for x in lefts), lefts
    assert sum(abs(x - 28) <= 1 for x in lefts) >= 2
    assert abs(max(ln[2] for ln in body) - 184) <= 1
    # 28 characters on a full line of full-width characters
    full = [ln for ln in body if abs(ln[2] - 184) <= 1 and abs(ln[0] - 28) <= 1 and ln[4].isascii() is False
            and not re.search(r"[0-9A-Za-z\-.]", ln[4])]
    assert all(len(ln[4]) == 28 for ln in full), [ln[4] for ln in full]
    assert full or family_id != "dibao_notice"
    # 22 lines in 225 mm: the pitch of consecutive body lines × 22 = 225 ±1 mm
    pitches = line_pitches(body)
    assert pitches and all(abs(p * 22 - 225) <= 1 for p in pitches), pitches
    # the block starts 37 mm from the top: the title's line box (its glyph box less the half-leading of 2号)
    title = page[0]
    half_leading = (PITCH - 22 / MM) / 2
    assert abs(title[1] - half_leading - 37) <= 1, title
    fonts = {f["name"].split("+", 1)[1] for f in pdftools.fonts(pdf)}
    assert {"FandolFang", "FandolSong-Bold"} <= fonts
    # page number "— 1 —" at the right of an odd page, 4号 below the block
    if family_id == "dibao_notice":
        number = next(ln for ln in page if "—" in ln[4])
        assert number[2] > 150 and number[1] > 37 + 225


def test_page_number_dash_7_mm_below_the_block(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """GB/T 9704-2012 §7.5: 一字线上距版心下边缘 7 mm. The dash sits at the middle of its em box (the word box
    pdftotext reports), odd pages and even pages alike."""
    data = documents.catalogue.family("dibao_notice").sample()
    data["households"] = _households(40)
    pdf = write_pdf(documents.render("dibao_notice", data).rendered.pdf)
    html = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    dashes = [(float(a) + float(b)) / 2 / MM for a, b in
              re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">—</word>', html)]
    assert len(dashes) >= 4, "a number on each of two pages or more, a dash either side"
    assert all(abs(y - (37 + 225) - 7) <= 0.5 for y in dashes), [round(y - 262, 2) for y in dashes]


def test_titles_break_between_words_and_balance() -> None:
    assert balanced_lines("燕赵镇人民政府2026年第11批最低生活保障拟保障对象公示") == [
        "燕赵镇人民政府2026年第11批", "最低生活保障拟保障对象公示"]
    for title in ("曲阳县孝墓镇2026年第3批最低生活保障拟保障对象公示", "曲阳县2026年11月最低生活保障审核确认结果公布",
                  "燕赵镇2026年第11批最低生活保障拟保障对象公示"):
        parts = balanced_lines(title)
        assert "".join(parts) == title and len(parts) == 2
        assert not parts[1].startswith(("象", "示", "障", "布")), parts
        assert abs(len(parts[0]) - len(parts[1])) <= 6, parts


def _households(n: int, *, amount: str = "1260.00", township: str | None = None) -> list[dict[str, object]]:
    villages = ["东沟南村", "北养马村", "西燕川村", "南赵邱村"]
    rows: list[dict[str, object]] = [{"head_name": f"张{i:03d}", "village": villages[i % 4], "persons": 1 + i % 5,
                                      "monthly_amount": amount} for i in range(n)]
    if township:
        for row in rows:
            row["township"] = township
    return rows


def test_issuing_block_never_stands_alone(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """Every household count from 1 to 24 (the old layout left the seal alone on a page at 5–10 households):
    the page with the seal also carries list rows, the seal's top is within one line below the last one,
    and the office name and date sit below the seal's centre."""
    sample = documents.catalogue.family("dibao_notice").sample()
    for n in range(1, 25):
        out = documents.render("dibao_notice", sample | {"households": _households(n)})
        slot = out.rendered.slot("issuer")
        pdf = write_pdf(out.rendered.pdf, f"n{n}.pdf")
        page = lines(pdf, slot.page_index + 1)
        rows = [ln for ln in page if re.match(r"\d+张\d{3}", ln[4]) or ln[4].startswith("合计")]
        assert rows, f"{n} households: the seal's page holds no part of the list"
        body_bottom = max(ln[3] for ln in rows)
        centre_y = 297 - (slot.rect[1] + slot.rect[3]) / 2 / MM
        seal_top = centre_y - 21  # the township's 42 mm seal
        assert body_bottom - 0.5 <= seal_top <= body_bottom + PITCH, (n, body_bottom, seal_top)
        office = next(ln for ln in page if ln[4] == sample["issuer"])
        assert office[1] > centre_y - 1, "the office name sits below the seal's centre"


@pytest.mark.parametrize("count", [60, 200])
def test_tables_never_overflow(count: int, documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    data = documents.catalogue.family("dibao_result_notice").sample()
    data["households"] = _households(count, amount="9999.99", township="曲阳县燕赵镇东沟南村片区管理委员会街道")
    out = documents.render("dibao_result_notice", data)
    pdf = write_pdf(out.rendered.pdf)
    total = f"{9999.99 * count:,.2f}"
    text = pdftools.text(pdf)
    assert total in text, "the total of 100,000.00 and more stays on one line"
    assert len(re.findall(r"9,999\.99", text)) == count, "every amount whole on its line"
    for page in range(1, out.rendered.page_count + 1):
        for ln in lines(pdf, page):
            assert ln[0] >= 28 - 0.5 and ln[2] <= 184 + 0.5, (page, ln)


@pytest.mark.parametrize("family_id", ["dibao_result_notice", "dibao_decision"])
def test_security_code_clears_the_date(family_id: str, documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """The county seal's 防伪编码 runs along its lower arc; centred over the office name and date it printed over
    the date. Every code character's box (from the seal's own layout, at the slot's centre) stays clear of the
    date's line box as pdftotext measures it; the name still sits below the seal's centre."""
    from api.services.offices import DEMO_REGISTRY, Registry
    from signer.seal_image import layout

    out = documents.render(family_id, documents.catalogue.family(family_id).sample())
    slot = out.rendered.slot("issuer")
    office = Registry.load(DEMO_REGISTRY).by_name(slot.office or "")
    assert office is not None and office.seal_security_code, "the county's demo seal carries a 防伪编码"
    spec = office.seal_spec
    cx = (slot.rect[0] + slot.rect[2]) / 2 / MM - spec.diameter_mm / 2
    cy = 297 - (slot.rect[1] + slot.rect[3]) / 2 / MM - spec.diameter_mm / 2
    code = [g for g in layout(spec).glyphs if g.char.isdigit() and g.height < spec.diameter_mm * 0.06]
    assert len(code) == len(office.seal_security_code)
    pdf = write_pdf(out.rendered.pdf)
    page = lines(pdf, slot.page_index + 1)
    date = next(ln for ln in page if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", ln[4])
                and abs((ln[0] + ln[2]) / 2 - (cx + spec.diameter_mm / 2)) < 10)
    name = next(ln for ln in page if ln[4] == office.name)
    for g in code:
        x0, x1 = cx + g.x - g.height / 2, cx + g.x + g.height / 2
        y0, y1 = cy + g.y - g.height / 2, cy + g.y + g.height / 2
        overlap = x0 < date[2] and date[0] < x1 and y0 < date[3] and date[1] < y1
        assert not overlap, (g.char, round(y0 - date[3], 2), "mm below the date's box")
    assert name[1] > cy + spec.diameter_mm / 2, "the office name sits below the seal's centre"


VERIFY_URL = "https://minseal.example/v/ABCDEFGH12345678"


def test_sample_notice_fits_one_page_with_its_seal_and_qr(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """The 4-household sample 公示, as the service issues it (with its QR code), and each of its village-split
    notices: one page, list and seal together; the page's last rule closes the list (no frame runs on)."""
    from templates.notice_list import split_by_village

    sample = documents.catalogue.family("dibao_notice").sample()
    for data in [sample, *(part for _v, part in split_by_village(sample))]:
        out = documents.render("dibao_notice", data, verify_url=VERIFY_URL)
        assert out.rendered.page_count == 1 and out.rendered.slot("issuer").page_index == 0, data.get("title")
        pdf = write_pdf(out.rendered.pdf)
        total = next(ln for ln in lines(pdf, 1) if ln[4].startswith("合计"))
        assert _frame_ink_below(pdf, 1, total[3]) is None


def _frame_ink_below(pdf: Path, page: int, y_mm: float) -> float | None:
    """The first inked point on the list's right rule (x = 184 mm) from 4 mm below ``y_mm`` to the block's end."""
    image = pdftools.page_png(pdf, pdf.with_suffix(f".{page}"), page=page, dpi=144)
    k = 144 / 25.4
    x = round(183.9 * k)
    for y in range(round((y_mm + 4) * k), round(262 * k)):
        if min(image.getpixel((xx, y)) for xx in range(x - 3, x + 4)) < 128:  # type: ignore[operator]
            return y / k
    return None


def test_a_list_never_leaves_an_empty_framed_block(documents: DocumentService, write_pdf) -> None:  # type: ignore[no-untyped-def]
    """Where the last rows, the total and the seal move on to the next page, the page they leave ends at its
    last row's rule: the table's frame used to run on ~24 mm into the empty space."""
    sample = documents.catalogue.family("dibao_notice").sample()
    for n in (8, 12):
        out = documents.render("dibao_notice", sample | {"households": _households(n)}, verify_url=VERIFY_URL)
        pdf = write_pdf(out.rendered.pdf, f"n{n}.pdf")
        assert out.rendered.page_count == 2
        rows = [ln for ln in lines(pdf, 1) if re.match(r"\d*张\d{3}", ln[4])]
        assert rows, n
        ink = _frame_ink_below(pdf, 1, max(ln[3] for ln in rows))
        assert ink is None, (n, ink)


def _row_pitch_mm(pdf: Path) -> float:
    """The pitch of page 1's household rows (their text lines), which every closer line pitch changes."""
    rows = sorted((ln for ln in lines(pdf, 1) if re.search(r"张\d{3}$", ln[4])), key=lambda ln: ln[1])
    return min(b[1] - a[1] for a, b in itertools.pairwise(rows))


def test_a_short_overrun_closes_the_line_pitch_to_keep_the_seal_with_the_body(documents: DocumentService,
                                                                              write_pdf) -> None:  # type: ignore[no-untyped-def]
    """GB/T 9704 §7.3.5.1 (templates/fit.py): 5–7 households used to put the last row, the total and the seal on
    a second page with ~50 mm empty on the first. Now one page at a closer pitch (body lines 26–27 pt instead of
    28.94, never closer), seal on page 1; 8 households cannot be saved so, and keep the standard grid on two."""
    sample = documents.catalogue.family("dibao_notice").sample()
    four = documents.render("dibao_notice", sample | {"households": _households(4)}, verify_url=VERIFY_URL)
    grid = _row_pitch_mm(write_pdf(four.rendered.pdf, "n4.pdf"))
    for n in (5, 6, 7):
        out = documents.render("dibao_notice", sample | {"households": _households(n)}, verify_url=VERIFY_URL)
        assert out.rendered.page_count == 1 and out.rendered.slot("issuer").page_index == 0, n
        pdf = write_pdf(out.rendered.pdf, f"n{n}.pdf")
        assert _row_pitch_mm(pdf) < grid - 0.3, (n, grid)
        pitches = line_pitches(body_lines(lines(pdf, 1)))
        assert pitches and all(26 / MM - 0.1 <= p < 28.94 / MM - 0.3 for p in pitches), (n, pitches)
    out = documents.render("dibao_notice", sample | {"households": _households(8)}, verify_url=VERIFY_URL)
    assert out.rendered.page_count == 2
    assert abs(_row_pitch_mm(write_pdf(out.rendered.pdf, "n8.pdf")) - grid) < 0.1
