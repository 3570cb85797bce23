"""Scans of hand-signed pages through the scan service: the type is read from the bytes (never from the name), the
size and page limits hold, only the case's offices reach a scan (everyone else gets the unknown case's 404), a
scan may name only a document of its own case, and every stored scan is its bytes, hashed and audited."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from io import BytesIO

import pytest
from PIL import Image, ImageDraw

from api.services.documents import DocumentService
from api.services.identity import Principal, Role
from api.services.scans import ScanService, clean_filename, sniff
from api.storage import cases as case_store
from api.storage import scans as scan_store
from api.storage.models import ScanRow
from signer.errors import ConflictError, InputFileError, MinSealError, NotFoundError, UploadTooLargeError
from tests.support.cases import Staff, filed_by, household, principal, staff
from tests.support.public_world import DAY0
from tests.support.service_world import FAR_TOWNSHIP, OTHER_TOWNSHIP, OTHER_VILLAGE, TOWNSHIP, World


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("scans"), documents)
    built.services.clock.set(DAY0)
    yield built
    built.services.db.dispose()


@pytest.fixture(scope="module")
def s(world: World) -> Staff:
    return staff(world)


def signed_page(width: int = 400, height: int = 560, *, kind: str = "PNG", mark: int = 0) -> bytes:
    """A small scan: a white page with a signature stroke (``mark`` makes each one's bytes differ)."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(40, height - 80), (200 + mark, height - 60), (260, height - 90)], fill=0, width=4)
    out = BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


def flipped(data: bytes, at: int) -> bytes:
    """``data`` with one byte changed."""
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def a_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def new_case(world: World, s: Staff) -> tuple[str, str]:
    """A 低保 application the township has received: (case id, application id)."""
    doc = filed_by(world, s, household())
    with world.services.db.session() as session:
        row = case_store.case_of_application(session, doc)
        assert row is not None
        return row.id, doc


def blob_names(world: World) -> set[str]:
    return {p.name for p in world.settings.blobs_dir.glob("*/*") if not p.name.startswith(".")}


def test_a_png_named_pdf_is_stored_as_png_with_its_hash_and_audit_row(world: World, s: Staff) -> None:
    case_id, doc = new_case(world, s)
    data = signed_page()
    view = world.services.scans.add(s.township, case_id, data, filename="C:\\扫描\\授权书 签字.pdf",
                                    label=" 授权书签字页 ", document_id=doc)
    assert (view.media_type, view.filename, view.label) == ("image/png", "授权书 签字.png", "授权书签字页")
    assert view.sha256 == hashlib.sha256(data).hexdigest() and view.size == len(data)
    assert (view.case_id, view.document_id, view.office_id) == (case_id, doc, TOWNSHIP)
    assert view.uploaded_by == s.township.actor
    got, stored = world.services.scans.file(s.village, view.id)  # the village of the case reads it too
    assert got == view and stored == data
    assert [v.id for v in world.services.scans.listing(s.village, case_id)] == [view.id]
    [row] = [r for r in world.services.audit_rows() if r.action == "scan.add" and r.detail.get("scan") == view.id]
    assert (row.actor, row.office_id, row.document_id) == (s.township.actor, TOWNSHIP, doc)
    assert row.detail["sha256"] == view.sha256 and row.detail["label"] == "授权书签字页"
    assert row.detail["case"] == case_id
    with world.services.db.session() as session:  # a blob sweep is told to keep it
        assert view.sha256 in scan_store.referenced(session)


def test_jpeg_and_pdf_are_kept_as_they_are(world: World, s: Staff) -> None:
    case_id, _doc = new_case(world, s)
    jpeg = world.services.scans.add(s.village, case_id, signed_page(kind="JPEG"), filename="p1.JPEG",
                                    label="入户调查表签字页")
    assert (jpeg.media_type, jpeg.filename) == ("image/jpeg", "p1.jpeg")
    pdf = world.services.scans.add(s.village, case_id, a_pdf(2), filename="评议.png", label="民主评议记录签字页")
    assert (pdf.media_type, pdf.filename) == ("application/pdf", "评议.pdf")
    assert [v.id for v in world.services.scans.listing(s.township, case_id)] == [jpeg.id, pdf.id]


@pytest.mark.parametrize(("data", "why"), [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "an executable"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "HTML"),
    (b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
    (b"%PDF-1.7\n this is not a PDF at all", "a broken PDF"),
    (signed_page()[:300], "a truncated PNG"),
    (flipped(signed_page(), 200), "a PNG with a damaged byte"),
    (signed_page(kind="JPEG")[:-400], "a truncated JPEG"),
    (signed_page(40, 30), "an image too small to show a signature"),
    (b"", "nothing"),
], ids=["exe", "html", "svg", "broken-pdf", "truncated-png", "damaged-png", "truncated-jpeg", "tiny-image", "empty"])
def test_what_is_not_a_scan_is_refused_and_nothing_is_stored(world: World, s: Staff, data: bytes, why: str) -> None:
    case_id, _doc = new_case(world, s)
    before = blob_names(world)
    with pytest.raises(InputFileError) as refused:
        world.services.scans.add(s.village, case_id, data, filename="scan.png", label="授权书签字页")
    assert refused.value.code == "SCAN_TYPE", why
    assert world.services.scans.listing(s.village, case_id) == []
    assert blob_names(world) == before


def test_size_and_page_limits(world: World, s: Staff) -> None:
    case_id, _doc = new_case(world, s)
    data = signed_page()
    small = ScanService(db=world.services.db, blobs=world.services.blobs, max_bytes=len(data) - 1)
    with pytest.raises(UploadTooLargeError) as too_large:
        small.add(s.village, case_id, data, filename="a.png", label="授权书签字页")
    assert too_large.value.code == "SCAN_TOO_LARGE"
    with pytest.raises(UploadTooLargeError) as too_long:
        world.services.scans.add(s.village, case_id, a_pdf(21), filename="a.pdf", label="其他")
    assert too_long.value.code == "SCAN_TOO_MANY_PAGES"
    assert world.services.scans.add(s.village, case_id, a_pdf(20), filename="a.pdf", label="其他").size > 0
    assert world.services.settings.scan_max_bytes == 10 * 2**20


def test_offices_off_the_case_get_the_unknown_cases_404(world: World, s: Staff) -> None:
    case_id, _doc = new_case(world, s)
    scan = world.services.scans.add(s.village, case_id, signed_page(mark=1), filename="a.png", label="授权书签字页")
    outsiders: list[Principal] = [principal(world, OTHER_TOWNSHIP, Role.CLERK),
                                  principal(world, OTHER_TOWNSHIP, Role.REVIEWER),
                                  principal(world, OTHER_VILLAGE, Role.CLERK),
                                  principal(world, FAR_TOWNSHIP, Role.REVIEWER),
                                  principal(world, TOWNSHIP, Role.ADMIN)]  # on the case's route, but not staff
    unknown = _error(lambda: world.services.scans.listing(s.township, "0" * 32))
    unknown_scan = _error(lambda: world.services.scans.file(s.township, "0" * 32))
    for who in outsiders:
        assert _error(lambda w=who: world.services.scans.listing(w, case_id)) == unknown
        assert _error(lambda w=who: world.services.scans.add(w, case_id, signed_page(mark=2), filename="x.png",
                                                             label="其他")) == unknown
        assert _error(lambda w=who: world.services.scans.file(w, scan.id)) == unknown_scan
    assert unknown == ("UNKNOWN_CASE", "没有这个案件，或它不属于本单位")
    assert [v.id for v in world.services.scans.listing(s.township, case_id)] == [scan.id]


def test_the_county_sees_a_case_only_once_it_was_reported(world: World, s: Staff) -> None:
    case_id, _doc = new_case(world, s)  # at the township: not yet the county's
    with pytest.raises(NotFoundError):
        world.services.scans.listing(s.county, case_id)


def test_a_scan_names_only_a_document_of_its_own_case(world: World, s: Staff) -> None:
    case_id, doc = new_case(world, s)
    _other_case, other_doc = new_case(world, s)
    for wrong in (other_doc, "f" * 32):
        with pytest.raises(MinSealError) as refused:
            world.services.scans.add(s.township, case_id, signed_page(mark=3), filename="a.png",
                                     label="授权书签字页", document_id=wrong)
        assert refused.value.code == "SCAN_DOCUMENT" and refused.value.to_dict()["fields"] == [
            {"path": "document_id", "message": "所选文书不属于本案件"}]
    assert [p.id for p in world.services.scans.papers(s.township, case_id)] == [doc]
    assert world.services.scans.listing(s.township, case_id) == []


def test_labels_and_duplicates(world: World, s: Staff) -> None:
    case_id, _doc = new_case(world, s)
    for label in ("", "   ", "签" * 41):
        with pytest.raises(MinSealError) as refused:
            world.services.scans.add(s.village, case_id, signed_page(mark=4), filename="a.png", label=label)
        assert refused.value.code == "SCAN_LABEL"
    data = signed_page(mark=5)
    world.services.scans.add(s.village, case_id, data, filename="a.png", label="发放记录签字页")
    with pytest.raises(ConflictError) as twice:
        world.services.scans.add(s.township, case_id, data, filename="b.png", label="发放记录签字页")
    assert twice.value.code == "SCAN_DUPLICATE"
    with world.services.db.session() as session:
        assert len([r for r in scan_store.of_case(session, case_id) if isinstance(r, ScanRow)]) == 1


@pytest.mark.parametrize(("name", "media_type", "expected"), [
    ("../../etc/passwd", "image/png", "passwd.png"),
    ("授权书\x00\u202e.exe.pdf", "application/pdf", "授权书.exe.pdf"),
    ('a<b>:"c"|?*;.jpg', "image/jpeg", "a_b___c_____.jpg"),
    ("", "image/png", "扫描件.png"),
    ("...", "image/png", "扫描件.png"),
    ("名" * 200 + ".png", "image/png", "名" * 116 + ".png"),
])
def test_file_names_are_cleaned_and_end_as_their_type(name: str, media_type: str, expected: str) -> None:
    assert clean_filename(name, media_type) == expected
    assert len(clean_filename(name, media_type)) <= 120


def test_sniffing_reads_the_bytes_not_the_name() -> None:
    assert sniff(signed_page()) == "image/png"
    assert sniff(signed_page(kind="JPEG")) == "image/jpeg"
    assert sniff(a_pdf(1)) == "application/pdf"


def _error(call: object) -> tuple[str, str]:
    try:
        call()  # type: ignore[operator]
    except MinSealError as error:
        return error.code, error.message
    raise AssertionError("no error")
