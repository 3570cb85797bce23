"""The pyHanko objects a seal is made with, built from plain keys, certificates and bytes: the office's key as a
signer (a PKCS#12 key held in memory, or a PKCS#11 token session), the timestamper (a TSA over HTTP, or MinSeal's
own in process) and the revocation source of long-term levels. Callers outside ``signer`` never touch pyHanko."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from asn1crypto import keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import to_asn1
from .sm2 import Sm2PrivateKey
from .sm2_cms import Sm2Signer, Sm2TimeStamper
from .sm2_pki import ocsp_request
from .sm2_validate import SIGNATURE_VALIDATOR
from .tsa import MinSealTimeStamper

#: an office's key, ready to sign (opaque to callers: hand it back to ``Sealer.seal``)
KeySigner: TypeAlias = signers.Signer
#: an RFC 3161 timestamp source (opaque to callers: hand it to ``Sealer``)
Timestamper: TypeAlias = TimeStamper


class LoadedKeySigner(signers.SimpleSigner):  # type: ignore[misc]
    """pyHanko's SimpleSigner re-parses its private key on every signature (~50-90 ms for RSA-2048 here);
    this one keeps the parsed key for the life of the process."""

    def __init__(self, *, signing_key: PrivateKeyTypes, **kwargs: Any) -> None:
        der = signing_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        super().__init__(signing_key=keys.PrivateKeyInfo.load(der), **kwargs)
        self._key = signing_key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algo))
        result: bytes = await super().async_sign_raw(data, digest_algorithm, dry_run)
        return result


def key_signer(key: PrivateKeyTypes, certificate: x509.Certificate, *, root: x509.Certificate) -> KeySigner:
    """A key from a PKCS#12 store, parsed once; the root goes into the signature's certificate set."""
    return LoadedKeySigner(signing_key=key, signing_cert=to_asn1(certificate),
                           cert_registry=SimpleCertificateStore.from_certs([to_asn1(root)]))


def sm2_key_signer(key: Sm2PrivateKey, certificate: x509.Certificate, *, root: x509.Certificate) -> KeySigner:
    """An office's SM2 key (from the encrypted key store): seals with SM2 over SM3."""
    return Sm2Signer(key=key, signing_cert=to_asn1(certificate),
                     cert_registry=SimpleCertificateStore.from_certs([to_asn1(root)]))


def token_signer(session: Any, label: str, *, root: x509.Certificate) -> KeySigner:
    """A key on a PKCS#11 token: ``session`` is an open python-pkcs11 session; key and certificate share the
    label (the office id); the token's own mechanism signs the digest."""
    from pyhanko.sign.pkcs11 import PKCS11Signer

    signer: KeySigner = PKCS11Signer(session, key_label=label, cert_label=label, other_certs_to_pull=(),
                                     ca_chain=[to_asn1(root)], use_raw_mechanism=True)
    return signer


def http_timestamper(url: str, *, timeout: int = 10, token: str | None = None) -> Timestamper:
    """An RFC 3161 TSA over HTTP; ``token``: the bearer token another MinSeal's ``/pki/tsa`` asks for."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    timestamper: Timestamper = HTTPTimeStamper(url, timeout=timeout, headers=headers)
    return timestamper


def local_timestamper(certificate: x509.Certificate, key: PrivateKeyTypes, *,
                      root: x509.Certificate) -> MinSealTimeStamper:
    """MinSeal's own TSA: a timeStamping certificate under the installation's root, signing in process."""
    return MinSealTimeStamper(tsa_cert=to_asn1(certificate), tsa_key=key,  # type: ignore[arg-type]  # RSA or refused
                              certs_to_embed=SimpleCertificateStore.from_certs([to_asn1(root)]))


def sm2_local_timestamper(certificate: x509.Certificate, key: Sm2PrivateKey, *,
                          root: x509.Certificate) -> Timestamper:
    """MinSeal's own TSA with an SM2 key under an SM2 root: tokens signed with SM2 over SM3."""
    return Sm2TimeStamper(tsa_cert=to_asn1(certificate), tsa_key=key,
                          certs_to_embed=SimpleCertificateStore.from_certs([to_asn1(root)]))


@dataclass(frozen=True)
class Revocation:
    """Where a long-term seal (B-LT, B-LTA) gets the revocation data it embeds. Both are read when a seal needs
    them, not when this is built: the CRL may have been republished since the last seal."""

    #: the installation's root: the only trust anchor
    root: Callable[[], x509.Certificate]
    #: the installation's current CRL (DER); None: fetch from the URLs the certificates name
    crl: Callable[[], bytes] | None = None
    #: the installation's own OCSP responder (DER request in, DER response out); None: ask the responder the
    #: certificate names (its AIA URL) over HTTP
    ocsp: Callable[[bytes], bytes] | None = None

    def context(self) -> ValidationContext:
        root = to_asn1(self.root())
        if self.crl is None:
            return ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="hard-fail",
                                     signature_validator=SIGNATURE_VALIDATOR)
        return ValidationContext(trust_roots=[root], crls=[self.crl()], allow_fetching=False,
                                 revocation_mode="hard-fail", signature_validator=SIGNATURE_VALIDATOR)

    def fresh_ocsp(self, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> asn1_ocsp.OCSPResponse | None:
        """An OCSP response for ``cert`` made now — after the seal's timestamp, so that it vouches for the seal at
        any site (a CRL published before the timestamp says nothing about it). None: no responder answered
        (a TSA of another CA, a responder that is down: the seal keeps the CRL, and says less elsewhere)."""
        request = ocsp_request(cert, issuer)  # asn1crypto: an SM2 issuer's key is foreign to cryptography
        try:
            if self.ocsp is not None:
                der = self.ocsp(request)
            else:
                url = _ocsp_url(cert)
                if url is None:
                    return None
                http = urllib.request.Request(url, data=request, headers={"Content-Type": "application/ocsp-request"})
                with urllib.request.urlopen(http, timeout=10) as reply:
                    der = reply.read(64 * 1024)
            response = asn1_ocsp.OCSPResponse.load(der)
            if response["response_status"].native != "successful":
                return None
            _ = response.native
            return response
        except (OSError, ValueError, TypeError):
            return None


def _ocsp_url(cert: asn1_x509.Certificate) -> str | None:
    for url in cert.ocsp_urls:
        if url.startswith(("http://", "https://")):
            return str(url)
    return None
