"""Issue 21: what a second independent forgery set found, and genuine files another site refused. Each forged
file here is built from our own sealed files with the installation's real keys, and passed before these rules."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from pydantic import SecretStr
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.fields import SigFieldSpec
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from api.cli.main import main
from api.services.documents import DocumentService
from signer import pki
from signer.errors import NotSealableError
from signer.report import Verdict, VerificationReport
from signer.sign import Sealer
from signer.signers import http_timestamper
from tests.signer.test_verify import COUNTY, TOWNSHIP, VILLAGE, World
from tests.signer.test_verify import update as update_pdf
from tests.support.forgery import copy_certificate, sign, signer_for
from tests.support.servers import free_port, serve
from tests.support.waiting import past_the_second


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("round3"), documents)


def refused(report: VerificationReport, *codes: str) -> None:
    assert report.verdict is Verdict.FAILED, report.summary()
    for code in codes:
        assert code in report.codes, (code, report.codes)


# -- 4. genuine long-term files at another site ------------------------------------------------------------------


def _verify_elsewhere(pdf: bytes, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    """``minseal verify --trust ROOT`` on a machine without the installation: an empty data directory."""
    empty = tmp_path / "elsewhere"
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(empty / "var"))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(empty / "keys"))
    root = tmp_path / "root.crt"
    root.write_bytes(world.authority.root_cert_path.read_bytes())
    path = tmp_path / "sealed.pdf"
    path.write_bytes(pdf)
    capsys.readouterr()
    code = main(["verify", str(path), "--trust", str(root), "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_genuine_long_term_route_passes_elsewhere_with_the_root_alone(
        world: World, level: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    pdf = world.form
    for office in (VILLAGE, TOWNSHIP, COUNTY):
        pdf = world.sealing.seal(pdf, office, level=level).pdf
    code, report = _verify_elsewhere(pdf, world, tmp_path, monkeypatch, capsys)
    assert code == 0 and report["verdict"] == "PASSED", report["findings"]
    signatures = report["signatures"]
    assert isinstance(signatures, list) and len(signatures) == 3
    assert all(s["revocation"] == "good" and s["level"] == level for s in signatures), signatures


# -- 3. the seal certificate profile ------------------------------------------------------------------------------


def _county_cert(world: World) -> x509.Certificate:
    return world.authority.key_store(world.authority.registry().get(COUNTY)).certificate(COUNTY)


def _seal_county(world: World, cert: x509.Certificate, key: Any, *chain: x509.Certificate,
                 crls: tuple[x509.CertificateRevocationList, ...] = ()) -> bytes:
    """The genuine village and township seals, then a county seal with ``cert`` (and its issuer's CRL in the DSS,
    made after the seal's timestamp, as the forger's "CA" would)."""
    pdf = sign(world.v2, signer_for(cert, key, *chain), "MinSeal-county", timestamper=world.sealing.local_timestamper())
    if crls:
        out = BytesIO(pdf)
        contents = next(s for s in PdfFileReader(out).embedded_signatures
                        if s.field_name == "MinSeal-county").pkcs7_content
        DocumentSecurityStore.add_dss(out, contents, certs=[pki.to_asn1(c) for c in chain], crls=[
            asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER)) for c in crls])
        pdf = out.getvalue()
    return pdf


def test_county_seal_under_a_rogue_intermediate_ca(world: World) -> None:
    root, root_key = world.authority.root_certificate(), world.authority.root_key()
    township = world.authority.key_store(world.authority.registry().get(TOWNSHIP)).certificate(TOWNSHIP)
    rogue, rogue_key = copy_certificate(township, issuer=root, issuer_key=root_key, replace={
        x509.BasicConstraints: (x509.BasicConstraints(ca=True, path_length=None), True),
        x509.KeyUsage: (x509.KeyUsage(True, True, False, False, False, True, True, False, False), True)})
    leaf, leaf_key = copy_certificate(_county_cert(world), issuer=rogue, issuer_key=rogue_key)
    past_the_second(dt.datetime.now(dt.UTC))
    pdf = _seal_county(world, leaf, leaf_key, rogue, root, crls=(
        pki.make_crl(ca_cert=rogue, ca_key=rogue_key, revoked=[], number=1,
                     now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)),))
    report = world.verify(pdf)
    refused(report, "CERT_PROFILE_ISSUER")
    assert report.signatures[2].revocation == "good"  # everything else about it passes
    # the rogue "township CA" itself, sealing as the township
    forged = sign(world.v1, signer_for(rogue, rogue_key, root), "MinSeal-township",
                  timestamper=world.sealing.local_timestamper())
    refused(world.verify(forged), "CERT_PROFILE_CA", "CERT_PROFILE_KEY_USAGE")


def test_seal_certificates_for_other_purposes(world: World) -> None:
    root, root_key = world.authority.root_certificate(), world.authority.root_key()
    server_auth = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    tls, tls_key = copy_certificate(_county_cert(world), issuer=root, issuer_key=root_key,
                                    replace={x509.ExtendedKeyUsage: (server_auth, False)})
    report = world.verify(_seal_county(world, tls, tls_key, root))
    refused(report, "CERT_PROFILE_EKU")
    assert report.codes == ["CERT_PROFILE_EKU"], report.codes
    encipher = x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    cipher, cipher_key = copy_certificate(_county_cert(world), issuer=root, issuer_key=root_key,
                                          replace={x509.KeyUsage: (encipher, True)})
    refused(world.verify(_seal_county(world, cipher, cipher_key, root)), "CERT_PROFILE_KEY_USAGE")
    # no EKU at all is within the profile; documentSigning alone too
    for eku in (None, (x509.ExtendedKeyUsage([pki.SEAL_EKUS[1]]), False)):
        plain, plain_key = copy_certificate(_county_cert(world), issuer=root, issuer_key=root_key,
                                            replace={x509.ExtendedKeyUsage: eku})
        good = world.verify(_seal_county(world, plain, plain_key, root))
        assert good.verdict is Verdict.PASSED, good.summary()


# -- 2. document timestamps that carry active content ---------------------------------------------------------------


def _doc_timestamp(world: World, pdf: bytes, field: str, *, widget: dict[str, Any] | None = None,
                   box: tuple[int, int, int, int] | None = None) -> bytes:
    """A genuine document timestamp (our own TSA, as /pki/tsa gives anyone) in a new field of the forger's
    making, in the timestamp's own revision."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    if field not in {name for name, _v, _r in fields.enumerate_sig_fields(writer)}:
        fields.append_signature_field(writer, SigFieldSpec(field, box=box))
    for name, _value, ref in fields.enumerate_sig_fields(writer):
        if name == field and widget:
            obj = ref.get_object()
            for key, value in widget.items():
                obj[pdf_name(key)] = value
            writer.update_container(obj)
    out = BytesIO()
    PdfTimeStamper(world.sealing.local_timestamper(), field_name=field).timestamp_pdf(writer, "sha256", output=out)
    return out.getvalue()


