"""The 公示 lifecycle (57号 art. 19, 24) and what the public verification page shows.

- the township builds one 公示 per village from the applications it has accepted (no retyping), with the period
  fixed at build time (the period is printed and signed into the QR token): N days, calendar or working days by
  setting, 7 the floor;
- publish = the issuing seal + the notice goes live; objections are recorded (the objector's identity for staff
  only); a notice may be withdrawn, or re-published after re-investigation as a new version with a new public id
  (the old page then says it was superseded and links the new one); a 公示 ends by the clock;
- the county builds the 结果公布 from its approvals; certificates can be revoked and expire.

Every public answer is built from the ``public`` column (or :func:`public_content`), never from the application
data, so no ID number, phone or address can reach it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from api.services.access import may_see
from api.services.cases import CaseBook, Step
from api.services.checks import ReportCache
from api.services.identity import Principal, Role
from api.services.local_rules import LocalRules, local_rules
from api.services.public_links import Clock, PublicLinks, TokenCheck, public_content
from api.services.serials import document_number_series, next_serial
from api.services.states import (
    EXPIRED,
    IN_FORCE,
    NOTICE_ENDED,
    NOTICE_RUNNING,
    NOTICE_UPCOMING,
    PublicationKind,
    PublicationState,
    Status,
)
from api.services.verification import VerificationService
from api.services.workflow import Workflow
from api.settings import Settings
from api.storage import audit, publications, repositories
from api.storage.blobs import BlobStore, sha256_hex
from api.storage.engine import Database, Session
from api.storage.models import DocumentRow, ObjectionRow, PublicationRow
from signer.decision import CENT, NoticeRule, dibao_amount
from signer.errors import ConflictError, FieldProblem, ForbiddenError, NotFoundError, TemplateDataError
from signer.formats import cn_date, money
from signer.pki import Tier
from signer.report import VerificationReport

CHANNELS = ("来访", "电话", "信函", "电子邮件", "网络", "其他")
STAFF_ROLES = frozenset({Role.CLERK, Role.REVIEWER, Role.APPROVER})
VILLAGE_SUFFIXES = ("社区居民委员会", "村民委员会", "居民委员会", "村委会", "居委会")


#: the 文号 code of 低保 certificates: the register's 低保证明 and the case paper 低保状态证明 share its series
CERTIFICATE_CODE = "低证"
STATUS_CERTIFICATE_FAMILY = "dibao_status_certificate"


def certificates_issued_before(session: Session, office_id: str) -> int:
    """A floor for the office's 低证 series: every certificate it issued before the counter existed, both kinds."""
    return (publications.count_of_kind(session, office_id, PublicationKind.CERTIFICATE.value)
            + repositories.count_family(session, office_id, STATUS_CERTIFICATE_FAMILY))


def period_end(start: dt.date, days: int, *, working: bool, holidays: frozenset[dt.date] = frozenset(),
               workdays: frozenset[dt.date] = frozenset()) -> dt.date:
    """The last day of a period of ``days`` days from ``start`` (inclusive); the rule is
    :meth:`signer.decision.NoticeRule.end`."""
    return NoticeRule(days, working, holidays, workdays).end(start)


def village_name(office_name: str) -> str:
    for suffix in VILLAGE_SUFFIXES:
        if office_name.endswith(suffix) and len(office_name) > len(suffix):
            return office_name[: -len(suffix)]
    return office_name


@dataclass(frozen=True)
class NoticeView:
    """What staff see of a publication (the application ids and reasons stay on the staff side)."""

    document_id: str
    public_id: str
    kind: str
    office_id: str
    village: str | None
    series_id: str
    version: int
    state: str
    status: str
    start_on: str | None
    end_on: str | None
    days: int | None
    working_days: bool
    valid_until: str | None
    households: int
    application_ids: list[str]
    reason: str | None
    superseded_by: str | None
    objections: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ObjectionView:
    id: int
    document_id: str
    received_on: str
    channel: str
    summary: str
    objector_name: str | None
    objector_contact: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SealLine:
    office: str
    intact: bool
    trusted: bool
    time: str | None


@dataclass(frozen=True)
class PublicView:
    """Everything a public page shows: nothing here may identify more than a notice may (art. 24)."""

    public_id: str
    kind: str
    title: str
    state: str
    status: str
    issuer: str
    issued_on: str | None
    period: dict[str, Any] | None
    rows: list[dict[str, Any]]
    serial: str | None
    valid_until: str | None
    ended_on: str | None
    sha256: str
    pdf_available: bool
    verdict: str
    verdict_label: str
    seals: list[SealLine]
    superseded_by: str | None
    token: dict[str, Any] | None = None
    content_sha256: str | None = None
    #: the name of the person a certificate, card or letter is for (nothing else about them)
    holder: str | None = None
    #: where a 公示 takes objections: the office, its phone and address
    objection: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CompareResult:
    """The answer to 'is the file I was given the registered one?'."""

    same: bool
    word: str
    uploaded_sha256: str
    registered_sha256: str
    verdict: str
    verdict_label: str
    seals: list[SealLine]
    findings: list[str]
    #: for a certificate whose file matched: what it certifies (the uploader holds that file already)
    holder: dict[str, Any] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seal_lines(report: VerificationReport) -> list[SealLine]:
    return [SealLine(s.office_name or "（未知单位）", s.intact, s.trusted, s.timestamp_time or s.claimed_signing_time)
            for s in report.signatures]


