"""Building blocks of forged files made with an installation's real keys (tests/signer): certificates copied from a
genuine one with one property changed, plain-pyHanko signing, and raw incremental updates."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signer import pki


def copy_certificate(template: x509.Certificate, *, issuer: x509.Certificate,
                     issuer_key: CertificateIssuerPrivateKeyTypes,
                     replace: dict[type, tuple[Any, bool] | None] | None = None,
                     subject: x509.Name | None = None) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A new key and a certificate with ``template``'s subject and extensions, issued by ``issuer``; ``replace``
    maps an extension class to (value, critical), or to None to drop it."""
    replace = dict(replace or {})
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject or template.subject).issuer_name(issuer.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=60)))
    for ext in template.extensions:
        kind = type(ext.value)
        if kind in (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier):
            continue
        if kind in replace:
            change = replace.pop(kind)
            if change is not None:
                builder = builder.add_extension(change[0], critical=change[1])
            continue
        builder = builder.add_extension(ext.value, critical=ext.critical)
    for value, critical in (c for c in replace.values() if c is not None):
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256()), key


def signer_for(cert: x509.Certificate, key: Any, *chain: x509.Certificate) -> signers.SimpleSigner:
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([pki.to_asn1(c) for c in chain]))


def sign(pdf: bytes, signer: signers.Signer, field: str, *, certify: bool = False, **kwargs: Any) -> bytes:
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)),
                     signers.PdfSignatureMetadata(field_name=field, certify=certify),
                     signer=signer, output=out, **kwargs)
    return out.getvalue()
