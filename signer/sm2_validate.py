"""Checking SM2-with-SM3 signatures wherever pyHanko or MinSeal's own checks meet one.

pyHanko's validators (CMS signer infos, certificate paths, CRLs, OCSP responses, timestamp tokens) call one
``SignatureValidator`` held by the ``ValidationContext``; :data:`SIGNATURE_VALIDATOR` verifies ``sm2_sm3`` with
:mod:`signer.sm2` and hands every other algorithm to pyHanko's default (``cryptography``). The ``*_signed_by``
helpers do the same for the checks MinSeal makes itself (the DSS, the seal certificate's issuer), where
``cryptography``'s ``verify_directly_issued_by`` cannot load an SM2 key.
"""

from __future__ import annotations

from typing import Any

from asn1crypto import algos, keys
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

from .errors import KeyStoreError
from .sm2 import Sm2PublicKey, is_sm2_key


class Sm2SignatureValidator(DefaultSignatureValidator):  # type: ignore[misc]
    """SM2 over SM3 (ID 1234567812345678) by gmalglib; everything else as pyHanko does it."""

    def validate_signature(self, signature: bytes, signed_data: bytes, public_key_info: keys.PublicKeyInfo,
                           signature_algorithm: algos.SignedDigestAlgorithm,
                           context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT) -> None:
        name = signature_algorithm["algorithm"].native
        sm2_key = is_sm2_key(public_key_info)
        if name != "sm2_sm3" and not sm2_key:
            super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        if name != "sm2_sm3" or not sm2_key:
            # an SM2 key under another mechanism (or sm2_sm3 claimed for another key) is never valid
            raise InvalidSignature("SM2 key and sm2_sm3 mechanism must go together")
        if context.prehashed:
            # SM2 hashes Z || message itself: a bare digest (CMS without signed attributes) cannot be checked
            raise AlgorithmNotSupported("SM2 signatures over a pre-computed digest are not supported")
        try:
            key = Sm2PublicKey.from_info(public_key_info)
        except KeyStoreError:
            raise InvalidSignature("not a valid SM2 public key") from None
        if not key.verify(signed_data, signature):
            raise InvalidSignature("SM2 signature does not verify")


#: the validator every ``ValidationContext`` MinSeal builds is given (stateless: one instance serves all)
SIGNATURE_VALIDATOR = Sm2SignatureValidator()


def _valid(tbs: bytes, signature: bytes, algorithm: Any, issuer: asn1_x509.Certificate) -> bool:
    try:
        SIGNATURE_VALIDATOR.validate_signature(signature, tbs, issuer.public_key, algorithm)
    except Exception:  # invalid, unsupported, malformed key or signature: not signed by this issuer
        return False
    return True


def certificate_signed_by(cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bool:
    """``cryptography``'s ``verify_directly_issued_by`` for any key type: names chain and the signature holds."""
    if cert.issuer.dump() != issuer.subject.dump():
        return False
    return _valid(cert["tbs_certificate"].dump(), cert["signature_value"].native, cert["signature_algorithm"],
                  issuer)


def crl_signed_by(crl: asn1_crl.CertificateList, issuer: asn1_x509.Certificate) -> bool:
    if crl["tbs_cert_list"]["issuer"].dump() != issuer.subject.dump():
        return False
    return _valid(crl["tbs_cert_list"].dump(), crl["signature"].native, crl["signature_algorithm"], issuer)


def ocsp_signed_by(response: asn1_ocsp.OCSPResponse, issuer: asn1_x509.Certificate) -> bool:
    """The basic response's signature by ``issuer`` itself (MinSeal's CA answers its own OCSP)."""
    basic = response["response_bytes"]["response"].parsed
    return _valid(basic["tbs_response_data"].dump(), basic["signature"].native, basic["signature_algorithm"],
                  issuer)


def is_sm2_certificate(cert: asn1_x509.Certificate) -> bool:
    """Whether a certificate carries an SM2 key (``cryptography`` cannot read its public key)."""
    return is_sm2_key(cert.public_key)
