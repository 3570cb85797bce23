"""The county's official seal plugged in, end to end: demo stand-in files (``seals demo-official``), registered with
``seals use-official`` (the CLI, in process), a real 低保 case through village → township → county in which the
county seals with its GB/T 38540 seal in its own box; ``minseal verify`` passes with both roots and refuses with
MinSeal's alone; bad files are refused at registration with their codes; Debian's OpenSSL checks what was written."""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.cli.main import main
from api.services.documents import DocumentService, seal_font
from api.services.official_sealing import check_seal_usable
from api.services.official_seals import DEMO_ROOT_NAME, DemoOfficial, make_demo_official
from api.services.sealing import SealingService
from api.storage import audit
from signer import ses, ses_pdf
from signer.errors import NotSealableError, SealingError
from signer.provider_specs import OfficialSpec, ProviderKind
from signer.providers import OfficialSealProvider
from signer.report import Verdict
from tests.support.cases import approved_by, staff
from tests.support.service_world import COUNTY, TOWNSHIP, VILLAGE, World


@dataclass
class Official:
    world: World
    demo: DemoOfficial
    #: the approved application as the county sealed it
    sealed: bytes
    #: the version before it (village and township sealed)
    township_sealed: bytes


def _env(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))


def _use(demo: DemoOfficial | None = None, **files: Path) -> list[str]:
    chosen = {"ses": demo.ses, "key": demo.key, "passphrase-file": demo.passphrase_file, "ca-root": demo.ca_root,
              "ca-crl": demo.ca_crl} if demo is not None else {}
    chosen.update({k.replace("_", "-"): v for k, v in files.items()})
    return ["seals", "use-official", COUNTY, *(x for k, v in chosen.items() for x in (f"--{k}", str(v)))]


def _provider(world: World) -> ProviderKind:
    return world.services.authority.registry().get(COUNTY).seal_provider.kind


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("official-seal"), documents)
    yield built
    built.services.db.dispose()


@pytest.fixture(scope="module")
def official(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Official]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _env(world, monkeypatch)
        out = tmp_path_factory.mktemp("vendor")
        assert main(["seals", "demo-official", COUNTY, "--out", str(out)]) == 0
        office = world.services.authority.registry().get(COUNTY)
        demo = DemoOfficial(out, out / f"{COUNTY}.ses", out / f"{COUNTY}.p8", out / f"{COUNTY}.pass",
                            out / "demo-sm2-root.pem", out / "demo-sm2-root.crl", out / f"{COUNTY}.cer")
        assert all(p.exists() for p in (demo.ses, demo.key, demo.passphrase_file, demo.ca_root, demo.ca_crl))
        assert _provider(world) is ProviderKind.OWN_CA
        assert main(_use(demo)) == 0
    assert _provider(world) is ProviderKind.OFFICIAL
    s = staff(world)
    doc = approved_by(world, s)  # the county's 审核确认 is sealed with its official seal
    view, sealed = world.services.workflow.pdf(s.county, doc)
    _before, township_sealed = world.services.workflow.pdf(s.county, doc, view.current_version - 1)
    assert office.name
    yield Official(world, demo, sealed, township_sealed)


