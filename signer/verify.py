"""Verification: PDF bytes in, a VerificationReport out — a result, never an exception.

pyHanko checks each signature (integrity, chain, revocation, what changed after it). On top of that, our
policy decides the verdict, because pyHanko's ``bottom_line`` alone does not check *who* signed, tolerates some
changes after approval signatures, and trusts file structure more than a gate should:

- only the given roots are trusted; every signature in the file is validated;
- a MinSeal document is sealed along its route, in order, each seal by the office the (signed) document names
  for that box, with the tier its certificate carries; any other signature fails the file;
- after a seal, only later seals of the route and long-term-validation data may be added; the first seal is a
  certification; every byte of the file belongs to a revision that was examined;
- expired, not-yet-valid, revoked (at the time that counts: the trusted timestamp, else now) or untrusted
  certificates fail; what cannot be decided (no revocation data) is INDETERMINATE, never PASSED.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .pki import Tier, tier_of, to_asn1
from .slots import FIELD_PREFIX, SLOTS_INFO_KEY

MAX_BYTES = 50 * 2**20
MAX_SIGNATURES = 12
MAX_REVISIONS = 40
#: the route's tiers in order (Tier's own order)
TIER_ORDER = tuple(t.value for t in Tier)


class Verdict(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    INDETERMINATE = "INDETERMINATE"

    @property
    def label(self) -> str:
        return {"PASSED": "通过", "FAILED": "不通过", "INDETERMINATE": "无法确定"}[self.value]


#: stable reason codes and their Chinese explanations
REASONS: dict[str, str] = {
    "TOO_LARGE": "文件过大，拒绝处理",
    "MALFORMED": "文件结构损坏，无法解析",
    "NO_SIGNATURE": "文件中没有电子签章",
    "TOO_MANY": "签章或修订版本过多，拒绝处理",
    "TRAILING_DATA": "文件末尾有未经签章覆盖的多余数据",
    "HIDDEN_REVISION": "文件中含有校验程序未检查的修订版本",
    "SIG_BROKEN": "签章后文件内容被改动（摘要不符）",
    "SIG_INVALID": "签名值无效或签名格式错误",
    "CERT_UNTRUSTED": "签章证书不属于受信任的根证书",
    "CERT_REVOKED": "签章时证书已被吊销",
    "CERT_EXPIRED": "签章时证书已过期",
    "CERT_NOT_YET_VALID": "签章时证书尚未生效",
    "REVOCATION_UNKNOWN": "无法确定证书吊销状态",
    "CERT_PROBLEM": "签章证书校验未通过",
    "TIMESTAMP_INVALID": "时间戳无效或不受信任",
    "MODIFIED_AFTER_SIGNING": "签章后文件被做了不允许的修改",
    "DOCMDP_VIOLATION": "修改超出首个签章（认证签名）允许的范围",
    "COVERAGE": "签章未覆盖其所在修订版本的全部内容",
    "NOT_CERTIFIED": "首个签章不是认证签名",
    "UNEXPECTED_SIGNATURE": "文件中有不属于本文书流转路径的签章",
    "ROUTE_ORDER": "签章顺序不符合村→乡镇→县的流转路径",
    "WRONG_OFFICE": "签章单位与文书指定的单位不符",
    "WRONG_TIER": "签章证书的层级与签章栏不符",
    "ROUTE_MISMATCH": "签章单位不是上一级单位的上级机关",
    "EXPECTED_OFFICE_MISSING": "缺少指定单位的签章",
    "NOT_OUR_SEAL": "签章证书不是民政电子印章证书",
    "BAD_SLOTS": "文书的签章位信息缺失或损坏",
    "FAKE_SEAL": "未签章的签章栏中画有印章图案",
}


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    field: str | None = None
    indeterminate: bool = False


@dataclass(frozen=True)
class SignatureFacts:
    field_name: str
    revision: int
    office_name: str | None
    office_id: str | None
    tier: str | None
    cert_serial: str
    cert_sha256: str
    claimed_signing_time: str | None
    timestamp_time: str | None
    intact: bool
    valid: bool
    trusted: bool
    revocation: str  # good | revoked_after_signing | revoked | unknown
    revoked_at: str | None
    certification: bool
    docmdp: str | None
    changes_after: str  # none | ltv_only | later_signatures | other
    coverage: str  # entire_file | entire_revision | partial
    slot: str | None


@dataclass(frozen=True)
class DocumentFacts:
    sha256: str
    size: int
    pages: int | None
    revisions: int | None
    ends_at_last_revision: bool
    trailing_bytes: int
    family: str | None


@dataclass(frozen=True)
class VerificationReport:
    verdict: Verdict
    findings: tuple[Finding, ...]
    signatures: tuple[SignatureFacts, ...]
    document: DocumentFacts

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value, "verdict_label": self.verdict.label,
            "findings": [asdict(f) for f in self.findings],
            "signatures": [asdict(s) for s in self.signatures],
            "document": asdict(self.document),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def summary(self) -> str:
        offices = "、".join(s.office_name or "未知单位" for s in self.signatures) or "无"
        reasons = "；".join(dict.fromkeys(f.message for f in self.findings))
        return f"{self.verdict.label}：{len(self.signatures)} 个签章（{offices}）" + (f"。{reasons}" if reasons else "")


@dataclass(frozen=True)
class TrustSettings:
    """What the verifier may rely on: roots, known revocation data, whether it may fetch more."""

    roots: tuple[x509.Certificate, ...]
    crls: tuple[bytes, ...] = ()
    allow_fetching: bool = False
    #: verify as of this time instead of now (archives, tests)
    moment: dt.datetime | None = None


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else None


def _office_of(cert: asn1_x509.Certificate) -> tuple[str | None, str | None, str | None]:
    """(office name, registry id, tier) from the certificate — never from the file's claims."""
    subject = cert.subject.native
    name = subject.get("organization_name") or subject.get("common_name")
    if isinstance(name, list):
        name = name[0]
    office_id = subject.get("serial_number")
    try:
        tier = tier_of(x509.load_der_x509_certificate(cert.dump()))
    except ValueError:  # extensions cryptography refuses to parse: not one of our seal certificates
        tier = None
    return name, office_id, tier.value if tier is not None else None


