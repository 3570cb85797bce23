"""``minseal init-demo --sm2``: the demo installation with an SM2 root, SM2 office seals and an SM2 TSA, and the
whole demo on it — sealing village → township → county through the service (the township's and county's checks
included), ``/pki/crl``, ``/pki/ocsp`` and ``/pki/tsa`` of the running service, ``minseal verify`` elsewhere with
the root alone — with every certificate and key file checked again by Debian's ``openssl``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader

from api.cli.main import main
from api.services.authority import SealAuthority
from api.services.authority.ca import RootCA
from api.services.authority.paths import AuthorityPaths
from api.services.authority.stores import Secrets
from api.services.documents import DocumentService
from api.services.public_links import PublicLinks
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer.errors import KeyStoreError, SealStateError
from signer.pki import is_sm2_certificate, to_asn1
from signer.report import Verdict
from signer.sm2 import DEFAULT_ID
from signer.sm2_pki import ocsp_request
from signer.sm2_validate import certificate_signed_by, crl_signed_by, ocsp_signed_by
from templates import Catalogue
from tests.support.servers import free_port, serve

VILLAGE, OTHER_VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100202", "130634100", "130634"
SM3, SM2_SM3 = "1.2.156.10197.1.401", "1.2.156.10197.1.501"
DISTID = f"distid:{DEFAULT_ID.decode()}"


@dataclass
class Sm2Demo:
    settings: Settings
    authority: SealAuthority
    sealing: SealingService
    verification: VerificationService
    base: str
    form: bytes
    route: list[bytes]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[Sm2Demo]:
    """``minseal init-demo --sm2``, then an installation opened by settings that say nothing of SM2 (the root
    carries the choice), its PKI service on 127.0.0.1, and the route sealed through ``SealingService``."""
    root = tmp_path_factory.mktemp("sm2demo")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MINSEAL_DATA_DIR", str(root / "var"))
        env.setenv("MINSEAL_KEYS_DIR", str(root / "keys"))
        env.setenv("MINSEAL_PUBLIC_BASE_URL", base)
        assert main(["init-demo", "--sm2"]) == 0
    settings = Settings(data_dir=root / "var", keys_dir=root / "keys", public_base_url=base)
    assert settings.key_algorithm == "ecdsa-p256"  # not told: the SM2 root decides
    authority = SealAuthority(settings)
    verification = VerificationService(settings, authority)
    sealing = SealingService(settings, authority, check=verification.verify)
    form = documents.render("dibao_application", documents.catalogue.family("dibao_application").sample()).rendered.pdf
    v1 = sealing.seal(form, VILLAGE).pdf
    v2 = sealing.seal(v1, TOWNSHIP).pdf  # the township's check runs on v1 first (a countersign needs 通过)
    v3 = sealing.seal(v2, COUNTY, level="B-LTA").pdf
    with serve(settings, port):
        yield Sm2Demo(settings, authority, sealing, verification, base, form, [v1, v2, v3])


def _signer_infos(pdf: bytes) -> list[tuple[str, cms.SignerInfo]]:
    """Every SignerInfo of the file: the seals, their timestamp tokens, document timestamps."""
    out = []
    for sig in PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures:
        out.append((sig.field_name, sig.signer_info))
        for attr in sig.signer_info["unsigned_attrs"] or ():
            if attr["type"].native == "signature_time_stamp_token":
                out.append((f"{sig.field_name}/timestamp", attr["values"][0]["content"]["signer_infos"][0]))
    return out


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)


# -- the installation ------------------------------------------------------------------------------------------------
def test_init_demo_sm2_makes_every_seal_and_the_tsa_sm2(demo: Sm2Demo) -> None:
    authority = demo.authority
    root = authority.root_certificate()
    assert authority.is_sm2() and is_sm2_certificate(root)
    records = authority.records()
    assert len(records) == 8
    # the county's registry entry names a SoftHSM2 token, which cannot make SM2 keys: its key is an SM2 file too
    assert authority.registry().get(COUNTY).key_store.startswith("pkcs11:")
    assert {(r.algorithm, r.key_store) for r in records} == {("sm2-sm3", "sm2")}
    assert not (demo.settings.keys_dir / "p12").exists() and not demo.settings.softhsm_dir.exists()
    for record in records:
        cert = x509.load_pem_x509_certificate(authority.cert_path(record).read_bytes())
        assert is_sm2_certificate(cert) and certificate_signed_by(to_asn1(cert), to_asn1(root))
    tsa = authority.ensure_tsa()
    assert is_sm2_certificate(tsa) and certificate_signed_by(to_asn1(tsa), to_asn1(root))
    crl = asn1_crl.CertificateList.load(authority.crl_path.read_bytes())
    assert crl["signature_algorithm"]["algorithm"].dotted == SM2_SM3 and crl_signed_by(crl, to_asn1(root))


def test_later_commands_keep_sm2_without_the_flag(demo: Sm2Demo, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Renewing through the CLI (no --sm2, no setting) makes an SM2 key and certificate; ECDSA is refused."""
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(demo.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(demo.settings.keys_dir))
    assert main(["seals", "list"]) == 0
    assert f"{COUNTY}\t曲阳县民政局\tcounty\tsm2\t有效" in capsys.readouterr().out
    assert main(["seals", "renew", OTHER_VILLAGE]) == 0
    latest = demo.authority.latest(OTHER_VILLAGE)
    assert latest is not None and (latest.algorithm, latest.key_store) == ("sm2-sm3", "sm2")
    with pytest.raises(SealStateError) as refused:
        demo.authority.renew(OTHER_VILLAGE, algorithm="ecdsa-p256")
    assert refused.value.code == "BAD_ALGORITHM"
    assert main(["init-demo"]) == 0  # again, without the flag: nothing replaced, still SM2
    assert demo.authority.is_sm2()


