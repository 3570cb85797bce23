"""Seal providers through the real stack: a village configured with the remote provider seals through the reference
signing service (a real process on 127.0.0.1, standing in for a provincial platform); the seal verifies under that
platform's root with the right office; a service that is down or refuses leaves nothing written; registry errors
name the office and the field."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.services.authority import SealAuthority
from api.services.documents import DocumentService, seal_font
from api.services.offices import DEMO_REGISTRY, Registry
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer import pki
from signer.errors import RegistryError, SealingError
from signer.report import Verdict
from tests.support.remote_seal_service import start_service
from tests.support.servers import free_port

VILLAGE, TOWNSHIP = "130634100201", "130634100"
VILLAGE_NAME = "东沟南村村民委员会"
CREDENTIAL = "prov-api-7f3c9a1e-2b44c0d9"


@dataclass
class Platform:
    """The stand-in provincial platform: its root, the office's seal there, the running service."""

    root_pem: Path
    credential_file: Path
    log: Path
    process: subprocess.Popen[str]
    port: int


def _platform(directory: Path, port: int) -> tuple[Path, Path, Path]:
    """A provincial CA stand-in (its own root, its CRL served by the platform) that certified the village's key:
    (root, key, chain) as PEM."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    root = pki.make_root(ca_key, common_name="省电子政务CA（测试替身）", organization="测试替身")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = pki.issue_office_certificate(
        office=pki.OfficeIdentity(office_id=VILLAGE, name=VILLAGE_NAME, tier=pki.Tier.VILLAGE, parent_id=TOWNSHIP),
        public_key=key.public_key(), ca_cert=root, ca_key=ca_key,
        endpoints=pki.PkiEndpoints(crl_url=f"http://127.0.0.1:{port}/crl", ocsp_url=None, ca_issuers_url=None))
    crl = pki.make_crl(ca_cert=root, ca_key=ca_key, revoked=[], number=1)
    (directory / "crl.der").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    pem = serialization.Encoding.PEM
    (directory / "root.pem").write_bytes(root.public_bytes(pem))
    (directory / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (directory / "chain.pem").write_bytes(cert.public_bytes(pem) + root.public_bytes(pem))
    return directory / "root.pem", directory / "key.pem", directory / "chain.pem"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, SealAuthority, Platform]]:
    root = tmp_path_factory.mktemp("providers")
    platform_dir = root / "platform"
    platform_dir.mkdir()
    port = free_port()
    root_pem, key, chain = _platform(platform_dir, port)
    credential_file = platform_dir / "credential.txt"
    credential_file.write_text(CREDENTIAL + "\n", encoding="utf-8")
    process, port = start_service(platform_dir, key, chain, credential_file, "SEAL-130634100201", port=port)
    settings = Settings(data_dir=root / "var", keys_dir=root / "keys")
    settings.registry_path.parent.mkdir(parents=True)
    # the office's credential sits beside the registry (here: the platform's own file, so a test can change it)
    entry = (f'seal_provider = {{ kind = "remote", url = "http://127.0.0.1:{port}", seal_id = "SEAL-130634100201", '
             f'credential_file = "{credential_file}", timeout_s = 5 }}\n')
    text = DEMO_REGISTRY.read_text(encoding="utf-8")
    marker = f'id = "{VILLAGE}"\n'
    settings.registry_path.write_text(text.replace(marker, marker + entry), encoding="utf-8")
    authority = SealAuthority(settings)
    authority.init_demo(seal_font())
    try:
        yield settings, authority, Platform(root_pem, credential_file, platform_dir / "uses.jsonl", process, port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _service(settings: Settings, authority: SealAuthority, uses: list[dict[str, object]]) -> SealingService:
    return SealingService(settings, authority, check=VerificationService(settings, authority).verify,
                          use_log=uses.append)


def _uses(platform: Platform) -> list[dict[str, object]]:
    return [json.loads(line) for line in platform.log.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def form_pdf(documents: DocumentService) -> bytes:
    return documents.render("dibao_application", documents.catalogue.family("dibao_application").sample()).rendered.pdf


def test_a_remote_seal_verifies_under_the_platforms_root(world: tuple[Settings, SealAuthority, Platform],
                                                         form_pdf: bytes, tmp_path: Path) -> None:
    settings, authority, platform = world
    uses: list[dict[str, object]] = []
    before = len(_uses(platform)) if platform.log.exists() else 0
    result = _service(settings, authority, uses).seal(form_pdf, VILLAGE, level="B-T",
                                                      deliver=(tmp_path / "sealed.pdf").write_bytes)
    sealed = (tmp_path / "sealed.pdf").read_bytes()
    assert result.certified and uses[0]["seal_provider"] == "remote" and uses[0]["office_id"] == VILLAGE
    signed = [u for u in _uses(platform)[before:] if u["request"] == "sign"]
    assert len(signed) == 1 and signed[0]["outcome"] == "OK" and signed[0]["digest_algorithm"] == "sha256"

    # a verifier elsewhere: trusts the platform's root (the seal) and MinSeal's (its TSA), fetches the platform's CRL
    verifier = settings.model_copy(update={"fetch_revocation": True})
    verify = VerificationService(verifier, authority).verify
    report = verify(sealed, roots=[platform.root_pem, authority.root_cert_path], expected_offices=[VILLAGE])
    assert report.verdict is Verdict.PASSED, report.summary()
    assert [(s.office_id, s.office_name, s.trusted) for s in report.signatures] == [(VILLAGE, VILLAGE_NAME, True)]
    # MinSeal's own root does not vouch for the platform's seal
    assert verify(sealed, roots=[authority.root_cert_path]).verdict is Verdict.FAILED


def test_a_bad_credential_is_refused_and_never_shown(world: tuple[Settings, SealAuthority, Platform],
                                                     form_pdf: bytes, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    settings, authority, platform = world
    wrong = "stolen-or-stale-credential-0042"
    platform.credential_file.write_text(wrong + "\n", encoding="utf-8")
    uses: list[dict[str, object]] = []
    out = tmp_path / "sealed.pdf"
    try:
        with caplog.at_level("DEBUG"), pytest.raises(SealingError) as caught:
            _service(settings, authority, uses).seal(form_pdf, VILLAGE, level="B-T", deliver=out.write_bytes)
    finally:
        platform.credential_file.write_text(CREDENTIAL + "\n", encoding="utf-8")
    error = caught.value
    assert error.code == "REMOTE_SEAL_REFUSED" and "BAD_CREDENTIAL" in error.message
    shown = f"{error} {error!r} {error.to_dict()} {caplog.text} {platform.log.read_text(encoding='utf-8')}"
    assert wrong not in shown and CREDENTIAL not in shown
    assert not out.exists() and uses == []


def test_a_service_that_is_down_leaves_nothing_written(world: tuple[Settings, SealAuthority, Platform],
                                                       form_pdf: bytes, tmp_path: Path) -> None:
    settings, authority, platform = world
    uses: list[dict[str, object]] = []
    warm = _service(settings, authority, uses)
    warm.seal(form_pdf, VILLAGE, level="B-T")  # certificates fetched: the next failure is in the signature
    platform.process.terminate()
    platform.process.wait(timeout=10)
    uses.clear()
    out = tmp_path / "sealed.pdf"
    for service in (warm, _service(settings, authority, uses)):  # down while signing / before anything
        with pytest.raises(SealingError) as caught:
            service.seal(form_pdf, VILLAGE, level="B-T", deliver=out.write_bytes)
        assert caught.value.code == "REMOTE_SEAL_UNAVAILABLE", caught.value
        assert "文件未用印" in caught.value.message
    assert not out.exists() and uses == []


def _registry_problem(tmp_path: Path, provider: str) -> str:
    text = DEMO_REGISTRY.read_text(encoding="utf-8")
    marker = f'id = "{VILLAGE}"\n'
    (tmp_path / "registry.toml").write_text(text.replace(marker, marker + f"seal_provider = {provider}\n"),
                                            encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        Registry.load(tmp_path / "registry.toml")
    return caught.value.message


@pytest.mark.parametrize(("provider", "expected"), [
    ('"pkcs12"', "seal_provider 只能是"),
    ('{ kind = "cloud" }', "seal_provider.kind 只能是"),
    ('{ kind = "remote", url = "http://seal.example.gov.cn", seal_id = "S", credential_file = "c.txt" }',
     "seal_provider.url 须为 https://"),
    ('{ kind = "remote", url = "https://seal.example.gov.cn", credential_file = "c.txt" }',
     "seal_provider 缺少 seal_id"),
    ('{ kind = "remote", url = "https://s.example", seal_id = "S", credential_file = "c", credential = "x" }',
     "seal_provider 中有未知字段 credential"),
    ('{ kind = "official", ses_seal = "a.ses", key_file = "a.p8", passphrase_file = "p.txt" }',
     "seal_provider 缺少 certificate"),
])
def test_registry_errors_name_the_office_and_the_field(tmp_path: Path, provider: str, expected: str) -> None:
    message = _registry_problem(tmp_path, provider)
    assert f"（{VILLAGE}）" in message and expected in message, message


def test_registry_reads_each_provider(tmp_path: Path) -> None:
    text = DEMO_REGISTRY.read_text(encoding="utf-8")
    marker = f'id = "{VILLAGE}"\n'
    entry = ('seal_provider = { kind = "official", ses_seal = "official/v.ses", key_file = "official/v.p8", '
             'passphrase_file = "official/v.pass", certificate = "official/v.cer" }\n')
    (tmp_path / "registry.toml").write_text(text.replace(marker, marker + entry), encoding="utf-8")
    registry = Registry.load(tmp_path / "registry.toml")
    spec = registry.get(VILLAGE).seal_provider
    assert spec.kind.value == "official" and spec.key_file == tmp_path / "official" / "v.p8"
    assert registry.get(TOWNSHIP).seal_provider.kind.value == "minseal-ca"
