"""The office PKI with SM2 over SM3: root, seal and TSA certificates, CRLs and OCSP answers.

The same profile as :mod:`signer.pki` (tier policy OIDs, office name and 统一社会信用代码, key usage, the seal
EKUs, the parent-office extension, CRL and OCSP endpoints), built with asn1crypto and signed with
:mod:`signer.sm2`, because ``cryptography`` can neither load an SM2 key nor sign with one. ``cryptography``
does *load* the certificates and CRLs made here (extensions and names parse; only their keys and signatures
are foreign to it), so :func:`signer.pki.tier_of` and :func:`signer.pki.parent_of` read them unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, core
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from .pki import (
    OFFICE_SEAL_POLICY,
    PARENT_OFFICE_OID,
    SEAL_EKUS,
    OfficeIdentity,
    PkiEndpoints,
    RevokedEntry,
)
from .sm2 import Sm2PrivateKey, Sm2PublicKey

#: GB/T 35275 / GM/T 0015: the signature algorithm of every structure signed here (parameters absent)
SM2_SM3 = algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})
_TSA_EKU = "1.3.6.1.5.5.7.3.8"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _time(value: dt.datetime) -> asn1_x509.Time:
    """UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5)."""
    if value.year < 2050:
        return asn1_x509.Time(name="utc_time", value=value)
    return asn1_x509.Time(name="general_time", value=value)


def _serial() -> int:
    return int.from_bytes(secrets.token_bytes(19), "big") >> 1 or 1


def key_identifier(public_key: Sm2PublicKey) -> bytes:
    """RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (what ``cryptography`` writes too)."""
    return hashlib.sha1(public_key.point).digest()


def _uri(url: str) -> asn1_x509.GeneralName:
    return asn1_x509.GeneralName(name="uniform_resource_identifier", value=url)


def _ext(name: str, value: Any, *, critical: bool = False) -> asn1_x509.Extension:
    return asn1_x509.Extension({"extn_id": name, "critical": critical, "extn_value": value})


def _sign_certificate(tbs: asn1_x509.TbsCertificate, ca_key: Sm2PrivateKey) -> asn1_x509.Certificate:
    signature = ca_key.sign(tbs.dump())
    return asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": SM2_SM3,
                                  "signature_value": signature})


def _tbs(*, subject: asn1_x509.Name, issuer: asn1_x509.Name, public_key: Sm2PublicKey, not_before: dt.datetime,
         not_after: dt.datetime, extensions: list[asn1_x509.Extension]) -> asn1_x509.TbsCertificate:
    return asn1_x509.TbsCertificate({
        "version": "v3", "serial_number": _serial(), "signature": SM2_SM3, "issuer": issuer,
        "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
        "subject": subject, "subject_public_key_info": public_key.info(), "extensions": extensions,
    })


def make_root(key: Sm2PrivateKey, *, common_name: str, organization: str, years: int = 20,
              now: dt.datetime | None = None) -> asn1_x509.Certificate:
    """A self-signed SM2 root: CA with path length 0 (no intermediate may stand between it and a seal)."""
    now = now or _now()
    name = asn1_x509.Name.build({"country_name": "CN", "organization_name": organization,
                                 "common_name": common_name})
    public = key.public_key
    tbs = _tbs(subject=name, issuer=name, public_key=public, not_before=now - dt.timedelta(minutes=5),
               not_after=now + dt.timedelta(days=365 * years), extensions=[
                   _ext("basic_constraints", {"ca": True, "path_len_constraint": 0}, critical=True),
                   _ext("key_usage", {"key_cert_sign", "crl_sign"}, critical=True),
                   _ext("key_identifier", key_identifier(public)),
               ])
    return _sign_certificate(tbs, key)


def _end_entity_extensions(public_key: Sm2PublicKey, ca_cert: asn1_x509.Certificate, *, crl_url: str,
                           non_repudiation: bool) -> list[asn1_x509.Extension]:
    usage = {"digital_signature", "non_repudiation"} if non_repudiation else {"digital_signature"}
    return [
        _ext("basic_constraints", {"ca": False}, critical=True),
        _ext("key_usage", usage, critical=True),
        _ext("key_identifier", key_identifier(public_key)),
        _ext("authority_key_identifier", {"key_identifier": ca_cert.public_key.sha1}),
        _ext("crl_distribution_points", [{"distribution_point": asn1_x509.DistributionPointName(
            name="full_name", value=[_uri(crl_url)])}]),
    ]


def _validity(ca_cert: asn1_x509.Certificate, now: dt.datetime, days: int) -> tuple[dt.datetime, dt.datetime]:
    ca_end: dt.datetime = ca_cert["tbs_certificate"]["validity"]["not_after"].native
    return now - dt.timedelta(minutes=5), min(now + dt.timedelta(days=days), ca_end)


def issue_office_certificate(*, office: OfficeIdentity, public_key: Sm2PublicKey, ca_cert: asn1_x509.Certificate,
                             ca_key: Sm2PrivateKey, endpoints: PkiEndpoints, days: int = 3 * 365,
                             now: dt.datetime | None = None) -> asn1_x509.Certificate:
    """An SM2 seal certificate with the profile of :func:`signer.pki.issue_office_certificate`."""
    now = now or _now()
    subject: dict[str, str] = {"country_name": "CN"}
    if office.locality:
        subject["locality_name"] = office.locality
    subject.update(organization_name=office.name, organizational_unit_name=office.tier.label)
    if office.credit_code:
        subject["organization_identifier"] = f"NTRCN-{office.credit_code}"
    subject.update(serial_number=office.office_id, common_name=office.name)
    extensions = _end_entity_extensions(public_key, ca_cert, crl_url=endpoints.crl_url, non_repudiation=True)
    extensions.append(_ext("extended_key_usage", [oid.dotted_string for oid in SEAL_EKUS]))
    extensions.append(_ext("certificate_policies", [
        {"policy_identifier": OFFICE_SEAL_POLICY.dotted_string},
        {"policy_identifier": office.tier.policy.dotted_string},
    ]))
    access = []
    if endpoints.ocsp_url:
        access.append({"access_method": "ocsp", "access_location": _uri(endpoints.ocsp_url)})
    if endpoints.ca_issuers_url:
        access.append({"access_method": "ca_issuers", "access_location": _uri(endpoints.ca_issuers_url)})
    if access:
        extensions.append(_ext("authority_information_access", access))
    if office.parent_id:
        extensions.append(asn1_x509.Extension({
            "extn_id": PARENT_OFFICE_OID.dotted_string, "critical": False,
            "extn_value": core.UTF8String(office.parent_id).dump()}))
    not_before, not_after = _validity(ca_cert, now, days)
    tbs = _tbs(subject=asn1_x509.Name.build(subject), issuer=ca_cert.subject, public_key=public_key,
               not_before=not_before, not_after=not_after, extensions=extensions)
    return _sign_certificate(tbs, ca_key)


def issue_signing_certificate(*, public_key: Sm2PublicKey, ca_cert: asn1_x509.Certificate, ca_key: Sm2PrivateKey,
                              common_name: str, organization: str, crl_url: str, days: int = 3 * 365,
                              now: dt.datetime | None = None) -> asn1_x509.Certificate:
    """A plain SM2 signing certificate (digitalSignature, nonRepudiation; no seal policy): what a seal maker
    signs SES_Seals with."""
    now = now or _now()
    extensions = _end_entity_extensions(public_key, ca_cert, crl_url=crl_url, non_repudiation=True)
    not_before, not_after = _validity(ca_cert, now, days)
    subject = asn1_x509.Name.build({"country_name": "CN", "organization_name": organization,
                                    "common_name": common_name})
    tbs = _tbs(subject=subject, issuer=ca_cert.subject, public_key=public_key, not_before=not_before,
               not_after=not_after, extensions=extensions)
    return _sign_certificate(tbs, ca_key)


def issue_tsa_certificate(*, public_key: Sm2PublicKey, ca_cert: asn1_x509.Certificate, ca_key: Sm2PrivateKey,
                          endpoints: PkiEndpoints, common_name: str, days: int = 5 * 365,
                          now: dt.datetime | None = None) -> asn1_x509.Certificate:
    """MinSeal's own SM2 time-stamping authority: timeStamping is its only (critical) extended usage."""
    now = now or _now()
    extensions = _end_entity_extensions(public_key, ca_cert, crl_url=endpoints.crl_url, non_repudiation=False)
    extensions.append(_ext("extended_key_usage", [_TSA_EKU], critical=True))
    if endpoints.ocsp_url:  # validators consult OCSP only for a certificate that names a responder
        extensions.append(_ext("authority_information_access", [{
            "access_method": "ocsp", "access_location": _uri(endpoints.ocsp_url)}]))
    not_before, not_after = _validity(ca_cert, now, days)
    tbs = _tbs(subject=asn1_x509.Name.build({"country_name": "CN", "common_name": common_name}),
               issuer=ca_cert.subject, public_key=public_key, not_before=not_before, not_after=not_after,
               extensions=extensions)
    return _sign_certificate(tbs, ca_key)


