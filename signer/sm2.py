"""SM2 signatures over SM3 (GB/T 32918, GB/T 32905), the algorithms 国办发〔2025〕33号 seals are made with.

The arithmetic is gmalglib's (a C extension); this module gives it the shapes the rest of ``signer`` speaks:
DER signatures (``SEQUENCE {r, s}``, GB/T 35276), SubjectPublicKeyInfo and PKCS#8 key structures
(``id-ecPublicKey`` on the named curve ``sm2p256v1``), and the algorithm identifiers registered with asn1crypto
so that certificates, CMS and GB/T 38540 structures carrying them parse by name.

The distinguishing ID is always explicit: ``1234567812345678`` (GB/T 35276 §5.4.4 default). OpenSSL 3's own
default is the empty ID, and signatures made with it fail everywhere else, so no caller may leave it unset.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from asn1crypto import algos, keys
from gmalglib import sm2 as gm_sm2
from gmalglib import sm3 as gm_sm3

from .errors import KeyStoreError

#: GB/T 33560: the SM2 curve, SM3, and SM2 signatures over SM3
SM2_CURVE_OID: Final = "1.2.156.10197.1.301"
SM3_OID: Final = "1.2.156.10197.1.401"
SM2_WITH_SM3_OID: Final = "1.2.156.10197.1.501"
#: GB/T 35276 §5.4.4: the distinguishing ID every signer and verifier here uses
DEFAULT_ID: Final = b"1234567812345678"

_KEY_BYTES: Final = 32
_CURVE_ORDER: Final = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def register_oids() -> None:
    """Teach asn1crypto the names ``sm3``, ``sm2_sm3`` and ``sm2p256v1`` (idempotent; done on import)."""
    for cls, oid, name in ((algos.DigestAlgorithmId, SM3_OID, "sm3"),
                           (algos.SignedDigestAlgorithmId, SM2_WITH_SM3_OID, "sm2_sm3")):
        cls._map[oid] = name
        reverse = getattr(cls, "_reverse_map", None)
        if reverse is not None:
            reverse[name] = oid
    if SM2_CURVE_OID not in keys.NamedCurve._map:
        keys.NamedCurve.register("sm2p256v1", SM2_CURVE_OID, _KEY_BYTES)


register_oids()


def sm3(data: bytes) -> bytes:
    """The SM3 digest (32 bytes)."""
    digest: bytes = gm_sm3.SM3(data).digest()
    return digest


@dataclass(frozen=True)
class Sm2PublicKey:
    """An SM2 public key as the uncompressed point ``04 || x || y`` (65 bytes)."""

    point: bytes

    def __post_init__(self) -> None:
        if len(self.point) != 1 + 2 * _KEY_BYTES or self.point[0] != 4 or not gm_sm2.SM2.is_pk_valid(self.point):
            raise KeyStoreError("SM2 公钥不是曲线上的有效点", code="SM2_KEY_INVALID")

    def info(self) -> keys.PublicKeyInfo:
        """SubjectPublicKeyInfo: ``id-ecPublicKey`` with the named curve ``sm2p256v1`` (GB/T 35275)."""
        return keys.PublicKeyInfo({
            "algorithm": keys.PublicKeyAlgorithm({
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="named", value="sm2p256v1"),
            }),
            "public_key": self.point,
        })

    @classmethod
    def from_info(cls, info: keys.PublicKeyInfo) -> Sm2PublicKey:
        """The key of a certificate or SES_Seal; refuses a key that is not on the SM2 curve."""
        algorithm = info["algorithm"]
        if algorithm["algorithm"].native != "ec" or algorithm["parameters"].chosen.native != "sm2p256v1":
            raise KeyStoreError("公钥不是 SM2 密钥", code="SM2_KEY_INVALID")
        return cls(bytes(info["public_key"].native))

    def verify(self, message: bytes, signature: bytes, *, uid: bytes = DEFAULT_ID) -> bool:
        """Whether ``signature`` (DER) is this key's SM2 signature over SM3(Z || message)."""
        raw = signature_to_raw(signature)
        if raw is None:
            return False
        ok: bool = gm_sm2.SM2(pk=self.point, uid=uid).verify(message, raw)
        return ok


