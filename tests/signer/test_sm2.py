"""SM2/SM3 primitives against published vectors and against Debian's OpenSSL 3, an implementation we do not sign
with."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from signer import sm2

# GB/T 32918.5-2017 Appendix A (= GM/T 0003.5-2012): key, message and signature with ID 1234567812345678
VECTOR_D = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
VECTOR_P = bytes.fromhex("04" "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
                         "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
VECTOR_RS = bytes.fromhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
                          "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")


def test_sm3_matches_the_standard_examples() -> None:
    # GB/T 32905-2016 Appendix A.1 and A.2
    assert sm2.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm2.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_the_published_signature_verifies_and_a_changed_one_does_not() -> None:
    key = sm2.Sm2PrivateKey(VECTOR_D)
    assert key.public_key.point == VECTOR_P
    signature = sm2.raw_to_signature(VECTOR_RS)
    assert key.public_key.verify(b"message digest", signature)
    assert not key.public_key.verify(b"message digesT", signature)
    assert not key.public_key.verify(b"message digest", signature, uid=b"")  # the ID is part of what is signed
    flipped = bytearray(VECTOR_RS)
    flipped[-1] ^= 1
    assert not key.public_key.verify(b"message digest", sm2.raw_to_signature(bytes(flipped)))


def test_only_one_der_encoding_of_a_signature_is_accepted() -> None:
    signature = sm2.raw_to_signature(VECTOR_RS)
    assert sm2.signature_to_raw(signature) == VECTOR_RS
    assert sm2.signature_to_raw(signature + b"\x00") is None
    long_form = b"\x30\x81" + signature[1:]  # same content, non-minimal length
    assert sm2.signature_to_raw(long_form) is None
    assert sm2.signature_to_raw(b"") is None


def test_a_key_off_the_curve_is_refused() -> None:
    from signer.errors import KeyStoreError

    with pytest.raises(KeyStoreError):
        sm2.Sm2PublicKey(VECTOR_P[:-1] + bytes([VECTOR_P[-1] ^ 1]))
    with pytest.raises(KeyStoreError):
        sm2.Sm2PrivateKey(b"\x00" * 32)


def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], capture_output=True, check=False)


def test_openssl_verifies_our_signature_and_we_verify_openssls(tmp_path: Path) -> None:
    key = sm2.Sm2PrivateKey.generate()
    (tmp_path / "key.der").write_bytes(key.to_pkcs8())
    (tmp_path / "msg").write_bytes(b"\xe4\xbd\x8e\xe4\xbf\x9d" * 100)
    (tmp_path / "ours.sig").write_bytes(key.sign((tmp_path / "msg").read_bytes()))
    done = _openssl("pkey", "-inform", "DER", "-in", str(tmp_path / "key.der"), "-pubout",
                    "-out", str(tmp_path / "pub.pem"))
    assert done.returncode == 0, done.stderr
    distid = ["-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]
    done = _openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), *distid,
                    "-in", str(tmp_path / "msg"), "-sigfile", str(tmp_path / "ours.sig"))
    assert done.returncode == 0 and b"Verified Successfully" in done.stdout, done.stderr

    done = _openssl("pkeyutl", "-sign", "-inkey", str(tmp_path / "key.der"), "-keyform", "DER", *distid,
                    "-in", str(tmp_path / "msg"), "-out", str(tmp_path / "theirs.sig"))
    assert done.returncode == 0, done.stderr
    assert key.public_key.verify((tmp_path / "msg").read_bytes(), (tmp_path / "theirs.sig").read_bytes())


def test_openssl_reads_our_key_and_we_read_openssls(tmp_path: Path) -> None:
    done = _openssl("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "theirs.pem"))
    assert done.returncode == 0, done.stderr
    done = _openssl("pkcs8", "-topk8", "-nocrypt", "-in", str(tmp_path / "theirs.pem"), "-outform", "DER",
                    "-out", str(tmp_path / "theirs.der"))
    assert done.returncode == 0, done.stderr
    theirs = sm2.Sm2PrivateKey.from_pkcs8((tmp_path / "theirs.der").read_bytes())
    done = _openssl("pkey", "-inform", "DER", "-in", str(tmp_path / "theirs.der"), "-pubout", "-outform", "DER")
    assert done.returncode == 0
    from asn1crypto import keys

    assert sm2.Sm2PublicKey.from_info(keys.PublicKeyInfo.load(done.stdout)) == theirs.public_key
    assert sm2.is_sm2_key(theirs.public_key.info())
