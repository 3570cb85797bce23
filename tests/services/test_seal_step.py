"""The seal step as an official would sign it (issue 11): each tier's decision validated and drawn inside its own
signature; opinions fitted, never cut; one seal, one size; rare characters; 骑缝章 slices inside the page."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from api.cli.main import main
from api.services.authority import SealAuthority
from api.services.documents import DocumentService, seal_font
from api.services.local_rules import local_rules
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer.errors import NotSealableError, TemplateDataError
from signer.pki import Tier
from signer.relief_route import relief_approver, relief_file_ends_after
from signer.seal_image import SealFont, SealSpec, seal_svg
from signer.sign import RIDING_INSET, RIDING_MIN_SLICE, riding_groups
from tests.services.test_sealing import red_mask, root_asn1
from tests.support import pdftools
from tests.support.installations import install_demo

VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100", "130634"
DAY = dt.date(2026, 12, 20)
MM = 72 / 25.4
TOWNSHIP_DECISION = {"persons": 3, "monthly_amount": "1260.00", "notice_from": "2026-12-01",
                     "notice_to": "2026-12-07", "handler": "王干事", "head": "赵镇长"}
#: (870 − 320/3) × 3 = 2,290.00 exactly rounded once (also the yuan-rounded payment of 2,289.99 that rounding the
#: per-capita income first gives): the county's amount whichever rounding the one rule uses
COUNTY_DECISION = {"persons": 3, "category": "B类", "standard": "870.00", "monthly_amount": "2290.00",
                   "start_month": "2027-01", "handler": "孙股长", "head": "钱局长"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, SealAuthority, SealingService]]:
    root = tmp_path_factory.mktemp("seal-step")
    # seals here are B-B (no timestamp) for speed; the countersign check is set to accept that level
    settings = Settings(data_dir=root / "var", keys_dir=root / "keys", min_level="B-B")
    # init-demo's installation, copied (min_level shapes no key or certificate: the default settings' copy)
    install_demo(settings.model_copy(update={"min_level": Settings.model_fields["min_level"].default}))
    authority = SealAuthority(settings)
    check = VerificationService(settings, authority).verify
    yield settings, authority, SealingService(settings, authority, check=check)


@pytest.fixture(scope="module")
def form(documents: DocumentService) -> bytes:
    return documents.render("dibao_application", documents.catalogue.family("dibao_application").sample()).rendered.pdf


def _through_township(sealing: SealingService, form: bytes) -> bytes:
    pdf = sealing.seal(form, VILLAGE, level="B-B", day=DAY).pdf
    return sealing.seal(pdf, TOWNSHIP, level="B-B", day=DAY, decision=TOWNSHIP_DECISION).pdf


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_county_decision_is_drawn_inside_its_signature(world, form, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _settings, authority, sealing = world
    before = _through_township(sealing, form)
    after = sealing.seal(before, COUNTY, level="B-B", day=DAY, decision=COUNTY_DECISION).pdf
    (tmp_path / "before.pdf").write_bytes(before)
    (tmp_path / "after.pdf").write_bytes(after)
    figures = ["核定保障人数：3人", "保障类别：B类", "保障标准：870.00", "月人均收入差额：763.33元",
               "户月保障金额：2,290.00元", "起始发放月份：2027年1月", "孙股长", "钱局长"]
    was, now = _flat(pdftools.text(tmp_path / "before.pdf")), _flat(pdftools.text(tmp_path / "after.pdf"))
    for figure in figures:
        assert figure not in was and figure in now, figure
    # the township's figures and staff are in its own box, in its own revision
    assert "初审保障人数：3人" in was and "公示：2026年12月1日至2026年12月7日（7天），无异议" in was
    # covered by the county's signature: the figures live in the county's widget, added in its signed revision
    reader = PdfFileReader(BytesIO(after))
    county = next(s for s in reader.embedded_signatures if s.field_name == "MinSeal-county")
    status = validate_pdf_signature(county, ValidationContext(trust_roots=[root_asn1(authority)]))
    assert status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"
    widget = county.sig_field
    stream = widget["/AP"]["/N"].get_object()
    assert b"/MinSealText0" in stream.data and "/MinSealText0" in stream["/Resources"]["/Font"]


@pytest.mark.parametrize(("change", "path", "words"), [
    ({"monthly_amount": "2400.00"}, "decision.monthly_amount", "家庭月总收入 320.00 ÷ 家庭人口 3"),
    ({"start_month": "2026-12"}, "decision.start_month", "次月"),
    ({"persons": 4}, "decision.persons", "家庭人口 3 人"),
    ({"income_gap": "800.00"}, "decision.income_gap", "870.00 − 家庭月人均收入 106.67"),
    ({"bonus": 1}, "decision.bonus", "未知字段"),
])
def test_county_decision_is_validated(world, form, change, path, words) -> None:  # type: ignore[no-untyped-def]
    _settings, _authority, sealing = world
    before = _through_township(sealing, form)
    with pytest.raises(TemplateDataError) as caught:
        sealing.seal(before, COUNTY, level="B-B", day=DAY, decision=COUNTY_DECISION | change)
    assert [p.path for p in caught.value.problems] == [path]
    assert words in caught.value.problems[0].message


def test_township_notice_period_of_the_rule(world, form) -> None:  # type: ignore[no-untyped-def]
    _settings, _authority, sealing = world
    village = sealing.seal(form, VILLAGE, level="B-B", day=DAY).pdf
    with pytest.raises(TemplateDataError, match="第十九条"):
        sealing.seal(village, TOWNSHIP, level="B-B", day=DAY, decision=TOWNSHIP_DECISION | {"notice_to": "2026-12-05"})
    with pytest.raises(TemplateDataError, match="尚未结束"):
        sealing.seal(village, TOWNSHIP, level="B-B", day=dt.date(2026, 12, 6), decision=TOWNSHIP_DECISION)


def test_relief_routing_by_amount(world, documents: DocumentService) -> None:  # type: ignore[no-untyped-def]
    settings, _authority, sealing = world
    limit = local_rules(settings).relief_township_limit
    assert limit == Decimal("2610.00")  # 3 × the urban 低保标准 870.00
    assert relief_approver(limit, township_limit=limit) is Tier.TOWNSHIP
    assert relief_approver(limit + Decimal("0.01"), township_limit=limit) is Tier.COUNTY
    assert relief_file_ends_after(Tier.TOWNSHIP, Decimal("2000"), township_limit=limit)
    assert not relief_file_ends_after(Tier.TOWNSHIP, Decimal("8000"), township_limit=limit)
    data = documents.catalogue.family("temp_relief_application").sample()
    data["offices"] = {"village": "东沟南村村民委员会", "township": "燕赵镇人民政府", "county": "曲阳县民政局"}
    pdf = sealing.seal(documents.render("temp_relief_application", data).rendered.pdf, VILLAGE, level="B-B",
                       day=DAY).pdf
    with pytest.raises(TemplateDataError, match=r"超过乡镇（街道）审批权限 2,610\.00 元"):
        sealing.seal(pdf, TOWNSHIP, level="B-B", day=DAY,
                     decision={"proposed_amount": "8000", "method": "救助金", "approved_amount": "8000"})
    ok = sealing.seal(pdf, TOWNSHIP, level="B-B", day=DAY,
                      decision={"proposed_amount": "2000", "method": "实物", "approved_amount": "2000"}).pdf
    reader = PdfFileReader(BytesIO(ok))
    stream = next(s for s in reader.embedded_signatures if s.field_name == "MinSeal-township").sig_field
    assert stream["/AP"]["/N"].get_object().data  # drawn


def test_long_opinion_with_rare_characters_is_fitted_and_readable(world, form, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _settings, _authority, sealing = world
    before = _through_township(sealing, form)
    opinion = ("经审核确认，申请人王䶮家庭共同生活成员三人，其子王燚在校就读，家庭月人均收入低于当地最低生活保障标准，"
               "符合最低生活保障条件，同意纳入最低生活保障。")
    opinion = (opinion * 3)[:156]
    assert len(opinion) == 156 and "䶮" in opinion and "燚" in opinion
    sealed = sealing.seal(before, COUNTY, level="B-B", day=DAY, opinion=opinion, decision=COUNTY_DECISION).pdf
    path = tmp_path / "long.pdf"
    path.write_bytes(sealed)
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert opinion in _flat(raw), "every character of the opinion is there, as text (in reading order)"
    with pytest.raises(NotSealableError) as caught:
        sealing.seal(before, COUNTY, level="B-B", day=DAY, opinion=opinion * 3, decision=COUNTY_DECISION)
    assert caught.value.code == "OPINION_TOO_LONG"
    assert re.search(r"最小字号 10.5 磅时最多容纳约 \d+ 字，实际 468 字", caught.value.message)


def _seal_extent(pdf: Path, tmp_path: Path, page: int, rect: tuple[float, float, float, float]) -> float:
    """Width in points of the red ink inside ``rect`` (a 144 dpi render)."""
    image = pdftools.page_png(pdf, tmp_path / f"ext{page}", page=page, dpi=144, mode="RGB")
    k = 2.0
    x1, y1, x2, y2 = rect
    h = image.height / k
    xs = [x / k for x, y in red_mask(image) if x1 <= x / k <= x2 and h - y2 <= y / k <= h - y1]
    return max(xs) - min(xs)


def test_one_seal_one_size(world, documents: DocumentService, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The township's 42 mm seal measures 42 mm in a form box and over a notice's issuing block alike."""
    _settings, _authority, sealing = world
    form = documents.render("dibao_application", documents.catalogue.family("dibao_application").sample())
    pdf = _through_township(sealing, form.rendered.pdf)
    (tmp_path / "form.pdf").write_bytes(pdf)
    slot = form.rendered.slot("township")
    in_box = _seal_extent(tmp_path / "form.pdf", tmp_path, slot.page_index + 1, slot.rect)
    notice = documents.render("dibao_certificate", documents.catalogue.family("dibao_certificate").sample())
    sealed = sealing.seal(notice.rendered.pdf, TOWNSHIP, level="B-B", day=DAY).pdf
    (tmp_path / "cert.pdf").write_bytes(sealed)
    issuer = notice.rendered.slot("issuer")
    on_notice = _seal_extent(tmp_path / "cert.pdf", tmp_path, issuer.page_index + 1, issuer.rect)
    assert abs(in_box - 42 * MM) < 1.5 * MM and abs(on_notice - 42 * MM) < 1.5 * MM, (in_box / MM, on_notice / MM)


