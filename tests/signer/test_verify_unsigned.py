"""Issue 13: the forgery classes an independent set found. Each file here is built from our own sealed files with
real keys made at test time, and each passed the verifier before these rules existed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
import zlib
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation.dss import DocumentSecurityStore

from api.cli.main import main
from api.services.documents import DocumentService
from signer import pki
from signer.errors import NotSealableError
from signer.report import Verdict, VerificationReport
from signer.verify import TrustSettings, verify_pdf
from tests.signer.test_verify import COUNTY, OTHER_TOWNSHIP, TOWNSHIP, VILLAGE, World, _plain_pdf, update
from tests.support.forgery import sign, signer_for
from tests.support.mutants import WHITESPACE, free_bytes, last_contents, mutants
from tests.support.waiting import past_the_second


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("unsigned"), documents)


def refused(report: VerificationReport, *codes: str) -> None:
    assert report.verdict is Verdict.FAILED, report.summary()
    for code in codes:
        assert code in report.codes, (code, report.codes)


# -- 1. metadata and objects after the last seal ---------------------------------------------------------------


def test_info_and_xmp_changed_after_the_last_seal(world: World) -> None:
    def retitle(w: IncrementalPdfFileWriter) -> None:
        ref = w.trailer.raw_get("/Info")
        ref.get_object()["/Title"] = generic.TextStringObject("已批准：每月 2000 元")
        w.mark_update(ref)

    report = world.verify(update(world.v3, retitle))
    refused(report, "INFO_CHANGED")
    assert any("对象" in f.message for f in report.findings if f.code == "INFO_CHANGED")

    def new_info(w: IncrementalPdfFileWriter) -> None:
        old = w.trailer["/Info"]
        w.set_info(w.add_object(generic.DictionaryObject({**old, pdf_name("/Author"): generic.TextStringObject("x")})))

    refused(world.verify(update(world.v3, new_info)), "INFO_CHANGED")

    def new_xmp(w: IncrementalPdfFileWriter) -> None:
        ref = w.root.raw_get("/Metadata")
        stream = ref.get_object()
        w.objects[(ref.generation, ref.idnum)] = generic.StreamObject(
            dict(stream), stream_data=stream.data.replace("最低生活保障".encode(), "临时救助".encode()))

    refused(world.verify(update(world.v3, new_xmp)), "XMP_CHANGED")


def test_unreferenced_objects_after_the_last_seal(world: World) -> None:
    report = world.verify(update(world.v3, lambda w: w.add_object(generic.TextStringObject("hidden"))))
    refused(report, "UNEXPECTED_OBJECT")
    deep = b"[" * 10_000 + b"]" * 10_000
    forged = update(world.v3, lambda w: w.add_object(generic.NullObject()))
    forged = forged.replace(b"null", deep, 1) if forged.count(b"null") == 1 else forged + deep
    assert world.verify(forged).verdict is Verdict.FAILED
    bomb = generic.StreamObject({pdf_name("/Filter"): pdf_name("/FlateDecode")},
                                encoded_data=zlib.compress(b"\0" * (48 * 2**20), 9))
    bombed = world.verify(update(world.v3, lambda w: w.add_object(bomb)))
    refused(bombed, "STREAM_TOO_LARGE")
    assert bombed.document.revisions is None  # refused from the raw bytes, before any parser (cost: bench/)


# -- 2. time order along the route -----------------------------------------------------------------------------


class _BackdatingSigner(signers.SimpleSigner):  # type: ignore[misc]
    """A township insider's key, claiming a signing time before the township's trusted timestamp."""

    backdate = dt.timedelta(days=2)

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, *args: Any, **kwargs: Any) -> Any:
        attrs = kwargs.get("signed_attr_settings")
        if attrs is not None:
            kwargs["signed_attr_settings"] = dataclasses.replace(attrs, signing_time=attrs.signing_time - self.backdate)
        return await super().async_sign(data_digest, digest_algorithm, *args, **kwargs)


def test_backdated_claim_after_a_timestamped_seal(world: World) -> None:
    genuine = world.signer(TOWNSHIP)
    backdating = _BackdatingSigner(signing_cert=genuine.signing_cert, signing_key=genuine.signing_key,
                                   cert_registry=genuine.cert_registry)
    forged = sign(world.v1, backdating, "MinSeal-township", timestamper=world.sealing.local_timestamper())
    report = world.verify(forged)
    refused(report, "TIME_ORDER")
    assert [s.office_id for s in report.signatures] == [VILLAGE, TOWNSHIP]
    untimestamped = sign(world.v1, backdating, "MinSeal-township")
    refused(world.verify(untimestamped, min_level="B-B"), "TIME_ORDER")


# -- 3. stale revocation data at another site; minimum level ------------------------------------------------------


def test_stale_crl_does_not_clear_a_revoked_key(world: World, documents: DocumentService) -> None:
    data = documents.catalogue.family("dibao_notice").sample() | {"issuer": "孝墓镇人民政府"}
    notice = documents.render("dibao_notice", data).rendered.pdf
    genuine = world.sealing.seal(notice, OTHER_TOWNSHIP).pdf  # B-LT: embeds today's (pre-revocation) CRL
    stale_crl = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(genuine))).crls[0].get_object().data
    signed = dt.datetime.now(dt.UTC)
    thief = world.signer(OTHER_TOWNSHIP)
    past_the_second(signed)  # the revocation is dated after the genuine seal and its CRL
    world.authority.revoke(OTHER_TOWNSHIP, reason="key-compromise")
    stolen = sign(notice, thief, "MinSeal-issuer", certify=True, timestamper=world.sealing.local_timestamper())
    out = BytesIO(stolen)
    reader = PdfFileReader(out)
    contents = next(iter(reader.embedded_signatures)).pkcs7_content
    DocumentSecurityStore.add_dss(out, contents, crls=[__import__("asn1crypto.crl").crl.CertificateList.load(
        stale_crl)])
    forged = out.getvalue()
    remote = TrustSettings(roots=(world.authority.root_certificate(),))  # another site: the root, nothing else
    report = verify_pdf(forged, remote)
    assert report.verdict is not Verdict.PASSED, report.summary()
    assert report.signatures[0].revocation == "unknown" and "REVOCATION_UNKNOWN" in report.codes
    here = world.verify(forged)  # the issuing installation knows better
    refused(here, "CERT_REVOKED")
    # the genuine seal, made before the revocation: its OCSP response, made right after its timestamp, vouches
    # for it at the remote site too (issue 21)
    assert verify_pdf(genuine, remote).verdict is Verdict.PASSED
    assert world.verify(genuine).verdict is Verdict.PASSED


# -- 4. the route from the certificates alone -----------------------------------------------------------------------


def test_parent_chain_from_certificates_in_an_empty_data_dir(world: World, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    cert = world.authority.registry().get(VILLAGE)
    assert pki.parent_of(world.authority.key_store(cert).certificate(VILLAGE)) == TOWNSHIP

    def reroute(w: IncrementalPdfFileWriter) -> None:  # an unsealed form naming another township
        ref = w.trailer.raw_get("/Info")
        info = ref.get_object()
        slots = json.loads(str(info["/MinSealSlots"]))
        for slot in slots["slots"]:
            if slot.get("office_id") == TOWNSHIP:
                slot["office_id"], slot["office"] = OTHER_TOWNSHIP, "孝墓镇人民政府"
        info["/MinSealSlots"] = generic.TextStringObject(json.dumps(slots, ensure_ascii=False))
        w.mark_update(ref)

    with pytest.raises(NotSealableError):  # MinSeal's own sealer refuses a form whose boxes are not a route
        world.sealing.seal(update(world.form, reroute), VILLAGE)
    v1 = sign(update(world.form, reroute), world.signer(VILLAGE), "MinSeal-village", certify=True,
               timestamper=world.sealing.local_timestamper())  # an insider's own tool does not
    forged = sign(v1, world.signer(OTHER_TOWNSHIP), "MinSeal-township",
                   timestamper=world.sealing.local_timestamper())
    empty = tmp_path / "empty"
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(empty / "var"))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(empty / "keys"))
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    root = str(world.authority.root_cert_path)
    capsys.readouterr()
    assert main(["verify", str(path), "--trust", root, "--json"]) == 7
    out = json.loads(capsys.readouterr().out)
    assert "ROUTE_MISMATCH" in [f["code"] for f in out["findings"]], out["findings"]
    good = tmp_path / "good.pdf"
    good.write_bytes(world.v3)
    # route fine; revocation too, from the OCSP responses made after each timestamp (issue 21)
    assert main(["verify", str(good), "--trust", root, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["findings"] == [], out["findings"]
    assert [s["parent_id"] for s in out["signatures"]] == [TOWNSHIP, COUNTY, None]
    assert not empty.exists() or not any(empty.rglob("*.toml"))


# -- 6. naming a signer ---------------------------------------------------------------------------------------------


def test_expect_office_matches_id_or_exact_name_never_organisation(world: World) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "曲阳县人民政府"),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, "130634-9"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "曲阳县人民政府办公室")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(world.authority.root_certificate().subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(world.settings.crl_url)], None, None, None)]), critical=False)
            .sign(world.authority.root_key(), hashes.SHA256()))
    pdf = sign(_plain_pdf(), signer_for(cert, key), "Sig1", timestamper=world.sealing.local_timestamper())
    assert world.verify(pdf).verdict is Verdict.PASSED
    refused(world.verify(pdf, expected_offices=["曲阳县人民政府"]), "EXPECTED_OFFICE_MISSING")
    assert world.verify(pdf, expected_offices=["曲阳县人民政府办公室"]).verdict is Verdict.PASSED
    assert world.verify(pdf, expected_offices=["130634-9"]).verdict is Verdict.PASSED


# -- 7. plain words, no tracebacks --------------------------------------------------------------------------------


def test_specific_codes_and_no_traceback_on_stderr(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    store = world.authority.tsa_store()
    tsa_key = store.private_key(world.authority.TSA_KEY_ID)
    tsa = sign(_plain_pdf(), signer_for(store.certificate(world.authority.TSA_KEY_ID), tsa_key), "Sig1",
                timestamper=world.sealing.local_timestamper())
    refused(world.verify(tsa), "NOT_SEAL_CERT")
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_root = pki.make_root(other_key, common_name="Elsewhere CA", organization="Elsewhere")
    office = dataclasses.replace(world.authority.registry().get(VILLAGE).identity)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = pki.issue_office_certificate(office=office, public_key=leaf_key.public_key(), ca_cert=other_root,
                                        ca_key=other_key, endpoints=pki.PkiEndpoints("http://127.0.0.1:9/crl", None,
                                                                                     None))
    foreign = sign(world.form, signer_for(leaf, leaf_key, other_root), "MinSeal-village", certify=True,
                    timestamper=world.sealing.local_timestamper())
    refused(world.verify(foreign), "CERT_UNTRUSTED")
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))
    capfd.readouterr()
    for pdf in (tsa, foreign, world.v3):
        path = tmp_path / "f.pdf"
        path.write_bytes(pdf)
        main(["verify", str(path)])
    err = capfd.readouterr().err
    assert "Traceback" not in err and "pyhanko" not in err.lower(), err


# -- 8. bytes no signature covers -----------------------------------------------------------------------------------


def test_contents_padding_and_unsigned_attributes(world: World) -> None:
    start, end = last_contents(world.v1)
    pdf = world.v1
    refused(world.verify(pdf[:end - 5] + b"1234" + pdf[end - 1:]), "SIG_PADDING")
    raw = bytes.fromhex(pdf[start + 1:end - 1].decode())
    info = cms.ContentInfo.load(raw)
    length = len(info.dump())
    signer_info = info["content"]["signer_infos"][0]
    unsigned = list(signer_info["unsigned_attrs"]) if signer_info["unsigned_attrs"].native else []
    extra = cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": dt.datetime.now(dt.UTC)})]})
    signer_info["unsigned_attrs"] = cms.CMSAttributes([*unsigned, extra])
    forged_der = info.dump(force=True)
    assert len(forged_der) > length and 2 * len(forged_der) <= end - start - 2
    hex_der = forged_der.hex().encode().ljust(end - start - 2, b"0")
    refused(world.verify(pdf[:start + 1] + hex_der + pdf[end - 1:]), "UNSIGNED_ATTRIBUTE")


def test_unsigned_revision_may_hold_only_dss(world: World) -> None:
    pdf = world.v3
    last_eof = pdf.rstrip().rfind(b"%%EOF", 0, len(pdf) - 10)
    gap = re.compile(rb"endobj(\r?\n)(?=\d+ 0 obj)")
    match = gap.search(pdf, last_eof)
    assert match is not None
    junk = pdf[:match.start(1)] + b"X" + pdf[match.start(1) + 1:]
    refused(world.verify(junk), "UNACCOUNTED_BYTES")

    def dss_key(w: IncrementalPdfFileWriter) -> None:
        ref = w.root.raw_get("/DSS")
        ref.get_object()["/Note"] = generic.TextStringObject("not LTV data")
        w.mark_update(ref)

    refused(world.verify(update(pdf, dss_key)), "BAD_DSS")


# -- 9. bounded work --------------------------------------------------------------------------------------------------


def test_oversized_signature_container_is_refused_unread(world: World) -> None:
    big = sign(world.form, world.signer(VILLAGE), "MinSeal-village", bytes_reserved=400_000)
    report = world.verify(big)
    refused(report, "SIG_TOO_LARGE")
    # unread: the raw-byte scan refused it, so no parser ran (no revision or page count); cost in bench/
    assert report.document.revisions is None and report.document.pages is None and not report.signatures


# -- the mutation run -------------------------------------------------------------------------------------------


def test_mutants_never_pass(world: World) -> None:
    """Every mutant is refused, with a report, never an exception (the worst CPU time per mutant is measured in
    bench/bench_bounds.py)."""
    rng = random.Random(13)
    damaged = mutants(world.v3, rng, 160) + mutants(world.v1, rng, 140)
    for label, mutant in damaged:
        report = world.verify(mutant)  # never raises
        assert report.verdict is not Verdict.PASSED, (label, report.summary())


def test_every_structural_byte_of_the_unsigned_revision(world: World) -> None:
    """Parsers tolerate damaged keywords, off-by-one offsets, a stray byte between objects, a changed /Size or a
    VRI entry pointing elsewhere; nothing signs the last (LTV) revision, so every such change must be refused.
    Bytes outside stream data, sampled evenly (stream data is compressed: a flip breaks it)."""
    pdf = world.v3
    start = pdf.rfind(b"%%EOF", 0, len(pdf) - 10) + len(b"%%EOF\n")
    inside_streams = set()
    for match in re.finditer(rb"stream\n(.*?)\nendstream", pdf[start:], re.S):
        inside_streams.update(range(start + match.start(1), start + match.end(1)))
    free = free_bytes(pdf)
    positions = [at for at in range(start, len(pdf) - 1) if at not in inside_streams and at not in free]
    assert len(positions) > 200
    for at in positions[:: max(1, len(positions) // 90)]:
        new = ord("7") if pdf[at] != ord("7") else ord("8")
        if pdf[at] in WHITESPACE:
            new = ord("A")
        report = world.verify(pdf[:at] + bytes([new]) + pdf[at + 1:])
        assert report.verdict is not Verdict.PASSED, (at - len(pdf), pdf[at - 20:at + 10])


def test_a_vri_entry_naming_validation_data_of_another_kind(world: World) -> None:
    """A VRI /Cert that names an OCSP response (one changed digit of the unsigned revision can do it) is not
    validation data of the documented shape, though the object is in the DSS."""
    def cert_to_ocsp(w: IncrementalPdfFileWriter) -> None:
        dss = w.root["/DSS"]
        for ref in dss["/VRI"].values():
            entry = ref.get_object()
            if "/Cert" in entry and "/OCSP" in entry:
                entry["/Cert"] = generic.ArrayObject([list.__getitem__(entry["/OCSP"], 0)])
                w.mark_update(ref)
                return
        raise AssertionError("no VRI entry with both /Cert and /OCSP")

    refused(world.verify(update(world.v3, cert_to_ocsp)), "BAD_VALIDATION_DATA")
