"""Verification: PDF bytes in, a VerificationReport out — a result, never an exception.

pyHanko checks each signature (integrity, chain, revocation); what changed after it is judged by our own review
of every later revision (``integrity.revision_findings``), not by pyHanko's difference analysis, which allows more
and cost half the time. On top of that, our policy decides the verdict, because pyHanko's ``bottom_line`` alone
does not check *who* signed, tolerates some changes after approval signatures, and trusts file structure more than
a gate should:

- only the given roots are trusted; every signature in the file is validated;
- a MinSeal document is sealed along its route, in order, each seal by the office the (signed) document names
  for that box, with the tier its certificate carries; any other signature fails the file;
- after a seal, only later seals of the route and long-term-validation data may be added; the first seal is a
  certification; every byte of the file belongs to a revision that was examined;
- expired, not-yet-valid, revoked (at the time that counts: the trusted timestamp, else now) or untrusted
  certificates fail; what cannot be decided (no revocation data) is INDETERMINATE, never PASSED.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, TypeAlias

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.x509 import ocsp as x509_ocsp
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from . import fastpdf, ses_pdf
from .errors import MinSealError
from .integrity import contents_findings, prescan, revision_findings, timestamp_gen_time, timestamp_signer
from .layout import slots_at
from .pki import SEAL_EKUS, parent_of, tier_of, to_asn1
from .report import REASONS, DocumentFacts, Finding, SignatureFacts, Verdict, VerificationReport
from .route import RouteLookup, route_findings
from .slots import FIELD_PREFIX, SlotTable
from .sm2_validate import SIGNATURE_VALIDATOR, certificate_signed_by, crl_signed_by, ocsp_signed_by

MAX_BYTES = 50 * 2**20
MAX_SIGNATURES = 12
MAX_REVISIONS = 40


LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class TrustSettings:
    """What the verifier may rely on: roots, known revocation data, whether it may fetch more."""

    roots: tuple[x509.Certificate, ...]
    #: other revocation data the verifier knows (judged by when it was issued, like the file's own)
    crls: tuple[bytes, ...] = ()
    allow_fetching: bool = False
    #: verify as of this time instead of now (archives, tests)
    moment: dt.datetime | None = None
    #: the issuing installation's own CRL, republished on every revocation: it speaks for "now" (until its
    #: next update), not only for the time it was issued
    own_crls: tuple[bytes, ...] = ()
    #: a seal below this PAdES level fails (B-B: none; B-T: a trusted timestamp; B-LT: + revocation data in
    #: the file; B-LTA: + a document timestamp)
    min_level: str = "B-T"

    def __post_init__(self) -> None:
        if self.min_level not in LEVELS:
            raise MinSealError(f"签章级别只能是：{'、'.join(LEVELS)}", code="BAD_LEVEL")


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else None


@dataclass(frozen=True)
class _Office:
    name: str | None
    common_name: str | None
    office_id: str | None
    tier: str | None
    parent_id: str | None


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else None


def _office_of(cert: asn1_x509.Certificate) -> _Office:
    """Office name, registry id, tier and parent office from the certificate — never from the file's claims."""
    subject = cert.subject.native
    common_name = _first(subject.get("common_name"))
    try:
        parsed = x509.load_der_x509_certificate(cert.dump())
        tier, parent = tier_of(parsed), parent_of(parsed)
    except ValueError:  # extensions cryptography refuses to parse: not one of our seal certificates
        tier, parent = None, None
    return _Office(name=common_name or _first(subject.get("organization_name")), common_name=common_name,
                   office_id=_first(subject.get("serial_number")), tier=tier.value if tier is not None else None,
                   parent_id=parent if tier is not None else None)


_QUIET_LOCK = threading.Lock()
_QUIET_DEPTH = 0
_QUIET_LOGGERS = ("pyhanko", "pyhanko_certvalidator")


@contextlib.contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs warnings (with tracebacks) for every untrusted, expired or revoked certificate and every
    suspicious modification; the report states each of them as a finding, so none reaches the user's stderr."""
    global _QUIET_DEPTH
    with _QUIET_LOCK:
        _QUIET_DEPTH += 1
        if _QUIET_DEPTH == 1:
            for name in _QUIET_LOGGERS:
                logger = logging.getLogger(name)
                logger.propagate = False
                logger.addHandler(_SWALLOW)
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _QUIET_DEPTH -= 1
            if _QUIET_DEPTH == 0:
                for name in _QUIET_LOGGERS:
                    logger = logging.getLogger(name)
                    logger.removeHandler(_SWALLOW)
                    logger.propagate = True