def test_seal_artwork_song_face_and_security_code() -> None:
    font = seal_font()
    assert "gbsn00lp" in str(font.path), "seals are cut in a 宋体 face"
    plain = seal_svg(SealSpec("燕赵镇人民政府"), font)
    coded = seal_svg(SealSpec("燕赵镇人民政府", security_code="1306340012345"), font)
    assert coded.count("<path") == plain.count("<path") + 13
    assert isinstance(font, SealFont)


def test_riding_seal_groups_and_slice_widths() -> None:
    d = 42 * MM
    assert riding_groups(3, d) == [[0, 1, 2]]
    assert riding_groups(7, d) == [[0, 1, 2, 3], [4, 5, 6]]
    assert all(d / len(g) >= RIDING_MIN_SLICE for g in riding_groups(30, d))
    assert RIDING_INSET >= 5 * MM - 0.01


def test_cli_seal_takes_a_decision_file(world, form, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    settings, _authority, sealing = world
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(settings.keys_dir))
    source = tmp_path / "in.pdf"
    source.write_bytes(sealing.seal(form, VILLAGE, level="B-B", day=DAY).pdf)
    decision = tmp_path / "d.json"
    decision.write_text('{"persons": 9, "monthly_amount": "1", "notice_from": "2020-01-01", '
                        '"notice_to": "2020-01-07"}', encoding="utf-8")
    code = main(["seal", str(source), "--office", TOWNSHIP, "-o", str(tmp_path / "out.pdf"), "--level", "B-B",
                 "--decision", str(decision)])
    err = capsys.readouterr().err
    assert code != 0 and "decision.persons" in err and not (tmp_path / "out.pdf").exists()


