"""Office PKI through the real stack: CA, certificates checked by openssl, encrypted PKCS#12, a SoftHSM2
token made here, CRLs, seal images."""

from __future__ import annotations

import io
import json
import logging
import math
import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image
from pydantic import SecretStr

from api.cli.main import main
from api.services.authority import SealAuthority
from api.services.container import Services
from api.services.documents import seal_font
from api.services.offices import Registry, RegistryError
from api.settings import Settings
from signer.errors import KeyStoreError, SealRevokedError, SealStateError
from signer.keystore import Pkcs11KeyStore, init_softhsm_token
from signer.pki import ORGANIZATION_IDENTIFIER, KeyAlgorithm, tier_of
from signer.seal_image import SealSpec, seal_png, seal_svg


def _authority(settings: Settings) -> SealAuthority:
    """An authority as every process gets one: from the composition root."""
    return Services(settings).authority


def _settings(root: Path) -> Settings:
    return Settings(data_dir=root / "var", keys_dir=root / "keys", public_base_url="http://127.0.0.1:8765")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SealAuthority:
    authority = _authority(_settings(tmp_path_factory.mktemp("pki")))
    authority.init_demo(seal_font())
    return authority


def _shape(authority: SealAuthority) -> list[tuple[str, str, str, str, str]]:
    return [(s.office.id, s.office.name, s.office.tier.value, s.office.key_store, s.status)
            for s in authority.status()]


def test_demo_builds_twice_with_the_same_shape(demo: SealAuthority, tmp_path: Path) -> None:
    first = _shape(demo)
    assert len(first) == 8 and {t for _, _, t, _, _ in first} == {"county", "township", "village"}
    assert all(status == "active" for *_, status in first)
    serials = [r.serial for r in demo.records()]
    demo.init_demo(seal_font())  # again, same directory: nothing re-issued
    assert [r.serial for r in demo.records()] == serials
    other = _authority(_settings(tmp_path))
    other.init_demo(seal_font())  # from scratch elsewhere: same shape, new keys
    assert _shape(other) == first
    assert not set(serials) & {r.serial for r in other.records()}