_SWALLOW = logging.NullHandler()


@dataclass(frozen=True)
class _RevInfo:
    """One CRL or OCSP response: who issued it (for certificates of which issuer), when, until when."""

    item: Any
    is_crl: bool
    issuer: bytes
    this_update: dt.datetime
    next_update: dt.datetime | None
    own: bool
    #: an OCSP response answers for one certificate (a CRL: for all of its issuer's)
    serial: int | None = None
    #: how an OCSP response names the issuer (sha1 / sha256 of its name)
    hash_algorithm: str = "sha1"

    def vouches_for(self, moment: dt.datetime) -> bool:
        """Fresh for ``moment``: issued after it (in its second or later: revocation data carries whole
        seconds, a timestamp fractions); or the installation's own CRL, current until its next update."""
        if self.own:
            return self.next_update is None or moment <= self.next_update
        return self.this_update >= moment.replace(microsecond=0)


def _crl_info(der: Any, *, own: bool) -> _RevInfo | None:
    try:
        crl = der if isinstance(der, asn1_crl.CertificateList) else asn1_crl.CertificateList.load(der)
        tbs = crl["tbs_cert_list"]
        return _RevInfo(crl, True, tbs["issuer"].dump(), tbs["this_update"].native, tbs["next_update"].native, own)
    except Exception:
        return None


def _ocsp_info(resp: asn1_ocsp.OCSPResponse) -> _RevInfo | None:
    try:
        data = resp["response_bytes"]["response"].parsed["tbs_response_data"]
        single = data["responses"][0]
        cert_id = single["cert_id"]
        return _RevInfo(resp, False, cert_id["issuer_name_hash"].native, single["this_update"].native,
                        single["next_update"].native, False, serial=cert_id["serial_number"].native,
                        hash_algorithm=cert_id["hash_algorithm"]["algorithm"].native)
    except Exception:
        return None


def _revinfo_pool(trust: TrustSettings, dss: DocumentSecurityStore | None) -> list[_RevInfo]:
    """Revocation data the verifier knows and the file carries; a DSS entry that does not parse raises (the
    caller reports the DSS as broken)."""
    pool = [_crl_info(c, own=True) for c in trust.own_crls] + [_crl_info(c, own=False) for c in trust.crls]
    if dss is not None:
        for ref in dss.crls:
            pool.append(_crl_info(ref.get_object().data, own=False) or _broken())
        for ref in dss.ocsps:
            pool.append(_ocsp_info(asn1_ocsp.OCSPResponse.load(ref.get_object().data)) or _broken())
    return [p for p in pool if p is not None]


def _broken() -> _RevInfo:
    raise ValueError("unreadable revocation data in the DSS")


def _covers(info: _RevInfo, cert: asn1_x509.Certificate) -> bool:
    if info.is_crl:
        return bool(info.issuer == cert.issuer.dump())
    if info.serial != cert.serial_number or info.hash_algorithm not in ("sha1", "sha256"):
        return False
    return bool(info.issuer == hashlib.new(info.hash_algorithm, cert.issuer.dump()).digest())


def _token_time(sig: Any) -> dt.datetime | None:
    """The genTime of the seal's signature timestamp token, read without trusting it (that comes later)."""
    try:
        return timestamp_gen_time(sig)
    except Exception:
        return None


def _timestamp_signer(sig: Any) -> asn1_x509.Certificate | None:
    try:
        cert: asn1_x509.Certificate | None = timestamp_signer(sig)
        return cert
    except Exception:
        return None


@dataclass(frozen=True)
class _Outcome:
    status: PdfSignatureStatus
    #: validated as of its trusted timestamp (else: now)
    at_timestamp: bool
    #: revocation data fresh for the time that counts was available (or fetching was allowed)
    revocation_checked: bool
    revoked_at: dt.datetime | None


