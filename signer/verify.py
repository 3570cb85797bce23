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
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from .layout import slots_at
from .pki import tier_of, to_asn1
from .report import REASONS, DocumentFacts, Finding, SignatureFacts, Verdict, VerificationReport
from .route import RouteLookup, route_findings
from .slots import FIELD_PREFIX, SlotTable

MAX_BYTES = 50 * 2**20
MAX_SIGNATURES = 12
MAX_REVISIONS = 40


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
    route_of: RouteLookup | None = None,
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
    table = SlotTable.parse(raw_slots)
    family = table.family if table is not None else None
    if changed_later:
        findings.append(Finding("MODIFIED_AFTER_SIGNING", REASONS["MODIFIED_AFTER_SIGNING"] + "（签章位信息被改动）"))
    if raw_slots is not None and table is None:
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
    first_certified = signatures[0].docmdp_level is not None if signatures else None
    findings += route_findings(facts, first_certified=first_certified, table=table, route_of=route_of)
    for wanted in expected_offices:
        if not any(wanted in (f.office_name, f.office_id) for f in facts):
            findings.append(Finding("EXPECTED_OFFICE_MISSING", f"{REASONS['EXPECTED_OFFICE_MISSING']}：{wanted}"))
    return report(findings, facts, **doc)


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
