"""The office PKI: a root CA (the demo stands in for the provincial CA), one seal certificate per office, CRLs.

Pure functions over ``cryptography`` objects; where things are stored is the caller's business. The office's
tier is carried in the certificate itself (a tier-specific policy OID and the OU), so a verifier can tell a
village seal from a county seal without trusting anything the PDF claims.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, CertificatePublicKeyTypes
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from .errors import KeyStoreError
from .sm2 import is_sm2_key

#: MinSeal's private arc (demo enterprise number); a real deployment registers its own
MINSEAL_ARC = "1.3.6.1.4.1.61234"
OFFICE_SEAL_POLICY = ObjectIdentifier(f"{MINSEAL_ARC}.1.1")
#: Extended key usages of a seal certificate. emailProtection is what NSS (and so poppler's pdfsig and
#: Firefox-family viewers) checks a document signer against; id-kp-documentSigning (RFC 9336) says what the
#: key is for. Without an EKU, NSS validates the chain but pdfsig 22.x still reports "Unknown issue": it reads
#: NSS's last error code instead of the result, and a missing EKU leaves SEC_ERROR_EXTENSION_NOT_FOUND there.
SEAL_EKUS = (ObjectIdentifier("1.3.6.1.5.5.7.3.4"), ObjectIdentifier("1.3.6.1.5.5.7.3.36"))
ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")
#: Private, non-critical extension of a seal certificate: the registry id of the office's parent office (the
#: township of a village, the county of a township), DER UTF8String. Absent on a county (top of the route).
#: It lets any verifier check the route's parent chain from the certificates alone, without the registry.
PARENT_OFFICE_OID = ObjectIdentifier(f"{MINSEAL_ARC}.2.1")


class Tier(StrEnum):
    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"

    @property
    def label(self) -> str:
        return {"village": "村级", "township": "乡镇级", "county": "县级"}[self.value]

    @property
    def policy(self) -> ObjectIdentifier:
        index = {"village": 1, "township": 2, "county": 3}[self.value]
        return ObjectIdentifier(f"{OFFICE_SEAL_POLICY.dotted_string}.{index}")


class KeyAlgorithm(StrEnum):
    ECDSA_P256 = "ecdsa-p256"
    RSA_2048 = "rsa-2048"
    #: SM2 over SM3 (GB/T 32918): made and signed by :mod:`signer.sm2` and :mod:`signer.sm2_pki`, kept in
    #: :class:`signer.keystore.Sm2FileKeyStore` (``cryptography`` cannot hold an SM2 key)
    SM2_SM3 = "sm2-sm3"


def generate_private_key(algorithm: KeyAlgorithm) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """A ``cryptography`` key; SM2 keys are :class:`signer.sm2.Sm2PrivateKey` and never come from here."""
    if algorithm is KeyAlgorithm.SM2_SM3:
        raise KeyStoreError("SM2 密钥不能存入 PKCS#12 文件或在此生成：SM2 印章使用 SM2 密钥库",
                            code="SM2_KEY_STORE_REQUIRED")
    if algorithm is KeyAlgorithm.RSA_2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class OfficeIdentity:
    """What a seal certificate says about its office."""

    office_id: str
    name: str
    tier: Tier
    credit_code: str | None = None
    locality: str | None = None
    #: registry id of the parent office (written into the certificate, see PARENT_OFFICE_OID)
    parent_id: str | None = None


@dataclass(frozen=True)
class PkiEndpoints:
    """URLs of the service's PKI endpoints, written into every certificate."""

    crl_url: str
    ocsp_url: str | None
    ca_issuers_url: str | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _end_entity(
    subject: x509.Name, public_key: CertificatePublicKeyTypes, ca_cert: x509.Certificate,
    ca_key: CertificateIssuerPrivateKeyTypes, *, crl_url: str, days: int, now: dt.datetime, non_repudiation: bool,
) -> x509.CertificateBuilder:
    """What every certificate our root issues to a signer has: validity within the root's, not a CA, a
    signing key usage, key identifiers and the CRL distribution point."""
    usage = x509.KeyUsage(digital_signature=True, content_commitment=non_repudiation, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    crl_point = x509.CRLDistributionPoints([x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None, crl_issuer=None)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .add_extension(crl_point, critical=False)
    )


def make_root(
    key: CertificateIssuerPrivateKeyTypes, *, common_name: str, organization: str, years: int = 20,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    now = now or _now()
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def issue_office_certificate(
    *,
    office: OfficeIdentity,
    public_key: CertificatePublicKeyTypes,
    ca_cert: x509.Certificate,
    ca_key: CertificateIssuerPrivateKeyTypes,
    endpoints: PkiEndpoints,
    days: int = 3 * 365,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """A seal certificate: names the office (and its 统一社会信用代码), its tier, our seal policy."""
    now = now or _now()
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        *([x509.NameAttribute(NameOID.LOCALITY_NAME, office.locality)] if office.locality else []),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, office.name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, office.tier.label),
        *([x509.NameAttribute(ORGANIZATION_IDENTIFIER, f"NTRCN-{office.credit_code}")] if office.credit_code else []),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, office.office_id),
        x509.NameAttribute(NameOID.COMMON_NAME, office.name),
    ]
    access = [x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                     x509.UniformResourceIdentifier(endpoints.ocsp_url))] if endpoints.ocsp_url else []
    if endpoints.ca_issuers_url:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                             x509.UniformResourceIdentifier(endpoints.ca_issuers_url)))
    builder = (
        _end_entity(x509.Name(attributes), public_key, ca_cert, ca_key, crl_url=endpoints.crl_url, days=days,
                    now=now, non_repudiation=True)
        .add_extension(x509.ExtendedKeyUsage(list(SEAL_EKUS)), critical=False)
        .add_extension(x509.CertificatePolicies([
            x509.PolicyInformation(OFFICE_SEAL_POLICY, None),
            x509.PolicyInformation(office.tier.policy, None),
        ]), critical=False)
    )
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    if office.parent_id:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(PARENT_OFFICE_OID, _utf8_string(office.parent_id)), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _utf8_string(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 127:
        raise ValueError("parent office id too long")
    return bytes([0x0C, len(raw)]) + raw


def parent_of(certificate: x509.Certificate) -> str | None:
    """The parent office id a seal certificate carries (None: none, or not a well-formed UTF8String)."""
    try:
        value = certificate.extensions.get_extension_for_oid(PARENT_OFFICE_OID).value
    except x509.ExtensionNotFound:
        return None
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    if len(raw) < 2 or raw[0] != 0x0C or raw[1] != len(raw) - 2:
        return None
    try:
        return raw[2:].decode()
    except UnicodeDecodeError:
        return None


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """The same certificate as pyHanko's asn1crypto object."""
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def is_sm2_certificate(certificate: x509.Certificate) -> bool:
    """Whether a certificate carries an SM2 key (``cryptography`` loads it but cannot read its key)."""
    return is_sm2_key(to_asn1(certificate).public_key)


def tier_of(certificate: x509.Certificate) -> Tier | None:
    """The tier a certificate was issued for, read from its policies (None: not one of our seal certs)."""
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return None
    oids = {p.policy_identifier for p in policies}
    if OFFICE_SEAL_POLICY not in oids:
        return None
    return next((t for t in Tier if t.policy in oids), None)


@dataclass(frozen=True)
class RevokedEntry:
    serial: int
    revoked_at: dt.datetime
    reason: x509.ReasonFlags


def make_crl(
    *, ca_cert: x509.Certificate, ca_key: CertificateIssuerPrivateKeyTypes, revoked: list[RevokedEntry],
    number: int, next_update: dt.timedelta = dt.timedelta(days=7), now: dt.datetime | None = None,
) -> x509.CertificateRevocationList:
    now = now or _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(entry.reason), critical=False)
            .build()
        )
    return builder.sign(ca_key, hashes.SHA256())


def issue_tsa_certificate(
    *, public_key: CertificatePublicKeyTypes, ca_cert: x509.Certificate, ca_key: CertificateIssuerPrivateKeyTypes,
    endpoints: PkiEndpoints, common_name: str, days: int = 5 * 365, now: dt.datetime | None = None,
) -> x509.Certificate:
    """The time-stamping authority MinSeal runs itself: timeStamping is its only (critical) extended usage."""
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                         x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        _end_entity(subject, public_key, ca_cert, ca_key, crl_url=endpoints.crl_url, days=days, now=now or _now(),
                    non_repudiation=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    )
    if endpoints.ocsp_url:  # validators consult OCSP only for a certificate that names a responder
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(endpoints.ocsp_url))]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())