def _revoked_at(cert: asn1_x509.Certificate, pool: Sequence[_RevInfo]) -> dt.datetime | None:
    serial = cert.serial_number
    for info in pool:
        if info.is_crl and _covers(info, cert):
            for entry in info.item["tbs_cert_list"]["revoked_certificates"]:
                if entry["user_certificate"].native == serial:
                    when: dt.datetime = entry["revocation_date"].native
                    return when
    return None


def _validate(sig: Any, trust: TrustSettings, pool: list[_RevInfo],
              context: Callable[..., ValidationContext]) -> _Outcome:
    """A seal with a trusted timestamp is judged as of that time, with revocation data issued after it (or the
    installation's own current CRL); else it is judged now, with current data issued after its claimed time.
    Stale data — a CRL an earlier seal embedded before the key was revoked — vouches for nothing."""
    cert = sig.signer_cert
    stamped = _token_time(sig)
    if stamped is not None:
        fresh = [p for p in pool if p.vouches_for(stamped)]
        # the seal's and its timestamp's certificates both need data issued after the timestamp
        tsa = _timestamp_signer(sig)
        checked = trust.allow_fetching or all(any(_covers(p, c) for p in fresh)
                                              for c in (cert, *([tsa] if tsa is not None else [])))
        # without fresh data the revocation question stays open (reported as unknown); the rest is still judged
        status = validate_pdf_signature(sig, signer_validation_context=context(fresh, moment=stamped,
                                                                               hard=checked), skip_diff=True)
        ts = status.timestamp_validity
        if ts is not None and ts.intact and ts.valid and ts.trusted and ts.timestamp == stamped:
            return _Outcome(status, True, checked, _revoked_at(cert, fresh))
    claimed = sig.self_reported_timestamp
    now = trust.moment or dt.datetime.now(dt.UTC)
    current = [p for p in pool if (p.own or claimed is None or p.this_update >= claimed)
               and (p.next_update is None or now <= p.next_update)]
    checked = trust.allow_fetching or any(_covers(p, cert) for p in current)
    status = validate_pdf_signature(sig, signer_validation_context=context(current, hard=checked), skip_diff=True)
    return _Outcome(status, False, checked, _revoked_at(cert, current))


def _structure(data: bytes, reader: PdfFileReader) -> tuple[int, bool, list[Finding], list[int]]:
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
    return trailing, not findings, findings, ends


def _changes_after(revision: int, reviewed: dict[int, list[Finding]], sealed_at: Sequence[int], *,
                   last_revision: int) -> str:
    """What was added after a seal's revision, as ``integrity.revision_findings`` judged it: anything it found
    in a later revision makes the seal "modified after signing". (pyHanko's own difference analysis is skipped:
    our review allows less, and running pyHanko's once per seal over every later revision was half the time.)"""
    if any(r > revision for r in reviewed):
        return "other"
    if any(r > revision for r in sealed_at):
        return "later_signatures"
    return "ltv_only" if revision < last_revision else "none"


def _coverage(status: PdfSignatureStatus) -> str:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "entire_file"
    if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        return "entire_revision"
    return "partial"


#: a PDF already parsed by the caller (pyHanko's reader; opaque outside ``signer``), so that a seal's
#: pre-countersign check reads the parse the seal signs with instead of parsing the file again
ParsedPdf: TypeAlias = PdfFileReader


def verify_pdf(
    data: bytes,
    trust: TrustSettings,
    *,
    expected_offices: Sequence[str] = (),
    route_of: RouteLookup | None = None,
    parsed: ParsedPdf | None = None,
) -> VerificationReport:
    """Verify every signature of a PDF and apply the MinSeal policy. Never raises on bad input, and nothing
    pyHanko logs reaches the caller's stderr. ``parsed``: a parse of exactly ``data`` that nothing has modified
    (the raw-byte checks still read ``data``)."""
    fastpdf.install()
    with _quiet_pyhanko():
        return _verify(data, trust, expected_offices=expected_offices, route_of=route_of, parsed=parsed)


