"""GB/T 38540 seals and seal signatures: built, carried in a real MinSeal PDF, verified; every refusal the
verifier owes; and the structures and SM2 signatures checked by Debian's OpenSSL, which MinSeal does not sign
with."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from api.services.documents import DocumentService, seal_font
from signer import ses, ses_pdf, sm2
from signer.errors import NotSealableError
from signer.report import Verdict
from signer.seal_image import SealSpec, seal_png, seal_svg
from tests.support import ses_pki
from tests.support.ses_pki import DAY, NOW

BOX = (300.0, 100.0, 460.0, 260.0)  # 160 pt: a 42 mm (119 pt) seal fits


@pytest.fixture(scope="module")
def world() -> ses_pki.SesWorld:
    return ses_pki.world()


@pytest.fixture(scope="module")
def pdf(documents: DocumentService) -> bytes:
    sample = documents.catalogue.family("dibao_notice").sample()
    rendered: bytes = documents.render("dibao_notice", sample).rendered.pdf
    return rendered


@pytest.fixture(scope="module")
def png() -> bytes:
    return seal_png(SealSpec("某县民政局"), seal_font(), dpi=150)


def _seal(world: ses_pki.SesWorld, picture: ses.SealPicture, *, signers: tuple[bytes, ...] | None = None,
          start: dt.datetime = NOW - 30 * DAY, end: dt.datetime = NOW + 365 * DAY) -> bytes:
    info = ses.SealInfo(es_id="11000020260001", name="某县民政局业务专用章",
                        signer_certs=signers if signers is not None else (world.office.der,),
                        picture=picture, valid_start=start, valid_end=end, created=NOW - 30 * DAY)
    return ses.make_seal(info, maker_key=world.maker.key, maker_cert=world.maker.der)


@pytest.fixture(scope="module")
def seal(world: ses_pki.SesWorld, png: bytes) -> bytes:
    return _seal(world, ses.SealPicture("PNG", png, 42, 42))


@pytest.fixture(scope="module")
def sealed(pdf: bytes, world: ses_pki.SesWorld, seal: bytes) -> bytes:
    return ses_pdf.seal_pdf(pdf, seal=seal, signer_key=world.office.key, signer_cert=world.office.der, page=0,
                            box=BOX, field_name="县级审批", when=NOW)


def _crl(world: ses_pki.SesWorld) -> list[object]:
    return [ses_pki.make_crl(world.root, [])]


def test_a_sealed_pdf_verifies_with_the_root_and_a_fresh_crl(sealed: bytes, pdf: bytes,
                                                               world: ses_pki.SesWorld) -> None:
    assert sealed.startswith(pdf)  # an incremental update: the rendered document is untouched
    [result] = ses_pdf.verify_ses_signatures(sealed, trust_roots=[world.root.cert], crls=_crl(world))
    assert result.verdict is Verdict.PASSED, result.codes
    assert (result.field_name, result.page, result.coverage) == ("县级审批", 0, "entire_file")
    assert result.box == BOX
    assert result.ses is not None and result.ses.seal is not None
    assert result.ses.seal.name == "某县民政局业务专用章" and result.ses.maker_signed == "sealinfo"
    assert result.ses.revocation == "good"
    # no CRL: the signature holds but revocation cannot be decided
    [unknown] = ses_pdf.verify_ses_signatures(sealed, trust_roots=[world.root.cert])
    assert unknown.verdict is Verdict.INDETERMINATE and unknown.codes == ["REVOCATION_UNKNOWN"]


def test_the_signature_dictionary_names_its_handler_and_the_box_shows_the_seal(sealed: bytes, pdf: bytes,
                                                                                tmp_path: Path) -> None:
    tail = sealed[len(pdf):]
    assert b"/Filter /MinSeal.GBT38540" in tail and b"/SubFilter /GBT38540.SES_Signature.v4" in tail
    assert b"/Subtype /Image" in tail and b"/SMask" in tail
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    # poppler renders the widget: red seal ink inside the box on page 1
    from tests.support.pdftools import page_png

    image = page_png(path, tmp_path / "p", dpi=36, mode="RGB")
    scale = 36 / 72
    left, top = int(BOX[0] * scale), int(image.height - BOX[3] * scale)
    crop = image.crop((left, top, int(BOX[2] * scale), int(image.height - BOX[1] * scale)))
    raw = crop.convert("RGB").tobytes()
    red = sum(1 for i in range(0, len(raw), 3) if raw[i] > 180 and raw[i + 1] < 90 and raw[i + 2] < 90)
    assert red > 50


def test_one_flipped_byte_in_the_covered_range_is_a_digest_mismatch(sealed: bytes,
                                                                    world: ses_pki.SesWorld) -> None:
    changed = bytearray(sealed)
    changed[100] ^= 0x01  # inside the rendered document's first stream: covered by the first range
    [result] = ses_pdf.verify_ses_signatures(bytes(changed), trust_roots=[world.root.cert], crls=_crl(world))
    assert result.verdict is Verdict.FAILED
    assert result.codes == ["SES_DIGEST_MISMATCH"]


def test_a_seal_signed_in_the_gmt0031_form_is_accepted_and_named(world: ses_pki.SesWorld, seal: bytes) -> None:
    parsed = ses.read_seal(seal)
    body = parsed["eSealInfo"].dump() + parsed["cert"].dump() + parsed["signAlgID"].dump()
    triple = b"\x30" + ses._der_len(body) + body  # SEQUENCE {sealInfo, cert, signAlgID}
    legacy = ses.SESeal({"eSealInfo": parsed["eSealInfo"], "cert": parsed["cert"], "signAlgID": parsed["signAlgID"],
                         "signedValue": world.maker.key.sign(triple)}).dump()
    result = ses.verify_seal(legacy, trust_roots=[world.root.cert], when=NOW)
    assert result.verdict is Verdict.PASSED and result.maker_signed == "sealinfo_cert_alg"
    assert ses.verify_seal(seal, trust_roots=[world.root.cert], when=NOW).maker_signed == "sealinfo"


def test_an_altered_seal_is_refused_for_its_makers_signature(pdf: bytes, world: ses_pki.SesWorld,
                                                             seal: bytes) -> None:
    forged = seal.replace("某县民政局业务专用章".encode(), "某县人民政府公章章章".encode())
    assert forged != seal and len(forged) == len(seal)
    out = ses_pdf.seal_pdf(pdf, seal=forged, signer_key=world.office.key, signer_cert=world.office.der, page=0,
                           box=BOX, field_name="县级审批", when=NOW)
    [result] = ses_pdf.verify_ses_signatures(out, trust_roots=[world.root.cert], crls=_crl(world))
    assert result.verdict is Verdict.FAILED
    assert result.codes == ["SES_SEAL_MAKER_SIGNATURE_INVALID"]
    assert ses.verify_seal(forged, trust_roots=[world.root.cert], when=NOW).codes == [
        "SES_SEAL_MAKER_SIGNATURE_INVALID"]


def test_a_signer_not_listed_in_the_seal_is_refused(pdf: bytes, world: ses_pki.SesWorld, png: bytes) -> None:
    other = ses_pki.issue("另一个单位（测试）", issuer=world.root)
    seal = _seal(world, ses.SealPicture("PNG", png, 42, 42), signers=(world.office.der,))
    out = ses_pdf.seal_pdf(pdf, seal=seal, signer_key=other.key, signer_cert=other.der, page=0, box=BOX,
                           field_name="县级审批", when=NOW)
    [result] = ses_pdf.verify_ses_signatures(out, trust_roots=[world.root.cert], crls=_crl(world))
    assert result.codes == ["SES_SIGNER_NOT_IN_SEAL"]


def test_signing_outside_the_seals_validity_is_refused(pdf: bytes, world: ses_pki.SesWorld, png: bytes) -> None:
    expired = _seal(world, ses.SealPicture("PNG", png, 42, 42), start=NOW - 20 * DAY, end=NOW - 10 * DAY)
    out = ses_pdf.seal_pdf(pdf, seal=expired, signer_key=world.office.key, signer_cert=world.office.der, page=0,
                           box=BOX, field_name="县级审批", when=NOW)
    [result] = ses_pdf.verify_ses_signatures(out, trust_roots=[world.root.cert], crls=_crl(world))
    assert result.codes == ["SES_SEAL_EXPIRED"]
    future = _seal(world, ses.SealPicture("PNG", png, 42, 42), start=NOW + DAY, end=NOW + 10 * DAY)
    out = ses_pdf.seal_pdf(pdf, seal=future, signer_key=world.office.key, signer_cert=world.office.der, page=0,
                           box=BOX, field_name="县级审批", when=NOW)
    [result] = ses_pdf.verify_ses_signatures(out, trust_roots=[world.root.cert], crls=_crl(world))
    assert result.codes == ["SES_SEAL_NOT_YET_VALID"]


def test_a_wrong_trust_root_is_refused(sealed: bytes) -> None:
    stranger = ses_pki.issue("别处的 SM2 根证书", ca=True)
    [result] = ses_pdf.verify_ses_signatures(sealed, trust_roots=[stranger.cert],
                                             crls=[ses_pki.make_crl(stranger, [])])
    assert result.verdict is Verdict.FAILED
    assert set(result.codes) == {"SES_MAKER_UNTRUSTED", "CERT_UNTRUSTED"}


def test_a_revoked_signer_certificate_is_refused(sealed: bytes, world: ses_pki.SesWorld) -> None:
    revoked = ses_pki.make_crl(world.root, [(world.office.cert, NOW - DAY)])
    [result] = ses_pdf.verify_ses_signatures(sealed, trust_roots=[world.root.cert], crls=[revoked])
    assert result.codes == ["CERT_REVOKED"] and result.ses is not None and result.ses.revocation == "revoked"
    later = ses_pki.make_crl(world.root, [(world.office.cert, NOW + DAY)], this_update=NOW + 2 * DAY)
    [result] = ses_pdf.verify_ses_signatures(sealed, trust_roots=[world.root.cert], crls=[later])
    assert result.verdict is Verdict.PASSED and result.ses is not None
    assert result.ses.revocation == "revoked_after_signing"
    # a CRL signed by someone else says nothing
    stranger = ses_pki.issue("MinSeal 测试 SM2 根证书", ca=True)
    forged = ses_pki.make_crl(stranger, [])
    [result] = ses_pdf.verify_ses_signatures(sealed, trust_roots=[world.root.cert], crls=[forged])
    assert result.codes == ["REVOCATION_UNKNOWN"]


def test_byte_ranges_that_leave_a_gap_or_overlap_are_refused(sealed: bytes, world: ses_pki.SesWorld) -> None:
    [found] = ses_pdf.find_ses_signatures(sealed)
    _zero, a, b, c = found.byte_range
    old = f"/ByteRange [0 {a} {b} {c}]".encode()
    assert old in sealed
    for forged_range in ([0, a - 10, b, c], [0, a + 10, b, c], [0, a, b, c - 10], [0, a, b - 4, c + 4],
                         [5, a, b, c]):
        text = ("/ByteRange [" + " ".join(str(v) for v in forged_range) + "]").encode()
        text = text + b" " * (len(old) - len(text))
        forged = sealed.replace(old, text[:len(old)])
        [result] = ses_pdf.verify_ses_signatures(forged, trust_roots=[world.root.cert], crls=_crl(world))
        assert result.verdict is Verdict.FAILED, forged_range
        assert "COVERAGE" in result.codes or "SES_DIGEST_MISMATCH" in result.codes, (forged_range, result.codes)


def test_a_later_revision_leaves_the_ses_signature_covering_its_own(sealed: bytes, world: ses_pki.SesWorld,
                                                                    seal: bytes) -> None:
    twice = ses_pdf.seal_pdf(sealed, seal=seal, signer_key=world.office.key, signer_cert=world.office.der,
                             page=0, box=(100.0, 100.0, 260.0, 260.0), field_name="乡镇审核", when=NOW)
    results = ses_pdf.verify_ses_signatures(twice, trust_roots=[world.root.cert], crls=_crl(world))
    assert [(r.field_name, r.coverage, r.verdict) for r in results] == [
        ("县级审批", "entire_revision", Verdict.PASSED), ("乡镇审核", "entire_file", Verdict.PASSED)]


def test_an_svg_seal_picture_is_drawn_as_vector_paths(pdf: bytes, world: ses_pki.SesWorld) -> None:
    svg = seal_svg(SealSpec("某县民政局"), seal_font()).encode()
    seal = _seal(world, ses.SealPicture("SVG", svg, 42, 42))
    out = ses_pdf.seal_pdf(pdf, seal=seal, signer_key=world.office.key, signer_cert=world.office.der, page=0,
                           box=BOX, field_name="县级审批", when=NOW)
    [result] = ses_pdf.verify_ses_signatures(out, trust_roots=[world.root.cert], crls=_crl(world))
    assert result.verdict is Verdict.PASSED
    ops, width, height = ses_pdf.svg_ops(svg)
    # the ring, the star and one path a character, all in seal red
    assert (width, height) == (42, 42) and ops.count(b" f") == 2 + len("某县民政局")
    assert ops.count(b"0.902 0.000 0.071 rg") == ops.count(b" f")
    with pytest.raises(NotSealableError) as refused:
        bad = _seal(world, ses.SealPicture("SVG", b'<svg viewBox="0 0 1 1"><text>x</text></svg>', 42, 42))
        ses_pdf.seal_pdf(pdf, seal=bad, signer_key=world.office.key, signer_cert=world.office.der, page=0,
                         box=BOX, field_name="县级审批", when=NOW)
    assert refused.value.code == "SES_PICTURE_UNSUPPORTED"


def test_a_seal_larger_than_the_box_is_refused_not_scaled(pdf: bytes, world: ses_pki.SesWorld,
                                                          png: bytes) -> None:
    big = _seal(world, ses.SealPicture("PNG", png, 80, 80))
    with pytest.raises(NotSealableError) as refused:
        ses_pdf.seal_pdf(pdf, seal=big, signer_key=world.office.key, signer_cert=world.office.der, page=0,
                         box=BOX, field_name="县级审批", when=NOW)
    assert refused.value.code == "SEAL_TOO_LARGE"


def test_garbage_is_a_result_not_an_exception(world: ses_pki.SesWorld) -> None:
    for junk in (b"", b"\x30\x03\x02\x01\x04", b"\x30\x80" + b"\x00" * 10):
        result = ses.verify(junk, data=b"x", trust_roots=[world.root.cert])
        assert result.verdict is Verdict.FAILED and result.codes == ["SES_MALFORMED"]


def test_a_signature_by_another_key_is_refused(world: ses_pki.SesWorld, seal: bytes) -> None:
    der = ses.sign(seal=seal, signer_key=world.office.key, signer_cert=world.office.der, when=NOW,
                   property_info="test", data=b"document")
    parsed = ses.parse_signature(der)
    other = sm2.Sm2PrivateKey.generate()
    forged = ses.assemble(parsed["toSign"].dump(), signer_cert=world.office.der,
                          signature=other.sign(parsed["toSign"].dump()))
    result = ses.verify(forged, data=b"document", trust_roots=[world.root.cert], crls=_crl(world))
    assert result.codes == ["SES_SIGNATURE_INVALID"]


# -- independent checks: Debian's OpenSSL parses what we write and verifies the SM2 signatures inside ----------


def _openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


def _sm2_verify(tmp_path: Path, cert_der: bytes, message: bytes, signature: bytes) -> bool:
    (tmp_path / "cert.der").write_bytes(cert_der)
    key = _openssl("x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-pubkey", "-noout")
    assert key.returncode == 0, key.stderr
    (tmp_path / "pub.pem").write_bytes(key.stdout)
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    done = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                    "-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "msg"),
                    "-sigfile", str(tmp_path / "sig"))
    return done.returncode == 0 and b"Signature Verified Successfully" in done.stdout


def test_openssl_parses_the_seal_and_the_signature(sealed: bytes, seal: bytes, tmp_path: Path) -> None:
    (tmp_path / "seal.der").write_bytes(seal)
    parsed = _openssl("asn1parse", "-inform", "DER", "-in", str(tmp_path / "seal.der"), "-i")
    assert parsed.returncode == 0, parsed.stderr
    lines = parsed.stdout.decode()
    assert re.search(r"IA5STRING\s+:ES\n.*INTEGER\s+:04\n.*IA5STRING\s+:MinSeal", lines)
    assert "IA5STRING         :PNG" in lines and "SM2-with-SM3" in lines
    assert lines.count("GENERALIZEDTIME") == 3
    [found] = ses_pdf.find_ses_signatures(sealed)
    length = ses_pdf._der_length(found.contents)
    assert length is not None
    (tmp_path / "sig.der").write_bytes(found.contents[:length])
    parsed = _openssl("asn1parse", "-inform", "DER", "-in", str(tmp_path / "sig.der"), "-i")
    assert parsed.returncode == 0, parsed.stderr
    text = parsed.stdout.decode()
    assert text.count("SM2-with-SM3") == 2  # the seal's and the signature's algorithm
    assert ":PDF;ByteRange=0 " in text
    assert text.count("GENERALIZEDTIME") == 4  # seal's three dates, signing time


def test_openssl_verifies_both_sm2_signatures_and_the_sm3_data_hash(sealed: bytes, tmp_path: Path) -> None:
    [found] = ses_pdf.find_ses_signatures(sealed)
    length = ses_pdf._der_length(found.contents)
    signature = ses.parse_signature(found.contents[:length])
    tbs = signature["toSign"]
    seal = tbs["eseal"]
    # the maker's signature over SES_SealInfo, with the maker's certificate's key
    assert _sm2_verify(tmp_path, bytes(seal["cert"].native), seal["eSealInfo"].dump(), seal["signedValue"].native)
    # the signer's signature over TBS_Sign
    assert _sm2_verify(tmp_path, bytes(signature["cert"].native), tbs.dump(), signature["signature"].native)
    # and a changed TBS_Sign does not verify there either
    assert not _sm2_verify(tmp_path, bytes(signature["cert"].native), tbs.dump()[:-1] + b"X",
                           signature["signature"].native)
    # dataHash is SM3 over the byte ranges, by openssl dgst
    _zero, a, b, c = found.byte_range
    (tmp_path / "covered").write_bytes(sealed[:a] + sealed[b:b + c])
    digest = _openssl("dgst", "-sm3", "-binary", str(tmp_path / "covered"))
    assert digest.returncode == 0, digest.stderr
    assert digest.stdout == tbs["dataHash"].native