@dataclass(frozen=True)
class Sm2PrivateKey:
    """An SM2 private key (the 32-byte scalar d), with its public point."""

    scalar: bytes = b""

    def __post_init__(self) -> None:
        if len(self.scalar) != _KEY_BYTES or not gm_sm2.SM2.is_sk_valid(self.scalar):
            raise KeyStoreError("SM2 私钥无效", code="SM2_KEY_INVALID")

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        """A fresh key from the operating system's random source."""
        while True:
            d = int.from_bytes(secrets.token_bytes(_KEY_BYTES), "big")
            if 1 <= d < _CURVE_ORDER - 1:
                return cls(d.to_bytes(_KEY_BYTES, "big"))

    @property
    def public_key(self) -> Sm2PublicKey:
        return Sm2PublicKey(gm_sm2.SM2.get_pk(self.scalar))

    def sign(self, message: bytes, *, uid: bytes = DEFAULT_ID) -> bytes:
        """The DER signature (``SEQUENCE {r, s}``) over SM3(Z || message), Z from ``uid`` and the public key."""
        raw: bytes = gm_sm2.SM2(sk=self.scalar, uid=uid).sign(message)
        return raw_to_signature(raw)

    def to_pkcs8(self) -> bytes:
        """PKCS#8 PrivateKeyInfo (unencrypted DER): what ``openssl pkey`` reads; keep it inside a key store."""
        ec_key = keys.ECPrivateKey({
            "version": "ecPrivkeyVer1",
            "private_key": int.from_bytes(self.scalar, "big"),
            "public_key": self.public_key.point,
        })
        der: bytes = keys.PrivateKeyInfo({
            "version": 0,
            "private_key_algorithm": keys.PrivateKeyAlgorithm({
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="named", value="sm2p256v1"),
            }),
            "private_key": ec_key,
        }).dump()
        return der

    @classmethod
    def from_pkcs8(cls, der: bytes) -> Sm2PrivateKey:
        """Read a PKCS#8 SM2 key (ours or OpenSSL's ``genpkey -algorithm SM2``)."""
        try:
            info = keys.PrivateKeyInfo.load(der)
            params = info["private_key_algorithm"]["parameters"]
            if info["private_key_algorithm"]["algorithm"].native != "ec" or params.chosen.native != "sm2p256v1":
                raise KeyStoreError("私钥不是 SM2 密钥", code="SM2_KEY_INVALID")
            scalar = info["private_key"].parsed["private_key"].native
        except (ValueError, TypeError, KeyError) as exc:
            raise KeyStoreError("无法读取 SM2 私钥", code="SM2_KEY_INVALID") from exc
        return cls(int(scalar).to_bytes(_KEY_BYTES, "big"))


def raw_to_signature(raw: bytes) -> bytes:
    """``r || s`` (64 bytes, gmalglib's form) to DER ``SEQUENCE {r INTEGER, s INTEGER}``."""
    half = len(raw) // 2
    der: bytes = algos.DSASignature({"r": int.from_bytes(raw[:half], "big"),
                                     "s": int.from_bytes(raw[half:], "big")}).dump()
    return der


def signature_to_raw(signature: bytes) -> bytes | None:
    """DER to ``r || s``; None for anything that is not exactly one well-formed, in-range signature."""
    try:
        parsed = algos.DSASignature.load(signature, strict=True)
        r: int = parsed["r"].native
        s: int = parsed["s"].native
    except (ValueError, TypeError):
        return None
    if parsed.dump(force=True) != signature:
        return None  # not DER (BER lengths, padding): one signature, one encoding
    if not (0 < r < _CURVE_ORDER and 0 < s < _CURVE_ORDER):
        return None
    return r.to_bytes(_KEY_BYTES, "big") + s.to_bytes(_KEY_BYTES, "big")


def is_sm2_key(info: keys.PublicKeyInfo) -> bool:
    """Whether a SubjectPublicKeyInfo holds an SM2 key."""
    algorithm = info["algorithm"]
    params = algorithm["parameters"]
    return bool(algorithm["algorithm"].native == "ec" and isinstance(params, keys.ECDomainParameters)
                and params.name == "named" and params.chosen.native == "sm2p256v1")


__all__ = ["DEFAULT_ID", "SM2_CURVE_OID", "SM2_WITH_SM3_OID", "SM3_OID", "Sm2PrivateKey", "Sm2PublicKey",
           "is_sm2_key", "raw_to_signature", "register_oids", "signature_to_raw", "sm3"]