def _action(**entries: generic.PdfObject) -> generic.DictionaryObject:
    return generic.DictionaryObject({pdf_name(k): v for k, v in entries.items()})


def test_document_timestamp_with_actions_or_a_face(world: World) -> None:
    javascript = _action(**{"/S": pdf_name("/JavaScript"), "/JS": generic.TextStringObject("app.alert('已批准')")})
    launch = _action(**{"/S": pdf_name("/Launch"), "/F": generic.TextStringObject("calc.exe")})
    on_open = generic.DictionaryObject({pdf_name("/PO"): javascript})
    refused(world.verify(_doc_timestamp(world, world.v3, "Timestamp2", widget={"/AA": on_open})), "TIMESTAMP_ACTIVE")
    refused(world.verify(_doc_timestamp(world, world.v3, "Timestamp2", widget={"/A": launch})), "TIMESTAMP_ACTIVE")
    refused(world.verify(_doc_timestamp(world, world.v3, "Timestamp2", box=(300, 300, 500, 400))),
            "TIMESTAMP_VISIBLE")
    # the county's box, filled by a timestamp instead of the county's seal
    refused(world.verify(_doc_timestamp(world, world.v2, "MinSeal-county")), "TIMESTAMP_IN_ROUTE_BOX")
    # an invisible, inert timestamp (what B-LTA adds) still passes
    plain = world.verify(_doc_timestamp(world, world.v3, "Timestamp2"))
    assert plain.verdict is Verdict.PASSED, plain.summary()


