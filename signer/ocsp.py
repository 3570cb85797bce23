"""An OCSP responder (RFC 6960) for the seal certificates: DER request in, signed DER response out.

The caller says what it knows about a serial number (:class:`CertificateStatus`); this module parses, answers
and signs. A malformed request gets the MALFORMED_REQUEST status and an unknown serial UNAUTHORIZED (we answer
only for certificates our CA issued), both unsigned as RFC 6960 allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

MEDIA_TYPE = "application/ocsp-response"


@dataclass(frozen=True)
class CertificateStatus:
    """What the CA's ledger says about one certificate."""

    certificate: x509.Certificate
    #: when it was revoked (None: good)
    revoked_at: dt.datetime | None = None
    #: why (with ``revoked_at``)
    reason: x509.ReasonFlags | None = None


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def respond(request: bytes, *, issuer: Callable[[], x509.Certificate], issuer_key: Callable[[], Any],
            status_of: Callable[[int], CertificateStatus | None],
            validity: dt.timedelta = dt.timedelta(days=1)) -> bytes:
    """The DER response to a DER request. ``issuer`` and ``issuer_key`` are called only for a request that parses
    (a malformed one unlocks no key); the response is signed by the CA itself and echoes the request's nonce."""
    try:
        req = ocsp.load_der_ocsp_request(request)
    except ValueError:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    root = issuer()
    status = status_of(req.serial_number)
    if status is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    revoked = status.revoked_at is not None and status.reason is not None
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=status.certificate, issuer=root, algorithm=req.hash_algorithm,
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=now, next_update=now + validity,
        revocation_time=status.revoked_at if revoked else None,
        revocation_reason=status.reason if revoked else None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, root)
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value
        builder = builder.add_extension(nonce, critical=False)
    except x509.ExtensionNotFound:
        pass
    return builder.sign(issuer_key(), hashes.SHA256()).public_bytes(serialization.Encoding.DER)