def make_crl(*, ca_cert: asn1_x509.Certificate, ca_key: Sm2PrivateKey, revoked: list[RevokedEntry], number: int,
             next_update: dt.timedelta = dt.timedelta(days=7),
             now: dt.datetime | None = None) -> asn1_crl.CertificateList:
    """A v2 CRL signed with SM2 over SM3: CRL number, authority key identifier, a reason per entry."""
    now = now or _now()
    entries = [{
        "user_certificate": entry.serial,
        "revocation_date": _time(entry.revoked_at.astimezone(dt.UTC).replace(microsecond=0)),
        "crl_entry_extensions": [{"extn_id": "crl_reason", "critical": False, "extn_value": entry.reason.name}],
    } for entry in revoked]
    tbs = asn1_crl.TbsCertList({
        "version": "v2", "signature": SM2_SM3, "issuer": ca_cert.subject, "this_update": _time(now),
        "next_update": _time(now + next_update), "revoked_certificates": entries,
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
            {"extn_id": "authority_key_identifier", "critical": False,
             "extn_value": {"key_identifier": ca_cert.public_key.sha1}},
        ],
    })
    return asn1_crl.CertificateList({"tbs_cert_list": tbs, "signature_algorithm": SM2_SM3,
                                     "signature": ca_key.sign(tbs.dump())})