def test_tsa_endpoint_needs_the_office_token_and_is_rate_limited(world: World) -> None:
    settings = world.settings.model_copy(update={"tsa_token": SecretStr("office-token"), "tsa_rate_limit": "3/minute"})
    request = tsp.TimeStampReq({"version": 1, "message_imprint": {
        "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x00" * 32}, "cert_req": True}).dump()
    with serve(settings, free_port()) as base:
        anonymous = httpx.post(f"{base}/pki/tsa", content=request)
        assert anonymous.status_code == 401 and "令牌" in anonymous.json()["detail"]
        timestamper = http_timestamper(f"{base}/pki/tsa", token="office-token")
        token = asyncio.run(timestamper.async_timestamp(b"\x01" * 32, "sha256"))
        assert token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
        statuses = [httpx.post(f"{base}/pki/tsa", content=request,
                               headers={"Authorization": "Bearer office-token"}).status_code for _ in range(3)]
        assert statuses[-1] == 429 and statuses[0] == 200, statuses


# -- 1. validation data that activates planted objects ---------------------------------------------------------------

PLANTED = 5000  # far above what the three seals allocate


def _plant(w: IncrementalPdfFileWriter) -> None:
    """A dangling reference in a small object no later revision rewrites (the document information
    dictionary): nothing there today, so every tier sees and seals the form."""
    ref = w.trailer.raw_get("/Info")
    ref.get_object()["/PieceInfo"] = generic.IndirectObject(PLANTED, 0, w)
    w.mark_update(ref)


def test_first_seal_refuses_a_form_with_planted_references(world: World) -> None:
    planted_form = update_pdf(world.form, _plant)
    with pytest.raises(NotSealableError) as refusal:  # MinSeal's first seal refuses an input it cannot account for
        world.sealing.seal(planted_form, VILLAGE)
    assert refusal.value.code == "INPUT_NOT_CLEAN"


# the forger's view, end to end: plant before the first seal, every tier seals, then "validation data" activates it

TARGET = 999  # the object number planted; above what the three seals and their B-LT data allocate
JS = "app.alert('本申请已由县民政局批准，请勿重复审核');"


def _insider_first_seal(world: World, form: bytes) -> bytes:
    """The village seal exactly as MinSeal's sealer makes it (its plan: appearance, 骑缝章, the township's and
    county's empty fields, B-LT data), by an insider who drives the signer below its INPUT_NOT_CLEAN check."""
    job = world.sealing._prepare(form, VILLAGE, opinion=None, level=None, day=None)
    sealer, plan = job.sealer, job.plan
    assert plan.certify and {t.field_name for t in plan.reserve} == {"MinSeal-township", "MinSeal-county"}
    writer = job.doc.writer_for_signing()
    Sealer._add_certified_content(writer, plan)
    context = sealer._context(plan)
    out = BytesIO()
    sealer._pdf_signer(plan, job.signer, writer, context).sign_pdf(writer, output=out)
    assert context is not None  # the installation's level is B-LT
    return sealer._add_validation_data(out.getvalue(), plan, context)


def _planted_route(world: World, plant: Callable[[IncrementalPdfFileWriter], None],
                   *, spelled: bytes | None = None) -> bytes:
    """The form with ``plant``'s unsigned update, sealed by the (insider) village, then the township and county
    through the project's own sealing path — whose pre-countersign checks pass it. ``spelled``: how the planted
    reference is written in the plant's bytes (a parser reads ``999 000000 R`` as ``999 0 R``)."""
    form = update_pdf(world.form, plant)
    if spelled is not None:  # the plant wrote a placeholder name of the same length: no offset moves
        assert form.count(_placeholder(spelled)) == 1
        form = form.replace(_placeholder(spelled), spelled)
    pdf = _insider_first_seal(world, form)
    for office in (TOWNSHIP, COUNTY):
        pdf = world.sealing.seal(pdf, office).pdf
    return pdf


