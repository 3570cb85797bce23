"""Seal identities and their lifecycle: the CA, one certificate per office, key stores, seal images, CRLs.

The seal ledger lives in the installation's database (``api/storage/ledger.py``: every certificate ever
issued, with its status and, once revoked, the revocation time and reason — so later verification can tell
signatures made before a revocation from those after); certificates, CRLs and keys are files. Every write is
atomic; a revocation publishes a new CRL at once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from api import faults
from api.services.offices import DEMO_REGISTRY, Office, Registry, RegistryError
from api.settings import Settings
from api.storage.files import write_atomic
from api.storage.secrets import read_or_create
from signer import pki
from signer.errors import ErrorCategory, KeyStoreError, SealNotIssuedError, SealRevokedError, SealStateError
from signer.keystore import KeyStore, Pkcs11KeyStore, Pkcs12KeyStore, init_softhsm_token
from signer.seal_image import SealFont, seal_png, seal_svg

if TYPE_CHECKING:
    from api.storage.engine import Database
    from api.storage.ledger import DatabaseLedger

log = logging.getLogger("minseal.seals")

REASONS: dict[str, tuple[x509.ReasonFlags, str]] = {
    "key-compromise": (x509.ReasonFlags.key_compromise, "密钥泄露或印章遗失"),
    "affiliation-changed": (x509.ReasonFlags.affiliation_changed, "单位名称或隶属关系变更"),
    "superseded": (x509.ReasonFlags.superseded, "已更换新印章"),
    "cessation-of-operation": (x509.ReasonFlags.cessation_of_operation, "单位撤销"),
}
STATUS_LABELS = {"active": "有效", "revoked": "已吊销", "superseded": "已更换", "none": "未签发"}
#: key ids of keys being made (not yet in the ledger) and of keys replaced by a renewal (kept, never deleted)
STAGING_PREFIX = "staging/"
ARCHIVE_PREFIX = "archive/"


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

    def __init__(self, settings: Settings, ledger: DatabaseLedger | None = None) -> None:
        """``ledger``: the service passes its own (on the database it already opened and migrated); otherwise
        the installation's database is opened and migrated on first use."""
        self.settings = settings
        self._stores: dict[str, KeyStore] = {}
        self._ledger_store = ledger
        self._ledger_imported = False

    def ledger_store(self) -> DatabaseLedger:
        if self._ledger_store is None:
            from api.storage.engine import Database, database_url
            from api.storage.ledger import DatabaseLedger
            from api.storage.migrate import upgrade

            db = Database(database_url(self.settings.database_url, self.settings.data_dir))
            upgrade(db.engine)
            self._ledger_store = DatabaseLedger(db)
        if not self._ledger_imported:
            self._ledger_store.import_file(self.ledger_path)
            self._ledger_imported = True
        return self._ledger_store

    def database(self) -> Database:
        """The installation's database (where the ledger and the 用印日志 live)."""
        return self.ledger_store().db

    # -- files ---------------------------------------------------------------------------------------------
    @property
    def root_cert_path(self) -> Path:
        return self.settings.pki_dir / "root.crt.pem"

    @property
    def root_key_path(self) -> Path:
        return self.settings.keys_dir / "ca" / "root.key.pem"

    @property
    def ledger_path(self) -> Path:
        """Where earlier versions kept the ledger; imported into the database once."""
        return self.settings.pki_dir / "ledger.json"

    @property
    def crl_path(self) -> Path:
        return self.settings.pki_dir / "crl" / "root.crl"

    def cert_path(self, record: CertRecord) -> Path:
        return self.settings.pki_dir / "certs" / f"{record.office_id}-{record.serial}.pem"

    def seal_image_paths(self, office_id: str) -> tuple[Path, Path]:
        return self.settings.seals_dir / f"{office_id}.svg", self.settings.seals_dir / f"{office_id}.png"

    def registry(self) -> Registry:
        registry = self.registry_or_none()
        if registry is None:
            raise RegistryError(f"找不到单位名录（数据库中没有单位，也没有 {self.settings.registry_path}）；"
                                "可先运行 minseal init-demo", code="REGISTRY_MISSING")
        return registry

    def registry_or_none(self) -> Registry | None:
        """The registry from the database, after importing ``registry.toml`` if it changed. None on a machine
        that holds no installation (verifying with only a root certificate creates nothing)."""
        if not self._installed():
            return None
        from api.services.offices import DatabaseRegistry

        store = DatabaseRegistry(self.database())
        if self.settings.registry_path.exists():
            store.import_file(self.settings.registry_path, county_seal_mm=self.settings.county_seal_diameter_mm)
        return store.load()

    def _installed(self) -> bool:
        if self._ledger_store is not None or self.settings.database_url or self.settings.registry_path.exists():
            return True
        return (self.settings.data_dir / "minseal.db").exists()

    # -- secrets and stores -----------------------------------------------------------------------------------
    def _passphrase(self, *, create: bool = False) -> bytes:
        """Reading never creates: only ``init-demo`` (``create``) may make the secret file."""
        path = self.settings.key_passphrase_file or self.settings.secrets_dir / "keystore.pass"
        return read_or_create(self.settings.key_passphrase, path, create=create, what="密钥库口令").encode()

    def _pin(self, *, create: bool = False) -> str:
        path = self.settings.pkcs11_pin_file or self.settings.secrets_dir / "pkcs11.pin"
        return read_or_create(self.settings.pkcs11_pin, path, create=create, length=12, what="PKCS#11 PIN 码")

    def key_store(self, office: Office, *, create: bool = False) -> KeyStore:
        """The office's store, opened as it exists; ``create`` (init-demo) may make a SoftHSM2 token first."""
        if office.key_store not in self._stores:
            if office.key_store == "p12":
                passphrase = self._passphrase(create=create)
                self._check_passphrase(passphrase)
                self._stores[office.key_store] = Pkcs12KeyStore(self.settings.keys_dir / "p12", passphrase)
            else:
                label = office.key_store.removeprefix("pkcs11:")
                conf = self.settings.softhsm_dir / "softhsm2.conf"
                if create and self.settings.pkcs11_module.endswith("libsofthsm2.so"):
                    pin = self._pin(create=True)
                    so_pin = read_or_create(None, self.settings.secrets_dir / "pkcs11.so-pin", create=True,
                                            what="PKCS#11 安全员 PIN 码")
                    conf = init_softhsm_token(token_dir=self.settings.softhsm_dir, label=label, pin=pin,
                                              so_pin=so_pin, module_path=self.settings.pkcs11_module)
                self._stores[office.key_store] = Pkcs11KeyStore(
                    self.settings.pkcs11_module, label, self._pin(),
                    softhsm_conf=conf if conf.exists() else None)
        return self._stores[office.key_store]

    def _check_passphrase(self, passphrase: bytes) -> None:
        """A wrong passphrase is named as such before any store is opened (never as a CA-key error)."""
        if self.root_key_path.exists():
            self._load_root_key(passphrase)

    # -- CA ----------------------------------------------------------------------------------------------------
    def ensure_root(self, *, create: bool = False) -> x509.Certificate:
        """The root CA; made only with ``create`` (init-demo) and only when neither file exists."""
        cert_exists, key_exists = self.root_cert_path.exists(), self.root_key_path.exists()
        if cert_exists and key_exists:
            return self.root_certificate()
        if not create or cert_exists or key_exists:
            missing = self.root_key_path if cert_exists else self.root_cert_path
            raise KeyStoreError(f"根证书或其私钥不存在（{missing}）：新安装请先运行 minseal init-demo",
                                code="CA_MISSING")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = pki.make_root(key, common_name="MinSeal 演示根证书（代省级CA）", organization="MinSeal 演示")
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(self._passphrase(create=True)))
        self.root_key_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.root_key_path, pem, mode=0o600)
        faults.point("root:key-written")
        write_atomic(self.root_cert_path, cert.public_bytes(serialization.Encoding.PEM))
        log.info("root CA created serial=%x", cert.serial_number)
        return cert

    def root_certificate(self) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(self.root_cert_path.read_bytes())
        except FileNotFoundError:
            raise KeyStoreError(f"根证书不存在（{self.root_cert_path}）：新安装请先运行 minseal init-demo",
                                code="CA_MISSING") from None
        except (OSError, ValueError):
            raise KeyStoreError(f"根证书文件已损坏：{self.root_cert_path}", code="CA_DAMAGED") from None

    def root_key(self) -> Any:
        return self._load_root_key(self._passphrase())

    def _load_root_key(self, passphrase: bytes) -> Any:
        try:
            data = self.root_key_path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"根证书私钥不存在（{self.root_key_path}）：新安装请先运行 minseal init-demo",
                                code="CA_MISSING") from None
        except OSError:
            raise KeyStoreError(f"无法读取根证书私钥文件 {self.root_key_path}", code="CA_DAMAGED") from None
        try:
            return serialization.load_pem_private_key(data, passphrase)
        except (ValueError, TypeError):
            pass
        if self._passphrase_opens_a_store(passphrase):
            raise KeyStoreError(f"根证书私钥文件已损坏：{self.root_key_path}", code="CA_DAMAGED") from None
        raise KeyStoreError("密钥库口令错误：请检查 MINSEAL_KEY_PASSPHRASE 或口令文件中的口令",
                            code="WRONG_PASSPHRASE") from None

    def _passphrase_opens_a_store(self, passphrase: bytes) -> bool:
        """Tells a damaged CA key file from a wrong passphrase: does the passphrase open any PKCS#12 file?"""
        for path in sorted((self.settings.keys_dir / "p12").glob("*.p12"))[:3]:
            try:
                pkcs12.load_pkcs12(path.read_bytes(), passphrase)
                return True
            except (ValueError, OSError):
                continue
        return False

    def _endpoints(self) -> pki.PkiEndpoints:
        s = self.settings
        return pki.PkiEndpoints(crl_url=s.crl_url, ocsp_url=s.ocsp_url, ca_issuers_url=s.ca_issuers_url)

    # -- ledger ------------------------------------------------------------------------------------------------
    def _ledger(self) -> dict[str, Any]:
        return self.ledger_store().load() or {"crl_number": 0, "certificates": []}

    def _records(self, ledger: dict[str, Any] | None = None) -> list[CertRecord]:
        return [CertRecord(**r) for r in (ledger or self._ledger())["certificates"]]

    def _write_ledger(self, ledger: dict[str, Any]) -> None:
        self.ledger_store().save(ledger)

    def latest(self, office_id: str) -> CertRecord | None:
        mine = [r for r in self._records() if r.office_id == office_id]
        return mine[-1] if mine else None

    def records(self) -> list[CertRecord]:
        """Every certificate ever issued, oldest first."""
        return self._records()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def status(self) -> list[SealStatus]:
        with self._locked():
            pass  # finishes an interrupted change first
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
        with self._locked():
            current = self.latest(office.id)
            if current and current.status == "active":
                raise SealStateError(
                    f"「{office.name}」已有有效印章证书（序列号 {current.serial}），如需更换请用 renew")
            return self._replace(office, key_algorithm, font, old=current, reason=None)

    def renew(self, office_key: str, *, algorithm: str | None = None, font: SealFont | None = None) -> CertRecord:
        """New key and certificate first; only once both exist is the office switched to them and the old
        certificate revoked as superseded (earlier signatures with a timestamp from before stay valid)."""
        office = self.registry().get(office_key)
        with self._locked():
            current = self.latest(office.id)
            if current is None:
                raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书，请用 issue")
            key_algorithm = self._algorithm(algorithm, current.algorithm)
            reason = "superseded" if current.status == "active" else None
            return self._replace(office, key_algorithm, font, old=current, reason=reason)

    def _replace(self, office: Office, algorithm: pki.KeyAlgorithm, font: SealFont | None, *,
                 old: CertRecord | None, reason: str | None, create: bool = False) -> CertRecord:
        """Caller holds the lock. Steps, each crash point safe:
        1. stage: new key (under a staging id) and its certificate — nothing else changes;
        2. record the pending switch in the ledger (one atomic write);
        3. commit: promote the staged key (the old one is archived, never deleted), mark the new record
           active and the old one superseded in one ledger write, then publish the CRL.
        A crash before 2 leaves the office as it was (the staged key is discarded by the next attempt); a crash
        after 2 is finished by the next start (``_recover``)."""
        root = self.root_certificate()
        ca_key = self.root_key()
        store = self.key_store(office, create=create)
        staged = STAGING_PREFIX + office.id
        store.discard(staged)
        public_key = store.generate(staged, algorithm)
        faults.point("renew:key-generated")
        cert = pki.issue_office_certificate(office=office.identity, public_key=public_key, ca_cert=root,
                                            ca_key=ca_key, endpoints=self._endpoints(),
                                            days=self.settings.cert_days)
        store.install_certificate(staged, cert, [root])
        record = CertRecord(serial=f"{cert.serial_number:x}", office_id=office.id, algorithm=algorithm.value,
                            key_store=office.key_store, not_before=_iso(cert.not_valid_before_utc),
                            not_after=_iso(cert.not_valid_after_utc), status="active")
        write_atomic(self.cert_path(record), cert.public_bytes(serialization.Encoding.PEM))
        faults.point("renew:staged")
        ledger = self._ledger()
        archive = f"{ARCHIVE_PREFIX}{office.id}-{old.serial if old else 'unrecorded-' + record.serial}"
        ledger["pending"] = {"office_id": office.id, "staged": staged, "archive": archive, "record": asdict(record),
                             "old_serial": old.serial if old else None, "reason": reason,
                             "at": _iso(dt.datetime.now(dt.UTC))}
        self._write_ledger(ledger)
        faults.point("renew:pending")
        self._commit_pending()
        if font is not None:
            self.draw_seal(office, font)
        log.info("seal issued office=%s serial=%s store=%s", office.id, record.serial, office.key_store)
        return record

    def _commit_pending(self) -> None:
        """Caller holds the lock. Finishes a recorded switch (idempotent: safe to run again after a crash)."""
        ledger = self._ledger()
        pending = ledger.get("pending")
        if not pending:
            return
        office = self.registry().get(pending["office_id"])
        store = self.key_store(office)
        if store.has_key(pending["staged"]):
            store.promote(pending["staged"], office.id, archive_id=pending["archive"])
        faults.point("renew:promoted")
        records = self._records(ledger)
        new = CertRecord(**pending["record"])
        for r in records:
            if r.serial == pending["old_serial"] and pending["reason"] and r.status == "active":
                r.status = "superseded" if pending["reason"] == "superseded" else "revoked"
                r.revoked_at, r.reason = pending["at"], pending["reason"]
        if not any(r.serial == new.serial for r in records):
            records.append(new)
        ledger["certificates"] = [asdict(r) for r in records]
        del ledger["pending"]
        self._write_ledger(ledger)
        faults.point("renew:committed")
        if pending["reason"]:
            self._publish_crl_locked()

    def revoke(self, office_key: str, *, reason: str) -> CertRecord:
        if reason not in REASONS:
            raise SealStateError(f"吊销原因只能是：{'、'.join(REASONS)}", code="BAD_REASON",
                                 category=ErrorCategory.INVALID)
        office = self.registry().get(office_key)
        with self._locked():
            current = self.latest(office.id)
            if current is None:
                raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书")
            if current.status != "active":
                raise SealStateError(f"「{office.name}」的印章证书已是「{STATUS_LABELS[current.status]}」状态")
            return self._revoke(office, current, reason)

    def _revoke(self, office: Office, record: CertRecord, reason: str) -> CertRecord:
        """Caller holds the lock. The CA key is unlocked first (a locked key changes nothing); then the ledger
        records the revocation, then the CRL is published. A crash between the two is repaired by the next
        start, which republishes any CRL that disagrees with the ledger (``_recover``)."""
        self.root_key()
        ledger = self._ledger()
        records = self._records(ledger)
        for r in records:
            if r.serial == record.serial:
                r.status = "superseded" if reason == "superseded" else "revoked"
                r.revoked_at = _iso(dt.datetime.now(dt.UTC))
                r.reason = reason
                record = r
        ledger["certificates"] = [asdict(r) for r in records]
        self._write_ledger(ledger)
        faults.point("revoke:ledger-saved")
        self._publish_crl_locked()
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

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The lock, after repairing whatever an interrupted process left behind."""
        with self._lock():
            self._recover()
            yield

    def _recover(self) -> None:
        """Caller holds the lock. Finishes a recorded key switch and republishes a CRL that is missing, stale
        (it disagrees with the ledger) or half-written (DER and PEM differ)."""
        if self.ledger_store().load() is None:
            return
        self._commit_pending()
        if self.crl_needs_publishing():
            log.warning("CRL disagrees with the ledger: republishing")
            self._publish_crl_locked()

    def crl_needs_publishing(self) -> bool:
        ledger = self._ledger()
        expected = {int(r.serial, 16) for r in self._records(ledger) if r.revoked_at and r.reason}
        try:
            der = x509.load_der_x509_crl(self.crl_path.read_bytes())
            pem = x509.load_pem_x509_crl(self.crl_path.with_suffix(".crl.pem").read_bytes())
        except (OSError, ValueError):
            return bool(ledger["certificates"]) or self.crl_path.exists()
        if der != pem or {r.serial_number for r in der} != expected:
            return True
        return der.next_update_utc is not None and der.next_update_utc <= dt.datetime.now(dt.UTC)

    def check_can_seal(self, office_key: str) -> tuple[Office, CertRecord]:
        office = self.registry().get(office_key)
        with self._locked():
            record = self.latest(office.id)
        if record is None:
            raise SealNotIssuedError(f"「{office.name}」尚未签发印章证书")
        if record.status != "active":
            raise SealRevokedError(
                f"「{office.name}」的印章证书已于 {record.revoked_at} {STATUS_LABELS[record.status]}"
                f"（撤销原因：{reason_label(record.reason)}），不能用印")
        return office, record

    def publish_crl(self) -> x509.CertificateRevocationList:
        """Sign and publish a new CRL from the ledger (``minseal seals crl``)."""
        with self._locked():
            return self._publish_crl_locked()

    def _publish_crl_locked(self) -> x509.CertificateRevocationList:
        """Caller holds the lock. The CRL number is recorded before the CRL is written: a crash between them
        skips a number (allowed) rather than reusing one for a different list."""
        ledger = self._ledger()
        records = self._records(ledger)
        root = self.root_certificate()
        ca_key = self.root_key()
        revoked = [
            pki.RevokedEntry(int(r.serial, 16), dt.datetime.fromisoformat(r.revoked_at), REASONS[r.reason][0])
            for r in records if r.revoked_at and r.reason
        ]
        number = int(ledger.get("crl_number", 0)) + 1
        crl = pki.make_crl(ca_cert=root, ca_key=ca_key, revoked=revoked, number=number,
                           next_update=dt.timedelta(days=self.settings.crl_days))
        ledger["crl_number"] = number
        self._write_ledger(ledger)
        faults.point("crl:number-saved")
        write_atomic(self.crl_path, crl.public_bytes(serialization.Encoding.DER))
        faults.point("crl:der-written")
        write_atomic(self.crl_path.with_suffix(".crl.pem"), crl.public_bytes(serialization.Encoding.PEM))
        return crl

    def draw_seal(self, office: Office, font: SealFont) -> tuple[Path, Path]:
        svg_path, png_path = self.seal_image_paths(office.id)
        write_atomic(svg_path, seal_svg(office.seal_spec, font).encode())
        write_atomic(png_path, seal_png(office.seal_spec, font))
        return svg_path, png_path

    # -- time-stamping authority ------------------------------------------------------------------------------
    TSA_KEY_ID = "_tsa"

    def tsa_store(self, *, create: bool = False) -> Pkcs12KeyStore:
        passphrase = self._passphrase(create=create)
        self._check_passphrase(passphrase)
        return Pkcs12KeyStore(self.settings.keys_dir / "p12", passphrase)

    def ensure_tsa(self, *, create: bool = False) -> x509.Certificate:
        """MinSeal's own TSA: a key and a timeStamping certificate under the same root. Opened as it exists —
        a store that does not open is an error, never a reason to make a new key; made only by init-demo."""
        store = self.tsa_store(create=create)
        if store.has_key(self.TSA_KEY_ID):
            return store.certificate(self.TSA_KEY_ID)
        if not create:
            raise KeyStoreError("时间戳服务的密钥不存在：新安装请先运行 minseal init-demo", code="TSA_MISSING")
        root = self.ensure_root()
        staged = STAGING_PREFIX + self.TSA_KEY_ID
        store.discard(staged)
        # RSA: pyHanko's in-process TSA signs with RSA only
        public_key = store.generate(staged, pki.KeyAlgorithm.RSA_2048)
        cert = pki.issue_tsa_certificate(public_key=public_key, ca_cert=root, ca_key=self.root_key(),
                                         endpoints=self._endpoints(), common_name="MinSeal 时间戳服务")
        store.install_certificate(staged, cert, [root])
        write_atomic(self.settings.pki_dir / "tsa.crt.pem", cert.public_bytes(serialization.Encoding.PEM))
        store.promote(staged, self.TSA_KEY_ID, archive_id=None)
        return cert

    def crl(self) -> x509.CertificateRevocationList:
        if self.crl_needs_publishing():
            return self.publish_crl()
        return x509.load_der_x509_crl(self.crl_path.read_bytes())

    def _issue_missing(self, font: SealFont) -> None:
        """Caller holds the lock."""
        for office in self.registry():
            current = self.latest(office.id)
            if current is None or current.status != "active":
                self._replace(office, pki.KeyAlgorithm(self.settings.key_algorithm), font, old=current,
                              reason=None, create=True)
            else:
                svg_path, png_path = self.seal_image_paths(office.id)
                if not (svg_path.exists() and png_path.exists()):
                    self.draw_seal(office, font)

    def init_demo(self, font: SealFont) -> list[SealStatus]:
        """Registry, CA, keys, certificates, seal images and CRL for the demo hierarchy; safe to run again.
        The one command that creates secrets and key material (and never replaces any that exist)."""
        if not self.settings.registry_path.exists():
            self.settings.registry_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(DEMO_REGISTRY, self.settings.registry_path)
        self._passphrase(create=True)
        self.ensure_root(create=True)
        self.ensure_tsa(create=True)
        with self._locked():
            self._issue_missing(font)
            if self.crl_needs_publishing() or not self.crl_path.exists():
                self._publish_crl_locked()
        return self.status()


def reason_label(reason: str | None) -> str:
    """The Chinese wording of a revocation reason (never the raw English code)."""
    if reason is None:
        return "未说明"
    return REASONS[reason][1] if reason in REASONS else "其他"
