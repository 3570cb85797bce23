"""The accept gate: genuine files pass; every known forgery class, built here against our own sealed files,
is refused — cleanly, as a report, never a crash."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfWriter

from api.cli.main import main
from api.services.authority import SealAuthority
from api.services.documents import DocumentService
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer import pki
from signer.errors import NotSealableError, VerificationRefusedError
from signer.report import Verdict, VerificationReport
from tests.support.installations import install_demo
from tests.support.waiting import past_the_second

VILLAGE, OTHER_VILLAGE, TOWNSHIP, OTHER_TOWNSHIP, COUNTY = (
    "130634100201", "130634100202", "130634100", "130634101", "130634")


class World:
    def __init__(self, root: Path, documents: DocumentService) -> None:
        self.settings = Settings(data_dir=root / "var", keys_dir=root / "keys")
        install_demo(self.settings)  # init-demo's installation, copied (tests.support.installations)
        self.authority = SealAuthority(self.settings)
        self.verification = VerificationService(self.settings, self.authority)
        self.sealing = SealingService(self.settings, self.authority, check=self.verification.verify)
        sample = documents.catalogue.family("dibao_application").sample()
        self.form = documents.render("dibao_application", sample).rendered.pdf
        self.v1 = self.sealing.seal(self.form, VILLAGE).pdf
        self.v2 = self.sealing.seal(self.v1, TOWNSHIP).pdf
        self.v3 = self.sealing.seal(self.v2, COUNTY).pdf
        other = dict(sample, reason="另一份申请：因病致贫，申请最低生活保障。")
        self.other_form = documents.render("dibao_application", other).rendered.pdf
        self.other_v1 = self.sealing.seal(self.other_form, VILLAGE).pdf
        notice = documents.catalogue.family("dibao_notice").sample()
        self.notice = self.sealing.seal(documents.render("dibao_notice", notice).rendered.pdf, TOWNSHIP).pdf

    def verify(self, pdf: bytes, **kwargs: object) -> VerificationReport:
        return self.verification.verify(pdf, **kwargs)  # type: ignore[arg-type]

    def signer(self, office_id: str) -> signers.SimpleSigner:
        """An office's real key, used directly with pyHanko — as an insider or a thief would."""
        office = self.authority.registry().get(office_id)
        store = self.authority.key_store(office)
        key = store.private_key(office_id)  # type: ignore[attr-defined]
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        cert = asn1_x509.Certificate.load(store.certificate(office_id).public_bytes(serialization.Encoding.DER))
        return signers.SimpleSigner(signing_cert=cert, signing_key=asn1_keys.PrivateKeyInfo.load(der),
                                    cert_registry=SimpleCertificateStore.from_certs([cert]))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("verify"), documents)


def refused(report: VerificationReport, *codes: str) -> None:
    assert report.verdict is Verdict.FAILED, report.summary()
    for code in codes:
        assert code in report.codes, (code, report.codes)


