"""GB/T 38540-2020 electronic seals (SESeal, v4) and seal signatures (SES_Signature, v4): ASN.1, build, verify.

An SES seal is not CMS. The seal maker (制章者, an 电子印章制作管理单位 in law) signs SES_SealInfo — header, esID,
properties with the list of certificates allowed to use the seal, validity period, picture — and ships the result
as SESeal. Sealing a document puts the whole SESeal, the signing time, the SM3 digest of the document and a
property string into TBS_Sign; the signer (the office holding a certificate listed in the seal) signs its DER;
SES_Signature carries TBS_Sign, the signer's certificate and that signature.

Field order, types and tags follow the standard's ASN.1 as two independent public implementations read it:
ofdrw (``org.ofdrw.gm.ses.v4``, Java/BouncyCastle) and Chingliu/gm_0031_38540_verifier (C/OpenSSL). Both sign
and verify the seal over the DER of SES_SealInfo alone (GM/T 0031's older v2 signed ``SEQUENCE {sealInfo, cert,
signAlgID}``); the verifier here accepts that older form too and says which one it found. Signatures are SM2
over SM3 with the distinguishing ID ``1234567812345678`` (GB/T 35276), DER ``SEQUENCE {r, s}`` inside the BIT
STRINGs. Verification never raises on bad input: it returns stable codes (``SES_*`` and MinSeal's ``CERT_*``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from asn1crypto import core, crl, x509

from . import sm2
from .errors import SealingError
from .report import REASONS, Finding, Verdict

SES_VERSION: Final = 4
SES_HEADER_ID: Final = "ES"
#: certListType: the seal lists whole certificates (1) or their digests (2)
CERT_LIST_CERTS: Final = 1
CERT_LIST_DIGESTS: Final = 2
#: the vendor id MinSeal writes in SES_Header.vid
MINSEAL_VID: Final = "MinSeal"
#: propertyInfo prefix for a PDF: the signature's /ByteRange, which is the "签名保护范围" the standard asks for
PDF_PROPERTY_PREFIX: Final = "PDF;ByteRange="

#: the SES findings' Chinese explanations (MinSeal's shared ones come from ``report.REASONS``)
SES_REASONS: Final[dict[str, str]] = {
    "SES_MALFORMED": "电子签章数据（SES_Signature）格式错误，无法解析",
    "SES_VERSION_UNSUPPORTED": "电子签章数据不是 GB/T 38540 v4 格式",
    "SES_ALGORITHM_UNSUPPORTED": "电子签章使用的签名算法不是 SM2/SM3",
    "SES_SIGNATURE_INVALID": "电子签章的签名值无效（签章信息被改动或不是签章者证书所签）",
    "SES_DIGEST_MISMATCH": "签章后文件内容被改动（原文杂凑值不符）",
    "SES_SEAL_MAKER_SIGNATURE_INVALID": "电子印章的制章者签名无效（印章数据被改动或不是制章者所签）",
    "SES_SIGNER_NOT_IN_SEAL": "签章者证书不在电子印章的签章者证书列表中",
    "SES_SEAL_EXPIRED": "签章时电子印章已过有效期",
    "SES_SEAL_NOT_YET_VALID": "签章时电子印章尚未生效",
    "SES_MAKER_UNTRUSTED": "制章者证书不属于受信任的根证书",
    "SES_MAKER_CERT_INVALID": "制章时制章者证书不在有效期内",
    "SES_PROPERTY_MISMATCH": "电子签章声明的签名保护范围与文件中的不符",
}


def reason(code: str) -> str:
    """The Chinese message for an SES or shared code."""
    return SES_REASONS.get(code) or REASONS.get(code, code)


# ---------------------------------------------------------------------------------------------------------------
# ASN.1 (GB/T 38540-2020 §6 and §7; names as in the standard, including its spelling "Pictrue")


class ExtData(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("extnID", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extnValue", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):  # type: ignore[misc]
    _child_spec = ExtData


class SES_Header(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class CertInfoList(core.SequenceOf):  # type: ignore[misc]
    """certListType 1: each entry is a whole DER certificate in an OCTET STRING."""

    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("type", core.PrintableString),
        ("value", core.OctetString),
    ]


class CertDigestList(core.SequenceOf):  # type: ignore[misc]
    """certListType 2: each entry is a digest of a certificate."""

    _child_spec = CertDigestObj


class SES_ESPropertyInfo(core.Sequence):  # type: ignore[misc]
    # certList is SES_CertList, a CHOICE of two untagged SEQUENCE OFs: only certListType tells them apart, so it
    # is read as Any and parsed by ``cert_list`` below
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certListType", core.Integer),
        ("certList", core.Any),
        ("createDate", core.GeneralizedTime),
        ("validStart", core.GeneralizedTime),
        ("validEnd", core.GeneralizedTime),
    ]


class SES_ESPictrueInfo(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),   # millimetres
        ("height", core.Integer),  # millimetres
    ]


class SES_SealInfo(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("header", SES_Header),
        ("esID", core.IA5String),
        ("property", SES_ESPropertyInfo),
        ("picture", SES_ESPictrueInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("eSealInfo", SES_SealInfo),
        ("cert", core.OctetString),           # the maker's certificate (DER)
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", core.OctetBitString),
    ]


class TBS_Sign(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("timeInfo", core.GeneralizedTime),
        ("dataHash", core.OctetBitString),
        ("propertyInfo", core.IA5String),
        ("extDatas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SES_Signature(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("toSign", TBS_Sign),
        ("cert", core.OctetString),           # the signer's certificate (DER)
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("timeStamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


# ---------------------------------------------------------------------------------------------------------------
# building


@dataclass(frozen=True)
class SealPicture:
    """The seal's picture as the SESeal carries it: type ("PNG", "SVG", …), bytes, display size in mm."""

    type: str
    data: bytes
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class SealInfo:
    """What a seal maker puts in SES_SealInfo."""

    es_id: str
    name: str
    #: the signers' certificates (DER) allowed to use this seal
    signer_certs: tuple[bytes, ...]
    picture: SealPicture
    valid_start: dt.datetime
    valid_end: dt.datetime
    created: dt.datetime
    #: 印章类型: free in the standard; 1 is commonly 单位公章
    seal_type: int = 1
    vid: str = MINSEAL_VID


