"""Where office private keys live, behind one interface: encrypted PKCS#12 files, encrypted SM2 key files
(``cryptography`` cannot hold an SM2 key, so PKCS#12 cannot either) or a PKCS#11 token.

Private keys never leave a store in the clear: PKCS#12 and SM2 key files are written encrypted (AES-256, PBKDF2)
from the moment the key exists; PKCS#11 keys are generated on the token as sensitive and non-extractable. Errors name
the store and the key, never a PIN or passphrase.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import pem as asn1_pem
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from .errors import KeyStoreError
from .pki import KeyAlgorithm, generate_private_key, to_asn1
from .sm2 import Sm2PrivateKey, Sm2PublicKey
from .sm2_keyfile import decrypt_sm2_key, encrypt_sm2_key, to_pem


class KeyStore(Protocol):
    """One place office keys live. ``key_id`` is the office's registry id."""

    kind: str

    def generate(self, key_id: str, algorithm: KeyAlgorithm) -> CertificatePublicKeyTypes | Sm2PublicKey: ...

    def install_certificate(self, key_id: str, certificate: x509.Certificate,
                            chain: list[x509.Certificate]) -> None: ...

    def certificate(self, key_id: str) -> x509.Certificate: ...

    def sign(self, key_id: str, data: bytes) -> bytes:
        """A SHA-256 signature (DER ECDSA or PKCS#1 v1.5 RSA) made inside the store; an SM2 store's: SM2 over
        SM3 (DER, ID 1234567812345678)."""
        ...

    def has_key(self, key_id: str) -> bool: ...

    def promote(self, staged_id: str, key_id: str, *, archive_id: str | None) -> None:
        """Make the staged key ``key_id``; the key that was ``key_id`` is kept as ``archive_id`` (never lost)."""
        ...

    def discard(self, key_id: str) -> None:
        """Remove a staged key that no ledger names (left by an interrupted issue or renewal)."""
        ...


def _write_private(path: Path, content: bytes, *, replace: bool = True) -> None:
    """Encrypted key material: 0600 temp file, fsync, then rename (``replace``) or link (never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise KeyStoreError(f"密钥文件 {path.name} 已存在，拒绝覆盖", code="KEY_EXISTS") from None
            os.unlink(tmp)
        _sync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _promote_file(staged: Path, current: Path, archive: Path | None) -> None:
    """The staged key file becomes the current one; the current one is kept as ``archive`` (never lost)."""
    if current.exists() and archive is not None:
        archive.parent.mkdir(parents=True, exist_ok=True)
        if not archive.exists():
            os.link(current, archive)  # the old key stays on disk under its archive name
            _sync_dir(archive.parent)
    os.replace(staged, current)  # atomic: readers see the old key or the new one
    _sync_dir(current.parent)


def _sign_with(key: PrivateKeyTypes, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise KeyStoreError("不支持的密钥类型")


@dataclass
class Pkcs12KeyStore:
    """Encrypted PKCS#12 files, one per office: ``<directory>/<key_id>.p12``."""

    directory: Path
    passphrase: bytes = field(repr=False)
    kind: str = "p12"

    def path(self, key_id: str) -> Path:
        return self.directory / f"{key_id}.p12"

    def _encryption(self) -> serialization.KeySerializationEncryption:
        return (serialization.PrivateFormat.PKCS12.encryption_builder()
                .kdf_rounds(50_000)
                .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
                .hmac_hash(hashes.SHA256())
                .build(self.passphrase))

    def _load(self, key_id: str) -> pkcs12.PKCS12KeyAndCertificates:
        path = self.path(key_id)
        try:
            return pkcs12.load_pkcs12(path.read_bytes(), self.passphrase)
        except FileNotFoundError:
            raise KeyStoreError(f"密钥库中没有 {key_id} 的密钥", code="KEY_NOT_FOUND") from None
        except ValueError:
            raise KeyStoreError(f"无法打开 {key_id} 的 PKCS#12 文件：口令错误或文件损坏",
                                code="KEYSTORE_LOCKED") from None

    def has_key(self, key_id: str) -> bool:
        return self.path(key_id).exists()

    def generate(self, key_id: str, algorithm: KeyAlgorithm) -> CertificatePublicKeyTypes:
        """A new key in a new file; an existing file is never overwritten (``KEY_EXISTS``)."""
        if self.path(key_id).exists():
            raise KeyStoreError(f"密钥库中已有 {key_id} 的密钥，拒绝覆盖", code="KEY_EXISTS")
        key = generate_private_key(algorithm)
        # Encrypted from the first write: a key-only PKCS#12 until the certificate arrives.
        _write_private(self.path(key_id), pkcs12.serialize_key_and_certificates(
            key_id.encode(), key, None, None, self._encryption()), replace=False)
        return key.public_key()

    def promote(self, staged_id: str, key_id: str, *, archive_id: str | None) -> None:
        _promote_file(self.path(staged_id), self.path(key_id),
                      self.path(archive_id) if archive_id is not None else None)

    def discard(self, key_id: str) -> None:
        self.path(key_id).unlink(missing_ok=True)

    def install_certificate(self, key_id: str, certificate: x509.Certificate,
                            chain: list[x509.Certificate]) -> None:
        bundle = self._load(key_id)
        if bundle.key is None or bundle.key.public_key() != certificate.public_key():
            raise KeyStoreError(f"{key_id} 的证书与密钥不匹配", code="KEY_MISMATCH")
        _write_private(self.path(key_id), pkcs12.serialize_key_and_certificates(
            key_id.encode(), bundle.key, certificate, chain, self._encryption()))  # type: ignore[arg-type]

    def certificate(self, key_id: str) -> x509.Certificate:
        bundle = self._load(key_id)
        if bundle.cert is None:
            raise KeyStoreError(f"{key_id} 的密钥尚无证书", code="CERT_NOT_INSTALLED")
        return bundle.cert.certificate

    def private_key(self, key_id: str) -> PrivateKeyTypes:
        """For the signer in this process only; callers cache it rather than reloading (~90 ms for RSA)."""
        key = self._load(key_id).key
        if key is None:
            raise KeyStoreError(f"{key_id} 的 PKCS#12 文件中没有私钥", code="KEY_NOT_FOUND")
        return key

    def sign(self, key_id: str, data: bytes) -> bytes:
        return _sign_with(self.private_key(key_id), data)


