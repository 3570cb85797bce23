"""Where an office's seal comes from: a seal provider. Three kinds exist (docs/seal-providers.md):

- ``minseal-ca``: MinSeal's own CA (a key in a PKCS#12 store or a PKCS#11 token, certified by the installation's
  root) — sound for integrity between the tiers, but not an official seal under 国办发〔2025〕33号;
- ``official``: the office's official seal as its 电子印章制作管理单位 issued it: the GB/T 38540 seal data
  (SES_Seal, opaque here), the SM2 signing certificate from a licensed 电子政务电子认证服务机构, and the SM2
  private key in an encrypted PKCS#8 file;
- ``remote``: a provincial seal platform that holds the key and signs digests over HTTP (signer/remote.py).

Sealing asks a provider for a pyHanko signer and never branches on where the key lives. The registry chooses
the provider per office (its ``seal_provider`` entry, parsed into the frozen specs below)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from asn1crypto import algos, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import KeyStoreError
from .provider_specs import OfficialSpec, ProviderKind
from .ses import SealPicture, read_seal
from .ses import seal_picture as ses_seal_picture
from .signers import KeySigner, key_signer, token_signer
from .sm2 import Sm2PrivateKey, Sm2PublicKey, is_sm2_key
from .sm2_keyfile import load_sm2_key_file, read_passphrase


# -- the interface ------------------------------------------------------------------------------------------------
@runtime_checkable
class SealProvider(Protocol):
    """Where one office's seal comes from."""

    @property
    def kind(self) -> ProviderKind: ...

    def certificates(self) -> tuple[asn1_x509.Certificate, ...]:
        """The signing certificate first, then the chain above it (as far as the provider knows it)."""
        ...

    def pdf_signer(self) -> KeySigner:
        """A pyHanko signer for a PAdES seal (opaque to callers: hand it to ``Sealer.seal``)."""
        ...

    def seal_picture(self) -> bytes | None:
        """The seal picture the provider's seal data carries (GB/T 38540 SES_Seal), or None: draw the
        registry's seal."""
        ...


class OfficialSealSource(SealProvider, Protocol):
    """An official seal: what a GB/T 38540 seal signature needs besides the certificate."""

    def ses_seal(self) -> bytes:
        """The SES_Seal as the 制作管理单位 issued it (DER, opaque here)."""
        ...

    def private_key(self) -> Sm2PrivateKey:
        """The SM2 signing key (decrypted on first use, kept for the life of the process)."""
        ...


# -- MinSeal's own CA ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OwnCaProvider:
    """Today's path: a key in the installation's PKCS#12 store or on a PKCS#11 token, under MinSeal's root."""

    signer: KeySigner

    @property
    def kind(self) -> ProviderKind:
        return ProviderKind.OWN_CA

    @classmethod
    def from_key(cls, key: PrivateKeyTypes, certificate: x509.Certificate, *, root: x509.Certificate) -> OwnCaProvider:
        return cls(key_signer(key, certificate, root=root))

    @classmethod
    def from_token(cls, session: Any, label: str, *, root: x509.Certificate) -> OwnCaProvider:
        return cls(token_signer(session, label, root=root))

    def certificates(self) -> tuple[asn1_x509.Certificate, ...]:
        chain = tuple(self.signer.cert_registry) if self.signer.cert_registry is not None else ()
        return (self.signer.signing_cert, *(c for c in chain if c != self.signer.signing_cert))

    def pdf_signer(self) -> KeySigner:
        return self.signer

    def seal_picture(self) -> bytes | None:
        return None


# -- a signer over "sign these bytes" -----------------------------------------------------------------------------
#: the largest DER ECDSA/SM2 signature on a 256-bit curve: a dry run's stand-in
_EC_DER_MAX = 72


def signature_mechanism(cert: asn1_x509.Certificate) -> algos.SignedDigestAlgorithm | None:
    """The mechanism a certificate's key signs with, where pyHanko's default would be wrong: SM2 with SM3 for
    an SM2 key (pyHanko would say ECDSA). None: pyHanko's default (ECDSA or RSA with the document digest)."""
    if is_sm2_key(cert.public_key):
        return algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})
    return None