def _time(value: dt.datetime) -> dt.datetime:
    """GeneralizedTime in DER: UTC, whole seconds (asn1crypto writes a fraction otherwise)."""
    if value.tzinfo is None:
        raise SealingError("印章或签章时间缺少时区", code="SES_TIME_NAIVE")
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _ia5(text: str, what: str) -> str:
    if not text.isascii():
        raise SealingError(f"{what}只能使用 ASCII 字符（IA5String）", code="SES_NOT_ASCII")
    return text


def _signer_of(cert_der: bytes) -> x509.Certificate:
    try:
        cert = x509.Certificate.load(cert_der)
        if not sm2.is_sm2_key(cert.public_key):
            raise SealingError("证书的公钥不是 SM2 密钥", code="SES_NOT_SM2")
    except SealingError:
        raise
    except Exception as exc:
        raise SealingError("无法读取证书", code="SES_CERT_UNREADABLE") from exc
    return cert


def make_seal(info: SealInfo, *, maker_key: sm2.Sm2PrivateKey, maker_cert: bytes) -> bytes:
    """The SESeal (DER) the maker issues: SES_SealInfo signed by ``maker_key``, whose certificate is ``maker_cert``
    (DER). The maker signs the DER of SES_SealInfo (see the module docstring)."""
    cert = _signer_of(maker_cert)
    if sm2.Sm2PublicKey.from_info(cert.public_key) != maker_key.public_key:
        raise SealingError("制章者私钥与制章者证书不匹配", code="SES_KEY_MISMATCH")
    if not info.signer_certs:
        raise SealingError("电子印章至少应列出一张签章者证书", code="SES_NO_SIGNERS")
    if info.valid_end <= info.valid_start:
        raise SealingError("印章有效期终止时间应晚于起始时间", code="SES_BAD_PERIOD")
    seal_info = SES_SealInfo({
        "header": {"id": SES_HEADER_ID, "version": SES_VERSION, "vid": _ia5(info.vid, "厂商标识")},
        "esID": _ia5(info.es_id, "印章标识"),
        "property": {
            "type": info.seal_type,
            "name": info.name,
            "certListType": CERT_LIST_CERTS,
            "certList": core.Any.load(CertInfoList(list(info.signer_certs)).dump()),
            "createDate": _time(info.created),
            "validStart": _time(info.valid_start),
            "validEnd": _time(info.valid_end),
        },
        "picture": {"type": _ia5(info.picture.type, "图片类型"), "data": info.picture.data,
                    "width": info.picture.width_mm, "height": info.picture.height_mm},
    })
    signed = maker_key.sign(seal_info.dump())
    der: bytes = SESeal({
        "eSealInfo": seal_info, "cert": maker_cert, "signAlgID": sm2.SM2_WITH_SM3_OID,
        "signedValue": signed,
    }).dump()
    return der


