"""Sealing through the real stack: render → village certifies → township and county countersign, checked
by poppler's pdfsig (NSS trust store made here) and pyHanko; timestamps and revocation over real HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfWriter
from sqlalchemy import select

from api.cli.main import main
from api.services.authority import SealAuthority
from api.services.documents import DocumentService, seal_font
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from api.storage import audit
from api.storage.models import AuditRow
from signer.errors import NotSealableError, SealRevokedError, SealStateError, WrongOfficeError
from tests.support import pdftools
from tests.support.servers import free_port, serve

VILLAGE, OTHER_VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100202", "130634100", "130634"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, SealAuthority, SealingService]]:
    """Demo PKI whose certificates point at a live MinSeal PKI service (CRL, OCSP, TSA) on 127.0.0.1."""
    root = tmp_path_factory.mktemp("sealing")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=root / "var", keys_dir=root / "keys", public_base_url=base,
                        tsa_url=f"{base}/pki/tsa", fetch_revocation=True)
    authority = SealAuthority(settings)
    authority.init_demo(seal_font())
    with serve(settings, port):
        check = VerificationService(settings, authority).verify
        yield settings, authority, SealingService(settings, authority, check=check)


@pytest.fixture(scope="module")
def nssdb(world: tuple[Settings, SealAuthority, SealingService], tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("nss")
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-n", "minseal-root", "-t", "CT,C,C", "-i",
                    str(world[1].root_cert_path), "-d", f"sql:{db}"], check=True)
    return db


@pytest.fixture(scope="module")
def form_pdf(documents: DocumentService) -> bytes:
    return documents.render("dibao_application", documents.catalogue.family("dibao_application").sample()).rendered.pdf


def pdfsig(pdf: bytes, nssdb: Path, tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / f"{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nssdb}", str(path)], capture_output=True, text=True,
                         timeout=120).stdout
    sigs = []
    for block in re.split(r"^Signature #\d+:\n", out, flags=re.M)[1:]:
        fields = dict(re.findall(r"^[ \t]+- ([^:\n]+): (.*)$", block, flags=re.M))
        sigs.append(fields)
    return sigs


def root_asn1(authority: SealAuthority) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(authority.root_certificate().public_bytes(serialization.Encoding.DER))


def red_mask(image: Image.Image) -> list[tuple[int, int]]:
    rgb = image.convert("RGB")
    px = rgb.load()
    return [(x, y) for y in range(rgb.height) for x in range(rgb.width)
            if (p := px[x, y])[0] > 170 and p[1] < 110 and p[2] < 110]


def test_three_tiers_seal_and_every_verifier_agrees(world, nssdb, form_pdf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _settings, authority, sealing = world
    versions = [form_pdf]
    for office in (VILLAGE, TOWNSHIP, COUNTY):
        result = sealing.seal(versions[-1], office, level="B-LT", actor="test")
        assert result.certified == (office == VILLAGE)
        assert result.pdf.startswith(versions[-1]), "a seal is an incremental update; earlier bytes unchanged"
        versions.append(result.pdf)
    final = versions[-1]

    # poppler: every signature intact, its certificate trusted through the NSS store holding our root
    sigs = pdfsig(final, nssdb, tmp_path)
    assert len(sigs) == 3
    for sig in sigs:
        assert sig["Signature Validation"] == "Signature is Valid.", sig
        assert sig["Certificate Validation"] == "Certificate is Trusted.", sig
    names = {s["Signer Certificate Common Name"] for s in sigs}
    assert names == {"东沟南村村民委员会", "燕赵镇人民政府", "曲阳县民政局"}

    # pyHanko agrees: intact, valid, trusted; certification first, only form filling after it
    reader = PdfFileReader(BytesIO(final))
    vc = ValidationContext(trust_roots=[root_asn1(authority)], allow_fetching=True)
    names = []
    for sig in reader.embedded_signatures:
        status = validate_pdf_signature(sig, signer_validation_context=vc)
        assert status.bottom_line, status.pretty_print_details()
        assert status.intact and status.valid and status.trusted
        names.append(sig.field_name)
        if sig.field_name == "MinSeal-village":
            assert status.docmdp_ok and sig.docmdp_level is MDPPerm.FILL_FORMS
    assert names == ["MinSeal-village", "MinSeal-township", "MinSeal-county"]

    # each seal is drawn in its own box: red ink inside every tier slot, none outside them
    slots = json.loads(str(reader.trailer_view["/Info"]["/MinSealSlots"]))["slots"]
    path = tmp_path / "final.pdf"
    path.write_bytes(final)
    for page in sorted({s["page_index"] for s in slots}):  # a form may run over pages (issue 11)
        on_page = [s for s in slots if s["page_index"] == page]
        image = pdftools.page_png(path, tmp_path / f"final{page}", page=page + 1, mode="RGB")
        height = image.height
        red = red_mask(image)
        for slot in on_page:
            x1, y1, x2, y2 = slot["rect"]
            inside = [p for p in red if x1 <= p[0] <= x2 and height - y2 <= p[1] <= height - y1]
            assert len(inside) > 1500, f"no seal in the {slot['name']} box"
        outside = [p for p in red if not any(s["rect"][0] - 2 <= p[0] <= s["rect"][2] + 2
                                             and height - s["rect"][3] - 2 <= p[1] <= height - s["rect"][1] + 2
                                             for s in on_page)]
        assert outside == []


def test_rules_of_the_route(world, form_pdf) -> None:  # type: ignore[no-untyped-def]
    _settings, _authority, sealing = world
    with pytest.raises(WrongOfficeError):
        sealing.seal(form_pdf, OTHER_VILLAGE, level="B-B")  # not the village the form names
    with pytest.raises(WrongOfficeError):
        sealing.seal(form_pdf, "130634101", level="B-B")  # another township: not this form's route
    first = sealing.seal(form_pdf, VILLAGE, level="B-B").pdf
    with pytest.raises(SealStateError, match="应先由乡镇级单位盖章"):
        sealing.seal(first, COUNTY, level="B-B")
    with pytest.raises(SealStateError, match="已经盖章"):
        sealing.seal(first, VILLAGE, level="B-B")
    with pytest.raises(NotSealableError) as caught:
        sealing.seal(b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", VILLAGE, level="B-B")
    assert caught.value.code == "PDF_UNREADABLE"
    blank = BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(blank)
    with pytest.raises(NotSealableError, match="签章位") as caught:
        sealing.seal(blank.getvalue(), VILLAGE, level="B-B")  # a PDF we did not make
    assert caught.value.code == "NO_SLOTS"


@pytest.mark.slow
def test_seven_page_notice_has_riding_seal_slices(world, nssdb, documents, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _settings, authority, sealing = world
    data = documents.catalogue.family("dibao_notice").sample()
    data["households"] = [dict(h, head_name=f"{h['head_name'][0]}某{i}") for i in range(40)
                          for h in data["households"][:4]][:155]  # 7 pages (issue 22's shorter closing block)
    rendered = documents.render("dibao_notice", data).rendered
    assert rendered.page_count == 7
    sealed = sealing.seal(rendered.pdf, TOWNSHIP, level="B-T").pdf
    sigs = pdfsig(sealed, nssdb, tmp_path)
    assert len(sigs) == 1 and sigs[0]["Signature Validation"] == "Signature is Valid."
    assert sigs[0]["Certificate Validation"] == "Certificate is Trusted."
    path = tmp_path / "notice.pdf"
    path.write_bytes(sealed)
    # issue 11: slices start 5 mm inside the edge, at least 10 mm wide; 7 pages of a 42 mm seal are stamped in
    # two runs (4 + 3 pages), each page showing a different slice
    inset, widest = round(5 * 72 / 25.4), round(42 / 3 * 72 / 25.4)
    slices = []
    for page in range(1, 8):
        image = pdftools.page_png(path, tmp_path / f"p{page}", page=page, mode="RGB")
        w, h = image.size
        red = [(x, y) for x, y in red_mask(image) if x >= w - inset - widest - 2]
        assert len(red) > 40, f"page {page} shows no slice of the riding seal"
        assert all(x < w - inset + 1 for x, _ in red), "a slice starts 5 mm inside the edge"
        assert max(x for x, _ in red) - min(x for x, _ in red) >= 10 * 72 / 25.4 - 2, "slices are >= 10 mm wide"
        assert all(abs(y - h / 2) < 70 for _, y in red), "the riding seal sits mid-page"
        slices.append(frozenset(red))
    assert len(set(slices)) == 7, "every page shows a different slice"
    reader = PdfFileReader(BytesIO(sealed))
    sig = reader.embedded_signatures[0]
    assert sig.docmdp_level is MDPPerm.NO_CHANGES
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[root_asn1(authority)], allow_fetching=True))
    assert status.bottom_line and status.timestamp_validity is not None and status.timestamp_validity.trusted


def test_levels_timestamps_and_offline_ltv(world, form_pdf) -> None:  # type: ignore[no-untyped-def]
    _settings, authority, sealing = world
    root = root_asn1(authority)
    online = ValidationContext(trust_roots=[root], allow_fetching=True)
    bb = PdfFileReader(BytesIO(sealing.seal(form_pdf, VILLAGE, level="B-B").pdf))
    status = validate_pdf_signature(bb.embedded_signatures[0], signer_validation_context=online)
    assert status.bottom_line and status.timestamp_validity is None
    bt = PdfFileReader(BytesIO(sealing.seal(form_pdf, VILLAGE, level="B-T").pdf))
    status = validate_pdf_signature(bt.embedded_signatures[0], signer_validation_context=online)
    assert status.bottom_line and status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert "/DSS" not in bt.root

    lt_pdf = sealing.seal(form_pdf, VILLAGE, level="B-LT").pdf
    lt = PdfFileReader(BytesIO(lt_pdf))
    dss = DocumentSecurityStore.read_dss(lt)
    assert dss.ocsps or dss.crls, "revocation data fetched over HTTP and embedded"
    # offline, years later: only the root is known, nothing may be fetched; the DSS must suffice
    offline = dss.as_validation_context({"trust_roots": [root], "allow_fetching": False,
                                         "revocation_mode": "hard-fail"})
    status = validate_pdf_signature(lt.embedded_signatures[0], signer_validation_context=offline)
    assert status.bottom_line, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # the same without the DSS fails: the offline check is not vacuous
    bare = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="hard-fail", crls=[], ocsps=[])
    assert not validate_pdf_signature(bt.embedded_signatures[0], signer_validation_context=bare).bottom_line

    lta = PdfFileReader(BytesIO(sealing.seal(form_pdf, VILLAGE, level="B-LTA").pdf))
    assert lta.embedded_timestamp_signatures, "B-LTA ends with a document timestamp"


def test_revoked_office_cannot_seal(world, form_pdf, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    settings, authority, sealing = world
    authority.revoke("130634101202", reason="key-compromise")
    with pytest.raises(SealRevokedError):
        sealing.seal(form_pdf, "130634101202")
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(settings.keys_dir))
    source = tmp_path / "form.pdf"
    source.write_bytes(form_pdf)
    assert main(["seal", str(source), "--office", "130634101202", "-o", str(tmp_path / "x.pdf")]) == 7
    assert "已于" in capsys.readouterr().err and not (tmp_path / "x.pdf").exists()


def test_cli_seal_and_use_log(world, form_pdf, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    settings, _authority, _sealing = world
    for key, value in (("DATA_DIR", settings.data_dir), ("KEYS_DIR", settings.keys_dir),
                       ("PUBLIC_BASE_URL", settings.public_base_url)):
        monkeypatch.setenv(f"MINSEAL_{key}", str(value))
    source, out = tmp_path / "form.pdf", tmp_path / "sealed.pdf"
    source.write_bytes(form_pdf)
    code = main(["seal", str(source), "--office", "130634100201", "--opinion", "经评议，同意上报。",
                 "--level", "B-T", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "认证签名" in capsys.readouterr().out
    with _authority.database().session() as session:
        row = session.execute(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).scalar_one()
        entry = row.detail
    assert row.action == "seal.use" and row.actor == "cli"
    with _authority.database().session() as session:
        assert audit.verify_chain(session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars()).ok
    assert entry["office_id"] == VILLAGE and entry["sha256_out"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert entry["sha256_in"] == hashlib.sha256(form_pdf).hexdigest()
    assert dt.datetime.fromisoformat(entry["at"]).tzinfo is not None
    assert main(["seal", str(source), "--office", VILLAGE, "--level", "B-X", "-o", str(out)]) == 3


def test_rsa_seals_verify_in_pdfsig_too(world, nssdb, form_pdf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """RSA-2048 keys (p12 and the county's PKCS#11 token): every signature trusted by pdfsig. Plain pyHanko
    output failed here only because its certificates lacked an EKU (see signer/pki.py SEAL_EKUS)."""
    _settings, authority, sealing = world
    for office in (VILLAGE, TOWNSHIP, COUNTY):
        authority.renew(office, algorithm="rsa-2048")
    pdf = form_pdf
    for office in (VILLAGE, TOWNSHIP, COUNTY):
        pdf = sealing.seal(pdf, office, level="B-T").pdf
    sigs = pdfsig(pdf, nssdb, tmp_path)
    assert len(sigs) == 3
    for sig in sigs:
        assert (sig["Signature Validation"], sig["Certificate Validation"]) == (
            "Signature is Valid.", "Certificate is Trusted."), sig
    reader = PdfFileReader(BytesIO(pdf))
    vc = ValidationContext(trust_roots=[root_asn1(authority)], allow_fetching=True)
    for sig in reader.embedded_signatures:
        status = validate_pdf_signature(sig, signer_validation_context=vc)
        assert status.bottom_line and "rsa" in status.signing_cert.public_key.algorithm


def test_sealing_from_worker_threads_for_the_service(world, form_pdf) -> None:  # type: ignore[no-untyped-def]
    """The service signs with the one blocking path in its worker threads, beside a running event loop:
    long-term data fetched over HTTP (B-LT) and a countersign work there too."""
    import asyncio

    _settings, authority, sealing = world

    async def seal_twice() -> tuple[bytes, bytes]:
        first = await asyncio.to_thread(sealing.seal, form_pdf, VILLAGE, level="B-LT")
        second = await asyncio.to_thread(sealing.seal, first.pdf, TOWNSHIP, level="B-T")
        return first.pdf, second.pdf

    first, second = asyncio.run(seal_twice())
    assert second.startswith(first)
    reader = PdfFileReader(BytesIO(second))
    vc = ValidationContext(trust_roots=[root_asn1(authority)], allow_fetching=True)
    assert all(validate_pdf_signature(s, signer_validation_context=vc).bottom_line for s in reader.embedded_signatures)


def test_one_parse_per_seal(world, form_pdf, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A seal parses its file once: layout, form facts and the pre-countersign check read the parse the same
    writer signs with, and the next reservation is sized from the signing, not from a parse of the output."""
    settings, authority, _sealing = world
    sealing = SealingService(settings, authority, check=VerificationService(settings, authority).verify)
    parses: list[int] = []
    original = PdfFileReader.__init__

    def counting(self: PdfFileReader, *args: object, **kwargs: object) -> None:
        parses.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(PdfFileReader, "__init__", counting)
    first = sealing.seal(form_pdf, VILLAGE, level="B-T")
    assert len(parses) == 1
    parses.clear()
    second = sealing.seal(first.pdf, TOWNSHIP, level="B-T")  # the check of the village's seal runs first
    assert len(parses) == 1
    monkeypatch.undo()
    for result in (first, second):
        sig = next(s for s in PdfFileReader(BytesIO(result.pdf)).embedded_signatures
                   if s.field_name == result.field_name)
        container = 2 * len(cms.ContentInfo.load(sig.pkcs7_content, strict=False).dump())
        key = (result.office.id, result.serial, result.level, result.certified)
        assert sealing._reserve[key] == container + 2048  # what sizes the next seal of this key and level