def _verify(data: bytes, trust: TrustSettings, *, expected_offices: Sequence[str],
            route_of: RouteLookup | None, parsed: ParsedPdf | None) -> VerificationReport:
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
    early = prescan(data)
    if early:
        return report(early)
    try:
        reader = parsed if parsed is not None else fastpdf.VerifyReader(BytesIO(data), strict=False)
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
    except (Exception, RecursionError):  # hostile input may break the parser anywhere: a finding, not a crash
        return report([Finding("MALFORMED", REASONS["MALFORMED"])])
    if revisions > MAX_REVISIONS or len(signatures) + len(timestamps) > MAX_SIGNATURES:
        return report([Finding("TOO_MANY", REASONS["TOO_MANY"])], revisions=revisions, pages=pages)
    try:
        trailing, ends, findings, revision_ends = _structure(data, reader)
        for sig in embedded:
            findings += contents_findings(data, sig.byte_range, sig.field_name)
        # GB/T 38540 seals (official seals): pyHanko leaves their signature dictionaries out (not CMS)
        ses_found = [(found, _revision_ending(found.byte_range, revision_ends)) for found in ses_pdf.found_in(reader)]
        if ses_found and (first_regular is None or min(r for _f, r in ses_found) < base):
            base = min(r for _f, r in ses_found)
            raw_slots = slots_at(reader, base)
            changed_later = base != revisions - 1 and slots_at(reader, revisions - 1) != raw_slots
        reviewed: dict[int, list[Finding]] = {}
        if embedded or ses_found:
            signing: dict[int, list[str]] = {}
            for sig in embedded:  # (by the bytes it signs: pyHanko dates a signature by its dictionary's revision)
                signing.setdefault(_revision_ending(sig.byte_range, revision_ends), []).append(sig.field_name)
            for found, revision in ses_found:
                signing.setdefault(revision, []).append(found.field_name)
            reviewed = revision_findings(reader, data, after=min(signing), signing_revisions=signing,
                                         revision_ends=revision_ends)
            findings += [finding for revision in sorted(reviewed) for finding in reviewed[revision]]
    except (Exception, RecursionError):
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
    if not signatures and not ses_found:
        return report([*findings, Finding("NO_SIGNATURE", REASONS["NO_SIGNATURE"])], **doc)

    dss: DocumentSecurityStore | None = None
    pool: list[_RevInfo] = []
    try:
        if "/DSS" in reader.root:
            if _dss_repeats(reader.root["/DSS"]):
                raise ValueError("a DSS array lists an object twice")
            dss = DocumentSecurityStore.read_dss(reader)
            dss_certs = list(dss.load_certs())
        else:
            dss_certs = []
        pool = _revinfo_pool(trust, dss)
    except Exception:  # a broken DSS contributes nothing, and says so
        findings.append(Finding("BAD_DSS", REASONS["BAD_DSS"]))
        dss, dss_certs = None, []
        pool = _revinfo_pool(trust, None)
    roots = [to_asn1(c) for c in trust.roots]
    try:
        findings += _dss_findings(dss_certs, pool, trust.roots)
    except Exception:  # cryptography parses lazily: a broken field surfaces only when read
        findings.append(Finding("BAD_DSS", REASONS["BAD_DSS"]))
    min_level = trust.min_level

    def context(revinfo: Sequence[_RevInfo], moment: dt.datetime | None = None, hard: bool = True) -> ValidationContext:
        kwargs: dict[str, Any] = {
            "trust_roots": roots, "allow_fetching": trust.allow_fetching,
            "revocation_mode": "hard-fail" if hard else "soft-fail",
            "crls": [p.item for p in revinfo if p.is_crl], "ocsps": [p.item for p in revinfo if not p.is_crl],
            "other_certs": dss_certs,
            # SM2 over SM3 checked by signer.sm2 (certificates, CRLs, OCSP, CMS, timestamps); the rest as before
            "signature_validator": SIGNATURE_VALIDATOR,
        }
        if moment is not None:
            kwargs.update(moment=moment, retroactive_revinfo=True)
        elif trust.moment is not None:
            kwargs.update(moment=trust.moment)
        return ValidationContext(**kwargs)

    facts: list[SignatureFacts] = []
    root_subjects = {to_asn1(c).subject.dump() for c in trust.roots}
    # the revision each seal signs, read from the bytes it covers (PAdES and GB/T 38540 alike)
    sealed_at = [_revision_ending(s.byte_range, revision_ends) for s in signatures] + [r for _f, r in ses_found]
    for sig in signatures:
        name = sig.field_name
        try:
            outcome = _validate(sig, trust, pool, context)
        except Exception:
            findings.append(Finding("SIG_INVALID", REASONS["SIG_INVALID"], field=name))
            continue
        status = outcome.status
        office = _office_of(status.signing_cert)
        level = _level(sig, outcome, pool, timestamps)
        signed = _revision_ending(sig.byte_range, revision_ends)
        changes = _changes_after(signed, reviewed, sealed_at, last_revision=revisions - 1)
        fact = _facts(sig, outcome, office, level, changes)
        facts.append(fact)
        under_our_root = status.signing_cert.issuer.dump() in root_subjects
        findings += _signature_findings(status, fact, under_our_root=under_our_root)
        if sig.docmdp_level == fields.MDPPerm.NO_CHANGES and any(r > signed for r in sealed_at):
            findings.append(Finding("DOCMDP_VIOLATION", REASONS["DOCMDP_VIOLATION"], field=name))
        if status.trusted or under_our_root:  # (a chain to a foreign root is CERT_UNTRUSTED, nothing more)
            findings += _profile_findings(status.signing_cert, trust.roots, name)
        if LEVELS.index(level) < LEVELS.index(min_level):
            findings.append(Finding("LEVEL_TOO_LOW", f"{REASONS['LEVEL_TOO_LOW']}：此印章为 {level}，要求至少 "
                                    f"{min_level}" + ("（没有可信时间戳）" if level == "B-B" else ""), field=name))
    crls = [p.item for p in pool if p.is_crl and not p.own]
    own_crls = [p.item for p in pool if p.is_crl and p.own]
    for found, revision in ses_found:
        ses_fact, found_findings = _ses_facts(data, found, revision, trust, crls, last_revision=revisions - 1,
                                              own_crls=own_crls)
        findings += found_findings
        if ses_fact is not None:
            facts.append(ses_fact)
    facts.sort(key=lambda fact: fact.revision)
    now_pool = [p for p in pool if p.next_update is None or (trust.moment or dt.datetime.now(dt.UTC)) <= p.next_update]
    for ts_sig in timestamps:
        try:
            ts_status = validate_pdf_timestamp(ts_sig, validation_context=context(
                now_pool, hard=trust.allow_fetching or any(p.is_crl for p in now_pool)), skip_diff=True)
            ok = ts_status.intact and ts_status.valid and ts_status.trusted
        except Exception:
            ok = False
        if not ok:
            findings.append(Finding("TIMESTAMP_INVALID", REASONS["TIMESTAMP_INVALID"], field=ts_sig.field_name))
    for ts_sig in timestamps:
        findings += _timestamp_field_findings(ts_sig, table)
    # the first seal (by revision) certifies, holding the slot contract; a GB/T 38540 seal cannot (no DocMDP)
    first = facts[0].field_name if facts else None
    first_certified = None if first is None else any(
        s.field_name == first and s.docmdp_level is not None for s in signatures)
    findings += route_findings(facts, first_certified=first_certified, table=table, route_of=route_of)
    for wanted in expected_offices:
        # the office id or the exact office name (certificate CN) — never the organisation, which several
        # offices of one body share
        if not any(wanted in (f.office_id, f.common_name) for f in facts):
            findings.append(Finding("EXPECTED_OFFICE_MISSING", f"{REASONS['EXPECTED_OFFICE_MISSING']}：{wanted}"))
    return report(findings, facts, **doc)


