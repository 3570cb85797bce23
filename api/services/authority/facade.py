"""Seal identities and their lifecycle behind one facade: the CA, one certificate per office, key stores, seal
images, CRLs and the TSA's key.

The seal ledger lives in the installation's database (every certificate ever issued, with its status and, once
revoked, the revocation time and reason — so later verification can tell signatures made before a revocation from
those after); certificates, CRLs and keys are files. Every write is atomic; a revocation publishes a new CRL at
once. The parts live in their own modules (paths, stores, ca, ledger, lifecycle, images, tsa, demo); this class
wires them and keeps the names the rest of the code calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509

from api.services.authority.ca import CrlPublisher, RootCA
from api.services.authority.images import SealImages
from api.services.authority.ledger import Ledger
from api.services.authority.lifecycle import Lifecycle
from api.services.authority.paths import AuthorityPaths
from api.services.authority.records import REASONS, CertRecord, LedgerState, SealStatus
from api.services.authority.stores import KeyStores, Secrets
from api.services.authority.tsa import TSA_KEY_ID, TsaKeys
from api.services.offices import Office, Registry, RegistryError
from api.settings import Settings
from signer import ocsp, sm2_pki
from signer.errors import MinSealError
from signer.keystore import KeyStore, Pkcs12KeyStore, Sm2FileKeyStore
from signer.ocsp import CertificateStatus
from signer.pki import to_asn1
from signer.seal_image import SealFont

if TYPE_CHECKING:
    from api.storage.engine import Database


class SealAuthority:
    """The CA and the seals of all offices in the registry; built once per process by the composition root
    (``api/services/container.py``)."""

    TSA_KEY_ID = TSA_KEY_ID

    def __init__(self, settings: Settings, *, database: Callable[[], Database] | None = None) -> None:
        """``database``: where the ledger and the registry live, opened on first use (the container passes its
        own). Without it — an authority built alone, by a test or a script — the installation's database is
        opened the way the container opens it."""
        self.settings = settings
        self._open_database = database or self._standalone_database
        self._db: Database | None = None
        self.paths = AuthorityPaths(settings)
        self.secrets = Secrets(settings)
        self.ledger = Ledger(self.paths, self.database)
        self.ca = RootCA(settings, self.paths, self.secrets)
        self.crl_publisher = CrlPublisher(settings, self.paths, self.ca, self.ledger)
        self.stores = KeyStores(settings, self.paths, self.secrets, self.ca.check_passphrase, sm2=self.ca.is_sm2)
        self.images = SealImages(self.paths)
        self.tsa = TsaKeys(self.paths, self.stores, self.ca)
        self.lifecycle = Lifecycle(settings, self.paths, ledger=self.ledger, ca=self.ca, crl=self.crl_publisher,
                                   stores=self.stores, images=self.images, registry=self.registry)

    def _standalone_database(self) -> Database:
        from api.services.container import open_database

        return open_database(self.settings)

    def database(self) -> Database:
        """The installation's database (where the ledger, the registry and the 用印日志 live)."""
        if self._db is None:
            self._db = self._open_database()
        return self._db

    # -- the registry ------------------------------------------------------------------------------------------
    def registry(self) -> Registry:
        registry = self.registry_or_none()
        if registry is None:
            raise RegistryError(f"找不到单位名录（数据库中没有单位，也没有 {self.settings.registry_path}）；"
                                "可先运行 minseal init-demo", code="REGISTRY_MISSING")
        return registry

    def registry_or_none(self) -> Registry | None:
        """The registry from the database, after importing ``registry.toml`` if it changed. None on a machine
        that holds no installation (verifying with only a root certificate creates nothing)."""
        if not self.installed():
            return None
        from api.services.offices import DatabaseRegistry

        store = DatabaseRegistry(self.database())
        if self.settings.registry_path.exists():
            store.import_file(self.settings.registry_path, county_seal_mm=self.settings.county_seal_diameter_mm)
        return store.load()

    def installed(self) -> bool:
        """Is there an installation here (a database, or a registry to make one from)?"""
        if self._db is not None or self.settings.database_url or self.settings.registry_path.exists():
            return True
        return (self.settings.data_dir / "minseal.db").exists()

    # -- files ---------------------------------------------------------------------------------------------------
    @property
    def root_cert_path(self) -> Path:
        return self.paths.root_cert

    @property
    def root_key_path(self) -> Path:
        return self.paths.root_key

    @property
    def ledger_path(self) -> Path:
        return self.paths.legacy_ledger

    @property
    def crl_path(self) -> Path:
        return self.paths.crl

    def cert_path(self, record: CertRecord) -> Path:
        return self.paths.cert(record.office_id, record.serial)

    def seal_image_paths(self, office_id: str) -> tuple[Path, Path]:
        return self.images.paths_of(office_id)

    def draw_seal(self, office: Office, font: SealFont) -> tuple[Path, Path]:
        return self.images.draw(office, font)

    # -- keys and the CA ---------------------------------------------------------------------------------------
    def key_store(self, office: Office, *, create: bool = False) -> KeyStore:
        """The office's store, opened as it exists; ``create`` (init-demo) may make a SoftHSM2 token first."""
        return self.stores.for_office(office, create=create)

    def ensure_root(self, *, create: bool = False) -> x509.Certificate:
        return self.ca.ensure(create=create)

    def root_certificate(self) -> x509.Certificate:
        return self.ca.certificate()

    def root_key(self) -> Any:
        return self.ca.key()

    def is_sm2(self) -> bool:
        """Whether this installation seals with SM2 over SM3 (its root is an SM2 root: ``init-demo --sm2``)."""
        return self.ca.is_sm2()

    def tsa_store(self, *, create: bool = False) -> Pkcs12KeyStore | Sm2FileKeyStore:
        return self.tsa.store(create=create)

    def ensure_tsa(self, *, create: bool = False) -> x509.Certificate:
        """MinSeal's own TSA: a key and a timeStamping certificate under the same root (made only by init-demo)."""
        return self.tsa.ensure(create=create)

    # -- the ledger and the lifecycle --------------------------------------------------------------------------
    def ledger_state(self) -> LedgerState:
        return self.ledger.state()

    def records(self) -> list[CertRecord]:
        """Every certificate ever issued, oldest first."""
        return list(self.ledger.state().certificates)

    def latest(self, office_id: str) -> CertRecord | None:
        return self.lifecycle.latest(office_id)

    def status(self) -> list[SealStatus]:
        return self.lifecycle.status()

    def issue(self, office_key: str, *, algorithm: str | None = None, font: SealFont | None = None) -> CertRecord:
        return self.lifecycle.issue(office_key, algorithm=algorithm, font=font)

    def renew(self, office_key: str, *, algorithm: str | None = None, font: SealFont | None = None) -> CertRecord:
        return self.lifecycle.renew(office_key, algorithm=algorithm, font=font)

    def revoke(self, office_key: str, *, reason: str) -> CertRecord:
        return self.lifecycle.revoke(office_key, reason=reason)

    def check_can_seal(self, office_key: str) -> tuple[Office, CertRecord]:
        return self.lifecycle.check_can_seal(office_key)

    def publish_crl(self) -> x509.CertificateRevocationList:
        return self.lifecycle.publish_crl()

    def crl(self) -> x509.CertificateRevocationList:
        return self.lifecycle.current_crl()

    def ocsp_status(self, serial: int) -> CertificateStatus | None:
        """What the OCSP responder answers for ``serial``: None for a certificate this CA never issued."""
        hex_serial = f"{serial:x}"
        record = next((r for r in self.records() if r.serial == hex_serial), None)
        if record is None:
            return self._tsa_status(serial)
        cert = x509.load_pem_x509_certificate(self.cert_path(record).read_bytes())
        if record.revoked_at is None or record.reason is None:
            return CertificateStatus(cert)
        return CertificateStatus(cert, dt.datetime.fromisoformat(record.revoked_at), REASONS[record.reason][0])

    def ocsp_respond(self, request: bytes) -> bytes:
        """The OCSP responder's answer (``/pki/ocsp``, and long-term seals in process): signed by the root, with
        SM2 over SM3 under an SM2 root."""
        if not self.is_sm2():
            return ocsp.respond(request, issuer=self.root_certificate, issuer_key=self.root_key,
                                status_of=self.ocsp_status)

        def sm2_status(serial: int) -> sm2_pki.Sm2CertificateStatus | None:
            status = self.ocsp_status(serial)
            if status is None:
                return None
            return sm2_pki.Sm2CertificateStatus(to_asn1(status.certificate), status.revoked_at,
                                                status.reason.name if status.reason is not None else None)

        return sm2_pki.ocsp_respond(request, issuer=lambda: to_asn1(self.root_certificate()),
                                    issuer_key=self.root_key, status_of=sm2_status)

    def _tsa_status(self, serial: int) -> CertificateStatus | None:
        """MinSeal's own TSA certificate is not in the seal ledger; its OCSP answer lets a seal's timestamp be
        checked offline at other sites (it is replaced, not revoked, so it is good while it exists)."""
        try:
            tsa = self.ensure_tsa()
        except MinSealError:
            return None
        return CertificateStatus(tsa) if tsa.serial_number == serial else None

    def crl_needs_publishing(self) -> bool:
        return self.crl_publisher.needs_publishing()

    def init_demo(self, font: SealFont) -> list[SealStatus]:
        """Registry, CA, keys, certificates, seal images and CRL for the demo hierarchy; safe to run again."""
        from api.services.authority.demo import init_demo

        return init_demo(self, font)