def test_registration_installs_the_files_in_the_key_area_and_is_audited(official: Official) -> None:
    world = official.world
    spec = world.services.authority.registry().get(COUNTY).seal_provider
    assert isinstance(spec, OfficialSpec)
    area = world.settings.keys_dir / "official" / COUNTY
    assert spec.ses_seal == (area / "seal.ses").resolve()
    assert spec.ses_seal.read_bytes() == official.demo.ses.read_bytes()
    assert stat.S_IMODE(spec.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(spec.passphrase_file.stat().st_mode) == 0o600
    assert spec.passphrase_file.parent == world.settings.secrets_dir.resolve()
    assert spec.ca_root is not None and spec.ca_crl is not None and spec.ca_crl.exists()
    # registry.toml names the provider (a later import of the file keeps it)
    assert 'kind = "official"' in world.settings.registry_path.read_text("utf-8")
    with world.services.db.session() as session:
        rows = [r for r in audit.chain(session) if r.action == "seal.use-official"]
    assert len(rows) == 1 and rows[0].office_id == COUNTY and rows[0].detail["seal_provider"] == "official"


def test_the_countys_seal_is_gbt38540_in_the_county_box(official: Official) -> None:
    report = official.world.services.verification.verify(official.sealed)
    assert report.verdict is Verdict.PASSED, [(f.code, f.field, f.message) for f in report.findings]
    assert [(s.office_id, s.level) for s in report.signatures][-1] == (COUNTY, "GB/T 38540")
    assert [s.office_id for s in report.signatures] == [VILLAGE, TOWNSHIP, COUNTY]
    county = report.signatures[-1]
    assert county.slot == "county" and county.trusted and county.valid and county.intact
    [found] = ses_pdf.find_ses_signatures(official.sealed)
    assert found.field_name.endswith("county")
    # the box shows the seal's own picture: the provider gives the SVG the SES_Seal carries
    world = official.world
    office = world.services.authority.registry().get(COUNTY)
    provider = world.services.sealing.provider_for(office)
    seal = ses.read_seal(official.demo.ses.read_bytes())
    assert ses.seal_picture(seal).type == "SVG" and provider.seal_picture() == ses.seal_picture(seal).data
    assert provider.seal_picture().startswith(b"<svg")  # type: ignore[union-attr]
    # the report a township or county reads says which format each seal is
    from api.http.report_page import report_html

    page = report_html(report, standalone=True)
    assert page.count("PAdES B-") == 2 and page.count("GB/T 38540 电子印章签章") == 1


def test_the_seal_is_checked_again_at_every_use(official: Official, tmp_path: Path) -> None:
    """Validity and the maker's CA are checked when sealing, not only at registration; a refused use writes
    nothing and logs nothing."""
    world = official.world
    office = world.services.authority.registry().get(COUNTY)
    spec = office.seal_provider
    assert isinstance(spec, OfficialSpec)
    provider = world.services.sealing.provider_for(office)
    assert isinstance(provider, OfficialSealProvider)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3 * 365)  # the demo seal is valid two years
    with pytest.raises(SealingError) as caught:
        check_seal_usable(provider, office, when=later)
    assert caught.value.code == "SES_SEAL_EXPIRED" and "正式电子印章" in caught.value.message
    # a seal file swapped behind MinSeal's back (another maker, under a root nobody registered) is refused
    swapped = make_demo_official(office, tmp_path / "swapped", seal_font())
    original = spec.ses_seal.read_bytes()
    uses: list[dict[str, object]] = []
    out = tmp_path / "out.pdf"
    sealing = SealingService(world.settings, world.services.authority, check=world.services.verification.verify,
                             use_log=uses.append)
    spec.ses_seal.write_bytes(swapped.ses.read_bytes())
    try:
        with pytest.raises(SealingError) as refused:
            sealing.seal(official.township_sealed, COUNTY, deliver=out.write_bytes)
    finally:
        spec.ses_seal.write_bytes(original)
    assert refused.value.code == "SES_MAKER_UNTRUSTED", refused.value
    assert not out.exists() and uses == []


def test_the_seal_use_log_names_the_official_provider(official: Official) -> None:
    with official.world.services.db.session() as session:
        uses = [r.detail for r in audit.chain(session) if r.action == "seal.use" and r.office_id == COUNTY]
    assert uses, "no 用印日志 entry for the county"
    entry = uses[-1]
    assert entry["seal_provider"] == "official" and entry["level"] == "GB/T 38540"
    assert entry["standard"] == "GB/T 38540-2020" and entry["es_id"].startswith("DEMO")
    assert entry["opinion"]  # the opinion is not drawn: the log keeps it
    assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256_in"]) and entry["sha256_in"] != entry["sha256_out"]


