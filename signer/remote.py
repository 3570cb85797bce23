"""A remote signing service (a provincial seal platform) as a seal provider. The protocol (docs/seal-providers.md):

- ``GET  {url}/v1/seals/{seal_id}``: the seal's certificates (``{"seal_id", "certificates": [base64 DER, …]}``,
  signing certificate first);
- ``POST {url}/v1/seals/{seal_id}/sign`` with ``{"digest_algorithm": "sha256" | "sm3", "digest": base64,
  "request_id"}``: the signature (``{"signature": base64 DER, "certificates": […]}``).

Both carry ``Authorization: Bearer <credential>``. The digest is what the key signs: SHA-256 of the CMS signed
attributes for ECDSA; for SM2 the ``e`` of GB/T 32918.2 — SM3(Z || attributes), Z over the certificate's key and
the ID ``1234567812345678`` — so the service signs it as given. Every signature returned is checked against the
certificate before it goes into a file. Errors are typed (``REMOTE_SEAL_*``) and never carry the credential."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlsplit

from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from .errors import ErrorCategory, KeyStoreError, SealingError
from .provider_specs import ProviderKind, RemoteSpec
from .providers import CallbackSigner
from .signers import KeySigner
from .sm2 import DEFAULT_ID, Sm2PublicKey, is_sm2_key, sm3

#: the longest reply read (a certificate chain is a few kB)
_MAX_REPLY: Final = 256 * 1024
_DIGESTS: Final = {"sha256": hashlib.sha256}

# GB/T 32918.5: the SM2 curve parameters Z is computed over
_SM2_A: Final = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
_SM2_B: Final = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
_SM2_GX: Final = bytes.fromhex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
_SM2_GY: Final = bytes.fromhex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")


def sm2_z(public: Sm2PublicKey, uid: bytes = DEFAULT_ID) -> bytes:
    """Z_A of GB/T 32918.2 §5.5: SM3 over the ID's bit length, the ID, the curve and the public key."""
    return sm3(len(uid * 8).to_bytes(2, "big") + uid + _SM2_A + _SM2_B + _SM2_GX + _SM2_GY + public.point[1:])


def digest_to_sign(data: bytes, cert: asn1_x509.Certificate, digest_algorithm: str) -> tuple[str, bytes]:
    """(the protocol's digest algorithm, the digest the service signs) for ``data`` under ``cert``'s key."""
    if is_sm2_key(cert.public_key):
        return "sm3", sm3(sm2_z(Sm2PublicKey.from_info(cert.public_key)) + data)
    if digest_algorithm not in _DIGESTS:
        raise SealingError(f"远程签章服务不支持摘要算法 {digest_algorithm}", code="REMOTE_SEAL_UNSUPPORTED")
    return digest_algorithm, _DIGESTS[digest_algorithm](data).digest()


def check_signature(data: bytes, signature: bytes, cert: asn1_x509.Certificate, digest_algorithm: str) -> bool:
    """Whether ``signature`` is ``cert``'s key's over ``data``: a service's answer is never taken on trust."""
    if is_sm2_key(cert.public_key):
        return Sm2PublicKey.from_info(cert.public_key).verify(data, signature)
    key = serialization.load_der_public_key(cert.public_key.dump())
    digest = _DIGESTS[digest_algorithm](data).digest()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _unavailable(message: str) -> SealingError:
    return SealingError(message, code="REMOTE_SEAL_UNAVAILABLE", category=ErrorCategory.UNAVAILABLE)


def _refused(message: str) -> SealingError:
    return SealingError(message, code="REMOTE_SEAL_REFUSED", category=ErrorCategory.REFUSED)


def _bad_reply(message: str) -> SealingError:
    return SealingError(message, code="REMOTE_SEAL_BAD_RESPONSE", category=ErrorCategory.UNAVAILABLE)


@dataclass(frozen=True)
class RemoteSignature:
    signature: bytes
    certificates: tuple[asn1_x509.Certificate, ...]


