"""The editable Word copy keeps the PDF's layout rules (issue 22 item 10), measured rather than eyeballed: our
DOCX is converted by LibreOffice headless and read back with ``pdftotext -bbox-layout`` beside our own PDF of the
same data — same text, same title breaks, 28 characters a full body line, ID numbers and amounts whole on one
line, amounts right-aligned, same page count.

One conversion per module (one ``soffice`` run for both documents, ~3 s); LibreOffice runs with a private profile
(parallel runs never share one) and a fontconfig file that maps the office faces the DOCX names (仿宋_GB2312,
方正小标宋简体, 宋体, 黑体) to the open faces our PDF embeds, as an office machine has them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from api.services.documents import DocumentService
from templates.columns import FORM_WIDTHS
from templates.formats import money
from templates.titles import balanced_lines
from tests.support import pdftools

FONTS_CONF = Path(__file__).resolve().parents[1] / "support" / "office_fonts.conf"
FORM, NOTICE = "dibao_application", "dibao_notice"
#: GB/T 9704: the text block's left and right edges on the page, in points (28 mm + 156 mm)
BLOCK_LEFT, BLOCK_RIGHT = 28 * pdftools.MM, 184 * pdftools.MM


@dataclass
class Pair:
    data: dict[str, Any]
    ours: Path  # our PDF
    word: Path  # our DOCX
    office: Path  # the DOCX as LibreOffice lays it out


def _sample(documents: DocumentService, family_id: str) -> dict[str, Any]:
    data = documents.catalogue.family(family_id).sample()
    if family_id == NOTICE:  # an amount wide enough to wrap in a narrow column ("12,345.6 / 7")
        data["households"][0]["monthly_amount"] = "12345.67"
    return data


@pytest.fixture(scope="module")
def pairs(documents: DocumentService, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("LibreOffice is missing (soffice, Debian package libreoffice-writer-nogui): run scripts/setup")
    root = tmp_path_factory.mktemp("docx_layout")
    out: dict[str, Pair] = {}
    for family_id in (FORM, NOTICE):
        data = _sample(documents, family_id)
        rendered = documents.render(family_id, data, with_docx=True)
        assert rendered.docx is not None
        ours, word = root / f"{family_id}.pdf", root / f"{family_id}.docx"
        ours.write_bytes(rendered.rendered.pdf)
        word.write_bytes(rendered.docx)
        out[family_id] = Pair(data, ours, word, root / "office" / f"{family_id}.pdf")
    env = dict(os.environ, FONTCONFIG_FILE=str(FONTS_CONF))
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{root / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(root / "office"), *(str(p.word) for p in out.values())],
        capture_output=True, text=True, timeout=180, env=env)
    for pair in out.values():
        assert pair.office.exists(), f"LibreOffice made no PDF of {pair.word.name}: {done.stdout}{done.stderr}"
    return out


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _cells(text: str) -> float:
    """A line's width in characters of the grid: Chinese and full-width 1, digits and Latin ½."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in _flat(text))


def _lines(pdf: Path) -> list[pdftools.Line]:
    return [line for page in pdftools.layout(pdf) for line in page.lines]


@pytest.mark.parametrize("family_id", [FORM, NOTICE])
def test_same_text_and_page_count(family_id: str, pairs: dict[str, Pair]) -> None:
    pair = pairs[family_id]
    ours, office = pdftools.text(pair.ours), pdftools.text(pair.office)
    # the same characters, whitespace aside (a table's cells may be read in another order)
    assert Counter(_flat(office)) == Counter(_flat(ours)), (Counter(_flat(office)) - Counter(_flat(ours)),
                                                            Counter(_flat(ours)) - Counter(_flat(office)))
    if family_id == NOTICE:  # running text: in the same order too
        assert _flat(office) == _flat(ours)
    assert pdftools.info(pair.office)["Pages"] == pdftools.info(pair.ours)["Pages"]


def test_title_breaks_where_the_pdf_breaks_it(pairs: dict[str, Pair]) -> None:
    pair = pairs[NOTICE]
    heading = pair.data["title"]
    want = balanced_lines(heading)
    assert len(want) > 1, "the sample's title runs over a line"
    for pdf in (pair.ours, pair.office):
        first = [line for line in pdftools.layout(pdf)[0].lines if line.y1 - line.y0 > 20][:len(want)]  # 2号
        assert [_flat(line.text) for line in first] == want, pdf.name