def _placeholder(spelled: bytes) -> bytes:
    return b"/" + b"P" * (len(spelled) - 1)


def _catalog_entry(key: str, holder: Callable[[generic.IndirectObject], generic.PdfObject]
                   ) -> Callable[[IncrementalPdfFileWriter], None]:
    """The catalog gets ``key`` → a new small object holding the planted reference. (Not the reference itself:
    every seal's B-LT update rewrites the catalog, and pyHanko's diff analysis trips over a dangling reference
    in an object it re-reads — the forger tucks it one level down, in an object nothing rewrites.)"""
    def plant(w: IncrementalPdfFileWriter) -> None:
        w.root[pdf_name(key)] = w.add_object(holder(generic.IndirectObject(TARGET, 0, w)))
        w.update_root()
    return plant


def _open_action(target: generic.IndirectObject) -> generic.PdfObject:
    return _action(**{"/S": pdf_name("/JavaScript"), "/JS": target})


def _embedded_files(target: generic.IndirectObject) -> generic.PdfObject:
    return generic.DictionaryObject({pdf_name("/EmbeddedFiles"): generic.DictionaryObject({
        pdf_name("/Names"): generic.ArrayObject([generic.TextStringObject("审批材料.exe"), target])})})


def _plant_link(w: IncrementalPdfFileWriter, action: generic.PdfObject | None = None) -> None:
    """A small link annotation in the page's top margin (a new object no later revision rewrites; the seals
    rewrite only the page's /Annots array that lists it) whose action is the planted reference."""
    link = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Link"),
        pdf_name("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (40, 800, 200, 820)]),
        pdf_name("/Border"): generic.ArrayObject([generic.NumberObject(0)] * 3),
        pdf_name("/A"): action if action is not None else generic.IndirectObject(TARGET, 0, w)})
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(w.add_object(link))
    page["/Annots"] = annots
    w.mark_update(page_ref)


def _plant_title(w: IncrementalPdfFileWriter) -> None:
    ref = w.trailer.raw_get("/Info")
    ref.get_object()["/Title"] = generic.IndirectObject(TARGET, 0, w)
    w.mark_update(ref)


def _script(w: IncrementalPdfFileWriter) -> generic.PdfObject:
    return generic.TextStringObject(JS)


def _javascript(w: IncrementalPdfFileWriter) -> generic.PdfObject:
    return _action(**{"/S": pdf_name("/JavaScript"), "/JS": generic.TextStringObject(JS)})


def _launch(w: IncrementalPdfFileWriter) -> generic.PdfObject:
    return _action(**{"/S": pdf_name("/Launch"), "/F": generic.TextStringObject("cmd.exe")})


def _other_applicant(w: IncrementalPdfFileWriter) -> generic.PdfObject:
    return generic.TextStringObject("最低生活保障申请 李四 130634199001011234")


def _executable(w: IncrementalPdfFileWriter) -> generic.PdfObject:
    program = w.add_object(generic.StreamObject({pdf_name("/Type"): pdf_name("/EmbeddedFile")},
                                                stream_data=b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00"))
    return generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Filespec"), pdf_name("/F"): generic.TextStringObject("审批材料.exe"),
        pdf_name("/EF"): generic.DictionaryObject({pdf_name("/F"): program})})


def _define_target(w: IncrementalPdfFileWriter, obj: generic.PdfObject) -> generic.IndirectObject:
    """Object ``TARGET`` in this update (pyHanko allocates upwards from the highest number so far)."""
    assert w._lastobj_id < TARGET
    w._lastobj_id = TARGET - 1
    ref = w.add_object(obj)
    assert ref.idnum == TARGET
    return ref