def test_every_certificate_chains_to_the_root(demo: SealAuthority) -> None:
    root = demo.root_certificate()
    registry = demo.registry()
    for record in demo.records():
        path = demo.cert_path(record)
        done = subprocess.run(["openssl", "verify", "-CAfile", str(demo.root_cert_path), str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0 and "OK" in done.stdout, done.stderr
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        cert.verify_directly_issued_by(root)
        office = registry.get(record.office_id)
        assert tier_of(cert) is office.tier
        names = {a.oid: a.value for a in cert.subject}
        assert names[x509.NameOID.ORGANIZATION_NAME] == office.name
        assert names[x509.NameOID.SERIAL_NUMBER] == office.id
        if office.credit_code:
            assert names[ORGANIZATION_IDENTIFIER] == f"NTRCN-{office.credit_code}"
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
        crl_dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert crl_dp[0].full_name[0].value == "http://127.0.0.1:8765/pki/crl/root.crl"
        assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    # a root-less check fails: the chain test can fail
    stranger = subprocess.run(["openssl", "verify", str(demo.cert_path(demo.records()[0]))],
                              capture_output=True, text=True)
    assert stranger.returncode != 0


def test_pkcs12_files_are_unreadable_without_the_passphrase(demo: SealAuthority) -> None:
    files = sorted((demo.settings.keys_dir / "p12").glob("*.p12"))
    assert len(files) == 8  # seven offices and MinSeal's own TSA
    passphrase = (demo.settings.data_dir / "secrets" / "keystore.pass").read_text().strip().encode()
    for path in files:
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        with pytest.raises(ValueError):
            pkcs12.load_pkcs12(path.read_bytes(), b"wrong passphrase")
        with pytest.raises(ValueError):
            pkcs12.load_pkcs12(path.read_bytes(), None)
        done = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-nocerts", "-nodes", "-passin", "pass:x"],
                              capture_output=True)
        assert done.returncode != 0 and b"PRIVATE KEY" not in done.stdout
        bundle = pkcs12.load_pkcs12(path.read_bytes(), passphrase)
        assert bundle.key is not None and bundle.cert is not None
    key_pem = demo.root_key_path.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key_pem


def test_wrong_passphrase_gives_a_clean_error_without_secrets(demo: SealAuthority,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "not-the-right-one-0xDEADBEEF"
    bad = _authority(demo.settings.model_copy(update={"key_passphrase": SecretStr(secret)}))
    with pytest.raises(KeyStoreError) as caught:
        bad.key_store(demo.registry().get("130634100")).sign("130634100", b"x")  # type: ignore[attr-defined]
    assert caught.value.code == "WRONG_PASSPHRASE" and "口令错误" in caught.value.message
    assert secret not in str(caught.value) and secret not in caplog.text
    real = (demo.settings.data_dir / "secrets" / "keystore.pass").read_text().strip()
    assert real not in caplog.text


def test_softhsm_token_signs_and_never_exports_its_key(tmp_path: Path) -> None:
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    conf = init_softhsm_token(token_dir=tmp_path / "hsm", label="test-token", pin="246810", so_pin="13579")
    store = Pkcs11KeyStore("/usr/lib/softhsm/libsofthsm2.so", "test-token", "246810", softhsm_conf=conf)
    for algorithm in (KeyAlgorithm.ECDSA_P256, KeyAlgorithm.RSA_2048):
        # made under a staging label, then switched in; the key it replaces is kept under an archive label
        public = store.generate("staging/office-x", algorithm)
        store.promote("staging/office-x", "office-x", archive_id=f"archive/office-x-{algorithm.value}")
        with pytest.raises(KeyStoreError) as exists:
            store.generate("office-x", algorithm)  # never overwritten
        assert exists.value.code == "KEY_EXISTS"
        signature = store.sign("office-x", b"document bytes")
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, b"document bytes", ec.ECDSA(hashes.SHA256()))
        else:
            assert isinstance(public, rsa.RSAPublicKey)
            public.verify(signature, b"document bytes", padding.PKCS1v15(), hashes.SHA256())
        with store.session() as session:
            key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="office-x")
            assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                key[Attribute.VALUE if algorithm is KeyAlgorithm.ECDSA_P256 else Attribute.PRIVATE_EXPONENT]
    with pytest.raises(KeyStoreError) as caught:
        Pkcs11KeyStore("/usr/lib/softhsm/libsofthsm2.so", "test-token", "000000", softhsm_conf=conf).sign(
            "office-x", b"x")
    assert "000000" not in str(caught.value) and caught.value.code == "PIN_WRONG"
    assert not store.has_key("archive/office-x-ecdsa-p256")  # nothing was current before the first switch
    assert store.has_key("archive/office-x-rsa-2048")  # the first key survived the second switch


def test_demo_county_key_lives_on_the_token(demo: SealAuthority) -> None:
    county = demo.registry().get("130634")
    store = demo.key_store(county)
    assert store.kind == "pkcs11" and store.has_key(county.id)
    cert = store.certificate(county.id)
    signature = store.sign(county.id, b"abc")
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, b"abc", ec.ECDSA(hashes.SHA256()))


