"""The official seal's key file: encrypted PKCS#8 (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) as vendors export it,
checked against Debian's ``openssl`` both ways (an implementation MinSeal does not use to make or read it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from signer.errors import KeyStoreError
from signer.sm2 import Sm2PrivateKey
from signer.sm2_keyfile import decrypt_sm2_key, encrypt_sm2_key, load_sm2_key_file, read_passphrase, to_pem

PASSPHRASE = "县民政局-印章口令-2025"


def _openssl(*args: str) -> bytes:
    done = subprocess.run(["openssl", *args], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def _passfile(tmp_path: Path) -> Path:
    file = tmp_path / "pass.txt"
    file.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return file


def test_we_read_the_file_openssl_writes(tmp_path: Path) -> None:
    _openssl("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "k.pem"))
    _openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-in", str(tmp_path / "k.pem"),
             "-out", str(tmp_path / "k.p8"), "-passout", f"file:{_passfile(tmp_path)}")
    plain = _openssl("pkcs8", "-topk8", "-nocrypt", "-in", str(tmp_path / "k.pem"), "-outform", "DER")
    ours = load_sm2_key_file(tmp_path / "k.p8", read_passphrase(_passfile(tmp_path)))
    assert ours == Sm2PrivateKey.from_pkcs8(plain)
    # and the DER form of the same file
    der = _openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-in", str(tmp_path / "k.pem"),
                   "-outform", "DER", "-passout", f"file:{_passfile(tmp_path)}")
    assert decrypt_sm2_key(der, PASSPHRASE.encode()) == ours


def test_openssl_reads_the_file_we_write(tmp_path: Path) -> None:
    key = Sm2PrivateKey.generate()
    (tmp_path / "ours.p8").write_bytes(to_pem(encrypt_sm2_key(key, PASSPHRASE.encode(), iterations=2048)))
    text = _openssl("pkcs8", "-in", str(tmp_path / "ours.p8"), "-passin", f"file:{_passfile(tmp_path)}",
                    "-topk8", "-nocrypt", "-outform", "DER")
    assert Sm2PrivateKey.from_pkcs8(text) == key
    shown = _openssl("asn1parse", "-in", str(tmp_path / "ours.p8")).decode()
    for name in ("PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"):
        assert name in shown


def test_a_wrong_passphrase_is_refused_without_naming_it(tmp_path: Path) -> None:
    data = encrypt_sm2_key(Sm2PrivateKey.generate(), PASSPHRASE.encode(), iterations=2048)
    wrong = "猜的口令-abc123"
    with pytest.raises(KeyStoreError) as caught:
        decrypt_sm2_key(data, wrong.encode())
    error = caught.value
    assert error.code == "KEYFILE_PASSPHRASE" and "口令错误" in error.message
    shown = f"{error!s} {error!r} {error.to_dict()} {error.__cause__!r} {error.__context__!r}"
    assert wrong not in shown and PASSPHRASE not in shown


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError) as caught:
        decrypt_sm2_key(b"not a key", b"x")
    assert caught.value.code == "KEYFILE_INVALID"
    with pytest.raises(KeyStoreError) as missing:
        load_sm2_key_file(tmp_path / "nowhere.p8", b"x")
    assert missing.value.code == "KEYFILE_MISSING"
