"""SM2 through the providers, checked by Debian's ``openssl`` (an implementation MinSeal does not use to sign):
the remote protocol's SM2 path against the reference service (a real process holding an SM2 key and certificate
that openssl made), and the official seal's key file and certificate (the files a 制作管理单位 hands over)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from signer.errors import KeyStoreError
from signer.provider_specs import OfficialSpec, RemoteSpec
from signer.providers import CallbackSigner, OfficialSealProvider
from signer.remote import RemoteSealClient, RemoteSealProvider, check_signature, digest_to_sign
from signer.sm2_keyfile import to_pem
from tests.support.remote_seal_service import start_service

DISTID = ["-pkeyopt", "distid:1234567812345678"]
MESSAGE = "东沟南村村民委员会 signed attributes".encode() * 7


def _openssl(*args: str) -> bytes:
    done = subprocess.run(["openssl", *args], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def _sm2_seal(directory: Path) -> None:
    """An SM2 key and a self-signed SM2/SM3 certificate, made by openssl."""
    _openssl("genpkey", "-algorithm", "SM2", "-out", str(directory / "sm2.pem"))
    _openssl("req", "-new", "-x509", "-key", str(directory / "sm2.pem"), "-sm3", "-sigopt",
             "distid:1234567812345678", "-subj", "/C=CN/O=东沟南村村民委员会/CN=东沟南村村民委员会", "-days", "30",
             "-utf8", "-out", str(directory / "sm2.crt"))
    _openssl("pkey", "-in", str(directory / "sm2.pem"), "-pubout", "-out", str(directory / "pub.pem"))


def _openssl_verifies(directory: Path, message: bytes, signature: bytes) -> bool:
    (directory / "msg").write_bytes(message)
    (directory / "sig").write_bytes(signature)
    done = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(directory / "pub.pem"),
                           "-rawin", "-digest", "sm3", *DISTID, "-in", str(directory / "msg"),
                           "-sigfile", str(directory / "sig")], capture_output=True, check=False)
    return done.returncode == 0 and b"Verified Successfully" in done.stdout


def test_the_remote_protocol_signs_sm2_as_openssl_verifies(tmp_path: Path) -> None:
    _sm2_seal(tmp_path)
    (tmp_path / "cred.txt").write_text("sm2-credential-1\n", encoding="utf-8")
    process, port = start_service(tmp_path, tmp_path / "sm2.pem", tmp_path / "sm2.crt", tmp_path / "cred.txt", "SM2-1")
    try:
        spec = RemoteSpec(url=f"http://127.0.0.1:{port}", seal_id="SM2-1", credential_file=tmp_path / "cred.txt")
        client = RemoteSealClient(spec)
        cert = client.certificates()[0]
        algorithm, e = digest_to_sign(MESSAGE, cert, "sha256")
        assert algorithm == "sm3"  # an SM2 key signs SM3(Z || message), whatever the document digest
        reply = client.sign_digest(e, algorithm)
        assert check_signature(MESSAGE, reply.signature, cert, "sha256")
        assert _openssl_verifies(tmp_path, MESSAGE, reply.signature)
        assert not _openssl_verifies(tmp_path, MESSAGE + b"x", reply.signature)
        # the PDF signer names SM2 with SM3, and its raw signature is the service's
        signer = RemoteSealProvider(spec).pdf_signer()
        assert signer.get_signature_mechanism_for_digest("sha256")["algorithm"].native == "sm2_sm3"
        raw = asyncio.run(signer.async_sign_raw(MESSAGE, "sha256"))
        assert _openssl_verifies(tmp_path, MESSAGE, raw)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_an_official_seal_signs_with_its_key_file(tmp_path: Path) -> None:
    _sm2_seal(tmp_path)
    (tmp_path / "pass.txt").write_text("县印章口令-2025\n", encoding="utf-8")
    _openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-in", str(tmp_path / "sm2.pem"),
             "-out", str(tmp_path / "seal.p8"), "-passout", f"file:{tmp_path / 'pass.txt'}")
    (tmp_path / "seal.ses").write_bytes(b"\x30\x03\x02\x01\x04")  # not an SES_Seal: its picture cannot be read
    spec = OfficialSpec(ses_seal=tmp_path / "seal.ses", key_file=tmp_path / "seal.p8",
                        passphrase_file=tmp_path / "pass.txt", certificate=tmp_path / "sm2.crt")
    provider = OfficialSealProvider(spec)
    assert provider.ses_seal() == b"\x30\x03\x02\x01\x04"
    # the picture comes from the SES_Seal (tests/services/test_official_seal.py)
    with pytest.raises(KeyStoreError) as caught:
        provider.seal_picture()
    assert caught.value.code == "SES_SEAL_MALFORMED"
    signer = provider.pdf_signer()
    assert isinstance(signer, CallbackSigner)
    assert _openssl_verifies(tmp_path, MESSAGE, asyncio.run(signer.async_sign_raw(MESSAGE, "sha256")))

    # a key that is not the certificate's is refused before it signs anything
    _openssl("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "other.pem"))
    _openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-in", str(tmp_path / "other.pem"),
             "-out", str(tmp_path / "other.p8"), "-passout", f"file:{tmp_path / 'pass.txt'}")
    with pytest.raises(KeyStoreError) as caught:
        OfficialSealProvider(OfficialSpec(ses_seal=spec.ses_seal, key_file=tmp_path / "other.p8",
                                          passphrase_file=spec.passphrase_file, certificate=spec.certificate)
                             ).private_key()
    assert caught.value.code == "OFFICIAL_KEY_MISMATCH"
    assert to_pem(b"x").startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