def test_revocation_publishes_crl_and_blocks_sealing(demo: SealAuthority) -> None:
    office = demo.registry().get("130634101202")
    before = demo.latest(office.id)
    assert before is not None
    demo.check_can_seal(office.id)
    record = demo.revoke(office.id, reason="key-compromise")
    assert record.revoked_at and record.status == "revoked"
    text = subprocess.run(["openssl", "crl", "-in", str(demo.crl_path), "-inform", "DER", "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert record.serial.upper().zfill(len(record.serial)) in text.replace(":", "").upper()
    assert "Key Compromise" in text and "Next Update" in text
    verify = subprocess.run(["openssl", "crl", "-in", str(demo.crl_path), "-inform", "DER", "-CAfile",
                             str(demo.root_cert_path), "-noout"], capture_output=True, text=True)
    assert verify.returncode == 0 and "verify OK" in (verify.stdout + verify.stderr)
    with pytest.raises(SealRevokedError):
        demo.check_can_seal(office.id)
    with pytest.raises(SealStateError):
        demo.revoke(office.id, reason="key-compromise")
    renewed = demo.renew(office.id, font=seal_font())
    assert renewed.serial != record.serial and renewed.status == "active"
    demo.check_can_seal(office.id)


def _alpha(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA"
    return image


@pytest.mark.parametrize("name", ["燕赵镇人民政府", "河北省保定市曲阳县燕赵镇东沟南村村民委员会社会救助工作站"])
def test_seal_png_is_a_red_ring_of_the_right_size_on_transparent_ground(name: str) -> None:
    spec = SealSpec(name, 42.0, "民政专用章")
    png = seal_png(spec, seal_font(), dpi=300)
    assert png == seal_png(spec, seal_font(), dpi=300), "deterministic"
    image = _alpha(png)
    w, h = image.size
    expected = 42.0 / 25.4 * 300
    assert abs(w - expected) <= 2 and w == h
    pixels = image.load()
    inked = [(x, y) for y in range(h) for x in range(w) if pixels[x, y][3] > 128]
    xs, ys = [p[0] for p in inked], [p[1] for p in inked]
    assert abs((max(xs) - min(xs) + 1) - expected) < expected * 0.02
    assert abs((max(ys) - min(ys) + 1) - expected) < expected * 0.02
    assert all(pixels[x, y][:3] == (230, 0, 18) for x, y in inked[:: max(len(inked) // 500, 1)])
    assert pixels[0, 0][3] == 0 and pixels[w - 1, h - 1][3] == 0  # corners outside the ring
    c = w / 2
    ring = sum(1 for a in range(360) if pixels[int(c + (c - 4) * math.cos(math.radians(a))),
                                               int(c + (c - 4) * math.sin(math.radians(a)))][3] > 128)
    assert ring == 360, "the ring is closed"
    gap = pixels[int(c + c * 0.3), int(c)]  # right of the star, below the text arc
    assert gap[3] == 0
    svg = seal_svg(spec, seal_font())
    assert svg.count("<path transform") == len(name) + len("民政专用章") and "<text" not in svg
    assert svg.count('<path fill-rule="evenodd"') == 1  # the star


def test_registry_refuses_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text('''
[[office]]
id = "1"
name = "某县民政局"
tier = "county"
credit_code = "11130634MB0P12345X"
key_store = "p12"

[[office]]
id = "2"
name = "某村"
tier = "village"
parent = "1"
key_store = "usb"
''', encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        Registry.load(path)
    assert "校验位" in caught.value.message and "key_store" in caught.value.message


def test_cli_seals_list_json(demo: SealAuthority, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(demo.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(demo.settings.keys_dir))
    assert main(["seals", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing[0]["id"] == "130634" and listing[0]["tier"] == "county"
    assert main(["seals", "list"]) == 0
    first = capsys.readouterr().out.splitlines()[0].split("\t")
    assert first[:4] == ["130634", "曲阳县民政局", "county", "pkcs11:minseal-county"]
    assert main(["seals", "revoke", "130634", "--reason", "lost"]) == 3
    assert "吊销原因只能是" in capsys.readouterr().err
    assert main(["seals", "issue", "不存在的单位"]) == 4


def test_token_pins_never_reach_a_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """softhsm2-util takes PINs as arguments (visible in the process list): only throwaway ones may go there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "args.log"
    wrapper = bin_dir / "softhsm2-util"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec /usr/bin/softhsm2-util "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    conf = init_softhsm_token(token_dir=tmp_path / "hsm", label="pin-test", pin="real-user-pin",
                              so_pin="real-so-pin")
    assert "--init-token" in log.read_text()
    assert "real-user-pin" not in log.read_text() and "real-so-pin" not in log.read_text()
    store = Pkcs11KeyStore("/usr/lib/softhsm/libsofthsm2.so", "pin-test", "real-user-pin", softhsm_conf=conf)
    store.generate("k", KeyAlgorithm.ECDSA_P256)
    assert store.sign("k", b"x")
    assert "real-user-pin" not in repr(store)


def test_concurrent_revocations_and_use_log_lose_nothing(demo: SealAuthority, tmp_path: Path) -> None:
    import threading

    from api.storage.files import append_line

    offices = ["130634100203", "130634101201"]
    errors: list[BaseException] = []

    def revoke(office_id: str) -> None:
        try:
            _authority(demo.settings).revoke(office_id, reason="affiliation-changed")
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=revoke, args=(o,)) for o in offices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    crl = x509.load_der_x509_crl(demo.crl_path.read_bytes())
    for office_id in offices:
        record = demo.latest(office_id)
        assert record is not None and record.status == "revoked"
        assert crl.get_revoked_certificate_by_serial_number(int(record.serial, 16)) is not None
    log = tmp_path / "use.jsonl"
    writers = [threading.Thread(target=lambda n=n: [append_line(log, f'{{"w":{n},"i":{i}}}'.encode())
                                                    for i in range(50)]) for n in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    assert len(log.read_text().splitlines()) == 200


def test_failed_lifecycle_steps_change_nothing(demo: SealAuthority) -> None:
    office = "130634100201"
    before = demo.latest(office)
    assert before is not None and before.status == "active"
    with pytest.raises(SealStateError) as caught:
        demo.renew(office, algorithm="rsa2048")  # a typo must not revoke the live seal
    assert caught.value.code == "BAD_ALGORITHM"
    locked = _authority(demo.settings.model_copy(update={"key_passphrase": SecretStr("wrong")}))
    with pytest.raises(KeyStoreError):
        locked.revoke(office, reason="key-compromise")  # CA key locked: nothing recorded
    after = demo.latest(office)
    assert after == before


def test_secret_file_does_not_touch_a_shared_folder(tmp_path: Path) -> None:
    from api.storage.secrets import read_or_create

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    shared.chmod(0o1777)
    secret = read_or_create(None, shared / "minseal.pass", create=True)
    assert oct(shared.stat().st_mode & 0o7777) == "0o1777"
    assert oct((shared / "minseal.pass").stat().st_mode & 0o777) == "0o600" and secret


def test_a_file_ledger_is_imported_once_into_the_database(demo: SealAuthority, tmp_path: Path) -> None:
    """An installation of an earlier version kept the ledger in pki/ledger.json: it moves into the database on
    first use, the file is kept under another name, and nothing is imported twice."""
    ledger = demo.ledger_state().to_row()
    assert ledger["certificates"]
    old = Settings(data_dir=tmp_path / "var", keys_dir=tmp_path / "keys")
    file = old.pki_dir / "ledger.json"
    file.parent.mkdir(parents=True)
    file.write_text(json.dumps(ledger), encoding="utf-8")
    moved = _authority(old)
    assert [r.serial for r in moved.records()] == [r["serial"] for r in ledger["certificates"]]
    assert not file.exists() and file.with_name("ledger.json.imported").exists()
    file.write_text(json.dumps({"crl_number": 99, "certificates": []}), encoding="utf-8")
    again = _authority(old)
    assert len(again.records()) == len(ledger["certificates"])  # the database already holds one: kept
    assert again.ledger_state().crl_number == ledger["crl_number"]
    assert not file.exists(), "a second file is set aside too, never half-merged"
    broken = Settings(data_dir=tmp_path / "b" / "var", keys_dir=tmp_path / "b" / "keys")
    broken.pki_dir.mkdir(parents=True)
    (broken.pki_dir / "ledger.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SealStateError) as caught:
        _authority(broken).records()
    assert caught.value.code == "LEDGER_DAMAGED"


def test_the_registry_lives_in_the_database(tmp_path: Path) -> None:
    """registry.toml is an import format: read into the database when it changes; every part reads the database."""
    from sqlalchemy import select

    from api.services.offices import DEMO_REGISTRY
    from api.storage.models import AuditRow

    settings = _settings(tmp_path)
    assert _authority(settings).registry_or_none() is None and not settings.data_dir.exists()
    settings.registry_path.parent.mkdir(parents=True)
    text = DEMO_REGISTRY.read_text("utf-8")
    settings.registry_path.write_text(text, encoding="utf-8")
    ids = {o.id for o in _authority(settings).registry()}
    settings.registry_path.unlink()
    authority = _authority(settings)
    assert {o.id for o in authority.registry()} == ids, "the database holds it without the file"
    extra = ('\n[[office]]\nid = "130634100209"\nname = "新设村村民委员会"\ntier = "village"\n'
             'parent = "130634100"\nkey_store = "p12"\n')
    settings.registry_path.write_text(text + extra, encoding="utf-8")
    assert authority.registry().get("130634100209").parent == "130634100"
    assert authority.registry().route("130634100209")[-1].id == "130634"
    with authority.database().session() as session:
        imports = session.execute(select(AuditRow).where(AuditRow.action == "registry.import")).scalars().all()
        assert [row.detail["changed"] for row in imports] == [len(ids), 1], "each changed file once"
    settings.registry_path.write_text(text.replace('parent = "130634100"', 'parent = "130634999"', 1),
                                      encoding="utf-8")
    with pytest.raises(RegistryError):
        authority.registry()  # a broken file is refused whole; nothing of it is imported
    settings.registry_path.unlink()
    assert authority.registry().get("130634100209").name == "新设村村民委员会"