def _revision_ending(byte_range: Sequence[int], revision_ends: Sequence[int]) -> int:
    """The revision a signature signs: the one whose bytes end where its byte range ends (the last if none)."""
    end = int(byte_range[-2]) + int(byte_range[-1]) if len(byte_range) == 4 else -1
    return next((i for i, e in enumerate(revision_ends) if e == end), len(revision_ends) - 1)


#: the level a GB/T 38540 seal is reported at: it is not PAdES, and MinSeal writes no timestamp in it (yet)
SES_LEVEL = "GB/T 38540"


def _ses_facts(data: bytes, found: ses_pdf.FoundSes, revision: int, trust: TrustSettings,
               crls: Sequence[Any], *, last_revision: int,
               own_crls: Sequence[Any] = ()) -> tuple[SignatureFacts | None, list[Finding]]:
    """An official (GB/T 38540) seal as the same facts and codes as a PAdES seal, so the route rule applies.
    ``own_crls``: the installation's own current CRLs (its own and the official seals' CAs'), which count as
    the PAdES verifier counts its own CRL; ``crls``: the rest, which must be issued after the signing."""
    result = ses_pdf.verify_found(data, found, trust_roots=[to_asn1(c) for c in trust.roots], crls=crls,
                                  current_crls=own_crls)
    findings = list(result.findings)
    cert = ses_pdf.signer_certificate(found)
    if cert is None or result.ses is None:
        if not findings:
            findings.append(Finding("SIG_INVALID", REASONS["SIG_INVALID"], field=found.field_name))
        return None, findings
    codes = {f.code for f in findings}
    office = _office_of(cert)
    outcome = result.ses
    fact = SignatureFacts(
        field_name=found.field_name, revision=revision, office_name=office.name, office_id=office.office_id,
        tier=office.tier, common_name=office.common_name, parent_id=office.parent_id, level=SES_LEVEL,
        cert_serial=f"{cert.serial_number:x}", cert_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        claimed_signing_time=_iso(outcome.signing_time), timestamp_time=None,
        intact=not codes & {"SES_DIGEST_MISMATCH", "COVERAGE", "SES_MALFORMED"},
        valid=not codes & {"SES_SIGNATURE_INVALID", "SES_SEAL_MAKER_SIGNATURE_INVALID", "SES_SIGNER_NOT_IN_SEAL",
                           "SES_SEAL_EXPIRED", "SES_SEAL_NOT_YET_VALID", "SES_ALGORITHM_UNSUPPORTED",
                           "SES_VERSION_UNSUPPORTED", "SES_PROPERTY_MISMATCH"},
        trusted=not codes & {"CERT_UNTRUSTED", "CERT_EXPIRED", "CERT_NOT_YET_VALID", "CERT_REVOKED",
                             "SES_MAKER_UNTRUSTED", "SES_MAKER_CERT_INVALID"},
        revocation=outcome.revocation, revoked_at=None, certification=False, docmdp=None,
        # what changed after it is the structural check's business (integrity.revision_findings), as for PAdES
        changes_after="later_signatures" if revision < last_revision else "none",
        coverage=result.coverage,
        slot=found.field_name.removeprefix(FIELD_PREFIX) if found.field_name.startswith(FIELD_PREFIX) else None,
    )
    if fact.trusted:
        findings += _profile_findings(cert, trust.roots, found.field_name)
    return fact, findings