def test_minseal_verify_needs_both_roots(official: Official, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    world = official.world
    _env(world, monkeypatch)
    pdf = tmp_path / "approved.pdf"
    pdf.write_bytes(official.sealed)
    minseal_root = world.services.authority.root_cert_path
    capsys.readouterr()
    assert main(["verify", str(pdf), "--trust", str(minseal_root), "--trust", str(official.demo.ca_root)]) == 0
    assert "通过" in capsys.readouterr().out
    code = main(["verify", str(pdf), "--trust", str(minseal_root), "--json"])
    assert code != 0
    report = json.loads(capsys.readouterr().out)
    codes = {f["code"] for f in report["findings"]}
    assert report["verdict"] == "FAILED" and codes & {"CERT_UNTRUSTED", "SES_MAKER_UNTRUSTED"}, codes
    # the installation's own checks (no --trust) trust the CA root the county registered
    assert main(["verify", str(pdf)]) == 0


def test_another_site_decides_with_the_cas_current_crl(official: Official, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A machine without the installation: both roots make the county's official seal trusted, but only the
    official CA's current CRL (``--crl``) decides its revocation — an official seal carries none of its own."""
    world = official.world
    pdf = tmp_path / "approved.pdf"
    pdf.write_bytes(official.sealed)
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(tmp_path / "elsewhere" / "var"))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(tmp_path / "elsewhere" / "keys"))
    roots = ["--trust", str(world.services.authority.root_cert_path), "--trust", str(official.demo.ca_root)]
    capsys.readouterr()
    assert main(["verify", str(pdf), *roots, "--json"]) != 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "INDETERMINATE", report["findings"]
    assert {f["code"] for f in report["findings"]} == {"REVOCATION_UNKNOWN"}
    assert main(["verify", str(pdf), *roots, "--crl", str(official.demo.ca_crl)]) == 0
    assert "通过" in capsys.readouterr().out
    not_a_crl = tmp_path / "not-a.crl"
    not_a_crl.write_bytes(b"-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n")
    assert main(["verify", str(pdf), *roots, "--crl", str(not_a_crl)]) != 0
    assert "not-a.crl 不是吊销列表" in capsys.readouterr().err


def _refused(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             argv: list[str]) -> str:
    _env(world, monkeypatch)
    before = world.settings.registry_path.read_text("utf-8")
    capsys.readouterr()
    assert main(argv) != 0
    assert world.settings.registry_path.read_text("utf-8") == before  # nothing changed
    return capsys.readouterr().err


