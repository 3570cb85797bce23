"""SM2/SM3 PAdES seals along the village → township → county route: sealed, verified with the same report
and codes as ECDSA, forgeries refused — and every SM2 signature MinSeal wrote (seals, timestamps, certificates,
CRLs, OCSP responses) checked again by Debian's ``openssl``, which MinSeal does not sign with."""

from __future__ import annotations

import datetime as dt
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import algos, cms, keys, pem
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader

from api.cli.main import main
from api.services.documents import DocumentService
from signer import sm2_pki
from signer.errors import SealingError
from signer.pki import RevokedEntry
from signer.report import Verdict
from signer.sign import SealLevel
from signer.sm2 import DEFAULT_ID, Sm2PrivateKey
from signer.sm2_validate import SIGNATURE_VALIDATOR
from signer.verify import TrustSettings, verify_pdf
from tests.signer.sm2_world import COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE, Sm2World, crypto

DISTID = f"distid:{DEFAULT_ID.decode()}"


class Route:
    def __init__(self, world: Sm2World, documents: DocumentService) -> None:
        self.world = world
        self.form = documents.render("dibao_application",
                                     documents.catalogue.family("dibao_application").sample()).rendered.pdf
        self.v1 = world.seal(self.form, VILLAGE)
        self.v2 = world.seal(self.v1, TOWNSHIP)
        self.v3 = world.seal(self.v2, COUNTY, level=SealLevel.B_LTA)