def _dss_repeats(dss: Any) -> bool:
    """A DSS array (/Certs, /CRLs, /OCSPs) or a VRI entry's array (/Cert, /CRL, /OCSP) naming one object twice:
    no writer does that, but one changed digit of the unsigned LTV revision does (106 0 R → 107 0 R), dropping
    an entry while every one left still verifies."""
    store = dss.get_object()
    arrays = [store[key] for key in ("/Certs", "/CRLs", "/OCSPs") if key in store]
    vri = store.get("/VRI") if "/VRI" in store else None
    for entry in (vri.values() if vri is not None else ()):
        entry = entry.get_object()
        arrays += [entry[key] for key in ("/Cert", "/CRL", "/OCSP") if key in entry]
    for array in arrays:
        items = list.__iter__(array)  # the raw entries: references
        refs = [(r.idnum, r.generation) for r in items if hasattr(r, "idnum")]
        if len(refs) != len(set(refs)):
            return True
    return False


def _dss_findings(certs: Sequence[asn1_x509.Certificate], pool: Sequence[_RevInfo],
                  roots: Sequence[x509.Certificate]) -> list[Finding]:
    """The DSS is unsigned: each certificate, CRL and OCSP response in it must be exactly what its issuer signed
    (issuer: a trusted root or another certificate there), so no byte of it is free."""
    issuers = [to_asn1(root) for root in roots]
    try:
        for cert in certs:
            x509.load_der_x509_certificate(cert.dump())
    except ValueError:
        return [Finding("BAD_DSS", REASONS["BAD_DSS"] + "（证书无法解析）")]
    issuers += certs
    root_ders = {issuer.dump() for issuer in issuers[:len(roots)]}

    # signatures are checked by asn1crypto + the shared validator: ECDSA and RSA by cryptography, SM2 by
    # signer.sm2 (cryptography cannot load an SM2 key)
    for cert in certs:
        if cert.dump() in root_ders:
            continue
        if not any(certificate_signed_by(cert, issuer) for issuer in issuers):
            return [Finding("BAD_DSS", REASONS["BAD_DSS"] + f"（证书 {cert.serial_number:x} 的签名无效）")]
    for info in pool:
        if not info.is_crl or info.own:
            continue
        try:
            x509.load_der_x509_crl(info.item.dump())
        except ValueError:
            return [Finding("BAD_DSS", REASONS["BAD_DSS"] + "（吊销列表无法解析）")]
        if not any(crl_signed_by(info.item, issuer) for issuer in issuers):
            return [Finding("BAD_DSS", REASONS["BAD_DSS"] + "（吊销列表的签名无效）")]
    for info in pool:
        if info.is_crl:
            continue
        try:
            x509_ocsp.load_der_ocsp_response(info.item.dump())
        except ValueError:
            return [Finding("BAD_DSS", REASONS["BAD_DSS"] + "（OCSP 响应无法解析）")]
        if not any(ocsp_signed_by(info.item, issuer) for issuer in issuers):
            return [Finding("BAD_DSS", REASONS["BAD_DSS"] + "（OCSP 响应的签名无效）")]
    return []