def tbs_sign(*, seal: bytes, data_hash: bytes, when: dt.datetime, property_info: str) -> bytes:
    """TBS_Sign (DER): what the signer signs. Split out so a remote signer or token can sign it."""
    if len(data_hash) != 32:
        raise SealingError("原文杂凑值应为 32 字节的 SM3 值", code="SES_BAD_DIGEST")
    try:
        parsed_seal = SESeal.load(seal, strict=True)
        parsed_seal.native  # noqa: B018 - parse it all now: a broken seal fails here, not at a verifier
    except Exception as exc:
        raise SealingError("电子印章数据格式错误", code="SES_SEAL_MALFORMED") from exc
    der: bytes = TBS_Sign({
        "version": SES_VERSION, "eseal": parsed_seal, "timeInfo": _time(when),
        "dataHash": data_hash, "propertyInfo": _ia5(property_info, "原文属性"),
    }).dump()
    return der


def assemble(tbs: bytes, *, signer_cert: bytes, signature: bytes) -> bytes:
    """SES_Signature (DER) from a signed TBS_Sign."""
    der: bytes = SES_Signature({
        "toSign": TBS_Sign.load(tbs), "cert": signer_cert, "signatureAlgID": sm2.SM2_WITH_SM3_OID,
        "signature": signature,
    }).dump()
    return der


def sign(*, seal: bytes, signer_key: sm2.Sm2PrivateKey, signer_cert: bytes, when: dt.datetime,
         property_info: str, data: bytes | None = None, data_hash: bytes | None = None) -> bytes:
    """SES_Signature (DER) over ``data`` (hashed with SM3 here) or over a ready SM3 ``data_hash``."""
    if (data is None) == (data_hash is None):
        raise ValueError("give exactly one of data and data_hash")
    cert = _signer_of(signer_cert)
    if sm2.Sm2PublicKey.from_info(cert.public_key) != signer_key.public_key:
        raise SealingError("签章者私钥与签章者证书不匹配", code="SES_KEY_MISMATCH")
    digest = sm2.sm3(data) if data is not None else data_hash
    assert digest is not None
    tbs = tbs_sign(seal=seal, data_hash=digest, when=when, property_info=property_info)
    return assemble(tbs, signer_cert=signer_cert, signature=signer_key.sign(tbs))


# ---------------------------------------------------------------------------------------------------------------
# verifying


@dataclass(frozen=True)
class SesSeal:
    """What a parsed SESeal says (for reports and drawing)."""

    es_id: str
    name: str
    seal_type: int
    vid: str
    version: int
    created: dt.datetime
    valid_start: dt.datetime
    valid_end: dt.datetime
    picture: SealPicture
    maker_subject: str


@dataclass(frozen=True)
class SesResult:
    """One SES_Signature's verification: a verdict, findings with stable codes, and the facts read."""

    verdict: Verdict
    findings: tuple[Finding, ...]
    seal: SesSeal | None = None
    signing_time: dt.datetime | None = None
    signer_subject: str | None = None
    signer_serial: str | None = None
    property_info: str | None = None
    #: "sealinfo" (GB/T 38540 as ofdrw reads it) or "sealinfo_cert_alg" (GM/T 0031 v2 form); None if invalid
    maker_signed: str | None = None
    #: good | revoked | revoked_after_signing | unknown
    revocation: str = "unknown"

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED


def parse_signature(der: bytes) -> SES_Signature:
    """Parse (strict DER, everything read once); raises ValueError on anything else."""
    try:
        parsed = SES_Signature.load(der, strict=True)
        parsed.native  # noqa: B018 - force the lazy parse of every field
    except Exception as exc:  # asn1crypto raises several kinds on broken DER
        raise ValueError(f"not an SES_Signature: {type(exc).__name__}") from None
    if parsed.dump(force=True) != der:
        raise ValueError("not DER")
    result: SES_Signature = parsed
    return result


def cert_list(prop: SES_ESPropertyInfo) -> tuple[int, list[bytes] | list[tuple[str, bytes]]]:
    """The seal's signer list: (1, [certificate DER …]) or (2, [(digest type, value) …])."""
    kind = int(prop["certListType"].native)
    raw = prop["certList"].dump()
    if kind == CERT_LIST_CERTS:
        return kind, [bytes(c.native) for c in CertInfoList.load(raw, strict=True)]
    if kind == CERT_LIST_DIGESTS:
        return kind, [(str(d["type"].native), bytes(d["value"].native)) for d in CertDigestList.load(raw, strict=True)]
    raise ValueError(f"unknown certListType {kind}")


def _digest_matches(kind: str, value: bytes, cert: bytes) -> bool:
    import hashlib

    name = kind.strip().lower().replace("-", "")
    if name == "sm3":
        return sm2.sm3(cert) == value
    if name in ("sha1", "sha256", "sha384", "sha512"):
        return hashlib.new(name, cert).digest() == value
    return False


def signer_listed(seal: SESeal, cert_der: bytes) -> bool:
    """Whether the seal's signer list names this certificate (whole, or by a digest). Raises ValueError when the
    list does not parse."""
    kind, listed = cert_list(seal["eSealInfo"]["property"])
    if kind == CERT_LIST_CERTS:
        return cert_der in listed
    return any(isinstance(item, tuple) and _digest_matches(item[0], item[1], cert_der) for item in listed)


@dataclass(frozen=True)
class _Check:
    findings: list[Finding] = field(default_factory=list)

    def add(self, code: str, detail: str = "", *, indeterminate: bool = False) -> None:
        self.findings.append(Finding(code, reason(code) + (f"（{detail}）" if detail else ""),
                                     indeterminate=indeterminate))


def _name(cert: x509.Certificate) -> str:
    try:
        return str(cert.subject.human_friendly)
    except Exception:
        return "?"


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s SM2 key made ``cert``'s SM2/SM3 signature (a certificate or CRL)."""
    try:
        if cert["signature_algorithm"]["algorithm"].dotted != sm2.SM2_WITH_SM3_OID:
            return False
        key = sm2.Sm2PublicKey.from_info(issuer.public_key)
        return key.verify(cert["tbs_certificate"].dump(), bytes(cert["signature_value"].native))
    except Exception:
        return False


def _valid_at(cert: x509.Certificate, when: dt.datetime) -> str | None:
    validity = cert["tbs_certificate"]["validity"]
    if when < validity["not_before"].native:
        return "CERT_NOT_YET_VALID"
    if when > validity["not_after"].native:
        return "CERT_EXPIRED"
    return None


def chain_to(cert: x509.Certificate, when: dt.datetime, roots: Sequence[x509.Certificate],
             intermediates: Sequence[x509.Certificate] = ()) -> tuple[list[x509.Certificate] | None, str | None]:
    """The path from ``cert`` up to one of ``roots`` (SM2 signatures checked, every certificate valid at ``when``,
    issuers are CAs), or (None, the first problem's code). At most four certificates above ``cert``."""
    path = [cert]
    current = cert
    for _depth in range(5):
        dated = _valid_at(current, when)
        if dated is not None:
            return None, dated
        for root in roots:
            if root.subject == current.issuer and _signed_by(current, root):
                dated = _valid_at(root, when)
                return ([*path, root], None) if dated is None else (None, dated)
        parent = next((c for c in intermediates if c.subject == current.issuer and c.ca and _signed_by(current, c)
                       and c not in path), None)
        if parent is None:
            break
        path.append(parent)
        current = parent
    return None, "CERT_UNTRUSTED"