def update(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def last_signature_dict(pdf: bytes) -> tuple[int, int, int, int]:
    """Offsets of the last signature's /ByteRange array and /Contents hex string."""
    br = pdf.rindex(b"/ByteRange")
    br_start, br_end = pdf.index(b"[", br), pdf.index(b"]", br) + 1
    contents = pdf.rindex(b"/Contents", 0, br) if b"/Contents" in pdf[br - 20000:br] else pdf.index(b"/Contents", br)
    c_start = pdf.index(b"<", contents)
    c_end = pdf.index(b">", c_start) + 1
    return br_start, br_end, c_start, c_end


# -- genuine files --------------------------------------------------------------------------------------------


def test_genuine_route_passes_with_full_facts(world: World) -> None:
    report = world.verify(world.v3)
    assert report.verdict is Verdict.PASSED, report.summary()
    assert [s.office_name for s in report.signatures] == ["东沟南村村民委员会", "燕赵镇人民政府", "曲阳县民政局"]
    assert [s.tier for s in report.signatures] == ["village", "township", "county"]
    assert [s.slot for s in report.signatures] == ["village", "township", "county"]
    village, township, county = report.signatures
    assert village.certification and village.docmdp == "FILL_FORMS" and not township.certification
    assert village.changes_after == "later_signatures" and county.changes_after in ("none", "ltv_only")
    assert all(s.intact and s.valid and s.trusted and s.revocation == "good" for s in report.signatures)
    assert all(s.timestamp_time for s in report.signatures)
    assert report.document.ends_at_last_revision and report.document.trailing_bytes == 0
    # issue 11: boxes sized for the seal make the sample form two pages
    assert report.document.family == "dibao_application" and report.document.pages == 2
    data = json.loads(report.to_json())
    assert data["verdict"] == "PASSED" and data["verdict_label"] == "通过"
    assert world.verify(world.v1).verdict is Verdict.PASSED  # mid-route: village only
    assert world.verify(world.notice).verdict is Verdict.PASSED


def test_expect_office(world: World) -> None:
    assert world.verify(world.v3, expected_offices=["曲阳县民政局", TOWNSHIP]).verdict is Verdict.PASSED
    refused(world.verify(world.v1, expected_offices=["曲阳县民政局"]), "EXPECTED_OFFICE_MISSING")


# -- forgery classes ----------------------------------------------------------------------------------------


def test_universal_signature_forgery(world: World) -> None:
    br_start, br_end, c_start, c_end = last_signature_dict(world.v1)
    pdf = world.v1
    zeroed = pdf[:c_start + 1] + b"0" * (c_end - c_start - 2) + pdf[c_end - 1:]
    refused(world.verify(zeroed))
    no_range = pdf[:br_start] + b"[0 0 0 0]".ljust(br_end - br_start) + pdf[br_end:]
    refused(world.verify(no_range))
    empty = pdf[:c_start] + b"<>".ljust(c_end - c_start) + pdf[c_end:]
    refused(world.verify(empty))
    numbers = [int(n) for n in pdf[br_start + 1:br_end - 1].split()]
    shorter = f"[0 {numbers[1]} {numbers[2]} {numbers[3] - 100}]".encode().ljust(br_end - br_start)
    refused(world.verify(pdf[:br_start] + shorter + pdf[br_end:]))


def test_incremental_saving_attack(world: World) -> None:
    def overwrite_amount(w: IncrementalPdfFileWriter) -> None:
        ink = w.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 300 600 120 20 re f Q"))
        w.add_stream_to_page(0, ink)

    refused(world.verify(update(world.v3, overwrite_amount)), "MODIFIED_AFTER_SIGNING")
    refused(world.verify(update(world.v1, overwrite_amount)), "MODIFIED_AFTER_SIGNING")


def test_signature_wrapping(world: World) -> None:
    pdf = world.v1
    br_start, br_end, _c_start, _c_end = last_signature_dict(pdf)
    a, b, c, d = (int(n) for n in pdf[br_start + 1:br_end - 1].split())
    evil = b"\n99 0 obj\n<</Type/Evil>>\nendobj\n"
    wrapped_range = f"[{a} {b} {c + len(evil)} {d}]".encode().ljust(br_end - br_start)
    forged = pdf[:br_start] + wrapped_range + pdf[br_end:c] + evil + pdf[c:]
    report = world.verify(forged)
    refused(report)
    assert {"SIG_BROKEN", "MALFORMED", "COVERAGE", "TRAILING_DATA"} & set(report.codes)


def _content_ref(pdf: bytes) -> generic.Reference:
    page = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    if isinstance(contents, generic.ArrayObject):
        contents = contents.raw_get(0)
    return contents.reference if isinstance(contents, generic.IndirectObject) else contents


def test_shadow_attacks_hide_replace_and_both(world: World) -> None:
    base = world.v1

    def hide(w: IncrementalPdfFileWriter) -> None:  # page shows nothing of what was signed
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        page["/Contents"] = w.add_object(generic.StreamObject(stream_data=b""))
        w.mark_update(page_ref)

    def replace(w: IncrementalPdfFileWriter) -> None:  # same object number, other content
        ref = _content_ref(base)
        w.objects[(ref.generation, ref.idnum)] = generic.StreamObject(stream_data=b"BT ET")

    def hide_and_replace(w: IncrementalPdfFileWriter) -> None:  # new page tree pointing at forged content
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        page["/Contents"] = w.add_object(generic.StreamObject(stream_data=b"q 0 0 1 rg 50 50 100 100 re f Q"))
        page["/Resources"] = generic.DictionaryObject()
        w.mark_update(page_ref)

    def shadow_appearance(w: IncrementalPdfFileWriter) -> None:  # paint the empty township box, unsigned
        for name, _value, ref in fields.enumerate_sig_fields(w):
            if name == "MinSeal-township":
                value_obj = ref.get_object()
                ap = w.add_object(generic.StreamObject(
                    {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
                     pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(0)] * 2 + [
                         generic.NumberObject(400), generic.NumberObject(100)])},
                    stream_data=b"1 0 0 rg 0 0 400 100 re f"))
                value_obj["/AP"] = generic.DictionaryObject({pdf_name("/N"): ap})
                w.mark_update(ref)

    for attack in (hide, replace, hide_and_replace, shadow_appearance):
        report = world.verify(update(base, attack))
        refused(report)
        assert {"MODIFIED_AFTER_SIGNING", "DOCMDP_VIOLATION"} & set(report.codes), (attack.__name__, report.codes)