def _structure(data: bytes, reader: PdfFileReader) -> tuple[int, bool, list[Finding]]:
    """Every byte must belong to a revision the reader examined: no data after the last %%EOF, no %%EOF of a
    revision that is not in the /Prev chain."""
    findings = []
    xrefs = reader.xrefs
    revisions = xrefs.total_revisions
    ends = []
    for revision in range(revisions):
        info = xrefs.get_xref_container_info(revision)
        match = re.compile(rb"%%EOF[ \t]*(\r\n|\r|\n)?").search(data, info.end_location)
        ends.append(match.end() if match else len(data))
    trailing = len(data) - ends[-1] if ends else 0
    if trailing > 0 and data[ends[-1]:].strip(b"\x00\r\n\t ") != b"":
        findings.append(Finding("TRAILING_DATA", REASONS["TRAILING_DATA"] + f"（{trailing} 字节）"))
    elif trailing > 0:
        trailing = 0
    for revision in range(1, revisions):
        start = xrefs.get_xref_container_info(revision).start_location
        gap = data[ends[revision - 1]:start]
        if b"%%EOF" in gap or b"startxref" in gap:
            findings.append(Finding("HIDDEN_REVISION", REASONS["HIDDEN_REVISION"]))
            break
    return trailing, not findings, findings


def _changes_after(status: PdfSignatureStatus, later_fields: set[str]) -> str:
    level = status.modification_level
    if level is None or level == ModificationLevel.NONE:
        return "none"
    if level == ModificationLevel.LTA_UPDATES:
        return "ltv_only"
    changed = set(getattr(status.diff_result, "changed_form_fields", set()) or set())
    if level == ModificationLevel.FORM_FILLING and changed <= later_fields:
        return "later_signatures"
    return "other"


