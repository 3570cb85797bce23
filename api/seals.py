"""Seal identities and their lifecycle: the CA, one certificate per office, key stores, seal images, CRLs.

State lives in files under the data directory (``pki/ledger.json`` records every certificate ever issued, with
its status and, once revoked, the revocation time and reason — so later verification can tell signatures made
before a revocation from those after). Every write is atomic; a revocation publishes a new CRL at once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from signer import pki
from signer.errors import ErrorCategory, KeyStoreError, SealNotIssuedError, SealRevokedError, SealStateError
from signer.keystore import KeyStore, Pkcs11KeyStore, Pkcs12KeyStore, init_softhsm_token
from signer.seal_image import SealFont, seal_png, seal_svg

from .files import write_atomic
from .offices import DEMO_REGISTRY, Office, Registry
from .secrets_store import read_or_create
from .settings import Settings

log = logging.getLogger("minseal.seals")

REASONS: dict[str, tuple[x509.ReasonFlags, str]] = {
    "key-compromise": (x509.ReasonFlags.key_compromise, "密钥泄露或印章遗失"),
    "affiliation-changed": (x509.ReasonFlags.affiliation_changed, "单位名称或隶属关系变更"),
    "superseded": (x509.ReasonFlags.superseded, "已更换新印章"),
    "cessation-of-operation": (x509.ReasonFlags.cessation_of_operation, "单位撤销"),
}
STATUS_LABELS = {"active": "有效", "revoked": "已吊销", "superseded": "已更换", "none": "未签发"}


@dataclass
class CertRecord:
    serial: str  # hex
    office_id: str
    algorithm: str
    key_store: str
    not_before: str
    not_after: str
    status: str  # active | revoked | superseded
    revoked_at: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SealStatus:
    office: Office
    status: str
    record: CertRecord | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.office.id, "name": self.office.name, "tier": self.office.tier.value,
                "key_store": self.office.key_store, "status": self.status,
                "serial": self.record.serial if self.record else None,
                "not_after": self.record.not_after if self.record else None}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


class SealAuthority:
    """The CA and the seals of all offices in the registry; built once per process by a composition root."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stores: dict[str, KeyStore] = {}

    # -- files ---------------------------------------------------------------------------------------------
    @property
    def root_cert_path(self) -> Path:
        return self.settings.pki_dir / "root.crt.pem"

    @property
    def root_key_path(self) -> Path:
        return self.settings.keys_dir / "ca" / "root.key.pem"

    @property
    def ledger_path(self) -> Path:
        return self.settings.pki_dir / "ledger.json"

    @property
    def crl_path(self) -> Path:
        return self.settings.pki_dir / "crl" / "root.crl"

    def cert_path(self, record: CertRecord) -> Path:
        return self.settings.pki_dir / "certs" / f"{record.office_id}-{record.serial}.pem"

    def seal_image_paths(self, office_id: str) -> tuple[Path, Path]:
        return self.settings.seals_dir / f"{office_id}.svg", self.settings.seals_dir / f"{office_id}.png"

    def registry(self) -> Registry:
        return Registry.load(self.settings.registry_path)

    # -- secrets and stores -----------------------------------------------------------------------------------
    def _passphrase(self, *, create: bool = False) -> bytes:
        path = self.settings.key_passphrase_file or self.settings.secrets_dir / "keystore.pass"
        return read_or_create(self.settings.key_passphrase, path, create=create).encode()

    def _pin(self, *, create: bool = False) -> str:
        path = self.settings.pkcs11_pin_file or self.settings.secrets_dir / "pkcs11.pin"
        return read_or_create(self.settings.pkcs11_pin, path, create=create, length=12)

    def key_store(self, office: Office, *, create: bool = False) -> KeyStore:
        if office.key_store not in self._stores:
            if office.key_store == "p12":
                self._stores[office.key_store] = Pkcs12KeyStore(self.settings.keys_dir / "p12",
                                                                self._passphrase(create=create))
            else:
                label = office.key_store.removeprefix("pkcs11:")
                conf = self.settings.softhsm_dir / "softhsm2.conf"
                if create and self.settings.pkcs11_module.endswith("libsofthsm2.so"):
                    pin = self._pin(create=True)
                    so_pin = read_or_create(None, self.settings.secrets_dir / "pkcs11.so-pin", create=True)
                    conf = init_softhsm_token(token_dir=self.settings.softhsm_dir, label=label, pin=pin,
                                              so_pin=so_pin, module_path=self.settings.pkcs11_module)
                self._stores[office.key_store] = Pkcs11KeyStore(
                    self.settings.pkcs11_module, label, self._pin(),
                    softhsm_conf=conf if conf.exists() else None)
        return self._stores[office.key_store]

    # -- CA ----------------------------------------------------------------------------------------------------
    def ensure_root(self) -> x509.Certificate:
        if self.root_cert_path.exists() and self.root_key_path.exists():
            return self.root_certificate()
        key = ec.generate_private_key(ec.SECP256R1())
        cert = pki.make_root(key, common_name="MinSeal 演示根证书（代省级CA）", organization="MinSeal 演示")
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(self._passphrase(create=True)))
        self.root_key_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.root_key_path, pem, mode=0o600)
        write_atomic(self.root_cert_path, cert.public_bytes(serialization.Encoding.PEM))
        log.info("root CA created serial=%x", cert.serial_number)
        return cert

    def root_certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.root_cert_path.read_bytes())

    def root_key(self) -> Any:
        try:
            return serialization.load_pem_private_key(self.root_key_path.read_bytes(), self._passphrase())
        except (ValueError, TypeError):
            raise KeyStoreError("无法解开根证书私钥：口令错误或文件损坏", code="CA_KEY_LOCKED") from None

    def _endpoints(self) -> pki.PkiEndpoints:
        s = self.settings
        return pki.PkiEndpoints(crl_url=s.crl_url, ocsp_url=s.ocsp_url, ca_issuers_url=s.ca_issuers_url)

    # -- ledger ------------------------------------------------------------------------------------------------
    def _ledger(self) -> dict[str, Any]:
        if not self.ledger_path.exists():
            return {"crl_number": 0, "certificates": []}
        data: dict[str, Any] = json.loads(self.ledger_path.read_text(encoding="utf-8"))
        return data

    def _records(self) -> list[CertRecord]:
        return [CertRecord(**r) for r in self._ledger()["certificates"]]

    def _save(self, records: list[CertRecord], crl_number: int | None = None) -> None:
        ledger = self._ledger()
        ledger["certificates"] = [asdict(r) for r in records]
        if crl_number is not None:
            ledger["crl_number"] = crl_number
        write_atomic(self.ledger_path, json.dumps(ledger, ensure_ascii=False, indent=2).encode())

    def latest(self, office_id: str) -> CertRecord | None:
        mine = [r for r in self._records() if r.office_id == office_id]
        return mine[-1] if mine else None

    def records(self) -> list[CertRecord]:
        """Every certificate ever issued, oldest first."""
        return self._records()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def status(self) -> list[SealStatus]:
        out = []
        for office in self.registry():
            record = self.latest(office.id)
            out.append(SealStatus(office, record.status if record else "none", record))
        return out

    def _algorithm(self, value: str | None, fallback: str) -> pki.KeyAlgorithm:
        try:
            return pki.KeyAlgorithm(value or fallback)
        except ValueError:
            raise SealStateError(f"密钥算法只能是：{'、'.join(a.value for a in pki.KeyAlgorithm)}",
                                 code="BAD_ALGORITHM", category=ErrorCategory.INVALID) from None

    def issue(self, office_key: str, *, algorithm: str | None = None, font: SealFont | None = None) -> CertRecord:
        key_algorithm = self._algorithm(algorithm, self.settings.key_algorithm)
        office = self.registry().get(office_key)
        current = self.latest(office.id)
        if current and current.status == "active":
            raise SealStateError(f"「{office.name}」已有有效印章证书（序列号 {current.serial}），如需更换请用 renew")
        with self._lock():
            return self._issue(office, key_algorithm, font)

    def _issue(self, office: Office, algorithm: pki.KeyAlgorithm, font: SealFont | None) -> CertRecord:
        root = self.ensure_root()
        store = self.key_store(office, create=True)
        public_key = store.generate(office.id, algorithm)
        cert = pki.issue_office_certificate(office=office.identity, public_key=public_key, ca_cert=root,
                                            ca_key=self.root_key(), endpoints=self._endpoints(),
                                            days=self.settings.cert_days)
        store.install_certificate(office.id, cert, [root])
        record = CertRecord(serial=f"{cert.serial_number:x}", office_id=office.id, algorithm=algorithm.value,
                            key_store=office.key_store, not_before=_iso(cert.not_valid_before_utc),
                            not_after=_iso(cert.not_valid_after_utc), status="active")
        write_atomic(self.cert_path(record), cert.public_bytes(serialization.Encoding.PEM))
        self._save([*self._records(), record])
        if font is not None:
            self.draw_seal(office, font)
        log.info("seal issued office=%s serial=%s store=%s", office.id, record.serial, office.key_store)
        return record

    def renew(self, office_key: str, *, algorithm: str | None = None, font: SealFont | None = None) -> CertRecord:
        """New key and certificate; the old certificate is revoked as superseded (earlier signatures that carry
        a timestamp from before now stay valid)."""
        office = self.registry().get(office_key)
        current = self.latest(office.id)
        if current is None:
            raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书，请用 issue")
        key_algorithm = self._algorithm(algorithm, current.algorithm)  # before anything is revoked
        with self._lock():
            if current.status == "active":
                self._revoke(office, current, "superseded")
            return self._issue(office, key_algorithm, font)

    def revoke(self, office_key: str, *, reason: str) -> CertRecord:
        if reason not in REASONS:
            raise SealStateError(f"吊销原因只能是：{'、'.join(REASONS)}", code="BAD_REASON",
                                 category=ErrorCategory.INVALID)
        office = self.registry().get(office_key)
        with self._lock():
            current = self.latest(office.id)
            if current is None:
                raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书")
            if current.status != "active":
                raise SealStateError(f"「{office.name}」的印章证书已是「{STATUS_LABELS[current.status]}」状态")
            return self._revoke(office, current, reason)

    def _revoke(self, office: Office, record: CertRecord, reason: str) -> CertRecord:
        """Caller holds the lock. The new CRL is signed before the ledger changes: if the CA key cannot be
        unlocked, nothing is recorded, so ledger and published CRL never disagree."""
        records = self._records()
        for r in records:
            if r.serial == record.serial:
                r.status = "superseded" if reason == "superseded" else "revoked"
                r.revoked_at = _iso(dt.datetime.now(dt.UTC))
                r.reason = reason
                record = r
        crl, number = self._build_crl(records)
        self._save(records, crl_number=number)
        self._write_crl(crl)
        log.info("seal revoked office=%s serial=%s reason=%s", office.id, record.serial, reason)
        return record

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer at a time for the ledger and the CRL, across processes (flock on a lock file)."""
        path = self.settings.pki_dir / "ledger.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def check_can_seal(self, office_key: str) -> tuple[Office, CertRecord]:
        office = self.registry().get(office_key)
        record = self.latest(office.id)
        if record is None:
            raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书")
        if record.status != "active":
            raise SealRevokedError(
                f"「{office.name}」的印章证书已于 {record.revoked_at} 吊销（{record.reason}），不能用印")
        return office, record

    def publish_crl(self) -> x509.CertificateRevocationList:
        with self._lock():
            records = self._records()
            crl, number = self._build_crl(records)
            self._save(records, crl_number=number)
            self._write_crl(crl)
            return crl

    def _build_crl(self, records: list[CertRecord]) -> tuple[x509.CertificateRevocationList, int]:
        root = self.ensure_root()
        revoked = [
            pki.RevokedEntry(int(r.serial, 16), dt.datetime.fromisoformat(r.revoked_at), REASONS[r.reason][0])
            for r in records if r.revoked_at and r.reason
        ]
        number = int(self._ledger().get("crl_number", 0)) + 1
        crl = pki.make_crl(ca_cert=root, ca_key=self.root_key(), revoked=revoked, number=number,
                           next_update=dt.timedelta(days=self.settings.crl_days))
        return crl, number

    def _write_crl(self, crl: x509.CertificateRevocationList) -> None:
        write_atomic(self.crl_path, crl.public_bytes(serialization.Encoding.DER))
        write_atomic(self.crl_path.with_suffix(".crl.pem"), crl.public_bytes(serialization.Encoding.PEM))

    def draw_seal(self, office: Office, font: SealFont) -> tuple[Path, Path]:
        svg_path, png_path = self.seal_image_paths(office.id)
        write_atomic(svg_path, seal_svg(office.seal_spec, font).encode())
        write_atomic(png_path, seal_png(office.seal_spec, font))
        return svg_path, png_path

    # -- time-stamping authority ------------------------------------------------------------------------------
    TSA_KEY_ID = "_tsa"

    def tsa_store(self) -> Pkcs12KeyStore:
        return Pkcs12KeyStore(self.settings.keys_dir / "p12", self._passphrase(create=True))

    def ensure_tsa(self) -> x509.Certificate:
        """MinSeal's own TSA: a key and a timeStamping certificate under the same root (issued once)."""
        store = self.tsa_store()
        if store.has_key(self.TSA_KEY_ID):
            try:
                return store.certificate(self.TSA_KEY_ID)
            except KeyStoreError:
                pass
        root = self.ensure_root()
        # RSA: pyHanko's in-process TSA signs with RSA only
        public_key = store.generate(self.TSA_KEY_ID, pki.KeyAlgorithm.RSA_2048)
        cert = pki.issue_tsa_certificate(public_key=public_key, ca_cert=root, ca_key=self.root_key(),
                                         endpoints=self._endpoints(), common_name="MinSeal 时间戳服务")
        store.install_certificate(self.TSA_KEY_ID, cert, [root])
        write_atomic(self.settings.pki_dir / "tsa.crt.pem", cert.public_bytes(serialization.Encoding.PEM))
        return cert

    def crl(self) -> x509.CertificateRevocationList:
        if not self.crl_path.exists():
            return self.publish_crl()
        return x509.load_der_x509_crl(self.crl_path.read_bytes())

    def _issue_missing(self, font: SealFont) -> None:
        """Caller holds the lock."""
        for office in self.registry():
            current = self.latest(office.id)
            if current is None or current.status != "active":
                self._issue(office, pki.KeyAlgorithm(self.settings.key_algorithm), font)
            else:
                svg_path, png_path = self.seal_image_paths(office.id)
                if not (svg_path.exists() and png_path.exists()):
                    self.draw_seal(office, font)

    def init_demo(self, font: SealFont) -> list[SealStatus]:
        """Registry, CA, keys, certificates, seal images and CRL for the demo hierarchy; safe to run again."""
        if not self.settings.registry_path.exists():
            self.settings.registry_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEMO_REGISTRY, self.settings.registry_path)
        self.ensure_root()
        self.ensure_tsa()
        with self._lock():
            self._issue_missing(font)
        self.publish_crl()
        return self.status()