@dataclass
class Sm2FileKeyStore:
    """SM2 keys, one file per office: ``<directory>/<key_id>.sm2.pem`` holds the encrypted PKCS#8 key (PBES2:
    PBKDF2-HMAC-SHA256, AES-256-CBC; what ``openssl pkey`` reads with the passphrase) and, once issued, the
    certificate after it. One file, like a PKCS#12 one, so a key and its certificate are replaced together."""

    directory: Path
    passphrase: bytes = field(repr=False)
    kind: str = "sm2"
    _keys: dict[str, tuple[bytes, Sm2PrivateKey]] = field(default_factory=dict, repr=False)

    def path(self, key_id: str) -> Path:
        return self.directory / f"{key_id}.sm2.pem"

    def _read(self, key_id: str) -> bytes:
        try:
            return self.path(key_id).read_bytes()
        except FileNotFoundError:
            raise KeyStoreError(f"密钥库中没有 {key_id} 的密钥", code="KEY_NOT_FOUND") from None

    def _blocks(self, data: bytes) -> list[tuple[str, bytes]]:
        try:
            return [(kind, der) for kind, _headers, der in asn1_pem.unarmor(data, multiple=True)]
        except ValueError:
            raise KeyStoreError("SM2 密钥文件已损坏", code="KEYSTORE_LOCKED") from None

    def has_key(self, key_id: str) -> bool:
        return self.path(key_id).exists()

    def generate(self, key_id: str, algorithm: KeyAlgorithm) -> Sm2PublicKey:
        """A new SM2 key in a new file, encrypted from its first write; never overwrites (``KEY_EXISTS``)."""
        if algorithm is not KeyAlgorithm.SM2_SM3:
            raise KeyStoreError("SM2 密钥库只保存 SM2 密钥", code="BAD_ALGORITHM")
        if self.path(key_id).exists():
            raise KeyStoreError(f"密钥库中已有 {key_id} 的密钥，拒绝覆盖", code="KEY_EXISTS")
        key = Sm2PrivateKey.generate()
        _write_private(self.path(key_id), to_pem(encrypt_sm2_key(key, self.passphrase)), replace=False)
        return key.public_key

    def promote(self, staged_id: str, key_id: str, *, archive_id: str | None) -> None:
        _promote_file(self.path(staged_id), self.path(key_id),
                      self.path(archive_id) if archive_id is not None else None)

    def discard(self, key_id: str) -> None:
        self.path(key_id).unlink(missing_ok=True)
        self._keys.pop(key_id, None)

    def install_certificate(self, key_id: str, certificate: x509.Certificate,
                            chain: list[x509.Certificate]) -> None:
        """The certificate after the key, in the same file (the chain is the installation's root: not kept)."""
        data = self._read(key_id)
        key_pem = next((der for kind, der in self._blocks(data) if kind == "ENCRYPTED PRIVATE KEY"), None)
        if key_pem is None:
            raise KeyStoreError(f"{key_id} 的 SM2 密钥文件中没有私钥", code="KEY_NOT_FOUND")
        if Sm2PublicKey.from_info(to_asn1(certificate).public_key) != self.private_key(key_id).public_key:
            raise KeyStoreError(f"{key_id} 的证书与密钥不匹配", code="KEY_MISMATCH")
        cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
        _write_private(self.path(key_id), to_pem(key_pem) + cert_pem)

    def certificate(self, key_id: str) -> x509.Certificate:
        cert = next((der for kind, der in self._blocks(self._read(key_id)) if kind == "CERTIFICATE"), None)
        if cert is None:
            raise KeyStoreError(f"{key_id} 的密钥尚无证书", code="CERT_NOT_INSTALLED")
        return x509.load_der_x509_certificate(cert)

    def private_key(self, key_id: str) -> Sm2PrivateKey:
        """Decrypted once per file content (PBKDF2 costs ~0.1 s): a promoted or re-issued key is read anew."""
        data = self._read(key_id)
        cached = self._keys.get(key_id)
        if cached is not None and cached[0] == data:
            return cached[1]
        try:
            key = decrypt_sm2_key(data, self.passphrase)
        except KeyStoreError as exc:
            raise KeyStoreError(f"无法打开 {key_id} 的 SM2 密钥文件：口令错误或文件损坏",
                                code="KEYSTORE_LOCKED") from exc
        self._keys[key_id] = (data, key)
        return key

    def sign(self, key_id: str, data: bytes) -> bytes:
        return self.private_key(key_id).sign(data)