def _county_vri_entry(w: IncrementalPdfFileWriter) -> generic.DictionaryObject:
    """The county seal's VRI dictionary in the DSS its B-LT data wrote (found by the SHA-1 of its container)."""
    county = next(s for s in w.prev.embedded_signatures if s.field_name == "MinSeal-county")
    key = pdf_name("/" + hashlib.sha1(bytes(county.sig_object["/Contents"])).hexdigest().upper())
    dss = w.root["/DSS"]
    vri = dss["/VRI"]  # pyHanko's B-LT data writes one entry per seal
    entry = vri[key]
    for container in (dss, vri, entry):  # rewritten as pyHanko's own DSS update rewrites them
        w.update_container(container)
    return entry


def _activate_as_ts(pdf: bytes, make: Callable[[IncrementalPdfFileWriter], generic.PdfObject]) -> bytes:
    """The LTV-shaped update after the county's seal: the county's VRI entry gets a /TS — the planted object."""
    def change(w: IncrementalPdfFileWriter) -> None:
        _county_vri_entry(w)[pdf_name("/TS")] = _define_target(w, make(w))
    return update_pdf(pdf, change)


def _token_stream(w: IncrementalPdfFileWriter) -> generic.PdfObject:
    """The county seal's own signature timestamp token (DER) as a stream: exactly what a VRI /TS should hold."""
    county = next(s for s in w.prev.embedded_signatures if s.field_name == "MinSeal-county")
    for attribute in county.signer_info["unsigned_attrs"]:
        if attribute["type"].dotted == "1.2.840.113549.1.9.16.2.14":
            return generic.StreamObject(stream_data=attribute["values"][0].dump())
    raise AssertionError("the county seal has no timestamp")


def _plain_pyhanko_passes(world: World, pdf: bytes) -> bool:
    """pyHanko's own validation (default diff policy), trusting the root: what "no other tool protects" means."""
    context = ValidationContext(trust_roots=[pki.to_asn1(world.authority.root_certificate())],
                                allow_fetching=False, revocation_mode="soft-fail")
    sigs = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
    return len(sigs) == 3 and all(
        validate_pdf_signature(s, signer_validation_context=context).bottom_line for s in sigs)


PLANTS: dict[str, tuple[Callable[[IncrementalPdfFileWriter], None],
                        Callable[[IncrementalPdfFileWriter], generic.PdfObject]]] = {
    "javascript on open": (_catalog_entry("/OpenAction", _open_action), _script),
    "another applicant's name": (_plant_title, _other_applicant),
    "launch from a link": (_plant_link, _launch),
    "executable attachment": (_catalog_entry("/Names", _embedded_files), _executable),
}


@pytest.mark.parametrize("kind", list(PLANTS))
def test_validation_data_that_defines_a_planted_object(world: World, kind: str) -> None:
    plant, make = PLANTS[kind]
    sealed = _planted_route(world, plant)
    assert world.verify(sealed).verdict is Verdict.PASSED  # nothing there yet: every tier saw and sealed the form
    forged = _activate_as_ts(sealed, make)
    report = world.verify(forged)
    refused(report, "PLANTED_OBJECT")
    assert any(f"{TARGET} 0 R" in f.message for f in report.findings if f.code == "PLANTED_OBJECT")
    if kind == "javascript on open":
        assert _plain_pyhanko_passes(world, forged)  # the gap this rule closes


@pytest.mark.parametrize("spelled", [None, b"999 000000 R", b"999\x0b0\x0bR"],
                         ids=["canonical", "generation-zeros", "vertical-tab"])