def test_evil_annotation(world: World) -> None:
    def annotate(w: IncrementalPdfFileWriter) -> None:
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        annot = w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/FreeText"),
            pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (100, 600, 400, 640)]),
            pdf_name("/Contents"): generic.TextStringObject("月收入 0.00"),
            pdf_name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
        }))
        w.register_annotation(page_ref, annot)

    refused(world.verify(update(world.v1, annotate)), "MODIFIED_AFTER_SIGNING")
    refused(world.verify(update(world.notice, annotate)))


def test_sneaky_signature_by_another_office_of_our_ca(world: World) -> None:
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(world.v1)), signers.PdfSignatureMetadata(field_name="Sneaky"),
                     signer=world.signer(OTHER_VILLAGE),
                     new_field_spec=fields.SigFieldSpec("Sneaky", on_page=0, box=(100, 500, 500, 700)), output=out)
    refused(world.verify(out.getvalue()), "UNEXPECTED_SIGNATURE")


def test_genuine_seal_of_a_different_office_in_the_township_box(world: World) -> None:
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(world.v1)),
                     signers.PdfSignatureMetadata(field_name="MinSeal-township"),
                     signer=world.signer(OTHER_TOWNSHIP), output=out)
    refused(world.verify(out.getvalue()), "WRONG_OFFICE", "ROUTE_MISMATCH")
    out = BytesIO()  # the right township, but the county's box: wrong tier and order
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(world.v1)),
                     signers.PdfSignatureMetadata(field_name="MinSeal-county"),
                     signer=world.signer(TOWNSHIP), output=out)
    refused(world.verify(out.getvalue()), "WRONG_TIER", "ROUTE_ORDER")


def test_signature_copied_from_another_document(world: World) -> None:
    _, _, c_start, c_end = last_signature_dict(world.other_v1)
    _, _, t_start, t_end = last_signature_dict(world.v1)
    der_hex = world.other_v1[c_start + 1:c_end - 1].rstrip(b"0")
    assert len(der_hex) <= t_end - t_start - 2
    stolen = b"<" + der_hex.ljust(t_end - t_start - 2, b"0") + b">"
    refused(world.verify(world.v1[:t_start] + stolen + world.v1[t_end:]), "SIG_BROKEN")


def test_truncated_and_appended_files(world: World) -> None:
    pdf = world.v3
    for cut in (len(pdf) - 300, len(pdf) // 2, 2000):
        report = world.verify(pdf[:cut])
        assert report.verdict is not Verdict.PASSED, cut
    refused(world.verify(pdf + b"\n% appended after the last revision\n"), "TRAILING_DATA")
    hidden = b"\n1 0 obj\n<<>>\nendobj\nxref\n0 1\n0000000000 65535 f \ntrailer\n<<>>\nstartxref\n0\n%%EOF\n"
    report = world.verify(pdf + hidden)
    refused(report)
    assert {"TRAILING_DATA", "MALFORMED", "HIDDEN_REVISION"} & set(report.codes)


# -- certificates and time ------------------------------------------------------------------------------------


def _foreign_root(tmp_path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    root = pki.make_root(key, common_name="Another CA", organization="Elsewhere")
    path = tmp_path / "other-root.pem"
    path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return path


def test_untrusted_root_and_configured_roots(world: World, tmp_path: Path) -> None:
    refused(world.verify(world.v3, roots=[_foreign_root(tmp_path)]), "CERT_UNTRUSTED")
    assert world.verify(world.v3, roots=[world.authority.root_cert_path]).verdict is Verdict.PASSED


def _sign_with_cert(world: World, pdf: bytes, *, now: dt.datetime, days: int) -> bytes:
    """A certificate from our own root with a validity window we choose, used by plain pyHanko."""
    key = ec.generate_private_key(ec.SECP256R1())
    office = world.authority.registry().get(OTHER_VILLAGE).identity
    cert = pki.issue_office_certificate(office=office, public_key=key.public_key(),
                                        ca_cert=world.authority.root_certificate(),
                                        ca_key=world.authority.root_key(), endpoints=pki.PkiEndpoints(
                                            crl_url=world.settings.crl_url, ocsp_url=None, ca_issuers_url=None),
                                        days=days, now=now)
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([]))
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), signers.PdfSignatureMetadata(field_name="Sig1"),
                     signer=signer, output=out)
    return out.getvalue()