def test_an_expired_seal_is_refused_at_registration(official: Official, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    office = official.world.services.authority.registry().get(COUNTY)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    stale = make_demo_official(office, tmp_path / "stale", seal_font(), valid_start=past,
                               valid_end=past + dt.timedelta(days=365))
    err = _refused(official.world, monkeypatch, capsys, _use(stale))
    assert "[SES_SEAL_EXPIRED]" in err and str(stale.ses) in err, err


def test_a_key_the_seal_does_not_list_is_refused(official: Official, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    office = official.world.services.authority.registry().get(COUNTY)
    other = make_demo_official(office, tmp_path / "other", seal_font())
    err = _refused(official.world, monkeypatch, capsys,
                   _use(official.demo, key=other.key, passphrase_file=other.passphrase_file))
    assert "[SES_SIGNER_NOT_IN_SEAL]" in err and str(other.key) in err, err


def test_a_wrong_passphrase_is_refused(official: Official, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "wrong.pass"
    wrong.write_text("not-the-passphrase\n", encoding="utf-8")
    err = _refused(official.world, monkeypatch, capsys, _use(official.demo, passphrase_file=wrong))
    assert "[KEYFILE_PASSPHRASE]" in err and str(official.demo.key) in err, err
    assert "not-the-passphrase" not in err


def test_a_seal_under_another_root_is_refused(official: Official, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    office = official.world.services.authority.registry().get(COUNTY)
    other = make_demo_official(office, tmp_path / "other-root", seal_font())
    err = _refused(official.world, monkeypatch, capsys, _use(official.demo, ca_root=other.ca_root))
    assert "[SES_MAKER_UNTRUSTED]" in err, err


# -- independent checks: Debian's OpenSSL reads the SES_Signature and verifies its SM2 signature ----------------
def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], capture_output=True, check=False)


def test_openssl_parses_and_verifies_the_countys_ses_signature(official: Official, tmp_path: Path) -> None:
    [found] = ses_pdf.find_ses_signatures(official.sealed)
    length = ses_pdf._der_length(found.contents)
    assert length is not None
    der = found.contents[:length]
    (tmp_path / "sig.der").write_bytes(der)
    parsed = _openssl("asn1parse", "-inform", "DER", "-in", str(tmp_path / "sig.der"), "-i")
    assert parsed.returncode == 0, parsed.stderr
    text = parsed.stdout.decode()
    assert text.count("SM2-with-SM3") == 2 and ":PDF;ByteRange=0 " in text and "IA5STRING         :SVG" in text
    signature = ses.parse_signature(der)
    (tmp_path / "cert.der").write_bytes(bytes(signature["cert"].native))
    key = _openssl("x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-pubkey", "-noout")
    assert key.returncode == 0, key.stderr
    (tmp_path / "pub.pem").write_bytes(key.stdout)
    (tmp_path / "tbs.der").write_bytes(signature["toSign"].dump())
    (tmp_path / "value.der").write_bytes(bytes(signature["signature"].native))
    done = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3",
                    "-pkeyopt", "distid:1234567812345678", "-in", str(tmp_path / "tbs.der"),
                    "-sigfile", str(tmp_path / "value.der"))
    assert done.returncode == 0 and b"Signature Verified Successfully" in done.stdout, done.stdout + done.stderr
    # the signer's certificate is the county's, under the demo root (named as a stand-in)
    issuer = _openssl("x509", "-inform", "DER", "-in", str(tmp_path / "cert.der"), "-noout", "-issuer",
                      "-nameopt", "utf8")
    assert DEMO_ROOT_NAME in issuer.stdout.decode()


def test_an_official_seal_cannot_issue_alone_and_the_county_can_switch_back(
        official: Official, documents: DocumentService, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document the county issues alone needs a certifying first seal, which GB/T 38540 cannot be: refused
    before anything is written; ``seals use-minseal-ca`` switches the county back (audited) and it seals. Runs
    last: it leaves the county on MinSeal's CA."""
    world = official.world
    decision = documents.catalogue.family("dibao_decision").sample()  # 决定书
    pdf = documents.render("dibao_decision", decision).rendered.pdf
    uses: list[dict[str, object]] = []
    sealing = SealingService(world.settings, world.services.authority, check=world.services.verification.verify,
                             use_log=uses.append)
    with pytest.raises(NotSealableError) as caught:
        sealing.seal(pdf, COUNTY)
    assert caught.value.code == "OFFICIAL_SEAL_CANNOT_CERTIFY" and uses == []
    _env(world, monkeypatch)
    assert main(["seals", "use-minseal-ca", COUNTY]) == 0
    assert _provider(world) is ProviderKind.OWN_CA
    assert 'seal_provider = "minseal-ca"' in world.settings.registry_path.read_text("utf-8")
    fresh = SealingService(world.settings, world.services.authority, check=world.services.verification.verify,
                           use_log=uses.append)
    result = fresh.seal(pdf, COUNTY, level="B-B")
    assert result.certified and "seal_provider" not in uses[-1]
    with world.services.db.session() as session:
        assert [r.detail["was"] for r in audit.chain(session) if r.action == "seal.use-minseal-ca"] == ["official"]
