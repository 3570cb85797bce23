"""The village → township → county workflow: create, seal, submit, accept (verify + countersign), return,
re-create, import. Every transition is one database transaction; blocking work (rendering, signing, verifying)
happens before it, and the new blob is written before the row that points at it commits.

Methods are synchronous: the HTTP layer runs them in its worker threads, the CLI and tests call them directly.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from api import faults
from api.services.access import Action, may_see, role_may
from api.services.cases import CASE_FAMILIES, CaseBook, Step
from api.services.checks import ReportCache
from api.services.documents import DocumentService
from api.services.identity import Principal
from api.services.public_links import Clock
from api.services.sealing import SealingService, SealResult
from api.services.states import ACTION_LABELS, Status, VersionKind, next_status
from api.storage import audit, repositories
from api.storage.blobs import BlobStore
from api.storage.engine import Database, Session
from api.storage.models import CaseRow, DocumentRow, VersionRow, utcnow
from signer.errors import (
    ConflictError,
    FieldProblem,
    ForbiddenError,
    NotFoundError,
    TemplateDataError,
    VerificationRefusedError,
)
from signer.pki import Tier
from signer.report import Verdict, VerificationReport
from signer.route import TIER_ORDER
from templates import Family


@dataclass(frozen=True)
class DocumentQuery:
    """A staff list's filter: words in the title or the applicant's name, a status, an updated-on date range."""

    search: str = ""
    status: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


#: the statuses in which a document held by an office waits for it (its 待办)
WAITING = (Status.DRAFT, Status.SEALED, Status.SUBMITTED, Status.ACCEPTED, Status.RETURNED)


@dataclass(frozen=True)
class VersionView:
    number: int
    sha256: str
    size: int
    kind: str
    office_id: str
    note: str | None
    created_at: str


@dataclass(frozen=True)
class DocumentView:
    """What staff see of a document; the data holds personal information and is shown to route offices only."""

    id: str
    public_id: str
    family: str
    title: str
    owner_office_id: str
    route: list[str]
    holder_office_id: str
    status: str
    status_label: str
    return_reason: str | None
    replaces_id: str | None
    replaced_by_id: str | None
    current_version: int
    created_at: str
    updated_at: str
    versions: list[VersionView]
    data: dict[str, Any] | None
    #: the case this application opened (None: not an application, or imported before cases)
    case_id: str | None = None
    case_stage: str | None = None
    case_stage_label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def route_key(route: Sequence[str]) -> str:
    """",a,b,c," — lets any database find a route's documents with LIKE '%,office,%'."""
    return "," + ",".join(route) + ","


