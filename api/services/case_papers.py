"""The papers of a case beyond the application and the 公示: the letters to the applicant (受理通知书,
一次性告知书, 审核确认决定书, 不予确认告知书, 临时救助审批决定通知书), the records kept in the file (核对授权书,
入户调查表, 民主评议记录, 发放记录) and the cards and certificates (低保证, 限定用途的证明).

Every paper is built from the case: the applicant, the members, the dates and every figure come from the stored
application and the facts each tier fixed when it sealed; the clerk types only what the case cannot know (the
missing papers, the investigators' findings, the votes of a review …). The paper is rendered, sealed by the office
that issues it (its tier must be one the family names) and recorded with the case, where the case page and the
案卷 find it. Letters and certificates leave the office, so they are registered before they are sealed: their QR
code resolves from the moment the sealed file exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from api.services.cases import CaseBook
from api.services.identity import Principal
from api.services.local_rules import LocalRules
from api.services.public_links import Clock
from api.services.publication import (
    CERTIFICATE_CODE,
    STATUS_CERTIFICATE_FAMILY,
    PublicationService,
    certificates_issued_before,
    may_see_case,
)
from api.services.serials import document_number_series, next_serial
from api.services.states import CaseOutcome, CaseStage, PublicationState
from api.services.workflow import DocumentView, Workflow
from api.storage import audit, repositories
from api.storage import cases as case_store
from api.storage.engine import Database, Session
from api.storage.models import CaseRow, DocumentRow, PublicationRow
from signer.decision import CENT
from signer.errors import ConflictError, FieldProblem, ForbiddenError, NotFoundError, TemplateDataError
from signer.pki import Tier
from templates.catalogue import Family
from templates.household import age_on, birth_date

#: stages at which the township handles a file it has received and not yet reported
_AT_TOWNSHIP = frozenset({CaseStage.RECEIVED, CaseStage.PRELIMINARY, CaseStage.NOTICE, CaseStage.OBJECTION})
_APPROVED = frozenset({CaseStage.APPROVED, CaseStage.ANNOUNCED})


@dataclass(frozen=True)
class _Context:
    """What a paper is built from: the case, its application's data and the offices' names."""

    case: CaseRow
    app: dict[str, Any]
    who: Principal
    today: dt.date
    rules: LocalRules
    names: Mapping[str, str]
    doc_number: str
    events: Mapping[str, dt.date]

    @property
    def applicant(self) -> dict[str, Any]:
        return dict(self.app.get("applicant") or {})

    @property
    def village(self) -> str:
        return self.names.get(self.case.village_id, "")

    @property
    def township(self) -> str:
        return self.names.get(self.case.township_id or "", "")

    @property
    def county(self) -> str:
        return self.names.get(self.case.county_id or "", "")

    @property
    def decision(self) -> dict[str, Any]:
        return dict((self.case.facts or {}).get("decision") or {})

    @property
    def received_on(self) -> dt.date:
        return self.case.received_on or self.events.get(CaseStage.RECEIVED.value) or self.today

    def letter_head(self) -> dict[str, Any]:
        a = self.applicant
        return {"issuer": self.who.office_name, "doc_number": self.doc_number, "issued_on": self.today.isoformat(),
                "applicant": {"name": a.get("name", self.case.applicant_name), "id_number": a.get("id_number", ""),
                              "village": self.village}}

    def appeal(self) -> dict[str, Any]:
        return self.rules.appeal(self.county or self.who.office_name)


@dataclass(frozen=True)
class PaperRule:
    """When a paper of a case may be issued, what the clerk supplies, and how its 文号 reads."""

    family: str
    #: the stages of the case at which it may be issued (and what to say otherwise)
    stages: frozenset[CaseStage]
    when: str
    #: top-level fields the clerk types; everything else comes from the case
    inputs: tuple[str, ...]
    #: the 文号's abbreviation (e.g. 民受 → 燕赵镇民受〔2026〕3号); "" for papers without one
    code: str
    build: Callable[[_Context, Mapping[str, Any]], dict[str, Any]]
    #: an extra condition on the case's facts (e.g. a 民主评议 only after an objection)
    extra: Callable[[CaseRow], str | None] | None = None


def _acceptance(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    return {**c.letter_head(), "received_on": c.received_on.isoformat(), "accepted_on": c.received_on.isoformat(),
            "decide_within_days": c.rules.case_deadlines["decide"]}


def _missing(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    return {**c.letter_head(), "received_on": c.received_on.isoformat(), "submit_to": c.village}


def _signers(c: _Context) -> list[dict[str, Any]]:
    """The applicant and every member aged 18 or more on the day (57号: each adult member authorises the check)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    a = c.applicant
    people = [{"name": a.get("name"), "relation": "本人", "id_number": a.get("id_number")}] + [
        {"name": m.get("name"), "relation": m.get("relation"), "id_number": m.get("id_number")}
        for m in c.app.get("members") or []]
    for p in people:
        number = str(p.get("id_number") or "")
        age = age_on(birth_date(number), c.today)
        if not number or number in seen or age is None or age < 18:
            continue
        seen.add(number)
        out.append({"name": p["name"], "relation": p.get("relation") or "本人", "id_number": number})
    return out


