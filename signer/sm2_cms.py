"""CMS signatures with SM2 over SM3 for PAdES seals and RFC 3161 timestamps.

pyHanko builds the SignerInfo (signed attributes, signing-certificate-v2, CMS algorithm protection) and asks
its ``Signer`` for the raw signature over the DER of the signed attributes; :class:`Sm2Signer` answers with
SM2 (GB/T 35276: digest algorithm ``sm3`` 1.2.156.10197.1.401, signature algorithm ``sm2_sm3``
1.2.156.10197.1.501, ID 1234567812345678, the signature a DER ``SEQUENCE {r, s}``). :class:`Sm2TimeStamper` is
MinSeal's own TSA with an SM2 key: its tokens are SignedData signed the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asn1crypto import algos, cms, core, keys, tsp, x509
from pyhanko.sign import general, signers
from pyhanko.sign.general import SigningError, simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import CertificateStore, SimpleCertificateStore

from .sm2 import Sm2PrivateKey, Sm2PublicKey, sm3
from .tsa import tst_info

#: the digest a seal made with an SM2 key uses (pyHanko hashes with ``cryptography.hashes.SM3``)
SM2_DIGEST = "sm3"
_MECHANISM = algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})
#: an SM2 DER signature is at most 72 bytes (two 33-byte INTEGERs and their headers)
_DRY_RUN_SIGNATURE = b"\x00" * 72


class Sm2Signer(signers.Signer):  # type: ignore[misc]
    """An office's SM2 key, held in memory, as a pyHanko signer: SM3 digests, sm2_sm3 signatures."""

    def __init__(self, *, key: Sm2PrivateKey, signing_cert: x509.Certificate,
                 cert_registry: CertificateStore | None = None) -> None:
        if Sm2PublicKey.from_info(signing_cert.public_key) != key.public_key:
            raise SigningError("SM2 private key does not match the certificate")
        super().__init__(signature_mechanism=_MECHANISM, signing_cert=signing_cert,
                         cert_registry=cert_registry or SimpleCertificateStore())
        self._key = key

    def get_signature_mechanism_for_digest(self, digest_algorithm: str | None) -> algos.SignedDigestAlgorithm:
        if digest_algorithm not in (None, SM2_DIGEST):
            raise SigningError(f"SM2 signs with SM3 only, not {digest_algorithm}")
        return _MECHANISM

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm != SM2_DIGEST:
            raise SigningError(f"SM2 signs with SM3 only, not {digest_algorithm}")
        if dry_run:
            return _DRY_RUN_SIGNATURE
        return self._key.sign(data)


class Sm2TimeStamper(DummyTimeStamper):  # type: ignore[misc]
    """MinSeal's own TSA with an SM2 key: MinSeal's TSA policy, SM3 over the TSTInfo whatever digest the
    request's imprint used, signed with SM2."""

    def __init__(self, *, tsa_cert: x509.Certificate, tsa_key: Sm2PrivateKey,
                 certs_to_embed: CertificateStore | None = None) -> None:
        if Sm2PublicKey.from_info(tsa_cert.public_key) != tsa_key.public_key:
            raise SigningError("SM2 TSA key does not match its certificate")
        super().__init__(tsa_cert=tsa_cert, tsa_key=keys.PrivateKeyInfo.load(tsa_key.to_pkcs8()),
                         certs_to_embed=certs_to_embed, override_md=SM2_DIGEST)
        self._sm2_key = tsa_key

    def _build_tst_info(self, message_imprint: tsp.MessageImprint, dt: datetime,
                        req: tsp.TimeStampReq) -> tsp.TSTInfo:
        return tst_info(self.tsa_cert, message_imprint, dt, req)

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str,
                       dt: datetime) -> tuple[bytes, cms.CMSAttributes]:
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", sm3(tst_info_data)),
        ])
        return self._sm2_key.sign(signed_attrs.dump()), signed_attrs

    def _build_signed_data(self, tst_info_data: bytes, md_algorithm: str, signature: bytes,
                           signed_attrs: cms.CMSAttributes) -> dict[str, Any]:
        data: dict[str, Any] = super()._build_signed_data(tst_info_data, md_algorithm, signature, signed_attrs)
        data["signer_infos"][0]["signature_algorithm"] = _MECHANISM
        return data


def is_sm2_signer(signer: signers.Signer) -> bool:
    """Whether a seal by this signer must use SM3 (see :func:`signer.sign.Sealer.seal`)."""
    return isinstance(signer, Sm2Signer)
