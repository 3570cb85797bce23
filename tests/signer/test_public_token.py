"""The QR code without a service: its version and error correction at the slot size, the same code in the Word
version, and the token's offline check."""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
import zipfile
from pathlib import Path

import pytest
import segno
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from api.services.documents import DocumentService
from signer.errors import TemplateDataError
from signer.public_token import PublicTokenError, TokenClaims, content_digest, encode_token, verify_token
from templates.render_pdf import MAX_QR_VERSION, qr_code
from tests.support.public_world import read_qr

ROOT = Path(__file__).parents[2]


def _cert(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "燕赵镇人民政府")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(dt.datetime(2026, 1, 1)).not_valid_after(dt.datetime(2029, 1, 1))
            .sign(key, hashes.SHA256()))


def _token(key: ec.EllipticCurvePrivateKey) -> tuple[str, TokenClaims]:
    claims = TokenClaims(secrets.token_urlsafe(16), content_digest({"rows": [{"name": "王秀英"}]}), "130634100",
                         dt.date(2026, 11, 22), (dt.date(2026, 11, 23), dt.date(2026, 11, 29)))
    return encode_token(claims, lambda data: key.sign(data, ec.ECDSA(hashes.SHA256()))), claims


def test_token_round_trip_and_forgery() -> None:
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    token, claims = _token(key)
    assert token.isupper() or token.isalnum()
    assert verify_token(token, _cert(key)) == claims
    with pytest.raises(PublicTokenError):
        verify_token(token, _cert(other))
    forged, _ = _token(other)  # well-formed, signed by someone else
    with pytest.raises(PublicTokenError):
        verify_token(forged, _cert(key))
    for garbage in ("", "AAAA", "1" * 40, token[:-10]):
        with pytest.raises(PublicTokenError):
            verify_token(garbage, _cert(key))


def test_qr_stays_within_version_9_and_prefers_m() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token, _ = _token(key)
    url = f"HTTP://127.0.0.1:8000/V/{token}"
    code = qr_code(url)
    assert int(code.version) <= MAX_QR_VERSION and code.error in ("M", "Q", "H") and code.mode == "alphanumeric"
    longer = f"HTTPS://MINZHENG.QUYANG.EXAMPLE.GOV.CN/V/{token}"
    assert int(qr_code(longer).version) <= MAX_QR_VERSION  # falls back to L where M does not fit
    with pytest.raises(TemplateDataError):
        qr_code("https://example.org/v/" + "a" * 300)
    assert segno.make(url, error="m").version >= qr_code(url).version


def test_docx_carries_the_same_qr_code(documents: DocumentService) -> None:
    data = json.loads((ROOT / "templates/dibao_notice/sample.json").read_text("utf-8"))
    url = "HTTP://127.0.0.1:8000/V/" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 7
    out = documents.render("dibao_notice", data, with_docx=True, verify_url=url)
    assert out.docx is not None
    with zipfile.ZipFile(io.BytesIO(out.docx)) as docx:
        images = [n for n in docx.namelist() if n.startswith("word/media/")]
        assert len(images) == 1
        with Image.open(io.BytesIO(docx.read(images[0]))) as image:
            assert read_qr(image.convert("L")) == [url]
        assert "扫码核验真伪" in docx.read("word/document.xml").decode("utf-8")