def _coverage(status: PdfSignatureStatus) -> str:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "entire_file"
    if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        return "entire_revision"
    return "partial"


def _validate(sig: Any, context: Callable[..., ValidationContext]) -> tuple[PdfSignatureStatus, dt.datetime | None]:
    """Validate now; if the certificate is revoked but a trusted timestamp proves the seal came first,
    validate again as of that time (the revocation then does not count against it). Returns the status and,
    in that case, when the certificate was revoked."""
    status = validate_pdf_signature(sig, signer_validation_context=context())
    ts = status.timestamp_validity
    revoked = status.revocation_details
    trusted_ts = ts is not None and ts.intact and ts.valid and ts.trusted
    if (
        status.trust_problem_indic in (AdESFailure.REVOKED, AdESIndeterminate.REVOKED_NO_POE)
        and trusted_ts and revoked is not None and ts.timestamp < revoked.revocation_date
    ):
        return validate_pdf_signature(sig, signer_validation_context=context(moment=ts.timestamp)), \
            revoked.revocation_date
    if status.trust_problem_indic in _EXPIRED and trusted_ts:
        # the certificate has expired since, but a trusted timestamp proves the seal was made while it was valid
        return validate_pdf_signature(sig, signer_validation_context=context(moment=ts.timestamp)), None
    return status, None