EMBLEM_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <path d="M 0 0 L 100 0 L 100 100 L 0 100 Z M 30 30 L 70 30 L 70 70 L 30 70 Z"/>
</svg>"""


def test_an_office_emblem_replaces_the_star(tmp_path: Path) -> None:
    """Where an office's seal carries another emblem than the star, it supplies the artwork (filled SVG paths);
    it is drawn in the star's place and box, holes open, in the SVG, the PNG and the PDF appearance alike, and it
    lives in the database with the rest of the registry."""
    from PIL import Image

    from api.services.offices import DEMO_REGISTRY, DatabaseRegistry, Registry, RegistryError
    from api.storage.engine import Database, database_url
    from api.storage.migrate import upgrade
    from signer.appearance import OutlineFont, seal_ops
    from signer.seal_image import emblem_from_svg, seal_png

    (tmp_path / "emblem.svg").write_text(EMBLEM_SVG, encoding="utf-8")
    text = DEMO_REGISTRY.read_text("utf-8").replace(
        'credit_code = "11130634MB0P23456A"\nseal = { diameter_mm = 42, emblem = "minseal:demo-stand-in" }',
        'credit_code = "11130634MB0P23456A"\nseal = { diameter_mm = 42, emblem = "emblem.svg" }', 1)
    assert "emblem.svg" in text
    (tmp_path / "registry.toml").write_text(text, encoding="utf-8")
    office = Registry.load(tmp_path / "registry.toml").get("130634100")
    assert office.seal_emblem == emblem_from_svg(EMBLEM_SVG) and len(office.seal_emblem) == 2
    spec = office.seal_spec
    svg = seal_svg(spec, seal_font())
    assert 'fill-rule="evenodd"' in svg and svg.count(" Z") == 2
    plain = seal_svg(SealSpec(spec.name, spec.diameter_mm), seal_font())
    assert plain.count(" Z") == 1  # the star: one polygon
    image = Image.open(BytesIO(seal_png(spec, seal_font(), dpi=300))).convert("RGBA")
    c = image.width // 2
    assert image.getpixel((c, c))[3] == 0, "the emblem's hole stays open"
    assert image.getpixel((c + image.width // 8, c))[3] > 200, "its body is inked"
    star = Image.open(BytesIO(seal_png(SealSpec(spec.name, spec.diameter_mm), seal_font(), dpi=300))).convert("RGBA")
    assert star.getpixel((c, c))[3] > 200
    face = seal_font()
    ops = seal_ops(spec, OutlineFont(face.path, face.index))
    assert b"f*" in ops
    db = Database(database_url(None, tmp_path / "db"))
    try:
        upgrade(db.engine)
        store = DatabaseRegistry(db)
        store.import_file(tmp_path / "registry.toml", county_seal_mm=42.0)
        loaded = store.load()
        assert loaded is not None and loaded.get("130634100").seal_emblem == office.seal_emblem
    finally:
        db.dispose()
    (tmp_path / "emblem.svg").write_text("<svg viewBox='0 0 1 1'><path d='M 0 0 Q'/></svg>", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"emblem\.svg"):
        Registry.load(tmp_path / "registry.toml")


def test_a_government_seal_is_refused_without_its_emblem(tmp_path: Path) -> None:
    """国发〔1999〕25号: a 人民政府's seal carries the national emblem. Without its artwork the registry refuses the
    office, naming the file it needs, instead of drawing a star; ``emblems/<id>.svg`` beside it is picked up; the
    demo's townships carry MinSeal's marked stand-in, never the real emblem."""
    from api.services.offices import DEMO_EMBLEM, DEMO_REGISTRY, Registry, RegistryError
    from signer.seal_image import emblem_from_svg

    text = DEMO_REGISTRY.read_text("utf-8").replace(', emblem = "minseal:demo-stand-in"', "")
    (tmp_path / "registry.toml").write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        Registry.load(tmp_path / "registry.toml")
    message = caught.value.message
    for office_id, name in (("130634100", "燕赵镇人民政府"), ("130634101", "孝墓镇人民政府")):
        assert f"「{name}」的印章中央为国徽" in message
        assert str(tmp_path / "emblems" / f"{office_id}.svg") in message, "the refusal names the file it needs"
    assert "曲阳县民政局" not in message and "村民委员会" not in message, "a bureau's and a village's seal: the star"
    (tmp_path / "emblems").mkdir()
    for office_id in ("130634100", "130634101"):
        (tmp_path / "emblems" / f"{office_id}.svg").write_text(EMBLEM_SVG, encoding="utf-8")
    registry = Registry.load(tmp_path / "registry.toml")
    assert registry.get("130634101").seal_emblem == emblem_from_svg(EMBLEM_SVG)
    assert registry.get("130634100201").seal_emblem is None
    demo = Registry.load(DEMO_REGISTRY)
    stand_in = DEMO_EMBLEM.read_text("utf-8")
    assert "不是国徽" in stand_in and "NOT the national emblem" in stand_in
    assert demo.get("130634100").seal_emblem == emblem_from_svg(stand_in)