def _key_object_classes() -> tuple[Any, ...]:
    from pkcs11 import ObjectClass

    return (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE)


class _KeyObjects:
    """``obj.object_class in _KEY_OBJECTS`` without importing python-pkcs11 at module import."""

    def __contains__(self, item: object) -> bool:
        return item in _key_object_classes()


_KEY_OBJECTS = _KeyObjects()

#: which SoftHSM2 config each loaded PKCS#11 module was initialised with (mirrors the C library's own
#: process-wide state; lets one process use token directories of several data dirs, as the tests do)
_LOADED_CONF: dict[str, str] = {}


@dataclass
class Pkcs11KeyStore:
    """Keys generated on a PKCS#11 token (SoftHSM2 here, an HSM or USB key in production), labelled by
    office id, sensitive and non-extractable; the certificate is stored on the token beside its key."""

    module_path: str
    token_label: str
    pin: str = field(repr=False)
    #: SoftHSM2's config (its token directory); None for real tokens
    softhsm_conf: Path | None = None
    kind: str = "pkcs11"

    def _lib(self) -> Any:
        import pkcs11

        if self.softhsm_conf is None:
            return pkcs11.lib(self.module_path)
        # The module is process-global and reads SOFTHSM2_CONF (and its token list) only when initialised.
        wanted = str(self.softhsm_conf)
        os.environ["SOFTHSM2_CONF"] = wanted
        lib = pkcs11.lib(self.module_path)
        loaded = _LOADED_CONF.get(self.module_path)
        if loaded != wanted:
            if loaded is not None:
                lib.reinitialize()
            _LOADED_CONF[self.module_path] = wanted
        return lib

    def _open(self, token: Any, *, rw: bool) -> Any:
        """Log in, unless this process already is (login is per process and token in PKCS#11: a long-lived
        signer session elsewhere in the process makes a second login fail with UserAlreadyLoggedIn)."""
        import pkcs11

        try:
            return token.open(rw=rw, user_pin=self.pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            return token.open(rw=rw)

    @contextmanager
    def session(self, *, rw: bool = False) -> Iterator[Any]:
        import pkcs11

        try:
            token = self._lib().get_token(token_label=self.token_label)
            with self._open(token, rw=rw) as session:
                yield session
        except pkcs11.exceptions.PKCS11Error as exc:
            raise self._token_error(exc) from None
        except (OSError, RuntimeError) as exc:
            raise KeyStoreError(f"无法加载 PKCS#11 模块 {self.module_path}：{type(exc).__name__}",
                                code="TOKEN_UNAVAILABLE") from None

    def open_session(self) -> Any:
        """A long-lived session for a process-wide signer (pyHanko's PKCS11Signer); errors carry no PIN."""
        import pkcs11

        try:
            return self._open(self._lib().get_token(token_label=self.token_label), rw=False)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise self._token_error(exc) from None
        except (OSError, RuntimeError) as exc:
            raise KeyStoreError(f"无法加载 PKCS#11 模块 {self.module_path}：{type(exc).__name__}",
                                code="TOKEN_UNAVAILABLE") from None

    def _token_error(self, exc: Exception) -> KeyStoreError:
        """Wrong PIN, locked token and the rest each get their own code; the PIN never appears."""
        import pkcs11

        label = self.token_label
        if isinstance(exc, pkcs11.exceptions.PinIncorrect | pkcs11.exceptions.PinInvalid
                      | pkcs11.exceptions.PinLenRange):
            return KeyStoreError(f"PKCS#11 令牌「{label}」的 PIN 码错误", code="PIN_WRONG")
        if isinstance(exc, pkcs11.exceptions.PinLocked):
            return KeyStoreError(f"PKCS#11 令牌「{label}」已锁定（PIN 码错误次数过多），请联系令牌管理员解锁",
                                 code="TOKEN_LOCKED")
        if isinstance(exc, pkcs11.exceptions.NoSuchToken):
            return KeyStoreError(f"找不到 PKCS#11 令牌「{label}」", code="TOKEN_NOT_FOUND")
        return KeyStoreError(f"无法使用 PKCS#11 令牌「{label}」：{type(exc).__name__}", code="TOKEN_UNAVAILABLE")

    def has_key(self, key_id: str) -> bool:
        from pkcs11 import Attribute, ObjectClass

        with self.session() as s:
            return any(True for _ in s.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: key_id}))

    def generate(self, key_id: str, algorithm: KeyAlgorithm) -> CertificatePublicKeyTypes:
        from pkcs11 import Attribute, KeyType
        from pkcs11.util.ec import encode_named_curve_parameters

        private_template = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.TOKEN: True,
                            Attribute.SIGN: True, Attribute.LABEL: key_id, Attribute.ID: key_id.encode()}
        public_template = {Attribute.TOKEN: True, Attribute.VERIFY: True, Attribute.LABEL: key_id,
                           Attribute.ID: key_id.encode()}
        if algorithm is KeyAlgorithm.SM2_SM3:
            raise KeyStoreError(f"PKCS#11 令牌「{self.token_label}」不能生成 SM2 密钥（SoftHSM2 不支持 SM2）",
                                code="SM2_NOT_ON_TOKEN")
        with self.session(rw=True) as s:
            if any(o.object_class in _KEY_OBJECTS for o in s.get_objects({Attribute.LABEL: key_id})):
                raise KeyStoreError(f"令牌上已有 {key_id} 的密钥，拒绝覆盖", code="KEY_EXISTS")
            if algorithm is KeyAlgorithm.RSA_2048:
                public, _private = s.generate_keypair(KeyType.RSA, 2048, store=True, public_template=public_template,
                                                      private_template=private_template)
                n = int.from_bytes(public[Attribute.MODULUS], "big")
                e = int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big")
                return rsa.RSAPublicNumbers(e, n).public_key()
            params = s.create_domain_parameters(KeyType.EC, {
                Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
            public, _private = params.generate_keypair(store=True, public_template=public_template,
                                                       private_template=private_template)
            from asn1crypto.core import OctetString

            point = OctetString.load(public[Attribute.EC_POINT]).native
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)

    def promote(self, staged_id: str, key_id: str, *, archive_id: str | None) -> None:
        """Relabel: the current objects become ``archive_id`` (kept on the token), the staged ones ``key_id``."""
        from pkcs11 import Attribute

        with self.session(rw=True) as s:
            if any(True for _ in s.get_objects({Attribute.LABEL: staged_id})):
                for old in list(s.get_objects({Attribute.LABEL: key_id})):
                    if archive_id is None:
                        raise KeyStoreError(f"令牌上已有 {key_id} 的密钥，拒绝覆盖", code="KEY_EXISTS")
                    old[Attribute.LABEL] = archive_id
                    old[Attribute.ID] = archive_id.encode()
                for new in list(s.get_objects({Attribute.LABEL: staged_id})):
                    new[Attribute.LABEL] = key_id
                    new[Attribute.ID] = key_id.encode()

    def discard(self, key_id: str) -> None:
        from pkcs11 import Attribute

        with self.session(rw=True) as s:
            for obj in list(s.get_objects({Attribute.LABEL: key_id})):
                if obj.object_class in _KEY_OBJECTS:
                    obj.destroy()

    def install_certificate(self, key_id: str, certificate: x509.Certificate,
                            chain: list[x509.Certificate]) -> None:
        from pkcs11 import Attribute, CertificateType, ObjectClass

        with self.session(rw=True) as s:
            for old in list(s.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: key_id})):
                old.destroy()
            s.create_object({
                Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True, Attribute.LABEL: key_id, Attribute.ID: key_id.encode(),
                Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
                Attribute.SUBJECT: certificate.subject.public_bytes(),
            })

    def certificate(self, key_id: str) -> x509.Certificate:
        from pkcs11 import Attribute, ObjectClass

        with self.session() as s:
            for obj in s.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: key_id}):
                return x509.load_der_x509_certificate(obj[Attribute.VALUE])
        raise KeyStoreError(f"令牌上没有 {key_id} 的证书", code="CERT_NOT_INSTALLED")

    def sign(self, key_id: str, data: bytes) -> bytes:
        from pkcs11 import KeyType, Mechanism, ObjectClass

        with self.session() as s:
            key = s.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_id)
            if key.key_type == KeyType.EC:
                # SoftHSM2 and many tokens offer only raw CKM_ECDSA: hash here, sign the digest there.
                digest = hashes.Hash(hashes.SHA256())
                digest.update(data)
                raw = key.sign(digest.finalize(), mechanism=Mechanism.ECDSA)
                half = len(raw) // 2
                return utils.encode_dss_signature(int.from_bytes(raw[:half], "big"),
                                                  int.from_bytes(raw[half:], "big"))
            return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))