def verify_pdf(
    data: bytes,
    trust: TrustSettings,
    *,
    expected_offices: Sequence[str] = (),
    route_of: Callable[[str], list[str] | None] | None = None,
) -> VerificationReport:
    """Verify every signature of a PDF and apply the MinSeal policy. Never raises on bad input."""
    digest = hashlib.sha256(data).hexdigest()

    def report(findings: list[Finding], signatures: Sequence[SignatureFacts] = (), **doc: Any) -> VerificationReport:
        verdict = Verdict.PASSED
        if any(not f.indeterminate for f in findings):
            verdict = Verdict.FAILED
        elif findings:
            verdict = Verdict.INDETERMINATE
        document = DocumentFacts(sha256=digest, size=len(data), pages=doc.get("pages"),
                                 revisions=doc.get("revisions"), ends_at_last_revision=doc.get("ends", False),
                                 trailing_bytes=doc.get("trailing", 0), family=doc.get("family"))
        return VerificationReport(verdict, tuple(findings), tuple(signatures), document)

    if len(data) > MAX_BYTES:
        return report([Finding("TOO_LARGE", REASONS["TOO_LARGE"])])
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        revisions = reader.xrefs.total_revisions
        pages = int(reader.root["/Pages"]["/Count"])
        # one pass: pyHanko's per-kind properties each re-collect (and re-parse every /Contents hex string)
        embedded = list(reader.embedded_signatures)
        signatures = [s for s in embedded if s.sig_object_type != "/DocTimeStamp"]
        timestamps = [s for s in embedded if s.sig_object_type == "/DocTimeStamp"]
        # The seal slots are read as of the first seal's revision — the one its certification covers — never
        # from the latest /Info, which a later incremental update may change (pyHanko allows /Info updates).
        first_regular = next((s for s in embedded if s.sig_object_type != "/DocTimeStamp"), None)
        base = first_regular.signed_revision if first_regular is not None else revisions - 1
        raw_slots = slots_at(reader, base)
        # what a viewer or a later tier reads is the latest state; it must equal what was certified
        changed_later = base != revisions - 1 and slots_at(reader, revisions - 1) != raw_slots
    except Exception:  # hostile input may break the parser anywhere; that is a finding, not a crash
        return report([Finding("MALFORMED", REASONS["MALFORMED"])])
    if revisions > MAX_REVISIONS or len(signatures) + len(timestamps) > MAX_SIGNATURES:
        return report([Finding("TOO_MANY", REASONS["TOO_MANY"])], revisions=revisions, pages=pages)
    try:
        trailing, ends, findings = _structure(data, reader)
    except Exception:
        return report([Finding("MALFORMED", REASONS["MALFORMED"])], revisions=revisions, pages=pages)
    slots, family = parse_slots(raw_slots)
    if changed_later:
        findings.append(Finding("MODIFIED_AFTER_SIGNING", REASONS["MODIFIED_AFTER_SIGNING"] + "（签章位信息被改动）"))
    if raw_slots is not None and not slots:
        findings.append(Finding("BAD_SLOTS", REASONS["BAD_SLOTS"]))
    if raw_slots is None and any(s.field_name.startswith(FIELD_PREFIX) for s in signatures):
        findings.append(Finding("BAD_SLOTS", REASONS["BAD_SLOTS"]))
    findings += _fake_seal_boxes(reader)
    doc = {"pages": pages, "revisions": revisions, "ends": ends, "trailing": trailing, "family": family}
    if not signatures:
        return report([*findings, Finding("NO_SIGNATURE", REASONS["NO_SIGNATURE"])], **doc)

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:
        dss = None
    roots = [to_asn1(c) for c in trust.roots]

    def context(moment: dt.datetime | None = None) -> ValidationContext:
        kwargs: dict[str, Any] = {
            "trust_roots": roots, "allow_fetching": trust.allow_fetching, "revocation_mode": "hard-fail",
            "crls": list(trust.crls), "ocsps": [],
        }
        if moment is not None:
            kwargs.update(moment=moment, retroactive_revinfo=True)
        elif trust.moment is not None:
            kwargs.update(moment=trust.moment)
        if dss is not None:
            try:
                return dss.as_validation_context(kwargs)  # certificates, CRLs and OCSP responses of the file
            except Exception:  # a broken DSS contributes nothing
                pass
        return ValidationContext(**kwargs)

    facts: list[SignatureFacts] = []
    field_names = [s.field_name for s in signatures]
    for index, sig in enumerate(signatures):
        name = sig.field_name
        try:
            status, revoked_later = _validate(sig, context)
        except Exception:
            findings.append(Finding("SIG_INVALID", REASONS["SIG_INVALID"], field=name))
            continue
        office_name, office_id, tier = _office_of(status.signing_cert)
        later = set(field_names[index + 1:])
        fact = _facts(sig, status, index, office_name, office_id, tier, later, revoked_later)
        facts.append(fact)
        findings += _signature_findings(status, fact)
    for ts_sig in timestamps:
        try:
            ts_status = validate_pdf_timestamp(ts_sig, validation_context=context())
            ok = ts_status.intact and ts_status.valid and ts_status.trusted
        except Exception:
            ok = False
        if not ok:
            findings.append(Finding("TIMESTAMP_INVALID", REASONS["TIMESTAMP_INVALID"], field=ts_sig.field_name))
    findings += _route_findings(facts, signatures, slots, family, route_of)
    for wanted in expected_offices:
        if not any(wanted in (f.office_name, f.office_id) for f in facts):
            findings.append(Finding("EXPECTED_OFFICE_MISSING", f"{REASONS['EXPECTED_OFFICE_MISSING']}：{wanted}"))
    return report(findings, facts, **doc)


def slots_at(reader: PdfFileReader, revision: int) -> str | None:
    """The /MinSealSlots text as it stood in ``revision`` (resolved in that revision, not the latest)."""
    history = reader.get_historical_resolver(revision)
    info_ref = history.trailer_view.raw_get("/Info") if "/Info" in history.trailer_view else None
    if info_ref is None:
        return None
    info = history(info_ref.reference) if isinstance(info_ref, generic.IndirectObject) else info_ref
    if not isinstance(info, generic.DictionaryObject):
        return None
    value = info.get("/" + SLOTS_INFO_KEY)
    return str(value) if value is not None else None


def _fake_seal_boxes(reader: PdfFileReader) -> list[Finding]:
    """An unsigned signature field must look empty: a painted-on seal in a box nobody signed is a forgery."""
    out = []
    try:
        for name, value, ref in fields.enumerate_sig_fields(reader):
            if value is not None:
                continue
            widget = ref.get_object()
            normal = widget.get("/AP", {}).get("/N") if "/AP" in widget else None
            if normal is not None and normal.get_object().data.strip():
                out.append(Finding("FAKE_SEAL", REASONS["FAKE_SEAL"], field=name))
    except Exception:
        out.append(Finding("MALFORMED", REASONS["MALFORMED"]))
    return out