def _plain_pdf() -> bytes:
    out = BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(out)
    return out.getvalue()


def test_expired_and_not_yet_valid_certificates(world: World) -> None:
    now = dt.datetime.now(dt.UTC)
    expired = _sign_with_cert(world, _plain_pdf(), now=now - dt.timedelta(days=800), days=365)
    refused(world.verify(expired), "CERT_EXPIRED")
    future = _sign_with_cert(world, _plain_pdf(), now=now + dt.timedelta(days=30), days=365)
    refused(world.verify(future), "CERT_NOT_YET_VALID")


def test_foreign_pades_signature_under_trusted_root(world: World) -> None:
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(_plain_pdf())), signers.PdfSignatureMetadata(field_name="Sig1"),
                     signer=world.signer(OTHER_VILLAGE), output=out)
    # a B-B signature (no timestamp) passes only when the verifier is told to accept that level
    refused(world.verify(out.getvalue()), "LEVEL_TOO_LOW")
    report = world.verify(out.getvalue(), min_level="B-B")
    assert report.verdict is Verdict.PASSED, report.summary()
    assert report.signatures[0].office_name == "北养马村村民委员会" and report.document.family is None
    assert world.verify(out.getvalue(), expected_offices=[OTHER_VILLAGE], min_level="B-B").verdict is Verdict.PASSED
    refused(world.verify(out.getvalue(), expected_offices=["曲阳县民政局"], min_level="B-B"),
            "EXPECTED_OFFICE_MISSING")


def test_revocation_counts_at_the_timestamp(world: World, documents: DocumentService) -> None:
    data = documents.catalogue.family("dibao_notice").sample() | {"issuer": "孝墓镇人民政府"}
    notice = documents.render("dibao_notice", data).rendered.pdf
    sealed_before = world.sealing.seal(notice, OTHER_TOWNSHIP, level="B-T").pdf
    signed = dt.datetime.now(dt.UTC)
    thief = world.signer(OTHER_TOWNSHIP)  # the key, kept by whoever lost it
    past_the_second(signed)  # the revocation is dated after the timestamp
    world.authority.revoke(OTHER_TOWNSHIP, reason="key-compromise")
    before = world.verify(sealed_before)
    assert before.verdict is Verdict.PASSED, before.summary()
    assert before.signatures[0].revocation == "revoked_after_signing" and before.signatures[0].revoked_at

    out = BytesIO()  # sealed with the stolen key after the revocation, with a genuine timestamp
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(notice)),
                     signers.PdfSignatureMetadata(field_name="MinSeal-issuer", certify=True),
                     signer=thief, timestamper=world.sealing.local_timestamper(), output=out)
    refused(world.verify(out.getvalue()), "CERT_REVOKED")


# -- hostile input and the CLI -----------------------------------------------------------------------------------


@pytest.mark.parametrize("blob", [
    b"", b"not a pdf at all", b"%PDF-1.7\n" + b"[" * 5000 + b"\n%%EOF",
    b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[3 0 R]>>>>endobj\n"
    b"3 0 obj<</FT/Sig/V<</Type/Sig/ByteRange[0 99999999 99999999 99999999]/Contents<00>>>>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF",
])
def test_hostile_input_is_a_clean_refusal(world: World, blob: bytes) -> None:
    """A verdict with its reasons, never an exception (how long it takes: bench/bench_bounds.py)."""
    report = world.verify(blob)
    assert report.verdict is Verdict.FAILED and report.findings


