"""The signed token a notice's or certificate's QR code carries: COSE_Sign1 (RFC 9052), as the EU Digital COVID
Certificate uses, signed with the issuing office's seal key, verifiable offline with its certificate.

Compact on purpose: a 24 mm QR code must stay at version ≤ 9 to be read from a printed board, so the payload is a
CBOR array (not a map), dates are day numbers, and the text form is unpadded RFC 4648 base32 — upper case and
digits only, which a QR code stores in its alphanumeric mode (5.5 bits a character instead of 8).

Payload: ``[public id (16 bytes), content SHA-256 (32 bytes), issuer office id, issued-on, period start, period
end]`` (the period is null for certificates and result notices). The digest covers the document's *public
content* (see :func:`content_digest`), not the sealed file: the QR code is printed inside that file, so the file
cannot carry its own hash; the sealed file's SHA-256 is what the public page shows from the register.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from pycose.algorithms import Es256
from pycose.headers import Algorithm
from pycose.keys.cosekey import CoseKey
from pycose.messages.sign1message import Sign1Message

from .errors import PublicTokenError as PublicTokenError  # re-exported: moved to the one error tree

EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class TokenClaims:
    #: the document's public id (what /v/ pages are keyed by); 128 random bits
    public_id: str
    #: SHA-256 (hex) of the document's public content, see :func:`content_digest`
    content_sha256: str
    #: registry id of the issuing office (its seal certificate verifies the token)
    issuer: str
    issued_on: dt.date
    #: 公示 period (start, end), inclusive; None for certificates and result notices
    period: tuple[dt.date, dt.date] | None = None


def content_digest(public_content: dict[str, Any]) -> str:
    """SHA-256 of canonical JSON (sorted keys, no spaces, UTF-8) of what the public page shows."""
    text = json.dumps(public_content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _day(value: dt.date) -> int:
    return (value - EPOCH).days


def _date(value: Any) -> dt.date:
    if not isinstance(value, int):
        raise PublicTokenError("二维码中的日期格式不正确")
    return EPOCH + dt.timedelta(days=value)


def _pid_bytes(public_id: str) -> bytes:
    raw = base64.urlsafe_b64decode(public_id + "=" * (-len(public_id) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != public_id:
        raise ValueError("public id is not unpadded base64url")
    return raw


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    text = text.strip().upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, TypeError):
        raise PublicTokenError("二维码中的数据不是有效的编码") from None


def encode_token(claims: TokenClaims, sign: Callable[[bytes], bytes]) -> str:
    """``sign``: the office's key store signing SHA-256/ECDSA (DER), e.g. ``KeyStore.sign`` for the office."""
    period = [_day(claims.period[0]), _day(claims.period[1])] if claims.period else [None, None]
    payload = cbor2.dumps([_pid_bytes(claims.public_id), bytes.fromhex(claims.content_sha256), claims.issuer,
                           _day(claims.issued_on), *period])
    message = Sign1Message(phdr={Algorithm: Es256}, payload=payload)
    der = sign(message._create_sig_structure())  # pycose builds the Sig_structure; the key stays in its store
    r, s = utils.decode_dss_signature(der)
    message.signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return _b32(message.encode(tag=True, sign=False))


def read_claims(token: str) -> TokenClaims:
    """The claims, unverified (to find the issuer whose certificate verifies them)."""
    return _claims(_message(token))


def _message(token: str) -> Sign1Message:
    try:
        message = Sign1Message.decode(_unb32(token))
    except PublicTokenError:
        raise
    except Exception:
        raise PublicTokenError("二维码中的数据不是有效的签名令牌") from None
    if not isinstance(message, Sign1Message):
        raise PublicTokenError("二维码中的数据不是有效的签名令牌")
    return message


def _claims(message: Sign1Message) -> TokenClaims:
    try:
        pid, digest, issuer, issued, start, end = cbor2.loads(message.payload or b"")
    except Exception:
        raise PublicTokenError("二维码中的签名内容格式不正确") from None
    if not (isinstance(pid, bytes) and isinstance(digest, bytes) and len(digest) == 32 and isinstance(issuer, str)):
        raise PublicTokenError("二维码中的签名内容格式不正确")
    period = (_date(start), _date(end)) if start is not None and end is not None else None
    return TokenClaims(base64.urlsafe_b64encode(pid).rstrip(b"=").decode(), digest.hex(), issuer, _date(issued),
                       period)


def verify_token(token: str, certificate: x509.Certificate) -> TokenClaims:
    """Check the COSE signature with the issuer's seal certificate; the claims if it holds, else
    :class:`PublicTokenError`. (Whether that certificate chains to a trusted root is the caller's check.)"""
    message = _message(token)
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise PublicTokenError("签发单位的证书不是 ECDSA 证书，无法核验二维码签名")
    if message.phdr.get(Algorithm) is not Es256 and message.phdr.get(Algorithm) != Es256:
        raise PublicTokenError("二维码签名算法不受支持")
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    message.key = CoseKey.from_pem_public_key(pem.decode())
    try:
        valid = message.verify_signature()
    except Exception:
        valid = False
    if not valid:
        raise PublicTokenError("二维码签名与签发单位的证书不符（可能被伪造或篡改）")
    return _claims(message)
