"""Use case: an office seals a MinSeal document. Decides certify vs countersign from the file and the route,
builds the visible seal for the office's slot, signs with the office's cached key, logs the use (用印日志)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from api.services.authority import CertRecord, SealAuthority
from api.services.authority.records import SealState
from api.services.local_rules import decision_rules
from api.services.offices import Office
from api.services.official_sealing import OfficialLevel
from api.settings import Settings
from signer.appearance import MM, BoxAppearance, FaceChain, OutlineFont, box_ops, seal_ops
from signer.decision import DecisionRules, parse_decision
from signer.errors import (
    MinSealError,
    NotSealableError,
    SealingError,
    SealRevokedError,
    VerificationRefusedError,
)
from signer.form_facts import read_form_facts
from signer.keystore import Pkcs11KeyStore, Pkcs12KeyStore, Sm2FileKeyStore
from signer.layout import read_layout
from signer.pki import Tier
from signer.provider_specs import OfficialSpec, ProviderKind, RemoteSpec
from signer.providers import OfficialSealProvider, OwnCaProvider, SealProvider
from signer.remote import RemoteSealProvider
from signer.report import Verdict, VerificationReport
from signer.route import check_slots_form_a_route, plan_box
from signer.sign import DocMdp, PdfToSeal, Sealed, Sealer, SealLevel, SealPlan, SealTarget
from signer.signers import (
    KeySigner,
    Revocation,
    Timestamper,
    http_timestamper,
    local_timestamper,
    sm2_key_signer,
    sm2_local_timestamper,
)
from signer.verify import ParsedPdf
from templates.fonts import FontSet
from templates.form_text import DEFAULT_OPINIONS as FORM_OPINIONS
from templates.form_text import default_opinion
from templates.formats import cn_date

#: each tier's default opinion in the wording 民发〔2021〕57号 gives it (by form kind: templates/form_text.py)
DEFAULT_OPINIONS = {tier: FORM_OPINIONS["dibao"][tier.value] for tier in (Tier.VILLAGE, Tier.TOWNSHIP, Tier.COUNTY)}


@dataclass(frozen=True)
class SealResult:
    pdf: bytes
    field_name: str
    certified: bool
    office: Office
    serial: str
    #: a PAdES level, or ``OfficialLevel.GBT38540`` for an official seal
    level: SealLevel | OfficialLevel
    #: the 用印日志 entry for this use (who, when, which office/certificate, document hash before and after)
    use_entry: dict[str, Any]


class SealCheck(Protocol):
    """The installation's seal check. ``parsed``: the sealer's own parse of ``pdf``, for a check that would
    otherwise parse it again (a cached report needs none)."""

    def __call__(self, pdf: bytes, /, *, parsed: ParsedPdf | None = None) -> VerificationReport: ...


@dataclass(frozen=True)
class _Job:
    office: Office
    record: CertRecord
    level: SealLevel
    doc: PdfToSeal
    plan: SealPlan
    sealer: Sealer
    signer: KeySigner
    key: tuple[str, str, SealLevel, bool]
    provider: ProviderKind = ProviderKind.OWN_CA


class SealingService:
    """One per process: caches office signers (keys are decrypted once), fonts and seal artwork."""

    def __init__(self, settings: Settings, authority: SealAuthority,
                 check: SealCheck,
                 use_log: Callable[[dict[str, Any]], None] | None = None) -> None:
        """``check`` is the installation's seal check (route policy, trust, revocation): a countersign covers
        everything before it, so it is only made on a file that passes. ``use_log`` records each use; default:
        a ``seal.use`` row of the installation's audit chain. The service passes its own and writes the entry
        into the chain in the same transaction as the new version."""
        self.settings = settings
        self.authority = authority
        self._check = check
        self._use_log = use_log or self._append_use
        self._signers: dict[str, KeySigner] = {}
        self._providers: dict[str, SealProvider] = {}
        self._seal_art: dict[str, bytes] = {}
        self._fonts: tuple[OutlineFont, OutlineFont] | None = None
        self._fallbacks: tuple[OutlineFont, ...] = ()
        self._timestamper: Timestamper | None = None
        self._local_tsa: Timestamper | None = None
        self._reserve: dict[tuple[str, str, SealLevel, bool], int] = {}

    # -- cached material ---------------------------------------------------------------------------------------
    def fonts(self) -> tuple[OutlineFont, OutlineFont]:
        """(text face: Kai, as handwritten opinions; seal face: Song, as seals are cut)."""
        if self._fonts is None:
            faces = {face.role: (path, index) for face, path, index in FontSet.locate().files}
            self._fonts = (OutlineFont(*faces["kai"]), OutlineFont(*faces["song"]))
            self._fallbacks = (OutlineFont(*faces["fallback"]), OutlineFont(*faces["fallback_ext"]))
        return self._fonts

    def text_faces(self) -> FaceChain:
        """The opinion's face with the documents' fallbacks for rare name characters (䶮, 燚, 𠮷 …)."""
        text, _seal = self.fonts()
        return FaceChain(text, *self._fallbacks)

    def decision_rules(self) -> DecisionRules:
        return decision_rules(self.settings)

    def signer_for(self, office: Office, record: CertRecord) -> KeySigner:
        key = f"{office.id}:{record.serial}"
        if key not in self._signers:
            store = self.authority.key_store(office) if office.seal_provider.kind is ProviderKind.OWN_CA else None
            if isinstance(store, Sm2FileKeyStore):  # an SM2 installation: SM2 over SM3 (signer.sm2_cms)
                self._signers[key] = sm2_key_signer(store.private_key(office.id), store.certificate(office.id),
                                                    root=self.authority.root_certificate())
            else:
                self._signers[key] = self.provider_for(office).pdf_signer()
        return self._signers[key]

    def provider_for(self, office: Office) -> SealProvider:
        """Where the office's seal comes from, as the registry says (signer/providers.py): the one place that
        knows the kinds. A provider outside MinSeal's CA is kept for the process (its key decrypted, its
        certificates fetched once); MinSeal's own follows the ledger (a renewed key is a new signer)."""
        spec = office.seal_provider
        if isinstance(spec, RemoteSpec | OfficialSpec):
            if office.id not in self._providers:
                self._providers[office.id] = (RemoteSealProvider(spec) if isinstance(spec, RemoteSpec)
                                              else OfficialSealProvider(spec))
            return self._providers[office.id]
        store = self.authority.key_store(office)
        root = self.authority.root_certificate()
        if isinstance(store, Pkcs12KeyStore):
            return OwnCaProvider.from_key(store.private_key(office.id), store.certificate(office.id), root=root)
        if isinstance(store, Pkcs11KeyStore):
            return OwnCaProvider.from_token(store.open_session(), office.id, root=root)
        raise NotSealableError("未知的密钥库类型")

    def check_can_seal(self, office_key: str) -> tuple[Office, CertRecord]:
        """MinSeal's ledger for its own CA's seals; for another provider, its signing certificate: in its
        validity period and naming this office (a seal id mixed up between offices is refused here, not by the
        next tier's verification)."""
        office = self.authority.registry().get(office_key)
        if office.seal_provider.kind is ProviderKind.OWN_CA:
            return self.authority.check_can_seal(office_key)
        cert = self.provider_for(office).certificates()[0]
        subject = cert.subject.native
        named = {str(subject.get(k)) for k in ("common_name", "organization_name", "serial_number")}
        if office.name not in named and office.id not in named:
            kind = office.seal_provider.kind.label
            raise SealingError(f"「{office.name}」的{kind}证书签发给「{cert.subject.human_friendly}」，"
                               "不是本单位，不能用印",
                               code="PROVIDER_WRONG_OFFICE")
        validity = cert["tbs_certificate"]["validity"]
        not_before, not_after = validity["not_before"].native, validity["not_after"].native
        if not not_before <= dt.datetime.now(dt.UTC) <= not_after:
            raise SealRevokedError(f"「{office.name}」的{office.seal_provider.kind.label}证书不在有效期内"
                                   f"（{not_before:%Y-%m-%d} 至 {not_after:%Y-%m-%d}），不能用印",
                                   code="PROVIDER_CERT_EXPIRED")
        return office, CertRecord(serial=format(cert.serial_number, "x"), office_id=office.id,
                                  algorithm=cert.public_key.algorithm, key_store=office.seal_provider.kind.value,
                                  not_before=not_before.isoformat(), not_after=not_after.isoformat(),
                                  status=SealState.ACTIVE)

    def _revocation_for(self, office: Office) -> Revocation:
        """MinSeal's CRL and OCSP for its own seals; another provider's certificates name their own sources."""
        if office.seal_provider.kind is ProviderKind.OWN_CA:
            return self.revocation()
        top = self.provider_for(office).certificates()[-1]
        return Revocation(root=lambda: x509.load_der_x509_certificate(top.dump()))

    def timestamper(self) -> Timestamper:
        """The configured TSA over HTTP, or MinSeal's own in process."""
        if self._timestamper is None:
            if self.settings.tsa_url:
                token = self.settings.tsa_token.get_secret_value() if self.settings.tsa_token else None
                self._timestamper = http_timestamper(self.settings.tsa_url, timeout=10, token=token)
            else:
                self._timestamper = self.local_timestamper()
        return self._timestamper

    def local_timestamper(self) -> Timestamper:
        """MinSeal's own TSA (what ``/pki/tsa`` serves): a timeStamping certificate under our root (SM2 under an
        SM2 root)."""
        if self._local_tsa is None:
            tsa_cert = self.authority.ensure_tsa()
            store = self.authority.tsa_store()
            root = self.authority.root_certificate()
            if isinstance(store, Sm2FileKeyStore):
                self._local_tsa = sm2_local_timestamper(tsa_cert, store.private_key(self.authority.TSA_KEY_ID),
                                                        root=root)
            else:
                self._local_tsa = local_timestamper(tsa_cert, store.private_key(self.authority.TSA_KEY_ID),
                                                    root=root)
        return self._local_tsa

    def revocation(self) -> Revocation:
        """Long-term seals embed revocation data fetched from the certificates' URLs, or this installation's
        current CRL (both read when a seal needs them)."""
        if self.settings.fetch_revocation:
            return Revocation(root=self.authority.root_certificate)
        return Revocation(root=self.authority.root_certificate, crl=self._crl_der, ocsp=self._ocsp_response)

    def _ocsp_response(self, request: bytes) -> bytes:
        """This installation's OCSP responder, asked in process (what ``/pki/ocsp`` answers)."""
        return self.authority.ocsp_respond(request)

    def _crl_der(self) -> bytes:
        return self.authority.crl().public_bytes(serialization.Encoding.DER)

    def seal_art(self, office: Office) -> bytes:
        if office.id not in self._seal_art:
            self._seal_art[office.id] = seal_ops(office.seal_spec, self.fonts()[1])
        return self._seal_art[office.id]

    # -- the use case --------------------------------------------------------------------------------------------
    def seal(self, pdf: bytes, office_key: str, *, opinion: str | None = None, level: str | None = None,
             day: dt.date | None = None, actor: str = "cli",
             deliver: Callable[[bytes], None] | None = None, decision: object = None) -> SealResult:
        """The one signing path, blocking (the service calls it from its worker threads). ``deliver`` writes
        the sealed file; the use log records it only after it returned, so the log never names an output that
        does not exist. ``decision``: the tier's figures (signer/decision.py), validated and drawn inside its
        signature appearance. The file is parsed once: layout, form facts and the pre-countersign check read
        that parse, and the same writer signs. An office with an official seal seals with it instead
        (GB/T 38540, api/services/official_sealing.py)."""
        office, record = self.check_can_seal(office_key)
        if office.seal_provider.kind is ProviderKind.OFFICIAL:
            from api.services.official_sealing import seal_official

            return seal_official(self, pdf, office, record, opinion=opinion, day=day or dt.date.today(),
                                 actor=actor, deliver=deliver, decision=decision)
        job = self._prepare(pdf, office_key, opinion=opinion, level=level, day=day, decision=decision,
                            checked=(office, record))
        try:
            sealed = job.sealer.seal(job.doc, job.plan, job.signer, reserve=self._reserve.get(job.key))
        except SealingError:
            self.authority.check_can_seal(office_key)  # revoked while we signed: say so (SEAL_REVOKED)
            raise
        return self._finish(pdf, sealed, job, actor, deliver)

    def _prepare(self, pdf: bytes, office_key: str, *, opinion: str | None, level: str | None,
                 day: dt.date | None, decision: object = None,
                 checked: tuple[Office, CertRecord] | None = None) -> _Job:
        office, record = checked or self.check_can_seal(office_key)
        try:
            seal_level = SealLevel(level or self.settings.seal_level)
        except ValueError:
            levels = "、".join(v.value for v in SealLevel)
            raise NotSealableError(f"签章级别只能是：{levels}", code="BAD_LEVEL") from None
        doc = PdfToSeal(pdf)
        plan = self.plan(doc, office, opinion=opinion, level=seal_level, day=day or dt.date.today(),
                         decision=decision)
        if not plan.certify:
            self._refuse_unless_passes(doc, office)
        sealer = Sealer(timestamper=self.timestamper() if seal_level is not SealLevel.B_B else None,
                        revocation=self._revocation_for(office))
        return _Job(office, record, seal_level, doc, plan, sealer, self.signer_for(office, record),
                    (office.id, record.serial, seal_level, plan.certify), office.seal_provider.kind)

    def _finish(self, pdf: bytes, sealed: Sealed, job: _Job, actor: str,
                deliver: Callable[[bytes], None] | None) -> SealResult:
        out = sealed.pdf
        if deliver is not None:
            deliver(out)
        if job.key not in self._reserve:
            # signature sizes vary by a few bytes (ECDSA, timestamps, revocation data): keep headroom
            self._reserve[job.key] = sealed.container_hex + 2048
        entry = _use_entry(actor=actor, office=job.office, record=job.record, field=job.plan.target.field_name,
                           before=pdf, after=out, level=job.level, certified=job.plan.certify, provider=job.provider)
        self._use_log(entry)
        return SealResult(out, job.plan.target.field_name, job.plan.certify, job.office, job.record.serial, job.level,
                          entry)

    def _refuse_unless_passes(self, doc: PdfToSeal, office: Office) -> None:
        """A countersign covers everything before it: only on a file that passes (通过), read before the
        seal adds anything."""
        report = self._check(doc.pdf, parsed=doc.reader)
        if report.verdict is not Verdict.PASSED:
            raise VerificationRefusedError(
                f"「{office.name}」不能会签：文件未通过电子签章校验（{report.summary()}）",
                code="COUNTERSIGN_REFUSED", report=report.to_dict())

    def _parent_name(self, office: Office) -> str:
        """The office a village's opinion reports to, by its registered name."""
        route = self.authority.registry().route(office.id)
        return route[1].name if len(route) > 1 else ""

    def _route_of(self, office_id: str) -> list[str] | None:
        try:
            return [o.id for o in self.authority.registry().route(office_id)]
        except MinSealError:
            return None

    def plan(self, doc: PdfToSeal, office: Office, *, opinion: str | None, level: SealLevel, day: dt.date,
             decision: object = None) -> SealPlan:
        layout = read_layout(doc.reader)
        check_slots_form_a_route(layout.table, self._route_of)
        box = plan_box(layout.table, layout.signed, office_id=office.id, office_name=office.name, tier=office.tier)
        text_font, seal_font = self.fonts()
        art = self.seal_art(office)
        slot = box.slot
        x1, y1, x2, y2 = slot.rect
        target = SealTarget(slot.field_name, slot.page_index, slot.rect)
        if not box.issuing:
            facts = read_form_facts(doc.reader)
            ruling = parse_decision(decision, tier=office.tier, facts=facts, day=day, rules=self.decision_rules())
            kind = facts.kind if facts is not None and facts.kind in FORM_OPINIONS else "dibao"
            text = opinion or ruling.opinion or default_opinion(kind, office.tier.value,
                                                                reports_to=self._parent_name(office))
            drawn = box_ops(BoxAppearance(
                width=x2 - x1, height=y2 - y1, opinion=text, office=office.name, date_text=cn_date(day),
                seal=office.seal_spec, figures=ruling.figures,
                staff=(ruling.handler, ruling.head) if facts is not None else None,
            ), text_font=self.text_faces(), seal_font=seal_font, seal_content=art)
            reserve = tuple(SealTarget(s.field_name, s.page_index, s.rect) for s in box.reserve)
            return SealPlan(target=target, appearance=drawn.ops, fonts=drawn.fonts, level=level,
                            certify=box.certify, docmdp=DocMdp.FILL_FORMS, reserve=reserve, reason=text[:200],
                            signer_name=office.name)
        appearance = box_ops(BoxAppearance(width=x2 - x1, height=y2 - y1, opinion=None, office=None,
                                           date_text=None, seal=office.seal_spec),
                             text_font=text_font, seal_font=seal_font, seal_content=art).ops
        riding = (art, office.seal_spec.diameter_mm * MM) if layout.pages > 1 else None
        return SealPlan(target=target, appearance=appearance, level=level, certify=True, docmdp=DocMdp.NO_CHANGES,
                        riding_seal=riding, reason="发布", signer_name=office.name)

    def _append_use(self, entry: dict[str, Any]) -> None:
        """The 用印日志 of sealing without the service (CLI, scripts): a row of the installation's audit chain."""
        from api.storage import audit

        with self.authority.database().session() as session:
            audit.append(session, actor=entry["actor"], action="seal.use", office_id=entry["office_id"],
                         detail=entry)


def _use_entry(*, actor: str, office: Office, record: CertRecord, field: str, before: bytes, after: bytes,
               level: SealLevel | OfficialLevel, certified: bool,
               provider: ProviderKind = ProviderKind.OWN_CA) -> dict[str, Any]:
    """用印日志: who, when, which document (hash before and after), which office and certificate (and, for a
    seal not made by MinSeal's own CA, where it came from)."""
    extra = {} if provider is ProviderKind.OWN_CA else {"seal_provider": provider.value}
    return {**extra, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "actor": actor,
            "office_id": office.id, "office": office.name, "serial": record.serial, "field": field,
            "level": level.value, "certified": certified,
            "sha256_in": hashlib.sha256(before).hexdigest(), "sha256_out": hashlib.sha256(after).hexdigest()}