def test_planted_attachment_activated_by_a_genuine_timestamp_token(world: World, spelled: bytes | None) -> None:
    """The planted object is a genuine timestamp token — validation data of exactly the documented shape — and
    what it activates is an attachment named 审批材料.exe that no office saw. The planted reference may be spelled
    as a PDF parser still reads it (leading zeros in the generation, vertical tabs between the tokens)."""
    def filespec(w: IncrementalPdfFileWriter) -> generic.IndirectObject:
        content = pdf_name(_placeholder(spelled).decode()) if spelled else generic.IndirectObject(TARGET, 0, w)
        return w.add_object(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Filespec"), pdf_name("/F"): generic.TextStringObject("审批材料.exe"),
            pdf_name("/EF"): generic.DictionaryObject({pdf_name("/F"): content})}))

    def plant(w: IncrementalPdfFileWriter) -> None:
        w.root[pdf_name("/Names")] = w.add_object(generic.DictionaryObject({
            pdf_name("/EmbeddedFiles"): generic.DictionaryObject({
                pdf_name("/Names"): generic.ArrayObject([generic.TextStringObject("审批材料.exe"), filespec(w)])})}))
        w.update_root()

    sealed = _planted_route(world, plant, spelled=spelled)
    attachment = PdfFileReader(BytesIO(sealed)).root["/Names"]["/EmbeddedFiles"]["/Names"][1]
    assert attachment["/EF"].raw_get("/F").idnum == TARGET  # pyHanko reads the planted reference
    assert world.verify(sealed).verdict is Verdict.PASSED
    forged = _activate_as_ts(sealed, _token_stream)
    refused(world.verify(forged), "PLANTED_OBJECT")


def _dss_update(pdf: bytes, change: Callable[[IncrementalPdfFileWriter, generic.DictionaryObject], None]) -> bytes:
    """An unsigned update after the last seal that rewrites the DSS (as a validation-data update does)."""
    def apply(w: IncrementalPdfFileWriter) -> None:
        dss = w.root["/DSS"]
        change(w, dss)
        w.update_container(dss)
    return update_pdf(pdf, apply)


def test_validation_data_that_is_not_validation_data(world: World) -> None:
    crl = world.authority.crl().public_bytes(serialization.Encoding.DER)

    def cert_that_is_a_crl(w: IncrementalPdfFileWriter, dss: generic.DictionaryObject) -> None:
        certs = dss["/Certs"]
        certs.append(w.add_object(generic.StreamObject(stream_data=crl)))
        w.update_container(certs)

    def cert_that_is_a_script(w: IncrementalPdfFileWriter, dss: generic.DictionaryObject) -> None:
        certs = dss["/Certs"]
        certs.append(w.add_object(generic.StreamObject(stream_data=JS.encode())))
        w.update_container(certs)

    def vri_keyed_by_a_certificate(w: IncrementalPdfFileWriter, dss: generic.DictionaryObject) -> None:
        """A well-formed VRI key (40 hex digits, as pyHanko checks) that is no signature's hash."""
        vri = dss["/VRI"]
        der = _county_cert(world).public_bytes(serialization.Encoding.DER)
        vri[pdf_name("/" + hashlib.sha1(der).hexdigest().upper())] = generic.DictionaryObject(
            {pdf_name("/Cert"): generic.ArrayObject([dss["/Certs"].raw_get(0)])})
        w.update_container(vri)

    def cert_with_an_indirect_filter(w: IncrementalPdfFileWriter, dss: generic.DictionaryObject) -> None:
        """A genuine certificate whose /Filter is another object: a later update could redefine how the same
        bytes decode."""
        der = _county_cert(world).public_bytes(serialization.Encoding.DER)
        flate = w.add_object(pdf_name("/FlateDecode"))
        certs = dss["/Certs"]
        certs.append(w.add_object(generic.StreamObject({pdf_name("/Filter"): flate},
                                                       encoded_data=zlib.compress(der))))
        w.update_container(certs)

    for change in (cert_that_is_a_crl, cert_that_is_a_script, vri_keyed_by_a_certificate,
                   cert_with_an_indirect_filter):
        report = world.verify(_dss_update(world.v3, change))
        assert "BAD_VALIDATION_DATA" in report.codes, (change.__name__, report.codes)
        refused(report)


def test_genuine_validation_data_update_after_the_last_seal_passes(world: World) -> None:
    """No false positive: a B-LT file and then the DSS update any PAdES tool appends (pyHanko's add_dss: the
    chain and the installation's current CRL, for the county's seal)."""
    out = BytesIO(world.v3)
    county = next(s for s in PdfFileReader(out).embedded_signatures if s.field_name == "MinSeal-county")
    crl = asn1_crl.CertificateList.load(world.authority.crl().public_bytes(serialization.Encoding.DER))
    DocumentSecurityStore.add_dss(out, bytes(county.sig_object["/Contents"]), crls=[crl],
                                  certs=[county.signer_cert, pki.to_asn1(world.authority.root_certificate())])
    pdf = out.getvalue()
    revisions = [PdfFileReader(BytesIO(p)).xrefs.total_revisions for p in (world.v3, pdf)]
    assert revisions[1] == revisions[0] + 1
    report = world.verify(pdf)
    assert report.verdict is Verdict.PASSED, (report.summary(), report.codes)