@dataclass(frozen=True)
class Sm2CertificateStatus:
    """What the CA's ledger says about one SM2 certificate (as :class:`signer.ocsp.CertificateStatus`)."""

    certificate: asn1_x509.Certificate
    revoked_at: dt.datetime | None = None
    #: an RFC 5280 CRLReason name (``key_compromise`` …) with ``revoked_at``
    reason: str | None = None


def ocsp_request(cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bytes:
    """An OCSP request (SHA-1 CertID, as RFC 6960 clients send) built without ``cryptography``: it works for
    any key type, SM2 included."""
    cert_id = asn1_ocsp.CertId({
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": hashlib.sha1(issuer.subject.dump()).digest(),
        "issuer_key_hash": issuer.public_key.sha1,
        "serial_number": cert.serial_number,
    })
    der: bytes = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}}).dump()
    return der


def _unsuccessful(status: str) -> bytes:
    der: bytes = asn1_ocsp.OCSPResponse({"response_status": status}).dump()
    return der


def ocsp_respond(request: bytes, *, issuer: Callable[[], asn1_x509.Certificate],
                 issuer_key: Callable[[], Sm2PrivateKey], status_of: Callable[[int], Sm2CertificateStatus | None],
                 validity: dt.timedelta = dt.timedelta(days=1)) -> bytes:
    """The SM2-signed DER response to a DER request (the contract of :func:`signer.ocsp.respond`): signed by the
    CA itself, responder named by key hash, the request's nonce echoed; malformed → MALFORMED_REQUEST, a
    certificate this CA did not issue → UNAUTHORIZED (both unsigned, as RFC 6960 allows)."""
    try:
        req = asn1_ocsp.OCSPRequest.load(request)
        tbs_request = req["tbs_request"]
        single = tbs_request["request_list"][0]["req_cert"]
        hash_name = single["hash_algorithm"]["algorithm"].native
        serial = int(single["serial_number"].native)
        nonce = next((e["extn_value"].native for e in tbs_request["request_extensions"]
                      if e["extn_id"].native == "nonce"), None) if tbs_request["request_extensions"] else None
        if hash_name not in ("sha1", "sha256"):
            raise ValueError(hash_name)
    except (ValueError, TypeError, KeyError, IndexError):
        return _unsuccessful("malformed_request")
    root = issuer()
    ours = (single["issuer_name_hash"].native == hashlib.new(hash_name, root.subject.dump()).digest()
            and single["issuer_key_hash"].native == getattr(root.public_key, hash_name))
    status = status_of(serial) if ours else None
    if status is None:
        return _unsuccessful("unauthorized")
    now = _now()
    if status.revoked_at is not None and status.reason is not None:
        cert_status = asn1_ocsp.CertStatus(name="revoked", value={
            "revocation_time": status.revoked_at.astimezone(dt.UTC).replace(microsecond=0),
            "revocation_reason": status.reason})
    else:
        cert_status = asn1_ocsp.CertStatus(name="good", value=core.Null())
    data: dict[str, Any] = {
        "responder_id": asn1_ocsp.ResponderId(name="by_key", value=root.public_key.sha1),
        "produced_at": now,
        "responses": [{"cert_id": single, "cert_status": cert_status, "this_update": now,
                       "next_update": now + validity}],
    }
    if nonce is not None:
        data["response_extensions"] = [{"extn_id": "nonce", "critical": False, "extn_value": nonce}]
    tbs = asn1_ocsp.ResponseData(data)
    basic = asn1_ocsp.BasicOCSPResponse({"tbs_response_data": tbs, "signature_algorithm": SM2_SM3,
                                         "signature": issuer_key().sign(tbs.dump())})
    der: bytes = asn1_ocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
        "response_type": "basic_ocsp_response", "response": basic}}).dump()
    return der