#: what a seal certificate's extended key usage must include when it has one (pki.SEAL_EKUS)
_SEAL_EKU_OIDS = {oid.dotted_string for oid in SEAL_EKUS}


def _profile_findings(cert: asn1_x509.Certificate, roots: Sequence[x509.Certificate], field: str) -> list[Finding]:
    """The seal certificate profile (docs/verification.md): issued directly by a trusted root (the MinSeal root
    has path length 0: no intermediate CA may stand between), not a CA, a signing key usage, and an extended
    key usage that is absent or includes the seal purposes. pyHanko checks none of this for a signer; a rogue
    "CA" or a TLS certificate under the root would otherwise seal."""
    try:
        parsed = x509.load_der_x509_certificate(cert.dump())
        extensions = parsed.extensions
    except ValueError:
        return [Finding("CERT_PROFILE_KEY_USAGE", REASONS["CERT_PROFILE_KEY_USAGE"] + "（证书扩展无法解析）",
                        field=field)]
    out = []

    if not any(certificate_signed_by(cert, to_asn1(root)) for root in roots):
        out.append(Finding("CERT_PROFILE_ISSUER", REASONS["CERT_PROFILE_ISSUER"], field=field))
    try:
        if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            out.append(Finding("CERT_PROFILE_CA", REASONS["CERT_PROFILE_CA"], field=field))
    except x509.ExtensionNotFound:
        pass
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
        signing = usage.digital_signature or usage.content_commitment
        if not signing or usage.key_cert_sign or usage.crl_sign:
            out.append(Finding("CERT_PROFILE_KEY_USAGE", REASONS["CERT_PROFILE_KEY_USAGE"], field=field))
    except x509.ExtensionNotFound:
        out.append(Finding("CERT_PROFILE_KEY_USAGE", REASONS["CERT_PROFILE_KEY_USAGE"] + "（证书未载明密钥用途）",
                           field=field))
    try:
        ekus = {oid.dotted_string for oid in extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
        if not ekus & _SEAL_EKU_OIDS:
            out.append(Finding("CERT_PROFILE_EKU", REASONS["CERT_PROFILE_EKU"], field=field))
    except x509.ExtensionNotFound:
        pass
    return out


def _level(sig: Any, outcome: _Outcome, pool: Sequence[_RevInfo], timestamps: Sequence[Any]) -> str:
    if not outcome.at_timestamp:
        return "B-B"
    cert = sig.signer_cert
    if not any(not p.own and _covers(p, cert) for p in pool):
        return "B-T"
    if any(ts.signed_revision > sig.signed_revision for ts in timestamps):
        return "B-LTA"
    return "B-LT"


def _timestamp_field_findings(ts_sig: Any, table: SlotTable | None) -> list[Finding]:
    """A document timestamp vouches for nothing a reader sees: its field must be invisible (an empty rectangle,
    no appearance content) and inert (no /A or /AA action on the field or its widgets: JavaScript, Launch …),
    and never a route box, or the timestamp that a validator trusts carries what nobody sealed."""
    name = ts_sig.field_name
    out: list[Finding] = []
    try:
        field = ts_sig.sig_field
        kids = [k.get_object() for k in field.get("/Kids", ())] if "/Kids" in field else []
        parts = [field, *kids]
        if any("/A" in part or "/AA" in part for part in parts):
            out.append(Finding("TIMESTAMP_ACTIVE", REASONS["TIMESTAMP_ACTIVE"], field=name))
        boxes = []
        for part in parts:
            if "/Rect" not in part:
                continue
            x1, y1, x2, y2 = (float(v) for v in part["/Rect"])
            boxes.append((min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))
            normal = part["/AP"].get("/N") if "/AP" in part else None
            painted = normal is not None and isinstance(normal.get_object(), generic.StreamObject) \
                and normal.get_object().data.strip()
            if (x2 - x1) * (y2 - y1) != 0 or painted:
                out.append(Finding("TIMESTAMP_VISIBLE", REASONS["TIMESTAMP_VISIBLE"], field=name))
                break
        slots = table.slots if table is not None else ()
        in_box = any((b[0] < s.rect[2] and s.rect[0] < b[2] and b[1] < s.rect[3] and s.rect[1] < b[3])
                     or (s.rect[0] <= b[0] <= s.rect[2] and s.rect[1] <= b[1] <= s.rect[3])
                     for b in boxes for s in slots)
        if name.startswith(FIELD_PREFIX) or in_box:
            out.append(Finding("TIMESTAMP_IN_ROUTE_BOX", REASONS["TIMESTAMP_IN_ROUTE_BOX"], field=name))
    except Exception:
        out.append(Finding("MALFORMED", REASONS["MALFORMED"], field=name))
    return out


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


def _facts(sig: Any, outcome: _Outcome, office: _Office, level: str, changes_after: str) -> SignatureFacts:
    status = outcome.status
    cert = status.signing_cert
    ts = status.timestamp_validity
    revoked = status.revocation_details
    revoked_at = revoked.revocation_date if revoked is not None else outcome.revoked_at
    if not outcome.revocation_checked:
        revocation = "unknown"
    elif revoked is not None:
        revocation = "revoked"
    elif outcome.revoked_at is not None and status.trusted:
        revocation = "revoked_after_signing"
    elif status.trust_problem_indic in (AdESIndeterminate.TRY_LATER,
                                        AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE):
        revocation = "unknown"
    else:
        revocation = "good" if status.trusted else "unknown"
    docmdp = sig.docmdp_level
    return SignatureFacts(
        field_name=sig.field_name, revision=sig.signed_revision, office_name=office.name, office_id=office.office_id,
        tier=office.tier, common_name=office.common_name, parent_id=office.parent_id, level=level,
        cert_serial=f"{cert.serial_number:x}", cert_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        claimed_signing_time=_iso(status.signer_reported_dt),
        timestamp_time=_iso(ts.timestamp) if ts is not None else None,
        intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted),
        revocation=revocation, revoked_at=_iso(revoked_at),
        certification=docmdp is not None, docmdp=docmdp.name if docmdp is not None else None,
        changes_after=changes_after, coverage=_coverage(status),
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


def _signature_findings(status: PdfSignatureStatus, fact: SignatureFacts, *, under_our_root: bool) -> list[Finding]:
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
            elif fact.tier is None and under_our_root:
                code = "NOT_SEAL_CERT"  # e.g. the TSA's certificate: our root, but not for sealing
            elif not under_our_root:
                code = "CERT_UNTRUSTED"
        out.append(Finding(code, REASONS[code], field=name, indeterminate=code == "REVOCATION_UNKNOWN"))
    elif fact.revocation == "unknown":
        out.append(Finding("REVOCATION_UNKNOWN", REASONS["REVOCATION_UNKNOWN"] + "（没有适用于签章时间的吊销信息）",
                           field=name, indeterminate=True))
    if fact.changes_after == "other":
        out.append(Finding("MODIFIED_AFTER_SIGNING", REASONS["MODIFIED_AFTER_SIGNING"], field=name))
    if fact.coverage == "partial":
        out.append(Finding("COVERAGE", REASONS["COVERAGE"], field=name))
    ts = status.timestamp_validity
    if ts is not None and not (ts.intact and ts.valid and ts.trusted):
        out.append(Finding("TIMESTAMP_INVALID", REASONS["TIMESTAMP_INVALID"], field=name))
    return out