def test_cli_verify(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(world.v3)
    bad.write_bytes(world.v3 + b"junk")
    assert main(["verify", str(good), "--expect-office", "曲阳县民政局", "--html", str(tmp_path / "r.html")]) == 0
    assert capsys.readouterr().out.startswith("通过：3 个签章")
    assert "电子签章校验报告" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert main(["verify", str(bad), "--json"]) == 7
    assert json.loads(capsys.readouterr().out)["verdict"] == "FAILED"
    assert main(["verify", str(good), "--trust", str(_foreign_root(tmp_path))]) == 7
    assert main(["verify", str(tmp_path / "missing.pdf")]) == 3
    assert re.search("无法读取文件", capsys.readouterr().err)


def test_slot_metadata_replaced_after_sealing(world: World) -> None:
    """The route is read from the revision the first seal certified: replacing /Info later changes nothing
    but is itself reported."""
    def forge_info(w: IncrementalPdfFileWriter) -> None:
        info = generic.DictionaryObject({pdf_name("/MinSealSlots"): generic.TextStringObject(
            '{"family":"x","slots":[]}')})
        w.set_info(w.add_object(info))

    forged = update(world.v1, forge_info)
    out = BytesIO()  # then another township seals the "unrouted" file with its genuine key
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(forged)),
                     signers.PdfSignatureMetadata(field_name="MinSeal-township"),
                     signer=world.signer(OTHER_TOWNSHIP), output=out)
    report = world.verify(out.getvalue())
    refused(report, "WRONG_OFFICE")
    assert report.document.family == "dibao_application"
    refused(world.verify(forged), "MODIFIED_AFTER_SIGNING")


def test_in_place_info_edit_cannot_strip_or_rename_slots(world: World) -> None:
    """Reviewer's attack: edit the existing /Info object in place (pyHanko allows /Info updates)."""
    def strip(w: IncrementalPdfFileWriter) -> None:
        ref = w.trailer.raw_get("/Info")
        del ref.get_object()["/MinSealSlots"]
        w.mark_update(ref)

    def rename(w: IncrementalPdfFileWriter) -> None:
        ref = w.trailer.raw_get("/Info")
        info = ref.get_object()
        slots = json.loads(str(info["/MinSealSlots"]))
        for slot in slots["slots"]:
            if slot["office"] == "燕赵镇人民政府":
                slot["office"] = "孝墓镇人民政府"
        info["/MinSealSlots"] = generic.TextStringObject(json.dumps(slots))
        w.mark_update(ref)

    for attack in (strip, rename):
        forged = update(world.v1, attack)
        refused(world.verify(forged), "MODIFIED_AFTER_SIGNING")
        out = BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(forged)),
                         signers.PdfSignatureMetadata(field_name="MinSeal-township"),
                         signer=world.signer(OTHER_TOWNSHIP), output=out)
        refused(world.verify(out.getvalue()), "WRONG_OFFICE")


def test_unslotted_file_sealed_by_one_village_thrice(world: World) -> None:
    """Reviewer's attack: strip the slots before sealing, then one office fills every box."""
    stripped = update(world.form, lambda w: (w.trailer.raw_get("/Info").get_object().pop("/MinSealSlots"),
                                             w.mark_update(w.trailer.raw_get("/Info"))))
    pdf = stripped
    for field_name in ("Box1", "Box2", "Box3"):
        out = BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), signers.PdfSignatureMetadata(field_name=field_name),
                         signer=world.signer(OTHER_VILLAGE), output=out)
        pdf = out.getvalue()
    refused(world.verify(pdf), "ROUTE_ORDER")


def test_painted_seal_in_an_unsigned_box(world: World) -> None:
    """Reviewer's attack: certify with the village key and paint seals into the empty higher boxes."""
    def paint(w: IncrementalPdfFileWriter) -> None:
        for name, _value, ref in fields.enumerate_sig_fields(w):
            if name in ("MinSeal-township", "MinSeal-county"):
                ap = w.add_object(generic.StreamObject(
                    {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
                     pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 400, 100)])},
                    stream_data=b"1 0 0 rg 0 0 100 100 re f"))
                ref.get_object()["/AP"] = generic.DictionaryObject({pdf_name("/N"): ap})
                w.mark_update(ref)

    writer = IncrementalPdfFileWriter(BytesIO(world.form))
    for name in ("MinSeal-township", "MinSeal-county"):
        fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=0, box=(110, 100, 546, 200)))
    paint(writer)
    out = BytesIO()
    signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="MinSeal-village", certify=True,
                                                          docmdp_permissions=fields.MDPPerm.FILL_FORMS),
                     signer=world.signer(VILLAGE),
                     new_field_spec=fields.SigFieldSpec("MinSeal-village", on_page=0, box=(110, 314, 546, 427)),
                     output=out)
    refused(world.verify(out.getvalue()), "FAKE_SEAL")
    assert "FAKE_SEAL" not in world.verify(world.v1).codes  # our own reserved boxes are blank