def revocation_status(cert: x509.Certificate, issuer: x509.Certificate, when: dt.datetime,
                      crls: Iterable[crl.CertificateList],
                      current: Iterable[crl.CertificateList] = ()) -> tuple[str, dt.datetime | None]:
    """From the CRLs signed by ``issuer`` (SM2) that were current at or after ``when``: good, revoked (at or
    before ``when``), revoked_after_signing, or unknown (no such CRL). ``current``: CRLs the verifier holds as
    its own (an installation's copy of the CA's list, in its next-update window now): they count whenever they
    were issued, as the PAdES verifier counts the installation's own CRL — a certificate not listed now was not
    revoked at the signing either."""
    known = False
    now = dt.datetime.now(dt.UTC)
    own = [(item, True) for item in current]
    for item, is_current in [*((c, False) for c in crls), *own]:
        try:
            tbs = item["tbs_cert_list"]
            if tbs["issuer"] != issuer.subject:
                continue
            if item["signature_algorithm"]["algorithm"].dotted != sm2.SM2_WITH_SM3_OID:
                continue
            key = sm2.Sm2PublicKey.from_info(issuer.public_key)
            if not key.verify(tbs.dump(), bytes(item["signature"].native)):
                continue
            if is_current:
                next_update = tbs["next_update"].native
                if next_update is not None and next_update < now:
                    continue  # the installation's copy is out of date: it vouches for nothing
            elif tbs["this_update"].native < when:
                continue  # issued before the signing: it cannot say the certificate was good then
            known = True
            for entry in tbs["revoked_certificates"] or []:
                if entry["user_certificate"].native == cert.serial_number:
                    at: dt.datetime = entry["revocation_date"].native
                    return ("revoked" if at <= when else "revoked_after_signing"), at
        except Exception:
            continue
    return ("good" if known else "unknown"), None


def _check_seal(seal: SESeal, check: _Check, when: dt.datetime, roots: Sequence[x509.Certificate],
                intermediates: Sequence[x509.Certificate]) -> tuple[SesSeal | None, str | None]:
    info = seal["eSealInfo"]
    header = info["header"]
    if header["id"].native != SES_HEADER_ID or int(header["version"].native) != SES_VERSION:
        check.add("SES_VERSION_UNSUPPORTED")
        return None, None
    prop = info["property"]
    picture = info["picture"]
    try:
        maker = x509.Certificate.load(bytes(seal["cert"].native), strict=True)
        maker.native  # noqa: B018
    except Exception:
        check.add("SES_MALFORMED", "制章者证书无法解析")
        return None, None
    facts = SesSeal(
        es_id=str(info["esID"].native), name=str(prop["name"].native), seal_type=int(prop["type"].native),
        vid=str(header["vid"].native), version=int(header["version"].native),
        created=prop["createDate"].native, valid_start=prop["validStart"].native, valid_end=prop["validEnd"].native,
        picture=SealPicture(str(picture["type"].native), bytes(picture["data"].native),
                            int(picture["width"].native), int(picture["height"].native)),
        maker_subject=_name(maker),
    )
    signed_form: str | None = None
    if seal["signAlgID"].dotted != sm2.SM2_WITH_SM3_OID or not sm2.is_sm2_key(maker.public_key):
        check.add("SES_ALGORITHM_UNSUPPORTED", "制章者签名")
    else:
        key = sm2.Sm2PublicKey.from_info(maker.public_key)
        value = _bits(seal["signedValue"])
        body = info.dump() + seal["cert"].dump() + seal["signAlgID"].dump()
        if value is not None and key.verify(info.dump(), value):
            signed_form = "sealinfo"
        elif value is not None and key.verify(b"\x30" + _der_len(body) + body, value):
            signed_form = "sealinfo_cert_alg"  # GM/T 0031's form: SEQUENCE {sealInfo, cert, signAlgID}
        else:
            check.add("SES_SEAL_MAKER_SIGNATURE_INVALID")
    path, problem = chain_to(maker, facts.created, roots, intermediates)
    if path is None:
        check.add("SES_MAKER_CERT_INVALID" if problem in ("CERT_EXPIRED", "CERT_NOT_YET_VALID")
                  else "SES_MAKER_UNTRUSTED", _name(maker))
    if when < facts.valid_start:
        check.add("SES_SEAL_NOT_YET_VALID", f"印章有效期自 {facts.valid_start:%Y-%m-%d %H:%M:%S}Z")
    elif when > facts.valid_end:
        check.add("SES_SEAL_EXPIRED", f"印章有效期至 {facts.valid_end:%Y-%m-%d %H:%M:%S}Z")
    return facts, signed_form