class PublicationService:
    def __init__(self, *, settings: Settings, db: Database, blobs: BlobStore, workflow: Workflow,
                 links: PublicLinks, checks: ReportCache, verification: VerificationService, clock: Clock,
                 cases: CaseBook) -> None:
        self.settings = settings
        self.cases = cases
        self.db = db
        self.blobs = blobs
        self.workflow = workflow
        self.links = links
        self.checks = checks
        self.verification = verification
        self.clock = clock

    # -- guards -------------------------------------------------------------------------------------------
    def _staff(self, who: Principal, tier: Tier | None = None) -> None:
        if who.role not in STAFF_ROLES or (tier is not None and who.tier is not tier):
            what = f"{tier.label}单位的经办、审核或审批人员" if tier else "经办、审核或审批人员"
            raise ForbiddenError(f"只有{what}可以办理公示和证明", code="ROLE_FORBIDDEN")

    def _own(self, session: Session, who: Principal, document_id: str) -> PublicationRow:
        row = session.get(PublicationRow, document_id)
        if row is None or row.office_id != who.office_id:
            raise NotFoundError("没有这份公示或证明，或它不属于本单位", code="UNKNOWN_PUBLICATION")
        return row

    # -- rules and periods ------------------------------------------------------------------------------
    @property
    def rules(self) -> LocalRules:
        return local_rules(self.settings)

    def period(self, start: dt.date, days: int | None) -> tuple[dt.date, int, int]:
        """(end, days as set, calendar days spanned) — refusing fewer than the local rule's days."""
        notice = self.rules.notice
        days = days or notice.days
        self.rules.check_notice_days(days)
        end = notice.end(start, days)
        return end, days, (end - start).days + 1

    # -- building -----------------------------------------------------------------------------------------
    def _sealed_figures(self, session: Session, doc: DocumentRow, tier: Tier) -> dict[str, Any] | None:
        """The figures ``tier``'s office fixed for this application when it sealed (stored once in its case: the
        township's 初审, the county's 审核确认), or None when it fixed none."""
        row = self.cases.of_document(session, doc.id)
        if row is None:
            return None
        fixed = (row.facts or {}).get("township" if tier is Tier.TOWNSHIP else "decision")
        if isinstance(fixed, dict) and fixed.get("monthly_amount") is not None:
            return dict(fixed)
        return None

    def _proposal(self, doc: DocumentRow, override: dict[str, Any] | None,
                  sealed: dict[str, Any] | None = None, *, where: str = "overrides") -> dict[str, Any]:
        """One list row from an application: head, village, persons covered, monthly amount. Figures a tier
        sealed are shown as sealed (an override may repeat them, never change them); else the typed override,
        else the amount by the one rule (signer.decision.dibao_amount) with the standard of the application's
        申请类别."""
        data = doc.data or {}
        override = override or {}
        path = f"{where}.{doc.id}"
        if sealed is not None:
            persons, amount = int(sealed["persons"]), Decimal(str(sealed["monthly_amount"])).quantize(CENT)
            category = str(sealed.get("category") or override.get("category") or "A类")
            typed: dict[str, object] = {"persons": persons, "monthly_amount": amount}
            if sealed.get("category"):
                typed["category"] = category
            problems = [FieldProblem(f"{path}.{key}", f"与已盖章的审批决定不一致（决定为 {typed[key]}）")
                        for key in typed if override.get(key) is not None
                        and (Decimal(str(override[key])) != typed[key] if key == "monthly_amount"
                             else str(override[key]) != str(typed[key]))]
            if problems:
                raise TemplateDataError(problems, "公布的人数、金额和类别应与已盖章的审批决定一致")
        else:
            facts = self.workflow.documents.catalogue.prepare(
                doc.family, data, rules=self.rules.document_rules()).view["facts"]
            persons = int(override.get("persons") or facts["household_size"] or 1)
            category = str(override.get("category") or "A类")
            if override.get("monthly_amount") is not None:
                amount = Decimal(str(override["monthly_amount"])).quantize(CENT)
            else:
                standard = self.rules.dibao_standard(data.get("category"))
                amount = dibao_amount(standard, facts["per_capita_income"], persons,
                                      total_income=facts.get("total_income"),
                                      household_size=facts.get("household_size")).monthly_amount
        if amount <= 0:
            raise TemplateDataError([FieldProblem(f"{path}.monthly_amount",
                                                  "按本地低保标准测算的保障金额不大于零，请填写拟保障金额")])
        return {"head_name": (data.get("applicant") or {}).get("name", ""), "persons": persons,
                "monthly_amount": str(amount), "category": category}

    def _notice_rows(self, apps: list[DocumentRow], overrides: dict[str, dict[str, Any]] | None,
                     village: str) -> list[dict[str, Any]]:
        with self.db.session() as session:
            sealed = {d.id: self._sealed_figures(session, d, Tier.TOWNSHIP) for d in apps}
        return [{**self._proposal(d, (overrides or {}).get(d.id), sealed[d.id]), "village": village,
                 "village_id": d.route[0]} for d in apps]

    def _taken(self, session: Session, kind: PublicationKind) -> set[str]:
        return publications.application_ids_in(
            session, kind.value, [PublicationState.DRAFT.value, PublicationState.PUBLISHED.value])

    def build_notices(self, who: Principal, *, objection: dict[str, str], start: dt.date | None = None,
                      days: int | None = None, overrides: dict[str, dict[str, Any]] | None = None,
                      application_ids: list[str] | None = None) -> list[NoticeView]:
        """One draft 公示 per village from the applications this township accepted and has not yet posted."""
        self._staff(who, Tier.TOWNSHIP)
        today = self.clock.today()
        start = start or today + dt.timedelta(days=1)
        if start < today:
            raise TemplateDataError([FieldProblem("start", "公示开始日期不能早于今天")])
        end, set_days, span = self.period(start, days)
        with self.db.session() as session:
            taken = self._taken(session, PublicationKind.NOTICE)
            docs = [d for d in publications.applications_held_by(session, "dibao_application",
                                                                 Status.ACCEPTED.value, who.office_id)
                    if d.id not in taken and (application_ids is None or d.id in application_ids)
                    and self._postable(session, d)]
            for d in docs:
                self._not_before_case(session, d, start)
            names = repositories.office_names(session)
        if application_ids is not None and len(docs) != len(set(application_ids)):
            missing = set(application_ids) - {d.id for d in docs}
            raise ConflictError(f"以下申请不是本单位已审核、尚未公示的申请：{'、'.join(sorted(missing))}",
                                code="NOT_ELIGIBLE")
        if not docs:
            raise ConflictError("没有已审核、尚未公示的申请", code="NOTHING_TO_POST")
        by_village: dict[str, list[DocumentRow]] = defaultdict(list)
        for d in docs:
            by_village[d.route[0]].append(d)
        out = []
        for village_id, apps in by_village.items():
            village = village_name(names[village_id])
            households = self._notice_rows(apps, overrides, village)
            out.append(self._draft_notice(who, village, households, [d.id for d in apps], objection=objection,
                                          start=start, end=end, days=set_days, span=span, series=None, version=1))
        return out

    def _objected(self, session: Session, document_id: str) -> bool:
        """The case's 公示 drew an objection (re-investigated and not upheld, since the county approved it)."""
        case = self.cases.of_document(session, document_id)
        return case is not None and bool((case.facts or {}).get("objection"))

    def _announceable(self, session: Session, doc: DocumentRow) -> bool:
        row = self.cases.of_document(session, doc.id)
        return row is None or self.cases.blocked(row, Step.ANNOUNCE) is None

    def _postable(self, session: Session, doc: DocumentRow) -> bool:
        """An application may go on a 公示 when its case is at 初审, or back from an objection (re-investigated and
        not on a live 公示); or has no case (imported before cases)."""
        row = self.cases.of_document(session, doc.id)
        return row is None or self.cases.blocked(row, Step.NOTICE) is None \
            or self.cases.blocked(row, Step.REPUBLISH) is None  # dropped from a re-published list: post it again

    def _not_before_case(self, session: Session, doc: DocumentRow, start: dt.date) -> None:
        """A 公示 starts on or after its case's last stage (the township's 初审 seal)."""
        row = self.cases.of_document(session, doc.id)
        if row is not None and start < row.last_on:
            raise TemplateDataError([FieldProblem("start", f"公示开始日期不能早于{row.applicant_name}一案的初审日期"
                                                           f"（{row.last_on.isoformat()}）")])

    def _notice_data(self, who: Principal, village: str, households: list[dict[str, Any]],
                     objection: dict[str, str], start: dt.date, span: int) -> dict[str, Any]:
        rows = [{k: h[k] for k in ("head_name", "village", "village_id", "persons", "monthly_amount")}
                for h in households]
        today = self.clock.today()
        return {"issuer": who.office_name, "issued_on": today.isoformat(),
                "title": f"{who.office_name}{village}最低生活保障拟保障对象公示",
                "period": {"start": start.isoformat(), "days": span},
                "objection": {"office": objection.get("office") or who.office_name,
                              "phone": objection.get("phone", ""), "address": objection.get("address", "")},
                "households": rows}

    def _draft_notice(self, who: Principal, village: str, households: list[dict[str, Any]], app_ids: list[str], *,
                      objection: dict[str, str], start: dt.date, end: dt.date, days: int, span: int,
                      series: str | None, version: int) -> NoticeView:
        data = self._notice_data(who, village, households, objection, start, span)
        view = self.workflow.create(who, "dibao_notice", data, derived=True)
        family = self.workflow.documents.catalogue.family("dibao_notice")
        prepared = self.workflow.documents.catalogue.prepare("dibao_notice", data, rules=self.rules.document_rules())
        public = public_content("dibao_notice", "notice", family.title, prepared.view)
        with self.db.session() as session:
            row = PublicationRow(document_id=view.id, kind=PublicationKind.NOTICE.value, office_id=who.office_id,
                                 series_id=series or view.id, version=version, village=village,
                                 state=PublicationState.DRAFT.value, start_on=start, end_on=end, days=days,
                                 working_days=self.rules.notice.working_days,
                                 public=public, application_ids=app_ids, created_at=self.clock.now())
            session.add(row)
            audit.append(session, actor=who.actor, action="notice.build", office_id=who.office_id,
                         document_id=view.id, detail={"village": village, "version": version,
                                                      "applications": app_ids, "start": start.isoformat(),
                                                      "end": end.isoformat()})
            session.flush()
            return self._notice_view(session, row)

    def build_result(self, who: Principal, *, benefit_from: dt.date, supervision: dict[str, str],
                     decisions: dict[str, dict[str, Any]] | None = None) -> NoticeView:
        """The county's 结果公布 from the applications it approved and has not yet announced."""
        self._staff(who, Tier.COUNTY)
        with self.db.session() as session:
            taken = self._taken(session, PublicationKind.RESULT)
            docs = [d for d in publications.applications_routed_through(session, "dibao_application",
                                                                        Status.APPROVED.value, who.office_id)
                    if d.id not in taken and self._announceable(session, d)]
            names = repositories.office_names(session)
            sealed = {d.id: self._sealed_figures(session, d, Tier.COUNTY) for d in docs}
            objected = {d.id: self._objected(session, d.id) for d in docs}
        if not docs:
            raise ConflictError("没有已审批、尚未公布的申请", code="NOTHING_TO_POST")
        households = []
        for d in docs:  # the county's sealed decision fixes the figures (57号 art. 21): never recomputed here
            proposal = self._proposal(d, (decisions or {}).get(d.id), sealed[d.id], where="decisions")
            township = names[d.route[1]]
            proposal["objected"] = objected[d.id]
            households.append({**proposal, "township": township.removesuffix("人民政府").removesuffix("办事处"),
                               "village": village_name(names[d.route[0]]), "village_id": d.route[0]})
        today = self.clock.today()
        data = {"issuer": who.office_name, "issued_on": today.isoformat(),
                "title": f"{who.office_name}最低生活保障审核确认结果公布", "benefit_from": benefit_from.isoformat(),
                "supervision": supervision,
                "households": [{k: h[k] for k in ("head_name", "township", "village", "village_id", "persons",
                                                  "category", "monthly_amount", "objected")} for h in households]}
        view = self.workflow.create(who, "dibao_result_notice", data, derived=True)
        catalogue = self.workflow.documents.catalogue
        prepared = catalogue.prepare("dibao_result_notice", data, rules=self.rules.document_rules())
        public = public_content("dibao_result_notice", "notice", prepared.family.title, prepared.view)
        with self.db.session() as session:
            row = PublicationRow(document_id=view.id, kind=PublicationKind.RESULT.value, office_id=who.office_id,
                                 series_id=view.id, version=1, state=PublicationState.DRAFT.value,
                                 start_on=benefit_from, public=public,
                                 application_ids=[d.id for d in docs], created_at=self.clock.now())
            session.add(row)
            audit.append(session, actor=who.actor, action="notice.build", office_id=who.office_id,
                         document_id=view.id, detail={"kind": "result", "applications": [d.id for d in docs]})
            session.flush()
            return self._notice_view(session, row)

    # -- transitions --------------------------------------------------------------------------------------
    def publish(self, who: Principal, document_id: str) -> NoticeView:
        """Seal (if not yet sealed) and post. A new version supersedes the one it replaces."""
        self._staff(who)
        with self.db.session() as session:
            row = self._own(session, who, document_id)
            if row.state != PublicationState.DRAFT:
                raise ConflictError("只有未发布的公示可以发布", code="BAD_TRANSITION")
            if row.kind == PublicationKind.NOTICE and row.start_on is not None and row.start_on < self.clock.today():
                raise ConflictError("公示开始日期已过，请重新生成公示", code="START_PASSED")
            self._cases_allow_publishing(session, row)
            status = repositories.document(session, document_id).status
        if status == Status.DRAFT.value:
            self.workflow.seal(who, document_id)
        with self.db.session() as session:
            row = self._own(session, who, document_id)
            if row.state != PublicationState.DRAFT:  # a second run of the same publish (a re-queued job)
                return self._notice_view(session, row)
            now = self.clock.now()
            row.state, row.published_at = PublicationState.PUBLISHED.value, now
            if row.version > 1:
                for old in publications.earlier_versions(session, row.series_id, row.version,
                                                         PublicationState.PUBLISHED.value):
                    old.state, old.superseded_by, old.ended_at = PublicationState.SUPERSEDED.value, row.document_id, now
            public_id = repositories.document(session, document_id).public_id
            if row.kind == PublicationKind.NOTICE and row.start_on and row.end_on:
                self.cases.on_notice_published(session, who, list(row.application_ids), document_id=document_id,
                                               public_id=public_id, start=row.start_on, end=row.end_on,
                                               version=row.version)
            elif row.kind == PublicationKind.RESULT:
                self.cases.on_result_published(session, who, list(row.application_ids), document_id=document_id,
                                               public_id=public_id)
            elif row.kind == PublicationKind.CERTIFICATE:
                from api.storage import cases as case_store

                for case in case_store.cases_of_applications(session, list(row.application_ids)).values():
                    self.cases.on_certificate(session, who, case, document_id=document_id, public_id=public_id)
            audit.append(session, actor=who.actor, action="notice.publish", office_id=who.office_id,
                         document_id=document_id, detail={"version": row.version, "series": row.series_id})
            session.flush()
            return self._notice_view(session, row)

    def _cases_allow_publishing(self, session: Session, row: PublicationRow) -> None:
        """Refused before the seal: a 公示 only of cases at 初审 (or re-investigated after an objection), a
        结果公布 only of approved cases not yet announced."""
        from api.storage import cases as case_store

        for case in case_store.cases_of_applications(session, list(row.application_ids)).values():
            if row.kind == PublicationKind.NOTICE:
                step = Step.REPUBLISH if case.stage == "objection" else Step.NOTICE
                if row.version > 1 and case.stage == "notice":
                    continue  # still on the earlier version: the new one supersedes it
            elif row.kind == PublicationKind.CERTIFICATE:
                step = Step.CERTIFICATE
            else:
                step = Step.ANNOUNCE
            blocked = self.cases.blocked(case, step)
            if blocked is not None:
                raise ConflictError(f"{case.applicant_name}：{blocked[0]}", code=blocked[1])

    def withdraw(self, who: Principal, document_id: str, *, reason: str) -> NoticeView:
        self._staff(who)
        reason = (reason or "").strip()
        if not reason or len(reason) > 500:
            raise TemplateDataError([FieldProblem("reason", "撤回须写明原因（1–500 字）")])
        with self.db.session() as session:
            row = self._own(session, who, document_id)
            if row.kind == PublicationKind.CERTIFICATE or row.state not in (PublicationState.DRAFT,
                                                                            PublicationState.PUBLISHED):
                raise ConflictError("只有草稿或已发布的公示、公布可以撤回", code="BAD_TRANSITION")
            was_published = row.state == PublicationState.PUBLISHED
            row.state, row.reason, row.ended_at = PublicationState.WITHDRAWN.value, reason, self.clock.now()
            if was_published:
                self.cases.on_publication_withdrawn(session, who, list(row.application_ids), document_id,
                                                    result=row.kind == PublicationKind.RESULT)
            audit.append(session, actor=who.actor, action="notice.withdraw", office_id=who.office_id,
                         document_id=document_id, detail={"reason": reason})
            session.flush()
            return self._notice_view(session, row)

    def record_objection(self, who: Principal, document_id: str, *, received_on: dt.date, channel: str,
                         summary: str, objector_name: str | None = None,
                         objector_contact: str | None = None, application_id: str | None = None) -> ObjectionView:
        """An objection to a household on a running 公示: its case goes back to the township (re-investigate,
        then re-publish or refuse; it cannot be reported to the county meanwhile). ``application_id``: which
        household (implied when the 公示 lists one)."""
        self._staff(who, Tier.TOWNSHIP)
        problems = []
        if channel not in CHANNELS:
            problems.append(FieldProblem("channel", f"受理方式只能是：{'、'.join(CHANNELS)}"))
        if not (summary or "").strip() or len(summary) > 1000:
            problems.append(FieldProblem("summary", "异议内容应为 1–1000 字"))
        if received_on > self.clock.today():
            problems.append(FieldProblem("received_on", "受理日期不能晚于今天"))
        if problems:
            raise TemplateDataError(problems)
        with self.db.session() as session:
            row = self._own(session, who, document_id)
            if row.kind != PublicationKind.NOTICE or row.state != PublicationState.PUBLISHED:
                raise ConflictError("只能对已发布的公示登记异议", code="BAD_TRANSITION")
            listed = list(row.application_ids)
            if application_id is None and len(listed) == 1:
                application_id = listed[0]
            if application_id is not None and application_id not in listed:
                raise TemplateDataError([FieldProblem("application_id", "该申请不在这份公示的名单上")])
            if application_id is None and listed:
                raise TemplateDataError([FieldProblem("application_id", "公示名单有多户，请选择异议针对的申请")])
            objection = ObjectionRow(document_id=document_id, received_on=received_on, channel=channel,
                                     application_id=application_id,
                                     summary=summary.strip(), objector_name=objector_name or None,
                                     objector_contact=objector_contact or None, recorded_by=who.user_id,
                                     created_at=self.clock.now())
            session.add(objection)
            session.flush()
            if application_id is not None:
                self.cases.on_objection(session, who, application_id, document_id, summary)
            # the audit chain is readable by admins: it records that an objection came, not who raised it
            audit.append(session, actor=who.actor, action="notice.objection", office_id=who.office_id,
                         document_id=document_id, detail={"objection": objection.id, "channel": channel,
                                                          "received_on": received_on.isoformat()})
            return _objection_view(objection)

    def objections(self, who: Principal, document_id: str) -> list[ObjectionView]:
        self._staff(who)
        with self.db.session() as session:
            self._own(session, who, document_id)
            return [_objection_view(r) for r in publications.objections(session, document_id)]

    def republish(self, who: Principal, document_id: str, *, objection: dict[str, str],
                  remove: list[str] | None = None, overrides: dict[str, dict[str, Any]] | None = None,
                  start: dt.date | None = None, days: int | None = None) -> NoticeView:
        """After re-investigation: the same village's list again (less the removed households, amended where
        given), as a new draft version with a new public id. Publishing it supersedes the old one."""
        self._staff(who, Tier.TOWNSHIP)
        today = self.clock.today()
        start = start or today + dt.timedelta(days=1)
        if start < today:
            raise TemplateDataError([FieldProblem("start", "公示开始日期不能早于今天")])
        end, set_days, span = self.period(start, days)
        with self.db.session() as session:
            old = self._own(session, who, document_id)
            if old.kind != PublicationKind.NOTICE or old.state not in (PublicationState.PUBLISHED,
                                                                       PublicationState.WITHDRAWN):
                raise ConflictError("只有已发布或已撤回的公示可以重新公示", code="BAD_TRANSITION")
            if publications.has_newer_version(session, old.series_id, old.version):
                raise ConflictError("这份公示已有更新的版本", code="HAS_NEWER_VERSION")
            keep = [a for a in old.application_ids if a not in set(remove or [])]
            apps = [repositories.document(session, a) for a in keep]
            series, version, village = old.series_id, old.version + 1, old.village or ""
        if not apps:
            raise ConflictError("重新公示的名单为空；如不再公示，请撤回", code="NOTHING_TO_POST")
        households = self._notice_rows(apps, overrides, village)
        return self._draft_notice(who, village, households, keep, objection=objection, start=start, end=end,
                                  days=set_days, span=span, series=series, version=version)

    def issue_certificate(self, who: Principal, case_id: str, *, recipient: str | None = None,
                          purpose: str | None = None) -> NoticeView:
        """A 低保证明 issued from an approved case (:meth:`draft_certificate`), sealed and published at once, so
        its QR code resolves from the moment the sealed file exists."""
        draft = self.draft_certificate(who, case_id, recipient=recipient, purpose=purpose)
        return self.publish(who, draft.document_id)

    def draft_certificate(self, who: Principal, case_id: str, *, recipient: str | None = None,
                          purpose: str | None = None) -> NoticeView:
        """A draft 低保证明 from an approved case: the holder, persons, amount and first month are the county's
        sealed decision as the case stores it, never typed; registered (as a draft) before it is sealed."""
        self._staff(who)
        if who.tier is Tier.VILLAGE:
            raise ForbiddenError("证明由乡镇或县级单位出具", code="ROLE_FORBIDDEN")
        from api.storage import cases as case_store

        today = self.clock.today()
        with self.db.session() as session:
            case = case_store.case(session, case_id)
            app = repositories.document(session, case.application_id)
            if who.office_id not in (case.township_id, case.county_id) or not may_see_case(who, app):
                raise NotFoundError("没有这个案件，或它不属于本单位", code="UNKNOWN_CASE")
            blocked = self.cases.blocked(case, Step.CERTIFICATE)
            if blocked is not None:
                raise ConflictError(blocked[0], code=blocked[1])
            decision = dict((case.facts or {}).get("decision") or {})
            data_in = dict(app.data or {})
        office = who.office_id
        serial = next_serial(self.db, office, document_number_series(CERTIFICATE_CODE),
                             before=lambda session: certificates_issued_before(session, office))
        applicant = data_in.get("applicant") or {}
        # 纳入保障 from the county's decision (payment starts the month after: the decision's start_month)
        since = str(decision.get("on") or today.isoformat())
        short = who.office_name.removesuffix("人民政府").removesuffix("民政局").removesuffix("办事处")
        data = {"issuer": who.office_name, "serial": f"{short}{CERTIFICATE_CODE}〔{today.year}〕{serial}号",
                "issued_on": today.isoformat(),
                "valid_until": (today + dt.timedelta(days=self.rules.certificate_valid_days - 1)).isoformat(),
                "holder": {k: applicant[k] for k in ("name", "gender", "id_number", "registered_address")
                           if applicant.get(k)},
                "category": data_in.get("category"), "persons": int(decision["persons"]),
                "monthly_amount": str(Decimal(str(decision["monthly_amount"])).quantize(CENT)),
                "since": since}
        if recipient:
            data["recipient"] = recipient
        if purpose:
            data["purpose"] = purpose
        view = self.workflow.create(who, "dibao_certificate", data, derived=True)
        with self.db.session() as session:
            doc = repositories.document(session, view.id)
            row = self.certificate_row(doc)
            row.state, row.published_at = PublicationState.DRAFT.value, None
            row.application_ids = [case.application_id]
            session.add(row)
            audit.append(session, actor=who.actor, action="certificate.draft", office_id=who.office_id,
                         document_id=view.id, detail={"case": case_id})
            session.flush()
            return self._notice_view(session, row)

    def revoke_certificate(self, who: Principal, document_id: str, *, reason: str) -> NoticeView:
        """A certificate no longer true (the household left 低保, or it was issued in error)."""
        self._staff(who)
        reason = (reason or "").strip()
        if not reason or len(reason) > 500:
            raise TemplateDataError([FieldProblem("reason", "撤销证明须写明原因（1–500 字）")])
        with self.db.session() as session:
            doc = repositories.document(session, document_id)
            family = self.workflow.documents.catalogue.family(doc.family)
            if family.kind != "certificate" or doc.owner_office_id != who.office_id:
                raise NotFoundError("没有这份证明，或它不是本单位出具的", code="UNKNOWN_PUBLICATION")
            if doc.status != Status.ISSUED.value:
                raise ConflictError("证明尚未出具（未盖章），无需撤销", code="BAD_TRANSITION")
            row = session.get(PublicationRow, document_id)
            if row is None:
                row = self.certificate_row(doc)
                session.add(row)
            if row.state == PublicationState.REVOKED:
                raise ConflictError("这份证明已被撤销", code="ALREADY_REVOKED")
            row.state, row.reason, row.ended_at = PublicationState.REVOKED.value, reason, self.clock.now()
            audit.append(session, actor=who.actor, action="certificate.revoke", office_id=who.office_id,
                         document_id=document_id, detail={"reason": reason})
            session.flush()
            return self._notice_view(session, row)

    def certificate_row(self, doc: DocumentRow) -> PublicationRow:
        """The public record of a paper held by a person (a certificate, card or letter): in force from its issue."""
        catalogue = self.workflow.documents.catalogue
        view = catalogue.prepare(doc.family, doc.data, rules=self.rules.document_rules()).view if doc.data else {}
        family = catalogue.family(doc.family)
        return PublicationRow(document_id=doc.id, kind=PublicationKind.CERTIFICATE.value,
                              office_id=doc.owner_office_id, series_id=doc.id, version=1,
                              state=PublicationState.PUBLISHED.value,
                              valid_until=view.get("valid_until"),
                              public=public_content(doc.family, family.kind, family.title, view),
                              application_ids=[], published_at=doc.updated_at, created_at=self.clock.now())

    def sweep(self) -> int:
        """Record 公示期满 for posted notices whose period has ended (the status follows the clock anyway)."""
        today = self.clock.today()
        with self.db.session() as session:
            rows = publications.overdue(session, PublicationKind.NOTICE.value, PublicationState.PUBLISHED.value,
                                        today)
            for row in rows:
                row.ended_at = self.clock.now()
                audit.append(session, actor="system", action="notice.expire", office_id=row.office_id,
                             document_id=row.document_id, detail={"end": str(row.end_on)})
        return len(rows)

    def listing(self, who: Principal) -> list[NoticeView]:
        self._staff(who)
        with self.db.session() as session:
            return [self._notice_view(session, r) for r in publications.of_office(session, who.office_id)]

    def get(self, who: Principal, document_id: str) -> NoticeView:
        self._staff(who)
        with self.db.session() as session:
            return self._notice_view(session, self._own(session, who, document_id))

    # -- views --------------------------------------------------------------------------------------------
    def status_word(self, kind: str, state: str, *, start: dt.date | None, end: dt.date | None,
                    valid_until: dt.date | None) -> str:
        today = self.clock.today()
        if state != PublicationState.PUBLISHED:
            return PublicationState(state).label
        if kind == PublicationKind.NOTICE and end is not None:
            if today > end:
                return NOTICE_ENDED
            if start is not None and today < start:
                return NOTICE_UPCOMING.format(start=cn_date(start), days=(end - start).days + 1)
            return NOTICE_RUNNING.format(days=(end - max(today, start or today)).days + 1)
        if kind == PublicationKind.CERTIFICATE and valid_until is not None and today > valid_until:
            return EXPIRED
        return IN_FORCE

    def _notice_view(self, session: Session, row: PublicationRow) -> NoticeView:
        doc = repositories.document(session, row.document_id)
        count = publications.objection_count(session, row.document_id)
        return NoticeView(row.document_id, doc.public_id, row.kind, row.office_id, row.village, row.series_id,
                          row.version, row.state, self.status_word(row.kind, row.state, start=row.start_on,
                                                                   end=row.end_on, valid_until=row.valid_until),
                          _d(row.start_on), _d(row.end_on), row.days, row.working_days, _d(row.valid_until),
                          len(row.public.get("rows") or []), list(row.application_ids), row.reason,
                          row.superseded_by, count)

    def _public_record(self, session: Session, public_id: str) -> tuple[DocumentRow, PublicationRow]:
        """The issued notice or certificate behind a public id; anything else is 'not found' (a draft, a form,
        an unknown id all look the same)."""
        doc = publications.document_by_public_id(session, public_id)
        if doc is None or doc.status != Status.ISSUED.value:
            raise NotFoundError("没有找到这份公示或证明", code="UNKNOWN_PUBLIC_ID")
        catalogue = self.workflow.documents.catalogue
        family = catalogue.family(doc.family)
        if not family.public:  # catalogue kinds (templates), not publication kinds
            raise NotFoundError("没有找到这份公示或证明", code="UNKNOWN_PUBLIC_ID")
        row = session.get(PublicationRow, doc.id)
        if row is None:  # issued through the plain document route: public from its issuance
            if family.kind in ("certificate", "letter"):
                row = self.certificate_row(doc)
            else:
                view = catalogue.prepare(doc.family, doc.data, rules=self.rules.document_rules()).view \
                    if doc.data else {}
                period = view.get("period") if isinstance(view.get("period"), dict) else None
                row = PublicationRow(document_id=doc.id,
                                     kind=(PublicationKind.NOTICE if period else PublicationKind.RESULT).value,
                                     office_id=doc.owner_office_id, series_id=doc.id, version=1,
                                     state=PublicationState.PUBLISHED.value,
                                     start_on=period["start"] if period else None,
                                     end_on=period["end"] if period else None,
                                     public=public_content(doc.family, "notice", family.title, view),
                                     application_ids=[])
        elif row.state == PublicationState.DRAFT:
            raise NotFoundError("没有找到这份公示或证明", code="UNKNOWN_PUBLIC_ID")
        return doc, row

    def public_view(self, public_id: str, token: str | None = None) -> PublicView:
        with self.db.session() as session:
            doc, row = self._public_record(session, public_id)
            current = repositories.version(session, doc.id, doc.current_version)
            newer = session.get(DocumentRow, row.superseded_by) if row.superseded_by else None
            issuer = repositories.office(session, doc.owner_office_id).name
            sha = current.sha256
        report = self.checks.verify(self.blobs.get(sha))
        public = row.public
        token_info = None
        if token:
            check: TokenCheck = self.links.check(token)
            matches = check.claims is not None and check.claims.public_id == public_id
            same_content = check.claims is not None and check.claims.content_sha256 == _digest(public)
            ok = check.ok and matches and same_content
            message = check.message if not check.ok else (
                "二维码签名有效，与登记内容一致" if ok else "二维码签名有效，但与本页登记的内容不符")
            token_info = {"ok": ok, "message": message,
                          "issuer": check.claims.issuer if check.claims else None,
                          "issued_on": check.claims.issued_on.isoformat() if check.claims else None}
        status = self.status_word(row.kind, row.state, start=row.start_on, end=row.end_on, valid_until=row.valid_until)
        return PublicView(
            public_id=public_id, kind=row.kind, title=str(public.get("title") or doc.title), state=row.state,
            status=status, issuer=issuer, issued_on=public.get("issued_on"), period=public.get("period"),
            rows=list(public.get("rows") or []), serial=public.get("serial"), valid_until=public.get("valid_until"),
            ended_on=row.ended_at.date().isoformat() if row.ended_at and PublicationState(row.state).ended else None,
            sha256=sha, pdf_available=row.kind != PublicationKind.CERTIFICATE, verdict=report.verdict.value,
            verdict_label=report.verdict.label, seals=_seal_lines(report),
            superseded_by=newer.public_id if newer is not None else None, token=token_info,
            content_sha256=_digest(public), holder=public.get("holder"), objection=public.get("objection"))

    def public_pdf(self, public_id: str) -> tuple[str, bytes]:
        """The sealed file of a notice (a certificate's file names its holder: never served publicly)."""
        with self.db.session() as session:
            doc, row = self._public_record(session, public_id)
            if row.kind == PublicationKind.CERTIFICATE:
                raise NotFoundError("证明文件不公开提供下载；请使用下方的比对功能核验手中的文件",
                                    code="NOT_PUBLIC_FILE")
            sha = repositories.version(session, doc.id, doc.current_version).sha256
        return sha, self.blobs.get(sha)

    def compare(self, public_id: str, uploaded: bytes) -> CompareResult:
        with self.db.session() as session:
            doc, row = self._public_record(session, public_id)
            registered = repositories.version(session, doc.id, doc.current_version).sha256
            data = doc.data if row.kind == PublicationKind.CERTIFICATE else None
        digest = sha256_hex(uploaded)
        same = digest == registered
        # uploads from the public are verified without the shared report cache (nothing they send is stored)
        report = self.checks.verify(uploaded) if same else self.verification.verify(uploaded)
        holder = None
        if same and data:
            h = data.get("holder") or {}
            holder = {"name": h.get("name"), "persons": data.get("persons"),
                      "monthly_amount": money(Decimal(str(data.get("monthly_amount")))),
                      "since": data.get("since"), "valid_until": data.get("valid_until")}
        return CompareResult(same, "一致" if same else "不一致", digest, registered, report.verdict.value,
                             report.verdict.label, _seal_lines(report), [f.message for f in report.findings], holder)


def may_see_case(who: Principal, application: DocumentRow) -> bool:
    return may_see(who, application.route, application.reached)


def _digest(public: dict[str, Any]) -> str:
    from signer.public_token import content_digest

    return content_digest(public)


def _d(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _objection_view(row: ObjectionRow) -> ObjectionView:
    return ObjectionView(row.id, row.document_id, row.received_on.isoformat(), row.channel, row.summary,
                         row.objector_name, row.objector_contact)