class RemoteSealClient:
    """The HTTP side: one office's seal at one service. The credential is read from its file per request (a
    rotated credential needs no restart) and goes into the Authorization header only."""

    def __init__(self, spec: RemoteSpec) -> None:
        parts = urlsplit(spec.url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise KeyStoreError(f"远程签章服务地址须为 https（{spec.url}）", code="REMOTE_SEAL_CONFIG")
        self.spec = spec
        self._base = f"{spec.url.rstrip('/')}/v1/seals/{quote(spec.seal_id, safe='')}"
        self._tls = ssl.create_default_context(cafile=str(spec.tls_ca_file) if spec.tls_ca_file else None)

    def _credential(self) -> str:
        try:
            lines = self.spec.credential_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            raise KeyStoreError(f"无法读取远程签章服务凭据文件 {self.spec.credential_file}",
                                code="REMOTE_CREDENTIAL_MISSING") from None
        credential = lines[0].strip() if lines else ""
        if not credential:
            raise KeyStoreError(f"远程签章服务凭据文件 {self.spec.credential_file} 为空",
                                code="REMOTE_CREDENTIAL_MISSING")
        if not (credential.isascii() and credential.isprintable()) or " " in credential:
            raise KeyStoreError(f"远程签章服务凭据文件 {self.spec.credential_file} 的内容须为不含空格的可打印ASCII字符",
                                code="REMOTE_CREDENTIAL_INVALID")
        return credential

    def _call(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self._base + path, data=data, method="POST" if body is not None else "GET",
            headers={"Authorization": f"Bearer {self._credential()}", "Accept": "application/json",
                     **({"Content-Type": "application/json"} if body is not None else {})})
        where = f"远程签章服务（{urlsplit(self.spec.url).netloc}，印章 {self.spec.seal_id}）"
        try:
            context = self._tls if request.type == "https" else None
            with urllib.request.urlopen(request, timeout=self.spec.timeout_s, context=context) as reply:
                raw = reply.read(_MAX_REPLY + 1)
        except urllib.error.HTTPError as exc:
            code = _service_code(exc)
            if exc.code in (400, 401, 403, 404, 409, 422):
                raise _refused(f"{where}拒绝签名（HTTP {exc.code}{'，' + code if code else ''}）") from None
            raise _unavailable(f"{where}暂不可用（HTTP {exc.code}），文件未用印") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLError):
                raise _unavailable(f"{where}的 TLS 连接失败（{type(reason).__name__}），文件未用印") from None
            if isinstance(reason, TimeoutError):
                raise _unavailable(f"{where}在 {self.spec.timeout_s:g} 秒内无应答，文件未用印") from None
            raise _unavailable(f"{where}无法连接（{type(reason).__name__}），文件未用印") from None
        except TimeoutError:
            raise _unavailable(f"{where}在 {self.spec.timeout_s:g} 秒内无应答，文件未用印") from None
        except OSError as exc:
            raise _unavailable(f"{where}连接中断（{type(exc).__name__}），文件未用印") from None
        if len(raw) > _MAX_REPLY:
            raise _bad_reply(f"{where}的应答过长")
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise _bad_reply(f"{where}的应答不是 JSON") from None
        if not isinstance(parsed, dict):
            raise _bad_reply(f"{where}的应答格式不对")
        return parsed

    def certificates(self) -> tuple[asn1_x509.Certificate, ...]:
        """The seal's certificates, signing certificate first."""
        return _certificates(self._call("", None))

    def sign_digest(self, digest: bytes, digest_algorithm: str) -> RemoteSignature:
        """The service's signature over ``digest`` (see :func:`digest_to_sign`)."""
        reply = self._call("/sign", {"digest_algorithm": digest_algorithm,
                                     "digest": base64.b64encode(digest).decode(), "request_id": str(uuid.uuid4())})
        try:
            signature = base64.b64decode(str(reply.get("signature", "")), validate=True)
        except (binascii.Error, ValueError):
            raise _bad_reply("远程签章服务返回的签名无法解码") from None
        if not signature:
            raise _bad_reply("远程签章服务未返回签名")
        return RemoteSignature(signature, _certificates(reply))


def _certificates(reply: dict[str, Any]) -> tuple[asn1_x509.Certificate, ...]:
    listed = reply.get("certificates")
    if not isinstance(listed, list) or not listed:
        raise _bad_reply("远程签章服务未返回证书")
    try:
        certs = tuple(asn1_x509.Certificate.load(base64.b64decode(str(c), validate=True)) for c in listed)
        for cert in certs:
            _ = cert.native
    except (binascii.Error, ValueError, TypeError):
        raise _bad_reply("远程签章服务返回的证书无法解析") from None
    return certs


def _service_code(exc: urllib.error.HTTPError) -> str | None:
    """The service's own error code (``{"error": {"code": …}}``), if it is a plain identifier."""
    try:
        body = json.loads(exc.read(4096))
        code = body["error"]["code"]
    except (ValueError, KeyError, TypeError, OSError):
        return None
    return code if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= 40 else None


class RemoteSealProvider:
    """A seal whose key stays at the service: the certificates are fetched once (per process), each seal's
    signature is one request."""

    def __init__(self, spec: RemoteSpec) -> None:
        self.client = RemoteSealClient(spec)
        self._chain: tuple[asn1_x509.Certificate, ...] | None = None

    @property
    def kind(self) -> ProviderKind:
        return ProviderKind.REMOTE

    def certificates(self) -> tuple[asn1_x509.Certificate, ...]:
        if self._chain is None:
            self._chain = self.client.certificates()
        return self._chain

    def pdf_signer(self) -> KeySigner:
        chain = self.certificates()
        cert = chain[0]

        def sign(data: bytes, digest_algorithm: str) -> bytes:
            algorithm, digest = digest_to_sign(data, cert, digest_algorithm)
            reply = self.client.sign_digest(digest, algorithm)
            if reply.certificates[0].dump() != cert.dump():
                self._chain = None  # renewed at the service: the next seal fetches the new certificate
                raise _bad_reply("远程签章服务的签名证书已更换，请重新用印")
            if not check_signature(data, reply.signature, cert, digest_algorithm):
                raise _bad_reply("远程签章服务返回的签名与证书不符，文件未用印")
            return reply.signature

        return CallbackSigner(sign=sign, signing_cert=cert, chain=chain[1:])

    def seal_picture(self) -> bytes | None:
        return None


__all__ = ["RemoteSealClient", "RemoteSealProvider", "RemoteSignature", "check_signature", "digest_to_sign",
           "sm2_z"]