@pytest.fixture(scope="module")
def route(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Route:
    return Route(Sm2World(tmp_path_factory.mktemp("sm2")), documents)


def _signed_datas(pdf: bytes) -> list[tuple[str, cms.SignedData]]:
    """Every CMS SignedData in the file: seals, their timestamp tokens, document timestamps."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    out = []
    for sig in reader.embedded_signatures:
        out.append((sig.field_name, sig.signed_data))
        for attr in sig.signer_info["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                out.append((f"{sig.field_name}/timestamp", attr["values"][0]["content"]))
    return out


# -- MinSeal's own verdict -----------------------------------------------------------------------------------------
def test_the_sm2_route_passes_with_sm3_and_sm2_in_every_signer_info(route: Route) -> None:
    report = route.world.verify(route.v3)
    assert report.verdict is Verdict.PASSED, report.findings
    assert [(s.office_id, s.tier, s.level) for s in report.signatures] == [
        (VILLAGE, "village", "B-LTA"), (TOWNSHIP, "township", "B-LTA"), (COUNTY, "county", "B-LTA")]
    assert all(s.revocation == "good" and s.timestamp_time for s in report.signatures)
    datas = _signed_datas(route.v3)
    assert len(datas) == 7  # three seals, their three timestamps, the county's document timestamp
    for name, data in datas:
        info = data["signer_infos"][0]
        assert (info["digest_algorithm"]["algorithm"].dotted, info["signature_algorithm"]["algorithm"].dotted) == (
            "1.2.156.10197.1.401", "1.2.156.10197.1.501"), name


def test_one_flipped_byte_fails(route: Route) -> None:
    reader = PdfFileReader(BytesIO(route.v1), strict=False)
    byte_range = reader.embedded_signatures[0].byte_range
    start, length = int(byte_range[0]), int(byte_range[1])
    at = start + length // 2  # inside the signed bytes, before the signature
    forged = route.v1[:at] + bytes([route.v1[at] ^ 0x01]) + route.v1[at + 1:]
    report = route.world.verify(forged)
    assert report.verdict is Verdict.FAILED


def test_a_flipped_bit_of_the_sm2_signature_value_fails(route: Route) -> None:
    reader = PdfFileReader(BytesIO(route.v1), strict=False)
    signature = reader.embedded_signatures[0].signer_info["signature"].native
    hex_sig = signature.hex().encode()
    at = route.v1.lower().index(hex_sig) + len(hex_sig) - 2  # the last byte of s
    flipped = b"%02x" % (int(route.v1[at:at + 2], 16) ^ 0x01)
    report = route.world.verify(route.v1[:at] + flipped + route.v1[at + 2:])
    assert report.verdict is Verdict.FAILED
    assert "SIG_INVALID" in {f.code for f in report.findings}


def test_a_seal_by_the_wrong_office_fails_the_route(route: Route) -> None:
    """Another village's genuine SM2 key in this village's box: trusted, intact, and refused by the route."""
    forged = route.world.seal(route.form, VILLAGE, signer_of=OTHER_VILLAGE)
    report = route.world.verify(forged)
    assert report.verdict is Verdict.FAILED
    assert report.signatures[0].trusted and report.signatures[0].intact
    assert "WRONG_OFFICE" in {f.code for f in report.findings}, \
        report.findings


def test_another_root_does_not_vouch_for_an_sm2_seal(route: Route, tmp_path: Path) -> None:
    other = sm2_pki.make_root(Sm2PrivateKey.generate(), common_name="另一个 SM2 根证书", organization="别处")
    report = verify_pdf(route.v1, TrustSettings(roots=(crypto(other),)))
    assert report.verdict is Verdict.FAILED
    assert "CERT_UNTRUSTED" in {f.code for f in report.findings}


def test_a_revoked_sm2_seal_cannot_seal_at_long_term_levels(tmp_path: Path, documents: DocumentService) -> None:
    world = Sm2World(tmp_path)
    form = documents.render("dibao_application", documents.catalogue.family("dibao_application").sample()).rendered.pdf
    serial = world.certs[VILLAGE].serial_number
    world.revoked.append(RevokedEntry(serial, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
                                      x509.ReasonFlags.key_compromise))
    with pytest.raises(SealingError):
        world.seal(form, VILLAGE, level=SealLevel.B_LT)
    report = world.verify(world.seal(form, VILLAGE, level=SealLevel.B_T), own_crls=(world.crl(),))
    assert report.verdict is Verdict.FAILED
    assert "CERT_REVOKED" in {f.code for f in report.findings}


# -- Debian's openssl, independently -------------------------------------------------------------------------------
def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)


def _pubkey(cert: asn1_x509.Certificate, tmp: Path, name: str) -> Path:
    path = tmp / f"{name}.pub.pem"
    path.write_bytes(pem.armor("PUBLIC KEY", cert.public_key.dump()))
    return path


def _pkeyutl_verifies(message: bytes, signature: bytes, signer: asn1_x509.Certificate, tmp: Path, name: str) -> bool:
    (tmp / f"{name}.msg").write_bytes(message)
    (tmp / f"{name}.sig").write_bytes(signature)
    result = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(_pubkey(signer, tmp, name)), "-rawin",
                      "-digest", "sm3", "-pkeyopt", DISTID, "-in", str(tmp / f"{name}.msg"),
                      "-sigfile", str(tmp / f"{name}.sig"))
    return result.returncode == 0 and "Signature Verified Successfully" in result.stdout


def test_openssl_verifies_every_cms_signature_minseal_wrote(route: Route, tmp_path: Path) -> None:
    """Seals, signature timestamps and the document timestamp: SM2 over the DER of the signed attributes
    (retagged as a SET, RFC 5652 §5.4) with ID 1234567812345678; a flipped byte of the attributes fails."""
    for index, (name, data) in enumerate(_signed_datas(route.v3)):
        info = data["signer_infos"][0]
        sid = info["sid"].chosen
        signer = next(c.chosen for c in data["certificates"]
                      if c.chosen.serial_number == sid["serial_number"].native)
        attrs = info["signed_attrs"].untag().dump()
        signature = info["signature"].native
        assert _pkeyutl_verifies(attrs, signature, signer, tmp_path, f"cms{index}"), name
        broken = attrs[:-1] + bytes([attrs[-1] ^ 1])
        assert not _pkeyutl_verifies(broken, signature, signer, tmp_path, f"bad{index}"), name
        der = tmp_path / f"cms{index}.der"
        der.write_bytes(cms.ContentInfo({"content_type": "signed_data", "content": data}).dump())
        parsed = _openssl("asn1parse", "-inform", "DER", "-in", str(der))
        assert parsed.returncode == 0 and ":sm3" in parsed.stdout and ":SM2-with-SM3" in parsed.stdout, name


def test_openssl_verifies_the_certificates_crl_and_ocsp_responses(route: Route, tmp_path: Path) -> None:
    world = route.world
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pem.armor("CERTIFICATE", world.root_cert.dump()))
    for name, cert in [("root", world.root_cert), ("tsa", world.tsa_cert), *world.certs.items()]:
        path = tmp_path / f"{name}.pem"
        path.write_bytes(pem.armor("CERTIFICATE", cert.dump()))
        result = _openssl("verify", "-vfyopt", DISTID, "-CAfile", str(root_pem), str(path))
        assert result.returncode == 0, (name, result.stderr)
        assert _pkeyutl_verifies(cert["tbs_certificate"].dump(), cert["signature_value"].native, world.root_cert,
                                 tmp_path, f"cert-{name}")
    crl = sm2_pki.make_crl(ca_cert=world.root_cert, ca_key=world.root_key, number=7, revoked=[])
    assert _pkeyutl_verifies(crl["tbs_cert_list"].dump(), crl["signature"].native, world.root_cert, tmp_path, "crl")
    (tmp_path / "crl.der").write_bytes(crl.dump())
    text = _openssl("crl", "-inform", "DER", "-in", str(tmp_path / "crl.der"), "-noout", "-text")
    assert text.returncode == 0 and "SM2-with-SM3" in text.stdout
    # the OCSP responses the county's B-LTA file carries in its DSS (made by the SM2 responder)
    reader = PdfFileReader(BytesIO(route.v3), strict=False)
    ocsps = [asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in reader.root["/DSS"]["/OCSPs"]]
    assert ocsps
    for index, response in enumerate(ocsps):
        basic = response["response_bytes"]["response"].parsed
        assert basic["signature_algorithm"]["algorithm"].native == "sm2_sm3"
        assert _pkeyutl_verifies(basic["tbs_response_data"].dump(), basic["signature"].native, world.root_cert,
                                 tmp_path, f"ocsp{index}")


def test_minseal_verify_with_the_sm2_root(route: Route, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The command a verifier elsewhere runs: ``minseal verify --trust sm2-root.pem``; the installation's own
    (ECDSA) root does not vouch for the SM2 file, and a one-byte change fails it."""
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(route.world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(route.world.settings.keys_dir))
    root = tmp_path / "sm2-root.pem"
    root.write_bytes(pem.armor("CERTIFICATE", route.world.root_cert.dump()))
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(route.v3)
    at = len(route.v3) // 3
    bad.write_bytes(route.v3[:at] + bytes([route.v3[at] ^ 0x20]) + route.v3[at + 1:])
    assert main(["verify", str(good), "--trust", str(root), "--expect-office", COUNTY]) == 0
    assert capsys.readouterr().out.startswith("通过：3 个签章")
    assert main(["verify", str(bad), "--trust", str(root)]) == 7
    assert main(["verify", str(good)]) == 7  # the demo's ECDSA root


def test_the_validator_never_mixes_sm2_keys_and_other_mechanisms() -> None:
    """An SM2 key under ECDSA, or sm2_sm3 claimed for a P-256 key, is invalid — never handed to the other check."""

    key = Sm2PrivateKey.generate()
    message = b"MinSeal"
    signature = key.sign(message)
    sm2_sm3 = algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})
    SIGNATURE_VALIDATOR.validate_signature(signature, message, key.public_key.info(), sm2_sm3)
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(signature, message + b".", key.public_key.info(), sm2_sm3)
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(signature, message, key.public_key.info(),
                                               algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}))
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(InvalidSignature):
        SIGNATURE_VALIDATOR.validate_signature(signature, message, keys.PublicKeyInfo.load(p256), sm2_sm3)