def test_body_lines_hold_28_characters(pairs: dict[str, Pair]) -> None:
    """A full line of Chinese (one reaching the text block's right edge) holds 28 characters of 3号, as the PDF's.
    (Lines with digits are left out: LibreOffice ignores ``w:autoSpaceDE`` and puts a quarter em between Chinese
    and digits, which Word and WPS do not.)"""
    for pdf in (pairs[NOTICE].ours, pairs[NOTICE].office):
        body = [line for line in pdftools.layout(pdf)[0].lines
                if 15 < line.y1 - line.y0 < 22 and line.x1 > BLOCK_RIGHT - 6 and line.x0 < BLOCK_LEFT + 40
                and not re.search(r"[0-9A-Za-z]", line.text)]
        assert len(body) >= 2, (pdf.name, body)
        widths = [_cells(line.text) + (2 if line.x0 > BLOCK_LEFT + 20 else 0) for line in body]  # + the indent
        assert all(27 <= w <= 29 for w in widths), (pdf.name, list(zip(widths, [x.text for x in body], strict=True)))
        assert max(widths) >= 28, (pdf.name, widths)


def test_numbers_stay_whole_on_one_line(pairs: dict[str, Pair]) -> None:
    form, notice = pairs[FORM], pairs[NOTICE]
    ids = [form.data["applicant"]["id_number"], *(m["id_number"] for m in form.data["members"])]
    amounts = [money(Decimal(h["monthly_amount"])) for h in notice.data["households"]]
    for pdf, wanted in ((form.office, ids), (notice.office, amounts)):
        lines = [_flat(line.text) for line in _lines(pdf)]
        for value in wanted:
            assert any(value in line for line in lines), (pdf.name, value)


def test_amounts_right_aligned_in_their_column(pairs: dict[str, Pair]) -> None:
    notice, form = pairs[NOTICE], pairs[FORM]
    amounts = {money(Decimal(h["monthly_amount"])) for h in notice.data["households"]}
    incomes = {money(Decimal(m["monthly_income"])) for m in form.data["members"]}
    for pdf, wanted in ((notice.ours, amounts), (notice.office, amounts), (form.office, incomes)):
        cells = [line for line in _lines(pdf) if _flat(line.text) in wanted]
        assert len(cells) >= len(wanted), (pdf.name, cells)
        rights, lefts = [c.x1 for c in cells], [c.x0 for c in cells]
        assert max(rights) - min(rights) < 1.5, (pdf.name, "amounts end at the column's right", cells)
        assert max(lefts) - min(lefts) > 3, (pdf.name, "amounts of different lengths start apart", cells)


def _grid(word: Path) -> list[list[int]]:
    """Each table's w:gridCol widths, in twips."""
    with zipfile.ZipFile(word) as package:
        body = package.read("word/document.xml").decode()
    return [[int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', grid)]
            for grid in re.findall(r"<w:tblGrid>(.*?)</w:tblGrid>", body)]


def test_columns_in_the_pdfs_proportions(pairs: dict[str, Pair], documents: DocumentService) -> None:
    """The opinion boxes (12.22 : 87.78, not 50 : 50) and the list's fitted columns, in fixed layout."""
    grids = _grid(pairs[FORM].word)
    tiers = grids[-1]
    assert len(tiers) == 2 and abs(tiers[0] / sum(tiers) * 100 - FORM_WIDTHS["tiers"][0]) < 0.2, tiers
    prepared = documents.catalogue.prepare(NOTICE, pairs[NOTICE].data)
    (listed,) = _grid(pairs[NOTICE].word)
    pdf_widths = prepared.view["column_widths"]
    assert all(abs(w / sum(listed) - p / sum(pdf_widths)) < 0.002 for w, p in zip(listed, pdf_widths, strict=True)), \
        (listed, pdf_widths)
    with zipfile.ZipFile(pairs[NOTICE].word) as package:
        body = package.read("word/document.xml").decode()
    assert '<w:tblLayout w:type="fixed"/>' in body
    assert re.search(r'<w:docGrid [^>]*w:linePitch="579"', body), "22 lines in 225 mm"


@pytest.mark.parametrize("family_id", [FORM, NOTICE])
def test_core_properties_are_the_copys_own(family_id: str, pairs: dict[str, Pair], documents: DocumentService) -> None:
    word = pairs[family_id].word
    with zipfile.ZipFile(word) as package:
        core = package.read("docProps/core.xml").decode()
        names = package.namelist()
    year = str(datetime.now(UTC).year)
    for tag in ("created", "modified"):
        value = re.search(rf"<dcterms:{tag}[^>]*>([^<]+)<", core)
        assert value and value.group(1).startswith(year), (tag, core)
    printed = re.search(r"<cp:lastPrinted>([^<]+)<", core)
    assert printed is None or printed.group(1).startswith(year), core
    prepared = documents.catalogue.prepare(family_id, pairs[family_id].data)
    assert f"<dc:creator>{prepared.issuer}</dc:creator>" in core or family_id == FORM
    title = re.search(r"<dc:title>([^<]*)<", core)
    assert title and title.group(1) == (prepared.view.get("heading") or documents.catalogue.family(family_id).title)
    assert not any("thumbnail" in n for n in names), "python-docx's template thumbnail of another document"
