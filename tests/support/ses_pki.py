"""A small SM2 PKI for the GB/T 38540 tests: a root, a seal maker's certificate and office signers' certificates,
all SM2/SM3, built with asn1crypto and signed with ``signer.sm2``; plus SM2-signed CRLs.

Stands in until ``signer/sm2_pki.py`` (the full SM2 PKI) lands: ``issue`` is the one function to swap for it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from asn1crypto import crl, x509

from signer import sm2

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    key: sm2.Sm2PrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        der: bytes = self.cert.dump()
        return der

    @property
    def pem(self) -> bytes:
        from asn1crypto import pem

        out: bytes = pem.armor("CERTIFICATE", self.der)
        return out


def _name(common_name: str) -> x509.Name:
    return x509.Name.build({"country_name": "CN", "organization_name": "MinSeal 测试", "common_name": common_name})


def issue(common_name: str, *, issuer: Issued | None = None, ca: bool = False,
          not_before: dt.datetime = NOW - DAY, not_after: dt.datetime = NOW + 365 * DAY,
          key: sm2.Sm2PrivateKey | None = None) -> Issued:
    """An SM2 certificate signed with SM2/SM3 by ``issuer`` (self-signed when None)."""
    key = key or sm2.Sm2PrivateKey.generate()
    subject = _name(common_name)
    extensions = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True,
         "extn_value": {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}},
    ]
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(63) | 1,
        "signature": {"algorithm": "sm2_sm3"},
        "issuer": issuer.cert.subject if issuer else subject,
        "validity": {"not_before": x509.Time(name="utc_time", value=not_before),
                     "not_after": x509.Time(name="utc_time", value=not_after)},
        "subject": subject,
        "subject_public_key_info": key.public_key.info(),
        "extensions": extensions,
    })
    signing_key = issuer.key if issuer else key
    cert = x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": {"algorithm": "sm2_sm3"},
        "signature_value": signing_key.sign(tbs.dump()),
    })
    return Issued(key, x509.Certificate.load(cert.dump()))


def make_crl(issuer: Issued, revoked: list[tuple[x509.Certificate, dt.datetime]], *,
             this_update: dt.datetime | None = None) -> crl.CertificateList:
    """A v2 CRL signed by ``issuer`` with SM2/SM3."""
    this_update = this_update or dt.datetime.now(dt.UTC).replace(microsecond=0)
    entries = [{"user_certificate": cert.serial_number, "revocation_date": x509.Time(name="utc_time", value=at)}
               for cert, at in revoked]
    fields: dict[str, object] = {
        "version": "v2",
        "signature": {"algorithm": "sm2_sm3"},
        "issuer": issuer.cert.subject,
        "this_update": x509.Time(name="utc_time", value=this_update),
        "next_update": x509.Time(name="utc_time", value=this_update + 7 * DAY),
    }
    if entries:
        fields["revoked_certificates"] = entries
    tbs = crl.TbsCertList(fields)
    item = crl.CertificateList({
        "tbs_cert_list": tbs,
        "signature_algorithm": {"algorithm": "sm2_sm3"},
        "signature": issuer.key.sign(tbs.dump()),
    })
    return crl.CertificateList.load(item.dump())


@dataclass(frozen=True)
class SesWorld:
    root: Issued
    maker: Issued
    office: Issued


def world() -> SesWorld:
    root = issue("MinSeal 测试 SM2 根证书", ca=True, not_before=NOW - 365 * DAY, not_after=NOW + 3650 * DAY)
    maker = issue("MinSeal 测试制章者（非电子印章制作管理单位）", issuer=root, not_before=NOW - 90 * DAY)
    office = issue("某县民政局（测试）", issuer=root, not_before=NOW - 90 * DAY)
    return SesWorld(root, maker, office)