def test_sm2_cannot_be_chosen_for_an_installation_with_an_ecdsa_root(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path / "var", keys_dir=tmp_path / "keys")
    RootCA(plain, AuthorityPaths(plain), Secrets(plain)).ensure(create=True)
    sm2 = plain.model_copy(update={"key_algorithm": "sm2-sm3"})
    with pytest.raises(KeyStoreError) as refused:
        RootCA(sm2, AuthorityPaths(sm2), Secrets(sm2)).ensure(create=True)
    assert refused.value.code == "CA_ALGORITHM_MISMATCH"


# -- the demo on it ------------------------------------------------------------------------------------------------
def test_the_route_sealed_through_the_service_passes_with_sm3_and_sm2_everywhere(demo: Sm2Demo) -> None:
    report = demo.verification.verify(demo.route[-1])
    assert report.verdict is Verdict.PASSED, report.findings
    assert [(s.office_id, s.level) for s in report.signatures] == [
        (VILLAGE, "B-LTA"), (TOWNSHIP, "B-LTA"), (COUNTY, "B-LTA")]
    assert all(s.revocation == "good" and s.timestamp_time for s in report.signatures)
    infos = _signer_infos(demo.route[-1])
    assert len(infos) == 7  # three seals, their timestamps, the county's document timestamp
    for name, info in infos:
        algorithms = (info["digest_algorithm"]["algorithm"].dotted, info["signature_algorithm"]["algorithm"].dotted)
        assert algorithms == (SM3, SM2_SM3), name