def init_softhsm_token(*, token_dir: Path, label: str, pin: str, so_pin: str,
                       module_path: str = "/usr/lib/softhsm/libsofthsm2.so") -> Path:
    """Create a SoftHSM2 token in ``token_dir`` (idempotent); returns the config file to point
    ``SOFTHSM2_CONF`` at. For tests and the demo; production tokens are initialised by their owners.

    softhsm2-util takes PINs only as arguments, which any local user can read from the process list: the
    token is created with throwaway PINs, which are then replaced through PKCS#11 (C_InitPIN, C_SetPIN)."""
    import secrets
    import subprocess

    token_dir.mkdir(parents=True, exist_ok=True)
    conf = token_dir / "softhsm2.conf"
    tokens = token_dir / "tokens"
    tokens.mkdir(exist_ok=True)
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    listing = subprocess.run(["softhsm2-util", "--show-slots"], env=env, capture_output=True, text=True)
    if f"Label:            {label}" not in listing.stdout and f"Label: {label}" not in listing.stdout:
        throwaway_pin, throwaway_so = secrets.token_hex(8), secrets.token_hex(8)
        done = subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", throwaway_pin,
                               "--so-pin", throwaway_so], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise KeyStoreError(f"无法创建 SoftHSM2 令牌「{label}」", code="TOKEN_INIT_FAILED")
        for module in _LOADED_CONF:  # a new token appears to loaded modules only after re-initialising
            _LOADED_CONF[module] = ""
        store = Pkcs11KeyStore(module_path, label, throwaway_pin, softhsm_conf=conf)
        token = store._lib().get_token(token_label=label)
        with token.open(rw=True, so_pin=throwaway_so) as session:
            session.init_pin(pin)
            session.set_pin(throwaway_so, so_pin)
    return conf
