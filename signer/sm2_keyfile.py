"""An office's official-seal SM2 key as vendors hand it over: an encrypted PKCS#8 file (PBES2: PBKDF2 with
HMAC-SHA256 and AES-CBC), what ``openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256`` writes.

``cryptography`` cannot load SM2 keys, so the PBES2 envelope is opened here (asn1crypto for the structure,
cryptography's PBKDF2 and AES for the arithmetic) and the inner PKCS#8 handed to :class:`Sm2PrivateKey`.
No error raised here carries the passphrase."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from asn1crypto import algos, keys, pem
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .errors import KeyStoreError
from .sm2 import Sm2PrivateKey

#: PBKDF2 iterations of a file written here (OpenSSL 3's default is 2048; a key file is opened once per process)
ITERATIONS: Final = 200_000
#: the PEM type of an encrypted PKCS#8 file (RFC 7468 §11); armoured and unarmoured by asn1crypto
_PEM_TYPE: Final = "ENCRYPTED PRIVATE KEY"
_PRFS: Final[dict[str, type[hashes.SHA1 | hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512]]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512}
_CIPHERS: Final = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32}


def _der(data: bytes) -> bytes:
    """DER, from DER or PEM (type ``ENCRYPTED PRIVATE KEY``; another type is left as it is, and refused when
    parsed)."""
    if not pem.detect(data):
        return data
    try:
        type_name, _headers, der = pem.unarmor(data)
    except ValueError:
        raise KeyStoreError("加密私钥文件的 PEM 内容无法解码", code="KEYFILE_INVALID") from None
    return der if type_name == _PEM_TYPE else data


def decrypt_sm2_key(data: bytes, passphrase: bytes) -> Sm2PrivateKey:
    """The SM2 key inside an encrypted PKCS#8 file (DER or PEM). A wrong passphrase and a damaged file look
    alike after decryption (bad padding or no key inside): both say so without naming the passphrase."""
    try:
        info = keys.EncryptedPrivateKeyInfo.load(_der(data))
        algorithm = info["encryption_algorithm"]
        if algorithm["algorithm"].native != "pbes2":
            raise KeyStoreError("加密私钥文件须为 PBES2 加密（PBKDF2 + AES-CBC）", code="KEYFILE_UNSUPPORTED")
        params = algorithm["parameters"]
        kdf, scheme = params["key_derivation_func"], params["encryption_scheme"]
        cipher_name = scheme["algorithm"].native
        if kdf["algorithm"].native != "pbkdf2" or cipher_name not in _CIPHERS:
            raise KeyStoreError("加密私钥文件须为 PBES2 加密（PBKDF2 + AES-CBC）", code="KEYFILE_UNSUPPORTED")
        kdf_params = kdf["parameters"]
        prf = kdf_params["prf"]["algorithm"].native
        if prf not in _PRFS:
            raise KeyStoreError(f"加密私钥文件的 PBKDF2 摘要算法不受支持（{prf}）", code="KEYFILE_UNSUPPORTED")
        salt = kdf_params["salt"].native
        iterations = int(kdf_params["iteration_count"].native)
        iv = scheme["parameters"].native
        ciphertext = info["encrypted_data"].native
    except KeyStoreError:
        raise
    except (ValueError, TypeError, KeyError):
        raise KeyStoreError("无法读取加密私钥文件（不是 PKCS#8 加密私钥）", code="KEYFILE_INVALID") from None
    if not isinstance(salt, bytes) or not 1 <= iterations <= 10_000_000:
        raise KeyStoreError("加密私钥文件的 PBKDF2 参数无效", code="KEYFILE_INVALID")
    key = PBKDF2HMAC(_PRFS[prf](), _CIPHERS[cipher_name], salt, iterations).derive(passphrase)
    try:
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
        return Sm2PrivateKey.from_pkcs8(plain)
    except (ValueError, KeyStoreError):
        raise KeyStoreError("无法解开加密私钥文件：口令错误或文件已损坏", code="KEYFILE_PASSPHRASE") from None


def encrypt_sm2_key(key: Sm2PrivateKey, passphrase: bytes, *, iterations: int = ITERATIONS) -> bytes:
    """``key`` as an encrypted PKCS#8 file (DER): PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC — what OpenSSL writes
    with ``-v2 aes-256-cbc -v2prf hmacWithSHA256`` and reads back."""
    salt, iv = os.urandom(16), os.urandom(16)
    derived = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(key.to_pkcs8()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(derived), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    der: bytes = keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": algos.EncryptionAlgorithm({
            "algorithm": "pbes2",
            "parameters": algos.Pbes2Params({
                "key_derivation_func": algos.KdfAlgorithm({
                    "algorithm": "pbkdf2",
                    "parameters": algos.Pbkdf2Params({
                        "salt": algos.Pbkdf2Salt(name="specified", value=salt), "iteration_count": iterations,
                        "prf": algos.HmacAlgorithm({"algorithm": "sha256", "parameters": None}),
                    }),
                }),
                "encryption_scheme": algos.EncryptionAlgorithm({"algorithm": "aes256_cbc", "parameters": iv}),
            }),
        }),
        "encrypted_data": ciphertext,
    }).dump()
    return der


def to_pem(der: bytes) -> bytes:
    """An encrypted key file's PEM form (type ``ENCRYPTED PRIVATE KEY``, 64-character lines)."""
    armoured: bytes = pem.armor(_PEM_TYPE, der)
    return armoured


def read_passphrase(path: Path) -> bytes:
    """A passphrase file's first line (without its line ending): how the office's passphrase reaches the
    service without the registry or the environment holding it."""
    try:
        raw = path.read_bytes()
    except OSError:
        raise KeyStoreError(f"无法读取口令文件 {path}", code="KEYFILE_PASSPHRASE_FILE") from None
    line = raw.splitlines()[0] if raw.strip() else b""
    if not line:
        raise KeyStoreError(f"口令文件 {path} 为空", code="KEYFILE_PASSPHRASE_FILE")
    return line


def load_sm2_key_file(path: Path, passphrase: bytes) -> Sm2PrivateKey:
    """The SM2 key of an encrypted PKCS#8 file on disk."""
    try:
        data = path.read_bytes()
    except OSError:
        raise KeyStoreError(f"无法读取加密私钥文件 {path}", code="KEYFILE_MISSING") from None
    return decrypt_sm2_key(data, passphrase)


__all__ = ["decrypt_sm2_key", "encrypt_sm2_key", "load_sm2_key_file", "read_passphrase", "to_pem"]
