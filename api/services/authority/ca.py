"""The root CA (its certificate and passphrase-protected key) and the CRL it publishes from the ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from api import faults
from api.services.authority.ledger import Ledger
from api.services.authority.paths import AuthorityPaths
from api.services.authority.records import REASONS
from api.services.authority.stores import Secrets
from api.settings import Settings
from api.storage.files import write_atomic
from signer import pki
from signer.errors import KeyStoreError

log = logging.getLogger("minseal.seals")


class RootCA:
    def __init__(self, settings: Settings, paths: AuthorityPaths, secrets: Secrets) -> None:
        self.settings, self.paths, self.secrets = settings, paths, secrets

    def ensure(self, *, create: bool = False) -> x509.Certificate:
        """The root CA; made only with ``create`` (init-demo) and only when neither file exists."""
        cert_exists, key_exists = self.paths.root_cert.exists(), self.paths.root_key.exists()
        if cert_exists and key_exists:
            return self.certificate()
        if not create or cert_exists or key_exists:
            missing = self.paths.root_key if cert_exists else self.paths.root_cert
            raise KeyStoreError(f"根证书或其私钥不存在（{missing}）：新安装请先运行 minseal init-demo",
                                code="CA_MISSING")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = pki.make_root(key, common_name="MinSeal 演示根证书（代省级CA）", organization="MinSeal 演示")
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(self.secrets.passphrase(create=True)))
        self.paths.root_key.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.paths.root_key, pem, mode=0o600)
        faults.point("root:key-written")
        write_atomic(self.paths.root_cert, cert.public_bytes(serialization.Encoding.PEM))
        log.info("root CA created serial=%x", cert.serial_number)
        return cert

    def certificate(self) -> x509.Certificate:
        path = self.paths.root_cert
        try:
            return x509.load_pem_x509_certificate(path.read_bytes())
        except FileNotFoundError:
            raise KeyStoreError(f"根证书不存在（{path}）：新安装请先运行 minseal init-demo",
                                code="CA_MISSING") from None
        except (OSError, ValueError):
            raise KeyStoreError(f"根证书文件已损坏：{path}", code="CA_DAMAGED") from None

    def key(self) -> Any:
        return self.load_key(self.secrets.passphrase())

    def check_passphrase(self, passphrase: bytes) -> None:
        """A wrong passphrase is named as such before any store is opened (never as a CA-key error)."""
        if self.paths.root_key.exists():
            self.load_key(passphrase)

    def load_key(self, passphrase: bytes) -> Any:
        path = self.paths.root_key
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"根证书私钥不存在（{path}）：新安装请先运行 minseal init-demo",
                                code="CA_MISSING") from None
        except OSError:
            raise KeyStoreError(f"无法读取根证书私钥文件 {path}", code="CA_DAMAGED") from None
        try:
            return serialization.load_pem_private_key(data, passphrase)
        except (ValueError, TypeError):
            pass
        if self._passphrase_opens_a_store(passphrase):
            raise KeyStoreError(f"根证书私钥文件已损坏：{path}", code="CA_DAMAGED") from None
        raise KeyStoreError("密钥库口令错误：请检查 MINSEAL_KEY_PASSPHRASE 或口令文件中的口令",
                            code="WRONG_PASSPHRASE") from None

    def _passphrase_opens_a_store(self, passphrase: bytes) -> bool:
        """Tells a damaged CA key file from a wrong passphrase: does the passphrase open any PKCS#12 file?"""
        for path in sorted(self.paths.p12_dir.glob("*.p12"))[:3]:
            try:
                pkcs12.load_pkcs12(path.read_bytes(), passphrase)
                return True
            except (ValueError, OSError):
                continue
        return False

    def endpoints(self) -> pki.PkiEndpoints:
        """The URLs written into every certificate the CA issues."""
        s = self.settings
        return pki.PkiEndpoints(crl_url=s.crl_url, ocsp_url=s.ocsp_url, ca_issuers_url=s.ca_issuers_url)


class CrlPublisher:
    """The CRL (DER, and a PEM copy) as the ledger says it should be. Callers hold the ledger lock."""

    def __init__(self, settings: Settings, paths: AuthorityPaths, ca: RootCA, ledger: Ledger) -> None:
        self.settings, self.paths, self.ca, self.ledger = settings, paths, ca, ledger

    def needs_publishing(self) -> bool:
        """Missing, stale (it disagrees with the ledger), half-written (DER and PEM differ) or expired."""
        state = self.ledger.state()
        try:
            der = x509.load_der_x509_crl(self.paths.crl.read_bytes())
            pem = x509.load_pem_x509_crl(self.paths.crl_pem.read_bytes())
        except (OSError, ValueError):
            return bool(state.certificates) or self.paths.crl.exists()
        if der != pem or {r.serial_number for r in der} != state.revoked_serials():
            return True
        return der.next_update_utc is not None and der.next_update_utc <= dt.datetime.now(dt.UTC)

    def publish(self) -> x509.CertificateRevocationList:
        """The CRL number is recorded before the CRL is written: a crash between them skips a number (allowed)
        rather than reusing one for a different list."""
        state = self.ledger.state()
        root = self.ca.certificate()
        ca_key = self.ca.key()
        revoked = [pki.RevokedEntry(int(r.serial, 16), dt.datetime.fromisoformat(r.revoked_at), REASONS[r.reason][0])
                   for r in state.certificates if r.revoked_at and r.reason]
        number = state.crl_number + 1
        crl = pki.make_crl(ca_cert=root, ca_key=ca_key, revoked=revoked, number=number,
                           next_update=dt.timedelta(days=self.settings.crl_days))
        self.ledger.save(dataclasses.replace(state, crl_number=number))
        faults.point("crl:number-saved")
        write_atomic(self.paths.crl, crl.public_bytes(serialization.Encoding.DER))
        faults.point("crl:der-written")
        write_atomic(self.paths.crl_pem, crl.public_bytes(serialization.Encoding.PEM))
        return crl

    def current(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl(self.paths.crl.read_bytes())