# -- 1b. the planted object freed before the seals, its number reused after them -----------------------------------

def _free(pdf: bytes, number: int, *, next_generation: int) -> bytes:
    """An unsigned update whose classic xref section marks object ``number`` free: every reader then resolves
    its references to null, which is what the offices see and seal (hand-written: pyHanko's writer never frees)."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    trailer = reader.trailer
    size = max(int(trailer["/Size"]), number + 1)
    refs = " ".join(f"{k} {trailer.raw_get(k).idnum} {trailer.raw_get(k).generation} R" for k in ("/Root", "/Info"))
    ids = "[" + "".join(f"<{(getattr(v, 'original_bytes', None) or bytes(v)).hex()}>"
                        for v in trailer["/ID"]) + "]"
    start = len(pdf) + 1
    section = (f"\nxref\n{number} 1\n0000000000 {next_generation:05d} f\r\n"
               f"trailer\n<< /Size {size} {refs} /ID {ids} /Prev {reader.xrefs.get_startxref_for_revision(-1)} >>\n"
               f"startxref\n{start}\n%%EOF\n")
    return pdf + section.encode()


def _define_at(w: IncrementalPdfFileWriter, obj: generic.PdfObject, *, generation: int = 0) -> generic.IndirectObject:
    """Object ``TARGET`` (with ``generation``) in this update, whatever pyHanko would allocate next."""
    last = w._lastobj_id
    w._lastobj_id = TARGET - 1
    ref = w.add_object(obj)
    w._lastobj_id = max(last, TARGET)
    assert ref.idnum == TARGET
    if generation:
        w.objects[(generation, TARGET)] = w.objects.pop((0, TARGET))  # pyHanko keys (generation, number)
        ref = generic.IndirectObject(TARGET, generation, w)
    return ref


@pytest.mark.parametrize("generation", [0, 1], ids=["same-generation", "next-generation"])
def test_a_freed_planted_object_redefined_after_the_seals(world: World, generation: int) -> None:
    """The forger plants a harmless title in object ``TARGET 0`` that the form then frees, so every office sees
    and seals a form whose title reference (``TARGET 0 R``, or ``TARGET 1 R``: the generation a reuse gets)
    resolves to nothing; after the county's seal an LTV-shaped update defines that object number again, this
    time as validation data of exactly the documented shape (the county seal's own timestamp token)."""
    def plant(w: IncrementalPdfFileWriter) -> None:
        ref = w.trailer.raw_get("/Info")
        ref.get_object()["/Title"] = generic.IndirectObject(TARGET, generation, w)
        w.mark_update(ref)
        _define_at(w, generic.TextStringObject("申请"))

    planted = update_pdf(world.form, plant)
    freed = _free(planted, TARGET, next_generation=1)
    pdf = _insider_first_seal(world, freed)
    for office in (TOWNSHIP, COUNTY):
        pdf = world.sealing.seal(pdf, office).pdf
    assert world.verify(pdf).verdict is Verdict.PASSED

    def change(w: IncrementalPdfFileWriter) -> None:
        _county_vri_entry(w)[pdf_name("/TS")] = _define_at(w, _token_stream(w), generation=generation)
    forged = update_pdf(pdf, change)
    report = world.verify(forged)
    refused(report, "PLANTED_OBJECT")  # named as what it is (pyHanko's diff analysis also sees a change)
    with pytest.raises(NotSealableError) as refusal:  # MinSeal's own first seal: a reference to a freed object
        world.sealing.seal(freed, VILLAGE)
    assert refusal.value.code == "INPUT_NOT_CLEAN"