def test_minseal_verify_elsewhere_with_the_root_alone(demo: Sm2Demo, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A verifier with no installation at all (an empty data directory) and the SM2 root: the B-LT(A) file
    carries everything else; a one-byte change fails."""
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(tmp_path / "empty" / "var"))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(tmp_path / "empty" / "keys"))
    root = tmp_path / "root.pem"
    root.write_bytes(demo.authority.root_cert_path.read_bytes())
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    final = demo.route[-1]
    good.write_bytes(final)
    at = len(final) // 3
    bad.write_bytes(final[:at] + bytes([final[at] ^ 0x20]) + final[at + 1:])
    assert main(["verify", str(good), "--trust", str(root), "--expect-office", COUNTY]) == 0
    assert capsys.readouterr().out.startswith("通过：3 个签章")
    assert main(["verify", str(bad), "--trust", str(root)]) == 7
    assert not (tmp_path / "empty" / "var" / "minseal.db").exists()


def test_pki_endpoints_of_the_running_service_answer_with_sm2(demo: Sm2Demo) -> None:
    root = to_asn1(demo.authority.root_certificate())
    record = demo.authority.latest(TOWNSHIP)
    assert record is not None
    office = to_asn1(x509.load_pem_x509_certificate(demo.authority.cert_path(record).read_bytes()))
    reply = httpx.post(f"{demo.base}/pki/ocsp", content=ocsp_request(office, root),
                       headers={"Content-Type": "application/ocsp-request"}, timeout=30)
    assert reply.status_code == 200
    response = asn1_ocsp.OCSPResponse.load(reply.content)
    assert response["response_status"].native == "successful"
    basic = response["response_bytes"]["response"].parsed
    assert basic["signature_algorithm"]["algorithm"].dotted == SM2_SM3 and ocsp_signed_by(response, root)
    single = basic["tbs_response_data"]["responses"][0]
    assert single["cert_id"]["serial_number"].native == office.serial_number
    assert single["cert_status"].name == "good"
    crl = asn1_crl.CertificateList.load(httpx.get(f"{demo.base}/pki/crl/root.crl", timeout=30).content)
    assert crl_signed_by(crl, root)


def test_a_seal_over_http_uses_the_services_sm2_tsa_crl_and_ocsp(demo: Sm2Demo) -> None:
    """Another process's view: timestamps from /pki/tsa, revocation data fetched from the URLs the SM2
    certificates name (the service's /pki/crl and /pki/ocsp)."""
    settings = demo.settings.model_copy(update={"tsa_url": f"{demo.base}/pki/tsa", "fetch_revocation": True})
    authority = SealAuthority(settings)
    sealing = SealingService(settings, authority, check=VerificationService(settings, authority).verify)
    sealed = sealing.seal(demo.form, VILLAGE).pdf
    report = demo.verification.verify(sealed)
    assert report.verdict is Verdict.PASSED, report.findings
    assert report.signatures[0].level == "B-LT" and report.signatures[0].revocation == "good"
    assert {(i["digest_algorithm"]["algorithm"].dotted, i["signature_algorithm"]["algorithm"].dotted)
            for _name, i in _signer_infos(sealed)} == {(SM3, SM2_SM3)}


def test_openssl_verifies_the_root_office_and_tsa_certificates_and_opens_the_key_files(demo: Sm2Demo,
                                                                                       tmp_path: Path) -> None:
    authority = demo.authority
    root = authority.root_cert_path
    assert _openssl("verify", "-vfyopt", DISTID, "-CAfile", str(root), str(root)).returncode == 0
    passphrase = demo.settings.secrets_dir / "keystore.pass"
    for office_id in (VILLAGE, COUNTY, authority.TSA_KEY_ID):
        key_file = demo.settings.keys_dir / "sm2" / f"{office_id}.sm2.pem"
        cert = tmp_path / f"{office_id}.pem"
        cert.write_bytes(x509.load_pem_x509_certificate(key_file.read_bytes()).public_bytes(Encoding.PEM))
        checked = _openssl("verify", "-vfyopt", DISTID, "-CAfile", str(root), str(cert))
        assert checked.returncode == 0, (office_id, checked.stderr)
        # the encrypted PKCS#8 key opens with the installation's passphrase, and is the certificate's key
        from_key = _openssl("pkey", "-in", str(key_file), "-passin", f"file:{passphrase}", "-pubout")
        from_cert = _openssl("x509", "-in", str(cert), "-noout", "-pubkey")
        assert from_key.returncode == 0 and from_key.stdout == from_cert.stdout, office_id
        wrong = _openssl("pkey", "-in", str(key_file), "-passin", "pass:wrong", "-noout")
        assert wrong.returncode != 0


def test_qr_links_of_an_sm2_installation_are_the_plain_page(demo: Sm2Demo, catalogue: Catalogue) -> None:
    """The QR token is COSE with ES256 (no SM2 in COSE): an SM2 installation prints the page's plain URL."""
    family = next(f for f in catalogue if f.public)
    links = PublicLinks(demo.settings, demo.authority, catalogue)
    assert links.qr_url("P123", family_id=family.id, data=family.sample(), office_id=COUNTY) == \
        demo.settings.verify_url("P123")
    assert not links.check("not-a-token").ok