def _der_len(content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _bits(value: core.OctetBitString) -> bytes | None:
    """A BIT STRING's bytes, None when it has unused bits (a signature or digest is whole bytes)."""
    contents = value.contents
    if not contents or contents[0] != 0:
        return None
    return bytes(contents[1:])


def verify(der: bytes, *, data: bytes | None = None, data_hash: bytes | None = None,
           trust_roots: Sequence[x509.Certificate], intermediates: Sequence[x509.Certificate] = (),
           crls: Iterable[crl.CertificateList] = (), expected_property: str | None = None,
           current_crls: Iterable[crl.CertificateList] = ()) -> SesResult:
    """Check one SES_Signature against the document (``data``, or its SM3 ``data_hash``): the signer's SM2
    signature over TBS_Sign, the SM3 digest, the maker's signature over the seal, the signer listed in the seal,
    the seal's validity at the signing time, both certificates' paths to ``trust_roots`` at the times they
    signed, and the signer's revocation from ``crls`` (issued after the signing) and ``current_crls`` (the
    verifier's own current copies, see ``revocation_status``). Never raises on bad input."""
    check = _Check()
    try:
        parsed = parse_signature(der)
    except ValueError as exc:
        check.add("SES_MALFORMED", str(exc))
        return SesResult(Verdict.FAILED, tuple(check.findings))
    crl_list = list(crls)
    try:
        return _verify(parsed, check, data=data, data_hash=data_hash, roots=trust_roots,
                       intermediates=intermediates, crls=crl_list, expected_property=expected_property,
                       current_crls=list(current_crls))
    except Exception as exc:  # a field that parsed but holds nonsense (a certificate that is not one, …)
        check.add("SES_MALFORMED", type(exc).__name__)
        return SesResult(Verdict.FAILED, tuple(check.findings))


def _verify(parsed: SES_Signature, check: _Check, *, data: bytes | None, data_hash: bytes | None,
            roots: Sequence[x509.Certificate], intermediates: Sequence[x509.Certificate],
            crls: list[crl.CertificateList], expected_property: str | None,
            current_crls: list[crl.CertificateList]) -> SesResult:
    tbs = parsed["toSign"]
    when: dt.datetime = tbs["timeInfo"].native
    if int(tbs["version"].native) != SES_VERSION:
        check.add("SES_VERSION_UNSUPPORTED")
    try:
        signer = x509.Certificate.load(bytes(parsed["cert"].native), strict=True)
        signer.native  # noqa: B018
    except Exception:
        check.add("SES_MALFORMED", "签章者证书无法解析")
        return SesResult(Verdict.FAILED, tuple(check.findings), signing_time=when)
    signature = _bits(parsed["signature"])
    if parsed["signatureAlgID"].dotted != sm2.SM2_WITH_SM3_OID or not sm2.is_sm2_key(signer.public_key):
        check.add("SES_ALGORITHM_UNSUPPORTED", "签章者签名")
    elif signature is None or not sm2.Sm2PublicKey.from_info(signer.public_key).verify(tbs.dump(), signature):
        check.add("SES_SIGNATURE_INVALID")
    claimed = _bits(tbs["dataHash"])
    actual = sm2.sm3(data) if data is not None else data_hash
    if actual is None or claimed is None or claimed != actual:
        check.add("SES_DIGEST_MISMATCH")
    property_info = str(tbs["propertyInfo"].native)
    if expected_property is not None and property_info != expected_property:
        check.add("SES_PROPERTY_MISMATCH", property_info[:80])
    seal = tbs["eseal"]
    facts, signed_form = _check_seal(seal, check, when, roots, intermediates)
    if facts is not None:
        try:
            member = signer_listed(seal, bytes(parsed["cert"].native))
        except ValueError:
            check.add("SES_MALFORMED", "签章者证书列表无法解析")
        else:
            if not member:
                check.add("SES_SIGNER_NOT_IN_SEAL", _name(signer))
    path, problem = chain_to(signer, when, roots, intermediates)
    revocation = "unknown"
    if path is None:
        check.add(problem or "CERT_UNTRUSTED", _name(signer))
    else:
        revocation, at = revocation_status(signer, path[1], when, crls, current_crls)
        if revocation == "revoked":
            check.add("CERT_REVOKED", f"吊销于 {at:%Y-%m-%d %H:%M:%S}Z" if at else "")
        elif revocation == "unknown":
            check.add("REVOCATION_UNKNOWN", "未提供签章时之后签发的、由签发者签名的吊销列表", indeterminate=True)
    findings = tuple(check.findings)
    if any(not f.indeterminate for f in findings):
        verdict = Verdict.FAILED
    elif findings:
        verdict = Verdict.INDETERMINATE
    else:
        verdict = Verdict.PASSED
    return SesResult(verdict, findings, seal=facts, signing_time=when, signer_subject=_name(signer),
                     signer_serial=f"{signer.serial_number:x}", property_info=property_info,
                     maker_signed=signed_form, revocation=revocation)


def verify_seal(seal_der: bytes, *, trust_roots: Sequence[x509.Certificate], when: dt.datetime,
                intermediates: Sequence[x509.Certificate] = ()) -> SesResult:
    """Check an SESeal on its own (as an office registers it): maker's signature, maker's path, validity at
    ``when``."""
    check = _Check()
    try:
        seal = SESeal.load(seal_der, strict=True)
        seal.native  # noqa: B018
        if seal.dump(force=True) != seal_der:
            raise ValueError("not DER")
        cert_list(seal["eSealInfo"]["property"])
        facts, signed_form = _check_seal(seal, check, when, trust_roots, intermediates)
    except Exception as exc:
        check.add("SES_MALFORMED", type(exc).__name__)
        return SesResult(Verdict.FAILED, tuple(check.findings))
    verdict = Verdict.FAILED if check.findings else Verdict.PASSED
    return SesResult(verdict, tuple(check.findings), seal=facts, maker_signed=signed_form)


def read_seal(seal_der: bytes) -> SESeal:
    """Parse an SESeal (strict DER); raises ValueError."""
    try:
        seal = SESeal.load(seal_der, strict=True)
        seal.native  # noqa: B018
    except Exception as exc:
        raise ValueError(f"not an SESeal: {type(exc).__name__}") from None
    result: SESeal = seal
    return result


def seal_picture(seal: SESeal) -> SealPicture:
    picture = seal["eSealInfo"]["picture"]
    return SealPicture(str(picture["type"].native), bytes(picture["data"].native),
                       int(picture["width"].native), int(picture["height"].native))


__all__ = [
    "CERT_LIST_CERTS",
    "CERT_LIST_DIGESTS",
    "MINSEAL_VID",
    "PDF_PROPERTY_PREFIX",
    "SES_REASONS",
    "SES_Signature",
    "SESeal",
    "SealInfo",
    "SealPicture",
    "SesResult",
    "SesSeal",
    "TBS_Sign",
    "assemble",
    "cert_list",
    "chain_to",
    "make_seal",
    "parse_signature",
    "read_seal",
    "reason",
    "revocation_status",
    "seal_picture",
    "sign",
    "signer_listed",
    "tbs_sign",
    "verify",
    "verify_seal",
]