class CallbackSigner(signers.Signer):  # type: ignore[misc]
    """A pyHanko signer whose raw signature comes from ``sign`` (the signed attributes and the digest
    algorithm in, a DER signature out): a remote service or an SM2 key pyHanko cannot hold. A dry run (pyHanko
    sizing the signature container) never calls ``sign``."""

    def __init__(self, *, sign: Callable[[bytes, str], bytes], signing_cert: asn1_x509.Certificate,
                 chain: tuple[asn1_x509.Certificate, ...]) -> None:
        super().__init__(signing_cert=signing_cert, cert_registry=SimpleCertificateStore.from_certs(list(chain)),
                         signature_mechanism=signature_mechanism(signing_cert))
        self._sign = sign

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            key = self.signing_cert.public_key
            return bytes(key.bit_size // 8 if key.algorithm == "rsa" else _EC_DER_MAX)
        return await asyncio.to_thread(self._sign, data, digest_algorithm)


# -- an official seal held by the office --------------------------------------------------------------------------
@dataclass
class OfficialSealProvider:
    """The office's official seal from its files (``OfficialSpec``); the key is decrypted on first use."""

    spec: OfficialSpec
    _key: Sm2PrivateKey | None = field(default=None, repr=False)

    @property
    def kind(self) -> ProviderKind:
        return ProviderKind.OFFICIAL

    def certificates(self) -> tuple[asn1_x509.Certificate, ...]:
        return read_certificates(self.spec.certificate)

    def ses_seal(self) -> bytes:
        try:
            return self.spec.ses_seal.read_bytes()
        except OSError:
            raise KeyStoreError(f"无法读取电子印章数据文件 {self.spec.ses_seal}", code="SES_SEAL_MISSING") from None

    def private_key(self) -> Sm2PrivateKey:
        if self._key is None:
            key = load_sm2_key_file(self.spec.key_file, read_passphrase(self.spec.passphrase_file))
            cert = self.certificates()[0]
            if not is_sm2_key(cert.public_key) or Sm2PublicKey.from_info(cert.public_key) != key.public_key:
                raise KeyStoreError(f"私钥 {self.spec.key_file} 与签名证书 {self.spec.certificate} 不匹配",
                                    code="OFFICIAL_KEY_MISMATCH")
            self._key = key
        return self._key

    def pdf_signer(self) -> KeySigner:
        """An SM2-with-SM3 CMS signer (PAdES with SM2 needs the SM2 digest path of ``signer.sign``)."""
        key = self.private_key()
        chain = self.certificates()

        def sign(data: bytes, _digest_algorithm: str) -> bytes:
            return key.sign(data)

        return CallbackSigner(sign=sign, signing_cert=chain[0], chain=chain[1:])

    def seal_picture(self) -> bytes | None:
        """The picture the SES_Seal carries (its bytes: PNG or SVG, as ``seal_picture_info`` says): what the
        office's GB/T 38540 seal shows in its box."""
        return self.seal_picture_info().data

    def seal_picture_info(self) -> SealPicture:
        """The SES_Seal's picture with its type and size in mm."""
        try:
            return ses_seal_picture(read_seal(self.ses_seal()))
        except ValueError:
            raise KeyStoreError(f"电子印章数据文件 {self.spec.ses_seal} 无法解析（不是 GB/T 38540 电子印章）",
                                code="SES_SEAL_MALFORMED") from None


def read_certificates(path: Path) -> tuple[asn1_x509.Certificate, ...]:
    """Certificates of a PEM file (in order) or one DER certificate."""
    try:
        data = path.read_bytes()
    except OSError:
        raise KeyStoreError(f"无法读取证书文件 {path}", code="CERT_FILE_MISSING") from None
    try:
        if pem.detect(data):
            certs = tuple(asn1_x509.Certificate.load(der) for kind, _h, der in pem.unarmor(data, multiple=True)
                          if kind == "CERTIFICATE")
        else:
            certs = (asn1_x509.Certificate.load(data),)
        for cert in certs:
            _ = cert.native  # parse it now, not in the middle of a seal
    except (ValueError, TypeError):
        raise KeyStoreError(f"证书文件 {path} 无法解析", code="CERT_FILE_INVALID") from None
    if not certs:
        raise KeyStoreError(f"证书文件 {path} 中没有证书", code="CERT_FILE_INVALID")
    return certs


__all__ = ["CallbackSigner", "OfficialSealProvider", "OfficialSealSource", "OwnCaProvider", "SealProvider",
           "read_certificates", "signature_mechanism"]