def parse_slots(raw: Any) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Slots by name, and the family, from the /MinSealSlots text; ({}, None) when absent or unreadable."""
    if raw is None:
        return {}, None
    try:
        parsed = json.loads(str(raw))
        return {s["name"]: s for s in parsed["slots"]}, parsed.get("family")
    except (ValueError, KeyError, TypeError):
        return {}, None


def _facts(sig: Any, status: PdfSignatureStatus, index: int, office_name: str | None, office_id: str | None,
           tier: str | None, later: set[str], revoked_later: dt.datetime | None) -> SignatureFacts:
    cert = status.signing_cert
    ts = status.timestamp_validity
    revoked = status.revocation_details
    revoked_at = revoked.revocation_date if revoked is not None else revoked_later
    if revoked_later is not None and status.trusted:
        revocation = "revoked_after_signing"
    elif revoked is not None:
        revocation = "revoked"
    elif status.trust_problem_indic in (AdESIndeterminate.TRY_LATER,
                                        AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE):
        revocation = "unknown"
    else:
        revocation = "good" if status.trusted else "unknown"
    docmdp = sig.docmdp_level
    return SignatureFacts(
        field_name=sig.field_name, revision=sig.signed_revision, office_name=office_name, office_id=office_id,
        tier=tier, cert_serial=f"{cert.serial_number:x}", cert_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        claimed_signing_time=_iso(status.signer_reported_dt),
        timestamp_time=_iso(ts.timestamp) if ts is not None else None,
        intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
        revocation=revocation, revoked_at=_iso(revoked_at),
        certification=docmdp is not None, docmdp=docmdp.name if docmdp is not None else None,
        changes_after=_changes_after(status, later), coverage=_coverage(status),
        slot=sig.field_name.removeprefix(FIELD_PREFIX) if sig.field_name.startswith(FIELD_PREFIX) else None,
    )


_EXPIRED = (AdESIndeterminate.EXPIRED, AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
            AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED)

_TRUST_CODES: dict[Any, str] = {
    AdESFailure.REVOKED: "CERT_REVOKED", AdESIndeterminate.REVOKED_NO_POE: "CERT_REVOKED",
    AdESIndeterminate.REVOKED_CA_NO_POE: "CERT_REVOKED", AdESIndeterminate.EXPIRED: "CERT_EXPIRED",
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE: "CERT_EXPIRED",
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED: "CERT_EXPIRED",
    AdESFailure.NOT_YET_VALID: "CERT_NOT_YET_VALID", AdESIndeterminate.NOT_YET_VALID: "CERT_NOT_YET_VALID",
    AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND: "CERT_UNTRUSTED",
    AdESIndeterminate.TRY_LATER: "REVOCATION_UNKNOWN",
    AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE: "REVOCATION_UNKNOWN",
}


def _signature_findings(status: PdfSignatureStatus, fact: SignatureFacts) -> list[Finding]:
    name = fact.field_name
    out = []
    if not fact.intact:
        out.append(Finding("SIG_BROKEN", REASONS["SIG_BROKEN"], field=name))
    elif not fact.valid:
        out.append(Finding("SIG_INVALID", REASONS["SIG_INVALID"], field=name))
    if not fact.trusted:
        code = _TRUST_CODES.get(status.trust_problem_indic, "CERT_PROBLEM")
        if code == "CERT_PROBLEM":  # pyHanko reports a not-yet-valid certificate as a generic chain failure
            validity = status.signing_cert["tbs_certificate"]["validity"]
            ts = status.timestamp_validity
            moment = ts.timestamp if ts is not None else status.signer_reported_dt or dt.datetime.now(dt.UTC)
            if validity["not_before"].native > moment:
                code = "CERT_NOT_YET_VALID"
            elif validity["not_after"].native < moment:
                code = "CERT_EXPIRED"
        out.append(Finding(code, REASONS[code], field=name, indeterminate=code == "REVOCATION_UNKNOWN"))
    if fact.changes_after == "other":
        out.append(Finding("MODIFIED_AFTER_SIGNING", REASONS["MODIFIED_AFTER_SIGNING"], field=name))
    if status.docmdp_ok is False:
        out.append(Finding("DOCMDP_VIOLATION", REASONS["DOCMDP_VIOLATION"], field=name))
    if fact.coverage == "partial":
        out.append(Finding("COVERAGE", REASONS["COVERAGE"], field=name))
    ts = status.timestamp_validity
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        out.append(Finding("TIMESTAMP_INVALID", REASONS["TIMESTAMP_INVALID"], field=name))
    return out


def _route_findings(facts: list[SignatureFacts], signatures: list[Any], slots: dict[str, dict[str, Any]],
                    family: str | None, route_of: Callable[[str], list[str] | None] | None) -> list[Finding]:
    """The MinSeal policy for documents that carry our seal slots (the slots are inside the certified
    revision, so they are as trustworthy as the first seal). Files without slots that still carry several of
    our office seals must at least follow a route: tiers ascending, each office the parent of the one before."""
    out: list[Finding] = []
    if not slots:
        ours = [f for f in facts if f.tier is not None]
        if len(ours) > 1:
            ranks = [TIER_ORDER.index(f.tier) for f in ours if f.tier in TIER_ORDER]
            if ranks != sorted(set(ranks)) or len(ranks) != len(ours):
                out.append(Finding("ROUTE_ORDER", REASONS["ROUTE_ORDER"]))
            if route_of is not None and ours[0].office_id:
                route = route_of(ours[0].office_id) or []
                if [f.office_id for f in ours] != route[: len(ours)]:
                    out.append(Finding("ROUTE_MISMATCH", REASONS["ROUTE_MISMATCH"]))
        return out
    if signatures and signatures[0].docmdp_level is None:
        out.append(Finding("NOT_CERTIFIED", REASONS["NOT_CERTIFIED"], field=signatures[0].field_name))
    tiers = [t for t in TIER_ORDER if t in slots]
    allowed = [FIELD_PREFIX + t for t in tiers] if tiers else [FIELD_PREFIX + "issuer"]
    names = [f.field_name for f in facts]
    for fact in facts:
        if fact.field_name not in allowed:
            out.append(Finding("UNEXPECTED_SIGNATURE", REASONS["UNEXPECTED_SIGNATURE"], field=fact.field_name))
    expected_order = [n for n in allowed if n in names]
    if names != expected_order or names != allowed[: len(names)]:
        out.append(Finding("ROUTE_ORDER", REASONS["ROUTE_ORDER"]))
    for fact in facts:
        slot = slots.get(fact.slot or "")
        if slot is None:
            continue
        if fact.tier is None:
            out.append(Finding("NOT_OUR_SEAL", REASONS["NOT_OUR_SEAL"], field=fact.field_name))
        if slot.get("office") and slot["office"] != fact.office_name:
            out.append(Finding("WRONG_OFFICE", f"{REASONS['WRONG_OFFICE']}：此栏应为「{slot['office']}」，"
                               f"实为「{fact.office_name}」", field=fact.field_name))
        if fact.slot in TIER_ORDER and fact.tier != fact.slot:
            out.append(Finding("WRONG_TIER", REASONS["WRONG_TIER"], field=fact.field_name))
        if fact.slot == "issuer" and fact.tier == Tier.VILLAGE.value:
            out.append(Finding("WRONG_TIER", REASONS["WRONG_TIER"], field=fact.field_name))
    if route_of is not None and tiers and facts and facts[0].office_id:
        full_route = route_of(facts[0].office_id)
        signer_ids = [f.office_id for f in facts]
        if full_route is None or signer_ids != full_route[: len(signer_ids)]:
            out.append(Finding("ROUTE_MISMATCH", REASONS["ROUTE_MISMATCH"]))
    return out