def _iso(value: dt.datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")


def _view(session: Session, doc: DocumentRow) -> DocumentView:
    from api.services.states import CaseStage
    from api.storage import cases as case_store

    versions = [VersionView(v.number, v.sha256, v.size, v.kind, v.office_id, v.note, _iso(v.created_at))
                for v in repositories.versions(session, doc.id)]
    case = case_store.case_of_application(session, doc.id) if doc.family in CASE_FAMILIES else None
    return DocumentView(doc.id, doc.public_id, doc.family, doc.title, doc.owner_office_id, list(doc.route),
                        doc.holder_office_id, doc.status, Status(doc.status).label, doc.return_reason,
                        doc.replaces_id, doc.replaced_by_id, doc.current_version, _iso(doc.created_at),
                        _iso(doc.updated_at), versions, doc.data, case.id if case else None,
                        case.stage if case else None, CaseStage(case.stage).label if case else None)


class _Denial(Exception):
    def __init__(self, who: Principal, action: Action, message: str, document_id: str | None, code: str) -> None:
        super().__init__(message)
        self.who, self.action, self.message, self.document_id, self.code = who, action, message, document_id, code


F = TypeVar("F", bound=Callable[..., Any])


def _records_denials(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: Workflow, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _Denial as denial:
            raise self.record_denial(denial) from None

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class _Read:
    """What a transition read before its slow work: the document as it was, and its current file."""

    doc: DocumentRow
    pdf: bytes


class Workflow:
    def __init__(self, *, db: Database, blobs: BlobStore, documents: DocumentService, sealing: SealingService,
                 checks: ReportCache, public_url: Any, cases: CaseBook, clock: Clock) -> None:
        self.db = db
        self.cases = cases
        self.clock = clock
        self.blobs = blobs
        self.documents = documents
        self.sealing = sealing
        self.checks = checks
        self._public_url = public_url

    # -- guards ---------------------------------------------------------------------------------------------
    def deny(self, who: Principal, action: Action, message: str, *, document_id: str | None = None,
             code: str = "FORBIDDEN") -> _Denial:
        """The error to raise; :func:`_records_denials` writes it to the audit chain once the transaction that
        found it has been rolled back (a second writer inside it would wait on the first)."""
        return _Denial(who, action, message, document_id, code)

    def record_denial(self, denial: _Denial) -> ForbiddenError:
        with self.db.session() as session:
            audit.append(session, actor=denial.who.actor, action="deny", office_id=denial.who.office_id,
                         document_id=denial.document_id,
                         detail={"action": denial.action.value, "code": denial.code, "message": denial.message})
        return ForbiddenError(denial.message, code=denial.code)

    def _require_role(self, who: Principal, action: Action, document_id: str | None = None) -> None:
        if not role_may(who, action):
            raise self.deny(who, action, f"{who.role.label}（{who.office_name}）不能{ACTION_LABELS[action]}",
                            document_id=document_id, code="ROLE_FORBIDDEN")

    def _visible(self, session: Session, who: Principal, document_id: str, action: Action) -> DocumentRow:
        doc = repositories.document(session, document_id)
        if doc.status == Status.DELETED.value:  # a deleted draft is gone for everyone (its row stays for audit)
            raise NotFoundError("该草稿已被删除", code="DELETED_DRAFT")
        if not may_see(who, doc.route, doc.reached):
            raise self.deny(who, action, "该文书不属于本单位，无权访问", document_id=document_id,
                            code="OTHER_OFFICE")
        return doc

    def _holder(self, who: Principal, doc: DocumentRow, action: Action) -> None:
        if doc.holder_office_id != who.office_id:
            raise self.deny(who, action, "该文书当前不在本单位办理", document_id=doc.id, code="NOT_HOLDER")

    def _read(self, who: Principal, document_id: str, action: Action) -> _Read:
        self._require_role(who, action, document_id)
        with self.db.session() as session:
            self._case_allows(session, who, repositories.document(session, document_id), action)
            doc = self._visible(session, who, document_id, action)
            self._holder(who, doc, action)
            current = repositories.version(session, doc.id, doc.current_version)
        return _Read(doc, self.blobs.get(current.sha256))

    def _case_allows(self, session: Session, who: Principal, doc: DocumentRow, action: Action) -> str | None:
        """The case step this action is, refused with a 409 naming what is missing when the case's order does
        not allow it now (checked first for offices on the route: "not yet" says more than "not yours")."""
        if doc.family not in CASE_FAMILIES or who.office_id not in doc.route:
            return None
        row = self.cases.of_document(session, doc.id)
        if row is None:
            return None
        return self.cases.check(row, action, who.tier)

    def _case(self, session: Session, document_id: str) -> CaseRow | None:
        return self.cases.of_document(session, document_id)

    # -- reading --------------------------------------------------------------------------------------------
    @_records_denials
    def get(self, who: Principal, document_id: str) -> DocumentView:
        with self.db.session() as session:
            return _view(session, self._visible(session, who, document_id, Action.READ))

    @_records_denials
    def pdf(self, who: Principal, document_id: str, number: int | None = None) -> tuple[DocumentView, bytes]:
        with self.db.session() as session:
            doc = self._visible(session, who, document_id, Action.READ)
            version = repositories.version(session, doc.id, number if number is not None else doc.current_version)
            view = _view(session, doc)
        return view, self.blobs.get(version.sha256)

    @_records_denials
    def word_copy(self, who: Principal, document_id: str) -> tuple[DocumentView, bytes]:
        """The editable Word copy of a document's data (no seal: the sealed PDF stays the record)."""
        with self.db.session() as session:
            view = _view(session, self._visible(session, who, document_id, Action.READ))
        if not view.data:
            raise NotFoundError("这份文书没有可编辑的数据（导入的文件只有 PDF）", code="NO_DATA")
        return view, self.documents.word_copy(view.family, view.data)

    @_records_denials
    def page(self, who: Principal, query: DocumentQuery, *, inbox: bool, page: int = 1,
             size: int = 50) -> tuple[list[DocumentView], bool]:
        """One page of the office's 待办 (``inbox``) or 已办, filtered; (views, whether a next page exists)."""
        skip, views = (max(1, page) - 1) * size, list[DocumentView]()
        with self.db.session() as session:
            found = repositories.find_documents(session, office_id=who.office_id, inbox=inbox,
                                                waiting=[s.value for s in WAITING], hidden=[Status.DELETED.value],
                                                search=query.search,
                                                status=query.status, since=query.since, until=query.until)
            for row in found:
                if not may_see(who, row.route, row.reached):
                    continue
                if skip:
                    skip -= 1
                    continue
                if len(views) == size:
                    return views, True
                views.append(_view(session, row))
        return views, False

    @_records_denials
    def listing(self, who: Principal, *, inbox: bool = False, limit: int = 100) -> list[DocumentView]:
        """Documents this office can see; ``inbox``: those waiting for this office to act."""
        with self.db.session() as session:
            if inbox:
                found = repositories.recent_documents(
                    session, limit=limit * 5, holder=who.office_id,
                    statuses=[s.value for s in WAITING])
            else:
                found = repositories.recent_documents(session, limit=limit * 5, on_route_of=who.office_id,
                                                      hidden=[Status.DELETED.value])
            rows = [d for d in found if may_see(who, d.route, d.reached)]
            return [_view(session, d) for d in rows[:limit]]

    def office_names(self) -> dict[str, str]:
        """Every office's name by id (names are public: they are printed on every document)."""
        with self.db.session() as session:
            return repositories.office_names(session)

    def creatable(self, who: Principal) -> list[Family]:
        """The families this user may start by hand (what :meth:`create` would accept): forms whose first box is
        this tier's. Everything else (公示, 公布, certificates, letters, records) is built from a case."""
        if not role_may(who, Action.CREATE):
            return []
        return [f for f in self.documents.catalogue if f.tiers and who.tier is Tier(f.tiers[0])]

    # -- transitions ----------------------------------------------------------------------------------------
    @_records_denials
    def create(self, who: Principal, family_id: str, data: Any, *, replaces: str | None = None,
               derived: bool = False) -> DocumentView:
        """Validate and render; the route and the offices printed in the boxes come from the registry. An
        application opens its case (one open case per person: refused, naming the case that holds them). 公示,
        公布 and certificates are ``derived`` from cases by the publication service, never typed here."""
        self._require_role(who, Action.CREATE)
        family = self.documents.catalogue.family(family_id)
        if not family.tiers and not derived:
            raise ConflictError("公示、结果公布和证明由案件生成（证明请在已审核确认的案件中出具），不能手工填写",
                                code="DERIVED_ONLY")
        if family.tiers and who.tier is not Tier(family.tiers[0]):
            raise self.deny(who, Action.CREATE, f"「{family.title}」由{Tier(family.tiers[0]).label}单位填报",
                            code="WRONG_TIER")
        if not family.tiers and who.tier.value not in (family.issued_by or (Tier.TOWNSHIP.value, Tier.COUNTY.value)):
            issuers = "、".join(Tier(t).label for t in family.issued_by) if family.issued_by else "乡镇或县级"
            raise self.deny(who, Action.CREATE, f"「{family.title}」由{issuers}单位出具", code="WRONG_TIER")
        if not isinstance(data, dict):
            raise TemplateDataError([], "文书数据应为 JSON 对象")
        with self.db.session() as session:
            route = repositories.route_of(session, who.office_id) if family.tiers else [who.office_id]
        data, office_ids = self._boxes(who, family, route, data)
        if family_id in CASE_FAMILIES and replaces is None:
            again = self._same_filing(who, family_id, data)
            if again is not None:
                return again
            self._not_held(who, data)
        public_id = secrets.token_urlsafe(16)  # 128 bits
        verify_url = self._public_url(public_id, family_id=family_id, data=data, office_id=office_ids.get("issuer")) \
            if family.public else None
        out = self.documents.render(family_id, data, verify_url=verify_url, office_ids=office_ids)
        try:
            with self._new_document(who, out.rendered.pdf, public_id=public_id, family=family, route=route,
                                    reached=0, status=Status.DRAFT, data=data, replaces=replaces,
                                    kind=VersionKind.RENDERED, action="create",
                                    detail={"family": family_id}) as (session, document_id):
                if replaces is not None:
                    old = repositories.document(session, replaces)
                    repositories.transition(session, old, old.lock_version, status=Status.CLOSED.value,
                                            replaced_by_id=document_id, updated_at=utcnow())
                self.cases.open(session, who, repositories.document(session, document_id))
        except repositories.DuplicateRow:
            # a simultaneous filing of the same person won the database's unique index: the same submission
            # again gets the case it made; anything else is refused, naming the case
            again = self._same_filing(who, family_id, data)
            if again is not None:
                return again
            self._not_held(who, data)
            raise
        return self.get(who, document_id)

    def _boxes(self, who: Principal, family: Family, route: Sequence[str],
               data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The data with the route's office names printed in its boxes (a form), and the office of each box."""
        if not family.tiers:
            return data, {"issuer": who.office_id}
        with self.db.session() as session:
            names = repositories.office_names(session, route)
        tiers = [t.value for t in TIER_ORDER][: len(route)]
        office_ids = {tier: route[i] for i, tier in enumerate(tiers) if tier in family.tiers}
        return {**data, "offices": {tier: names[oid] for tier, oid in office_ids.items()}}, office_ids

    def _draft(self, session: Session, who: Principal, document_id: str, action: Action) -> DocumentRow:
        """A draft this office holds and may change: a hand-filled form (公示, 公布 and 证明 follow their case),
        not yet sealed or sent; else 409 saying why."""
        doc = self._visible(session, who, document_id, action)
        self._holder(who, doc, action)
        if doc.owner_office_id != who.office_id:
            raise self.deny(who, action, "只有填报单位可以修改或删除草稿", document_id=doc.id, code="NOT_OWNER")
        word = ACTION_LABELS[action]
        if doc.status != Status.DRAFT.value:
            raise ConflictError(f"文书当前状态为「{Status(doc.status).label}」：已盖章或已报送的文书不能{word}，"
                                f"只有未盖章的草稿可以{word}", code="NOT_A_DRAFT")
        family = self.documents.catalogue.family(doc.family)
        if not family.tiers:
            raise ConflictError("公示、结果公布和证明由案件生成，不能在这里修改或删除", code="DERIVED_ONLY")
        if doc.data is None:
            raise ConflictError("该文书是导入的文件，没有可修改的数据", code="NO_DATA")
        next_status(doc.status, action)
        return doc

    @_records_denials
    def edit(self, who: Principal, document_id: str, data: Any) -> DocumentView:
        """A draft re-rendered from changed data: the same document (same id and public id), a new version (the
        earlier file stays), its case's people replaced in the same transaction (one open case per person still
        holds: a person another case holds is refused with CASE_EXISTS and nothing is written)."""
        self._require_role(who, Action.EDIT, document_id)
        if not isinstance(data, dict):
            raise TemplateDataError([], "文书数据应为 JSON 对象")
        with self.db.session() as session:
            seen = self._draft(session, who, document_id, Action.EDIT)
            case = self._case(session, seen.id)
            case_id = case.id if case is not None else None
        family = self.documents.catalogue.family(seen.family)
        data, office_ids = self._boxes(who, family, list(seen.route), data)
        if case_id is not None:
            self._not_held(who, data, besides=case_id)
        verify_url = self._public_url(seen.public_id, family_id=family.id, data=data,
                                      office_id=office_ids.get("issuer")) if family.public else None
        out = self.documents.render(family.id, data, verify_url=verify_url, office_ids=office_ids)
        sha = self.blobs.put(out.rendered.pdf)  # durable before any row points at it
        try:
            with self.db.session() as session:
                doc = repositories.document(session, seen.id)
                number = seen.current_version + 1
                repositories.transition(session, doc, seen.lock_version, data=data, current_version=number,
                                        updated_at=utcnow())
                session.add(VersionRow(document_id=doc.id, number=number, sha256=sha, size=len(out.rendered.pdf),
                                       kind=VersionKind.EDITED.value, office_id=who.office_id,
                                       actor_id=who.user_id))
                case = self._case(session, doc.id)
                if case is not None:
                    self.cases.edited(session, who, case, doc, version=number)
                audit.append(session, actor=who.actor, action="document.edit", office_id=who.office_id,
                             document_id=doc.id, detail={"version": number, "sha256": sha,
                                                         **({"case": case.id} if case is not None else {})})
                return _view(session, repositories.document(session, doc.id))
        except repositories.DuplicateRow:
            # another filing took one of these people between the check and the write: refused, naming it
            if case_id is not None:
                self._not_held(who, data, besides=case_id)
            raise

    @_records_denials
    def delete(self, who: Principal, document_id: str) -> None:
        """A draft deleted by its office: gone from every list and page (its row and files stay for the audit
        chain, as 'deleted'); the case it alone opened goes with it, so its people may be filed again."""
        self._require_role(who, Action.DELETE, document_id)
        with self.db.session() as session:
            doc = self._draft(session, who, document_id, Action.DELETE)
            case = self._case(session, doc.id)
            detail: dict[str, Any] = {"family": doc.family, "version": doc.current_version}
            if case is not None:
                detail["case"] = case.id
                self.cases.deleted(session, case, doc)
            repositories.transition(session, doc, doc.lock_version, status=Status.DELETED.value, updated_at=utcnow())
            audit.append(session, actor=who.actor, action="document.delete", office_id=who.office_id,
                         document_id=doc.id, detail=detail)

    def _not_held(self, who: Principal, data: dict[str, Any], *, besides: str | None = None) -> None:
        """One open case per person (an open case, or a household receiving support): 409 naming the case to
        staff who may see it."""
        found = self.cases.holder(data, besides=besides)
        if found is None:
            return
        row, person = found
        with self.db.session() as session:
            doc = repositories.document(session, row.application_id)
            visible = may_see(who, doc.route, doc.reached)
            names = repositories.office_names(session, [row.village_id])
        if visible:
            where = (f"：案件 {row.id[:8]}（{names.get(row.village_id, row.village_id)}，申请人{row.applicant_name}，"
                     f"{self._stage_label(row)}）")
        else:  # nothing from the other case (not even the name it holds) to an office that may not see it
            person, where = f"身份证号 {person.rsplit('（', 1)[-1].rstrip('）')} ", "（该案件不在本单位的办理范围内）"
        raise ConflictError(f"{person}已在办理中或正在享受保障的案件中，不能重复申请{where}", code="CASE_EXISTS")

    @staticmethod
    def _stage_label(row: CaseRow) -> str:
        from api.services.states import CaseStage

        return CaseStage(row.stage).label

    def _same_filing(self, who: Principal, family_id: str, data: dict[str, Any]) -> DocumentView | None:
        """A double submit: the case holding these people was filed by this office, with this data, and is
        still a draft — the second submit gets that document."""
        found = self.cases.holder(data)
        if found is None:
            return None
        row, _person = found
        with self.db.session() as session:
            doc = repositories.document(session, row.application_id)
            same = (doc.family == family_id and doc.owner_office_id == who.office_id and doc.data == data
                    and doc.status == Status.DRAFT.value)
        return self.get(who, doc.id) if same else None

    @_records_denials
    def seal(self, who: Principal, document_id: str, *, opinion: str | None = None) -> DocumentView:
        """The first seal of the route (a form's village box, or a notice's issuing seal)."""
        read = self._read(who, document_id, Action.SEAL)
        with self.db.session() as session:
            if not repositories.office(session, who.office_id).clerks_may_seal and who.role.value == "clerk":
                raise self.deny(who, Action.SEAL, "本单位的经办人不能使用印章", document_id=document_id,
                                code="CLERK_NO_SEAL")
        family = self.documents.catalogue.family(read.doc.family)
        target = next_status(read.doc.status, Action.SEAL, issuing=not family.tiers)
        result = self.sealing.seal(read.pdf, who.office_id, opinion=opinion, actor=who.actor, day=self.clock.today())
        return self._commit_version(who, read.doc, result, status=target, kind=VersionKind.SEALED, action="seal",
                                    note=opinion, step=Step.SEAL)

    @_records_denials
    def submit(self, who: Principal, document_id: str) -> DocumentView:
        """Send the file to the next office of its route."""
        def to_parent(doc: DocumentRow) -> tuple[dict[str, Any], dict[str, Any]]:
            index = doc.route.index(who.office_id)
            if index + 1 >= len(doc.route) or doc.status == Status.APPROVED.value:
                raise ConflictError("该文书已在流转路径的最后一级", code="END_OF_ROUTE")
            parent = doc.route[index + 1]
            return ({"holder_office_id": parent, "reached": max(doc.reached, index + 1)},
                    {"to": parent, "version": doc.current_version})

        return self._move(who, document_id, Action.SUBMIT, to_parent)

    @_records_denials
    def accept(self, who: Principal, document_id: str, *, opinion: str | None = None,
               received: bytes | None = None, decision: dict[str, Any] | None = None) -> DocumentView:
        """Check the file against its record (hash of the version on record, seals of the route so far, in
        order), then countersign. ``received``: the file as the office got it, when it came another way; it
        must be the registered version. ``decision``: this tier's figures (the township's 初审 and 公示 period,
        the county's 核定 figures of 57号 art. 21), validated and drawn inside its signature."""
        read = self._read(who, document_id, Action.ACCEPT)
        doc = read.doc
        last_tier = doc.route.index(who.office_id) == len(doc.route) - 1
        with self.db.session() as session:
            case = self._case(session, doc.id)
            if case is not None and who.tier is Tier.TOWNSHIP:
                decision = self.cases.preliminary_figures(session, case, doc, decision)
                last_tier = last_tier or (case.kind == "relief" and self.cases.relief_closes_at_township(decision))
            elif case is not None:
                decision = self.cases.check_decision(case, decision)
                opinion = opinion or self.cases.default_opinion(session, case, who.tier)
        target = next_status(doc.status, Action.ACCEPT, last_tier=last_tier)
        if received is not None and received != read.pdf:
            report = self.checks.verify(received)
            raise VerificationRefusedError("收到的文件与系统中登记的版本不一致，拒绝接收",
                                           code="NOT_REGISTERED_VERSION", report=report.to_dict())
        report = self.checks.verify(read.pdf)
        expected = doc.route[: doc.route.index(who.office_id)]
        self._gate(report, expected)
        result = self.sealing.seal(read.pdf, who.office_id, opinion=opinion, actor=who.actor, decision=decision,
                                   day=self.clock.today())
        kind = VersionKind.APPROVED if last_tier else VersionKind.COUNTERSIGNED
        return self._commit_version(who, doc, result, status=target, kind=kind, action="accept", note=opinion,
                                    extra={"verdict": report.verdict.value,
                                           **({"decision": decision} if decision else {})},
                                    step=Step.PRELIMINARY if who.tier is Tier.TOWNSHIP else Step.DECIDE,
                                    decision=decision)

    @staticmethod
    def _gate(report: VerificationReport, expected_offices: Sequence[str]) -> None:
        signers = [s.office_id for s in report.signatures]
        if report.verdict is not Verdict.PASSED:
            raise VerificationRefusedError(f"文件未通过电子签章校验（{report.verdict.label}）：{report.summary()}",
                                           report=report.to_dict())
        if signers != list(expected_offices):
            raise VerificationRefusedError(
                f"文件的签章单位（{'、'.join(str(s) for s in signers) or '无'}）与流转记录"
                f"（{'、'.join(expected_offices)}）不符", code="ROUTE_RECORD_MISMATCH", report=report.to_dict())

    @_records_denials
    def return_(self, who: Principal, document_id: str, *, reason: str) -> DocumentView:
        reason = (reason or "").strip()
        if not reason or len(reason) > 500:
            self._require_role(who, Action.RETURN, document_id)
            raise TemplateDataError([], "退回须写明原因（1–500 字）")

        def to_owner(doc: DocumentRow) -> tuple[dict[str, Any], dict[str, Any]]:
            return ({"holder_office_id": doc.owner_office_id, "return_reason": reason},
                    {"reason": reason, "to": doc.owner_office_id})

        return self._move(who, document_id, Action.RETURN, to_owner)

    @_records_denials
    def refuse(self, who: Principal, document_id: str, *, reason: str) -> DocumentView:
        """不予确认 (the county, after the report) or 终止 (the township, before it) with reasons: the case closes,
        its people may apply again, and the applicant is told in writing within the local deadline."""
        reason = (reason or "").strip()
        if not reason or len(reason) > 500:
            raise TemplateDataError([FieldProblem("reason", "不予确认须写明理由（1–500 字）")])

        def close(doc: DocumentRow) -> tuple[dict[str, Any], dict[str, Any]]:
            return {"return_reason": reason}, {"reason": reason}

        return self._move(who, document_id, Action.REFUSE, close)

    @_records_denials
    def withdraw(self, who: Principal, document_id: str, *, reason: str) -> DocumentView:
        """The applicant withdraws (撤回申请) while the village still holds the file."""
        reason = (reason or "").strip()
        if not reason or len(reason) > 500:
            raise TemplateDataError([FieldProblem("reason", "撤回申请须写明原因（1–500 字）")])

        def close(doc: DocumentRow) -> tuple[dict[str, Any], dict[str, Any]]:
            return {"return_reason": reason}, {"reason": reason}

        return self._move(who, document_id, Action.WITHDRAW, close)

    def _move(self, who: Principal, document_id: str, action: Action,
              change: Callable[[DocumentRow], tuple[dict[str, Any], dict[str, Any]]]) -> DocumentView:
        """A transition that writes no new version (submit, return): guards, state table, locked update and
        audit row in one transaction. ``change`` gives the row's new values and the audit detail."""
        self._require_role(who, action, document_id)
        with self.db.session() as session:
            step = self._case_allows(session, who, repositories.document(session, document_id), action)
            doc = self._visible(session, who, document_id, action)
            self._holder(who, doc, action)
            target = next_status(doc.status, action)
            values, detail = change(doc)
            repositories.transition(session, doc, doc.lock_version, status=target.value, updated_at=utcnow(),
                                    **values)
            audit.append(session, actor=who.actor, action=f"document.{action.value}", office_id=who.office_id,
                         document_id=doc.id, detail=detail)
            case = self._case(session, doc.id)
            if case is not None and step is not None:
                self.cases.after_document(session, case, who, step, version=None, reason=detail.get("reason"))
            return _view(session, repositories.document(session, doc.id))

    @_records_denials
    def recreate(self, who: Principal, document_id: str) -> DocumentView:
        """A returned certified file cannot be edited: a new document from its data, linked; the old one closed."""
        self._require_role(who, Action.RECREATE, document_id)
        with self.db.session() as session:
            self._case_allows(session, who, repositories.document(session, document_id), Action.RECREATE)
            doc = self._visible(session, who, document_id, Action.RECREATE)
            self._holder(who, doc, Action.RECREATE)
            next_status(doc.status, Action.RECREATE)
            if doc.data is None:
                raise ConflictError("该文书是导入的文件，没有可用于重新填报的数据", code="NO_DATA")
            data, family = dict(doc.data), doc.family
        return self.create(who, family, data, replaces=document_id)

    @_records_denials
    def import_pdf(self, who: Principal, pdf: bytes) -> DocumentView:
        """A file sealed elsewhere (a village working offline with the CLI) enters only if it verifies and its
        last seal is this office's."""
        self._require_role(who, Action.IMPORT)
        report = self.checks.verify(pdf)
        signers = [s.office_id or "" for s in report.signatures]
        family_id = report.document.family
        if report.verdict is not Verdict.PASSED or not signers or not all(signers) or family_id is None:
            raise VerificationRefusedError(f"导入的文件未通过电子签章校验：{report.summary()}", report=report.to_dict())
        with self.db.session() as session:
            route = repositories.route_of(session, signers[0])
            if signers != route[: len(signers)] or signers[-1] != who.office_id:
                raise VerificationRefusedError("导入的文件最后一个签章不是本单位的，或签章单位不在同一流转路径上",
                                               code="IMPORT_NOT_OURS", report=report.to_dict())
        family = self.documents.catalogue.family(family_id)
        if not family.tiers:
            raise ConflictError("公示、结果公布和证明由系统中的案件生成并登记，不能导入", code="DERIVED_ONLY")
        if family_id in CASE_FAMILIES and len(signers) > 1:
            raise ConflictError("申请只能以村级盖章件导入；乡镇、县级的审核须在系统中按案件流程办理",
                                code="CASE_OUT_OF_ORDER")
        status = Status.ISSUED if not family.tiers else (
            Status.SEALED if len(signers) == 1 else Status.ACCEPTED if len(signers) < len(route) else Status.APPROVED)
        with self._new_document(who, pdf, public_id=secrets.token_urlsafe(16), family=family, route=route,
                                reached=len(signers) - 1, status=status, data=None, replaces=None,
                                kind=VersionKind.IMPORTED, action="import",
                                detail={"signers": signers}) as (session, document_id):
            self.cases.open_imported(session, who, repositories.document(session, document_id), applicant="")
        return self.get(who, document_id)

    @contextmanager
    def _new_document(self, who: Principal, pdf: bytes, *, public_id: str, family: Family, route: list[str],
                      reached: int, status: Status, data: dict[str, Any] | None, replaces: str | None,
                      kind: VersionKind, action: str, detail: dict[str, Any]) -> Iterator[tuple[Session, str]]:
        """The one place a document is born: its first blob (durable first), its row, version 1 and the audit
        row, in one transaction the caller may add to."""
        sha = self.blobs.put(pdf)
        document_id = secrets.token_hex(16)
        with self.db.session() as session:
            now = utcnow()
            session.add(DocumentRow(id=document_id, public_id=public_id, family=family.id, title=family.title,
                                    owner_office_id=route[0], route=route, route_key=route_key(route),
                                    reached=reached, holder_office_id=who.office_id, status=status.value, data=data,
                                    replaces_id=replaces, current_version=1, created_by=who.user_id,
                                    created_at=now, updated_at=now))
            session.flush()
            session.add(VersionRow(document_id=document_id, number=1, sha256=sha, size=len(pdf), kind=kind.value,
                                   office_id=who.office_id, actor_id=who.user_id))
            audit.append(session, actor=who.actor, action=f"document.{action}", office_id=who.office_id,
                         document_id=document_id, detail={**detail, "sha256": sha})
            yield session, document_id

    # -- the one place a new version is committed -------------------------------------------------------------
    def _commit_version(self, who: Principal, seen: DocumentRow, result: SealResult, *, status: Status,
                        kind: VersionKind, action: str, note: str | None,
                        extra: dict[str, Any] | None = None, step: str | None = None,
                        decision: dict[str, Any] | None = None) -> DocumentView:
        sha = self.blobs.put(result.pdf)  # durable before any row points at it
        faults.point("version:blob-stored")
        with self.db.session() as session:
            doc = repositories.document(session, seen.id)
            number = seen.current_version + 1
            repositories.transition(session, doc, seen.lock_version, status=status.value, current_version=number,
                                    updated_at=utcnow())
            session.add(VersionRow(document_id=doc.id, number=number, sha256=sha, size=len(result.pdf), kind=kind.value,
                                   office_id=who.office_id, actor_id=who.user_id, note=note))
            audit.append(session, actor=who.actor, action="seal.use", office_id=who.office_id, document_id=doc.id,
                         detail=result.use_entry)
            audit.append(session, actor=who.actor, action=f"document.{action}", office_id=who.office_id,
                         document_id=doc.id, detail={"version": number, "sha256": sha, **(extra or {})})
            case = self._case(session, doc.id) if step is not None else None
            if case is not None and step is not None:
                self.cases.check(case, Action.SEAL if step == Step.SEAL else Action.ACCEPT, who.tier)
                self.cases.after_document(session, case, who, step, version=number, decision=decision)
            session.flush()
            return _view(session, repositories.document(session, doc.id))