def _authorisation(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    a = c.applicant
    authorised = "、".join(n for n in (c.county, c.township) if n)
    return {"issuer": c.who.office_name, "issued_on": c.today.isoformat(), "authorised": authorised,
            "applicant": {"name": a.get("name"), "id_number": a.get("id_number")}, "signers": _signers(c)}


def _investigation(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    a = c.applicant
    members = [{"name": m.get("name"), "relation": m.get("relation"),
                "age": age_on(birth_date(str(m.get("id_number") or "")), c.today) or 0,
                "health": m.get("health") or "", "work": m.get("work") or ""} for m in c.app.get("members") or []]
    return {"issuer": c.who.office_name, "issued_on": c.today.isoformat(),
            "applicant": {"name": a.get("name"), "id_number": a.get("id_number"),
                          "address": a.get("address") or a.get("registered_address") or ""},
            "household_size": len(members), "members": members}


def _review(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    return {"issuer": c.who.office_name, "issued_on": c.today.isoformat(),
            "applicant": {"name": c.applicant.get("name", c.case.applicant_name)}}


def _decision(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    d = c.decision
    return {**c.letter_head(), "appeal": c.appeal(), "accepted_on": c.received_on.isoformat(),
            "decided_on": str(d.get("on") or c.today.isoformat()), "category": c.case.category or c.app.get("category"),
            "persons": int(d["persons"]), "standard": _money(d["standard"]),
            "monthly_amount": _money(d["monthly_amount"]), "start_month": str(d["start_month"]),
            "report_to": c.township}


def _card(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    d, a = c.decision, c.applicant
    return {"issuer": c.who.office_name, "card_number": c.doc_number, "issued_on": c.today.isoformat(),
            "valid_until": (c.today + dt.timedelta(days=c.rules.card_valid_days - 1)).isoformat(),
            "holder": {k: a[k] for k in ("name", "gender", "id_number", "registered_address") if a.get(k)},
            "category": c.case.category or c.app.get("category"), "persons": int(d["persons"]),
            "monthly_amount": _money(d["monthly_amount"]), "since_month": str(d["start_month"]),
            "members": [{"name": m.get("name"), "relation": m.get("relation")} for m in c.app.get("members") or []]}


def _refusal(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    refusal = dict((c.case.facts or {}).get("refusal") or {})
    reason = str(refusal.get("reason") or "").strip()
    return {**c.letter_head(), "appeal": c.appeal(), "accepted_on": c.received_on.isoformat(),
            "decided_on": str(refusal.get("on") or c.today.isoformat()), "reasons": [reason] if reason else []}


def _relief_decision(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    out = {**c.letter_head(), "appeal": c.appeal(), "accepted_on": c.received_on.isoformat()}
    if c.case.outcome == CaseOutcome.APPROVED:
        d = c.decision
        return {**out, "decided_on": str(d.get("on") or c.today.isoformat()), "outcome": "批准",
                "amount": _money(d.get("approved_amount") or 0), "form": d.get("method") or "救助金"}
    refusal = dict((c.case.facts or {}).get("refusal") or {})
    reason = str(refusal.get("reason") or "").strip()
    return {**out, "decided_on": str(refusal.get("on") or c.today.isoformat()), "outcome": "不予批准",
            "reasons": [reason] if reason else []}


def _relief_payment(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    a, d = c.applicant, c.decision
    papers = [p for p in (c.case.facts or {}).get("papers") or [] if p.get("family") == "relief_decision"]
    return {"issuer": c.who.office_name, "issued_on": c.today.isoformat(),
            "applicant": {"name": a.get("name"), "id_number": a.get("id_number")},
            "decision_number": papers[-1].get("doc_number", "") if papers else "",
            "approved_amount": _money(d.get("approved_amount") or 0), "handled_by": c.who.display_name[:20]}


def _status_certificate(c: _Context, given: Mapping[str, Any]) -> dict[str, Any]:
    return {"issuer": c.who.office_name, "serial": c.doc_number, "issued_on": c.today.isoformat(),
            "valid_until": (c.today + dt.timedelta(days=c.rules.certificate_valid_days - 1)).isoformat(),
            "holder": {"name": c.applicant.get("name", c.case.applicant_name)}}


def _after_objection(case: CaseRow) -> str | None:
    return None if (case.facts or {}).get("objection") else "公示未收到异议，无需民主评议"


def _relief_decided(case: CaseRow) -> str | None:
    return None if case.outcome in (CaseOutcome.APPROVED, CaseOutcome.REFUSED) else "临时救助尚未审批"


def _relief_paid(case: CaseRow) -> str | None:
    decision = (case.facts or {}).get("decision") or {}
    return None if case.outcome == CaseOutcome.APPROVED and decision.get("approved_amount") else "临时救助未批准救助金"


PAPERS: dict[str, PaperRule] = {r.family: r for r in (
    PaperRule("dibao_acceptance_notice", _AT_TOWNSHIP, "乡镇受理后", ("contact_phone",), "民受", _acceptance),
    PaperRule("dibao_missing_papers", frozenset({CaseStage.RECEIVED}), "乡镇收到申请、初审之前",
              ("missing", "submit_to", "contact_phone"), "民告", _missing),
    # the township keeps it (the village helps the household sign it): electronic seals of 公示, letters and
    # records are the township's or the county's (signer/route.py)
    PaperRule("dibao_authorisation", _AT_TOWNSHIP | {CaseStage.REPORTED}, "乡镇受理后、审核确认之前", (),
              "", _authorisation),
    PaperRule("dibao_investigation", _AT_TOWNSHIP, "乡镇受理后、报县之前",
              ("visited_on", "findings", "conclusion", "investigators"), "", _investigation),
    PaperRule("dibao_review_record", frozenset({CaseStage.OBJECTION, CaseStage.NOTICE, CaseStage.REPORTED}),
              "公示收到异议后", ("held_on", "place", "chair", "recorder", "attendees", "objection", "discussion",
                           "votes", "conclusion"), "", _review, extra=_after_objection),
    PaperRule("dibao_decision", _APPROVED, "县级审核确认后", ("card_number",), "民低决", _decision),
    PaperRule("dibao_card", _APPROVED, "县级审核确认后", (), "低保证", _card),
    PaperRule("dibao_refusal_letter", frozenset({CaseStage.REFUSED}), "作出不予确认决定后", ("reasons", "basis"),
              "民不确", _refusal),
    PaperRule("relief_decision", frozenset({CaseStage.APPROVED, CaseStage.REFUSED}), "审批后", ("reasons",),
              "民临救", _relief_decision, extra=_relief_decided),
    PaperRule("relief_payment", frozenset({CaseStage.APPROVED}), "批准救助金后", ("payments", "handled_by"), "",
              _relief_payment, extra=_relief_paid),
    PaperRule(STATUS_CERTIFICATE_FAMILY, _APPROVED, "县级审核确认后", ("recipient", "purpose"), CERTIFICATE_CODE,
              _status_certificate),
)}


def _money(value: object) -> str:
    return str(Decimal(str(value)).quantize(CENT))


@dataclass(frozen=True)
class PaperOption:
    """A paper the case page offers: whether it may be issued now (and why not), and what the clerk types."""

    family: str
    title: str
    kind: str
    allowed: bool
    why_not: str | None
    inputs: list[str]
    issued: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CasePapers:
    """Issues the papers of a case (see the module docstring)."""

    def __init__(self, *, db: Database, workflow: Workflow, publication: PublicationService, cases: CaseBook,
                 clock: Clock, rules: Callable[[], LocalRules]) -> None:
        self.db = db
        self.workflow = workflow
        self.publication = publication
        self.cases = cases
        self.clock = clock
        self._rules = rules

    @property
    def catalogue(self) -> Any:
        return self.workflow.documents.catalogue

    def _family(self, family_id: str) -> Family:
        family: Family = self.catalogue.family(family_id)
        if family_id not in PAPERS:
            raise NotFoundError(f"「{family.title}」不是案件文书", code="NOT_A_CASE_PAPER")
        return family

    def _case(self, session: Any, who: Principal, case_id: str) -> tuple[CaseRow, DocumentRow]:
        if who.office_id is None:
            raise ForbiddenError("需要单位工作人员身份", code="ROLE_FORBIDDEN")
        case = case_store.case(session, case_id)
        app = repositories.document(session, case.application_id)
        if who.office_id not in (case.village_id, case.township_id, case.county_id) or not may_see_case(who, app):
            raise NotFoundError("没有这个案件，或它不属于本单位", code="UNKNOWN_CASE")
        return case, app

    @staticmethod
    def refusal(case: CaseRow, family: Family, tier: Tier) -> str | None:
        """Why this office may not issue this paper of this case now (None: it may)."""
        rule = PAPERS[family.id]
        if family.case_kind and family.case_kind != case.kind:
            return f"「{family.title}」不适用于本类案件"
        if tier.value not in family.issued_by:
            tiers = "、".join(Tier(t).label for t in family.issued_by)
            return f"「{family.title}」由{tiers}单位出具"
        if CaseStage(case.stage) not in rule.stages:
            return f"「{family.title}」应在{rule.when}出具（案件当前：{CaseStage(case.stage).label}）"
        return rule.extra(case) if rule.extra is not None else None

    def options(self, who: Principal, case_id: str) -> list[PaperOption]:
        """Every paper of the case's kind, as this office may see it: issued copies and whether it may issue one."""
        with self.db.session() as session:
            case, _ = self._case(session, who, case_id)
            tier = _tier(case, who.office_id or "")
        issued = list((case.facts or {}).get("papers") or [])
        out = []
        for family_id, rule in PAPERS.items():
            family = self.catalogue.family(family_id)
            if family.case_kind != case.kind:
                continue
            why = self.refusal(case, family, tier)
            out.append(PaperOption(family_id, family.title, family.kind, why is None, why, list(rule.inputs),
                                   [p for p in issued if p.get("family") == family_id]))
        return out

    @staticmethod
    def _issued_before(session: Session, office_id: str, code: str, family_id: str) -> int:
        """A floor for the office's series of ``code``: what it numbered before the counter existed."""
        if code == CERTIFICATE_CODE:
            return certificates_issued_before(session, office_id)
        return repositories.count_family(session, office_id, family_id)

    def issue(self, who: Principal, case_id: str, family_id: str, given: Mapping[str, Any] | None = None
              ) -> DocumentView:
        """Build the paper from the case (and the clerk's ``given`` fields), seal it as the issuing office and
        record it with the case. Anything the case fixes cannot be given: it is refused, naming the field."""
        family = self._family(family_id)
        rule = PAPERS[family_id]
        given = dict(given or {})
        typed = [k for k in given if k not in rule.inputs]
        if typed:
            raise TemplateDataError([FieldProblem(k, "由案件生成，不能手工填写") for k in typed],
                                    f"「{family.title}」中这些内容由案件生成")
        today = self.clock.today()
        with self.db.session() as session:
            case, app = self._case(session, who, case_id)
            why = self.refusal(case, family, _tier(case, who.office_id or ""))
            if why is not None:
                raise ConflictError(why, code="PAPER_NOT_NOW")
            names = repositories.office_names(session, [o for o in (case.village_id, case.township_id,
                                                                   case.county_id) if o])
            events = {e.stage: e.on for e in case_store.events(session, case.id)}
        number = ""
        if rule.code:  # taken (and committed) once the paper may be issued; a later failure leaves a gap, never a twin
            office = who.office_id or ""
            serial = next_serial(self.db, office, document_number_series(rule.code),
                                 before=lambda session: self._issued_before(session, office, rule.code, family_id))
            short = (who.office_name.removesuffix("人民政府").removesuffix("民政局")
                     .removesuffix("办事处").removesuffix("村民委员会"))
            number = f"{short}{rule.code}〔{today.year}〕{serial}号"
        context = _Context(case, dict(app.data or {}), who, today, self._rules(), names, number, events)
        case_id = case.id
        data = {**rule.build(context, given), **given}
        view = self.workflow.create(who, family_id, data, derived=True)
        if family.public:
            with self.db.session() as session:
                row = self.publication.certificate_row(repositories.document(session, view.id))
                row.state, row.published_at = PublicationState.DRAFT.value, None
                row.application_ids = [context.case.application_id]
                session.add(row)
        sealed = self.workflow.seal(who, view.id)
        with self.db.session() as session:
            case = case_store.case(session, case_id)
            doc = repositories.document(session, view.id)
            if family.public:
                posted = session.get(PublicationRow, view.id)
                if posted is not None:
                    posted.state, posted.published_at = PublicationState.PUBLISHED.value, self.clock.now()
            entry = {"family": family_id, "title": family.title, "document_id": view.id, "public_id": doc.public_id,
                     "doc_number": number, "on": today.isoformat(), "office_id": who.office_id}
            facts = {**(case.facts or {}), "papers": [*((case.facts or {}).get("papers") or []), entry]}
            refusal = dict(facts.get("refusal") or {})
            if family_id == "dibao_refusal_letter" and refusal and not refusal.get("notified_on"):
                # the written notice with reasons and remedies is the 告知 57号 asks for within its deadline
                refusal["notified_on"], refusal["letter"] = today.isoformat(), view.id
                facts["refusal"] = refusal
            case_store.move(session, case, case.lock_version, facts=facts)
            case_store.add_event(session, case.id, stage=case.stage, on=today, actor=who.actor,
                                 office_id=who.office_id, document_id=view.id, version=sealed.current_version,
                                 note=f"出具《{family.title}》" + (f"（{number}）" if number else ""))
            audit.append(session, actor=who.actor, action="paper.issue", office_id=who.office_id,
                         document_id=view.id, detail={"case": case_id, "family": family_id, "number": number})
        return sealed


def _tier(case: CaseRow, office_id: str) -> Tier:
    if office_id == case.village_id:
        return Tier.VILLAGE
    if office_id == case.township_id:
        return Tier.TOWNSHIP
    return Tier.COUNTY


__all__ = ["PAPERS", "CasePapers", "PaperOption", "PaperRule"]