def test_genuine_file_still_passes_after_its_certificates_expire(world: World) -> None:
    """Reviewer's finding: a timestamped seal stays valid after the office certificate expires."""
    cert = world.authority.root_certificate()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3 * 365 + 30)
    assert later < cert.not_valid_after_utc
    crl = pki.make_crl(ca_cert=cert, ca_key=world.authority.root_key(), revoked=[], number=99,
                       now=later - dt.timedelta(days=1))
    trust = world.verification.trust()
    from dataclasses import replace

    from signer.verify import verify_pdf
    future = replace(trust, crls=(crl.public_bytes(serialization.Encoding.DER),), moment=later)
    report = verify_pdf(world.v3, future)
    assert report.verdict is Verdict.PASSED, report.summary()


def test_hidden_revision_without_line_breaks(world: World) -> None:
    """Reviewer's construction: a revision outside the /Prev chain, keywords not at line starts."""
    size = len(world.v3)
    hidden = (b"\n99 0 obj <<>> endobj xref 99 1 \n0000000000 00000 n \n trailer <</Size 100/Prev "
              + str(size).encode() + b">> startxref " + str(size).encode() + b" %%EOF\n")
    forged = update(world.v3 + hidden, lambda w: w.add_object(generic.NullObject()))
    report = world.verify(forged)
    assert report.verdict is not Verdict.PASSED, report.summary()


# -- the sealer refuses what the verifier refuses ----------------------------------------------------------------


def test_countersign_refuses_a_tampered_file_with_the_report(world: World, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    def retitle(w: IncrementalPdfFileWriter) -> None:
        info = w.trailer["/Info"].get_object()
        info[pdf_name("/Title")] = generic.TextStringObject("伪造标题")
        w.update_container(info)

    tampered = update(world.v1, retitle)
    with pytest.raises(VerificationRefusedError) as caught:
        world.sealing.seal(tampered, TOWNSHIP)
    assert caught.value.code == "COUNTERSIGN_REFUSED" and caught.value.report is not None
    assert caught.value.report["verdict"] == "FAILED"
    source, out = tmp_path / "tampered.pdf", tmp_path / "countersigned.pdf"
    source.write_bytes(tampered)
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))
    capsys.readouterr()
    code = main(["seal", str(source), "--office", TOWNSHIP, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 7 and "COUNTERSIGN_REFUSED" in err and "不通过" in err, err
    assert "[INFO_CHANGED]" in err, err
    assert not out.exists()


def test_countersign_refuses_boxes_of_offices_that_are_not_a_route(world: World, documents: DocumentService) -> None:
    """The form names a village of another township in its village box: the village may seal its own box, but the
    township must not countersign a file whose offices are not one chain."""
    foreign_village = "130634101201"
    sample = documents.catalogue.family("dibao_application").sample()
    form = documents.render("dibao_application", sample, office_ids={
        "village": foreign_village, "township": TOWNSHIP, "county": COUNTY}).rendered.pdf
    for office in (foreign_village, TOWNSHIP):
        with pytest.raises(NotSealableError) as refusal:
            world.sealing.seal(form, office)
        assert refusal.value.code == "SLOTS_NOT_A_ROUTE", refusal.value.code
    # sealed elsewhere by the village anyway (its own key, raw pyHanko): the township still refuses
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(form)),
                     signers.PdfSignatureMetadata(field_name="MinSeal-village", certify=True,
                                                  docmdp_permissions=fields.MDPPerm.FILL_FORMS),
                     signer=world.signer(foreign_village), output=out)
    with pytest.raises(NotSealableError) as refusal:
        world.sealing.seal(out.getvalue(), TOWNSHIP)
    assert refusal.value.code == "SLOTS_NOT_A_ROUTE"
    sealed_by_name = world.sealing.seal(world.v1, TOWNSHIP).pdf  # the genuine route still countersigns
    assert world.verify(sealed_by_name).verdict is Verdict.PASSED


def test_report_of_a_field_pyhanko_created_turns_into_json(world: World) -> None:
    """Names read from the file are pyHanko string objects; the report holds plain strings, so ``--json`` and the
    service never crash on a forged field (this crashed with a traceback)."""
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(world.v1)),
                     signers.PdfSignatureMetadata(field_name="伪造签章域"),
                     signer=world.signer(TOWNSHIP), output=out)
    report = world.verify(out.getvalue())
    refused(report)
    data = json.loads(report.to_json())
    assert "伪造签章域" in [s["field_name"] for s in data["signatures"]]
    assert all(type(f.field) in (str, type(None)) for f in report.findings)
