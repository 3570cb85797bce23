"""The root CA (its certificate and passphrase-protected key) and the CRL it publishes from the ledger.

The root's key type is the installation's algorithm, chosen once by ``init-demo`` (``--sm2`` or
``MINSEAL_KEY_ALGORITHM=sm2-sm3``) and read back from the root certificate by every later command: an SM2 root
issues SM2 seal and TSA certificates, SM2 CRLs and OCSP answers (:mod:`signer.sm2_pki`); any other root, the
``cryptography`` ones (:mod:`signer.pki`)."""

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
from signer import pki, sm2_pki
from signer.errors import KeyStoreError
from signer.sm2 import Sm2PrivateKey
from signer.sm2_keyfile import decrypt_sm2_key, encrypt_sm2_key, to_pem

log = logging.getLogger("minseal.seals")


class RootCA:
    def __init__(self, settings: Settings, paths: AuthorityPaths, secrets: Secrets) -> None:
        self.settings, self.paths, self.secrets = settings, paths, secrets
        self._sm2: tuple[tuple[int, int, int], bool] | None = None

    def ensure(self, *, create: bool = False) -> x509.Certificate:
        """The root CA; made only with ``create`` (init-demo) and only when neither file exists."""
        cert_exists, key_exists = self.paths.root_cert.exists(), self.paths.root_key.exists()
        if cert_exists and key_exists:
            cert = self.certificate()
            if create and self.settings.key_algorithm == pki.KeyAlgorithm.SM2_SM3 and not pki.is_sm2_certificate(cert):
                raise KeyStoreError("本安装的根证书不是 SM2 证书，不能改为 SM2：请在新的数据目录和密钥目录中运行 "
                                    "minseal init-demo --sm2", code="CA_ALGORITHM_MISMATCH")
            return cert
        if not create or cert_exists or key_exists:
            missing = self.paths.root_key if cert_exists else self.paths.root_cert
            raise KeyStoreError(f"根证书或其私钥不存在（{missing}）：新安装请先运行 minseal init-demo",
                                code="CA_MISSING")
        passphrase = self.secrets.passphrase(create=True)
        common_name, organization = "MinSeal 演示根证书（代省级CA）", "MinSeal 演示"
        if self.settings.key_algorithm == pki.KeyAlgorithm.SM2_SM3:
            sm2_key = Sm2PrivateKey.generate()
            cert = x509.load_der_x509_certificate(
                sm2_pki.make_root(sm2_key, common_name=common_name, organization=organization).dump())
            pem = to_pem(encrypt_sm2_key(sm2_key, passphrase))
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            cert = pki.make_root(key, common_name=common_name, organization=organization)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(passphrase))
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

    def is_sm2(self) -> bool:
        """Whether this installation's root is an SM2 root (its seals, TSA, CRLs and OCSP answers are SM2); False
        while there is no root. Read from the file, remembered while the file is unchanged."""
        try:
            stat = self.paths.root_cert.stat()
        except FileNotFoundError:
            return False
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if self._sm2 is None or self._sm2[0] != stamp:
            self._sm2 = (stamp, pki.is_sm2_certificate(self.certificate()))
        return self._sm2[1]

    def algorithm(self) -> pki.KeyAlgorithm | None:
        """The key algorithm every seal under this root must use (SM2 under an SM2 root); None: any other."""
        return pki.KeyAlgorithm.SM2_SM3 if self.is_sm2() else None

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
        if self.is_sm2():
            try:
                return decrypt_sm2_key(data, passphrase)
            except KeyStoreError:
                pass
        else:
            try:
                return serialization.load_pem_private_key(data, passphrase)
            except (ValueError, TypeError):
                pass
        if self._passphrase_opens_a_store(passphrase):
            raise KeyStoreError(f"根证书私钥文件已损坏：{path}", code="CA_DAMAGED") from None
        raise KeyStoreError("密钥库口令错误：请检查 MINSEAL_KEY_PASSPHRASE 或口令文件中的口令",
                            code="WRONG_PASSPHRASE") from None

    def _passphrase_opens_a_store(self, passphrase: bytes) -> bool:
        """Tells a damaged CA key file from a wrong passphrase: does the passphrase open any key store file?"""
        for path in sorted(self.paths.p12_dir.glob("*.p12"))[:3]:
            try:
                pkcs12.load_pkcs12(path.read_bytes(), passphrase)
                return True
            except (ValueError, OSError):
                continue
        for path in sorted(self.paths.sm2_dir.glob("*.sm2.pem"))[:3]:
            try:
                decrypt_sm2_key(path.read_bytes(), passphrase)
                return True
            except (KeyStoreError, OSError):
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
        next_update = dt.timedelta(days=self.settings.crl_days)
        if isinstance(ca_key, Sm2PrivateKey):
            crl = x509.load_der_x509_crl(sm2_pki.make_crl(ca_cert=pki.to_asn1(root), ca_key=ca_key, revoked=revoked,
                                                          number=number, next_update=next_update).dump())
        else:
            crl = pki.make_crl(ca_cert=root, ca_key=ca_key, revoked=revoked, number=number, next_update=next_update)
        self.ledger.save(dataclasses.replace(state, crl_number=number))
        faults.point("crl:number-saved")
        write_atomic(self.paths.crl, crl.public_bytes(serialization.Encoding.DER))
        faults.point("crl:der-written")
        write_atomic(self.paths.crl_pem, crl.public_bytes(serialization.Encoding.PEM))
        return crl

    def current(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl(self.paths.crl.read_bytes())
