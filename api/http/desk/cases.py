"""The case (案件) at the desk: the list of this office's cases, one case's page (its timeline with each sealed
version and its check, the facts each tier fixed, the deadlines, the next steps), and the steps taken from it.

What a page offers is the case book's own list (``CaseView.next_steps``: allowed now, or blocked with the same
reason a refusal gives) narrowed to the signed-in office and what its role may do; every step is a service call
that checks the order again, so the desk never decides the order itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.errors import http_status
from api.http.desk.common import DESK_HEADERS, Desk, DeskProblem, DeskUser, field, page, see_other
from api.http.desk.papers import paper_forms
from api.http.routes.scans import content_disposition, read_scan_upload
from api.services.access import Action, role_may
from api.services.cases import CaseView, NextStep, Step
from api.services.identity import Principal
from api.services.publication import STAFF_ROLES
from api.services.scans import LABELS as SCAN_LABELS
from api.services.states import VersionKind
from signer.errors import MinSealError, TemplateDataError
from signer.pki import Tier

router = APIRouter()

#: the document action each case step is (the role table in api/services/access.py says who may take it)
STEP_ACTIONS = {Step.SEAL: Action.SEAL, Step.SUBMIT: Action.SUBMIT, Step.REPORT: Action.SUBMIT,
                Step.PRELIMINARY: Action.ACCEPT, Step.DECIDE: Action.ACCEPT, Step.RETURN: Action.RETURN,
                Step.RECREATE: Action.RECREATE, Step.REFUSE: Action.REFUSE, Step.WITHDRAW: Action.WITHDRAW}
#: the same steps as the document page names its forms
STEP_FORMS = {Step.SEAL: "seal", Step.SUBMIT: "submit", Step.REPORT: "submit", Step.PRELIMINARY: "accept",
              Step.DECIDE: "accept", Step.RETURN: "return", Step.RECREATE: "recreate", Step.REFUSE: "refuse",
              Step.WITHDRAW: "withdraw"}

DONE = {"submitted": "已报送。", "reported": "已报送县级。", "refused": "已作出不予确认决定，案件办结。",
        "withdrawn": "申请已撤回，案件办结。",
        "certificate": "证明须从已审核确认的案件出具：请打开案件，在「下一步」中填写接收单位和用途后出具。",
        "scan": "签字扫描件已保存。"}


def role_may_take(who: Principal, step: str) -> bool:
    """Whether this user's role may take ``step`` (the 公示, 公布 and 证明 are the publication staff's)."""
    action = STEP_ACTIONS.get(step)
    if action is None:
        return who.role in STAFF_ROLES and who.tier is not Tier.VILLAGE
    return role_may(who, action)


@dataclass(frozen=True)
class Offer:
    """One next step as the signed-in user sees it."""

    step: str
    label: str
    office_id: str
    #: this office takes it
    mine: bool
    #: allowed now, for this office and this role: a button or a form
    can: bool
    #: why not (the case's order, or the role)
    blocked: str | None


def offers(who: Principal, case: CaseView) -> list[Offer]:
    """The case's next steps, each once: this office's first, then the others' (so staff see who acts next)."""
    out: list[Offer] = []
    seen: set[tuple[str, str]] = set()
    for n in sorted(case.next_steps, key=lambda s: s.office_id != who.office_id):
        if (n.step, n.office_id) in seen:
            continue
        seen.add((n.step, n.office_id))
        mine = n.office_id == who.office_id
        blocked = n.blocked
        if mine and n.allowed and not role_may_take(who, n.step):
            blocked = f"本单位{who.role.label}不能办理此步骤"
        out.append(Offer(n.step, n.label, n.office_id, mine, mine and n.allowed and blocked is None, blocked))
    return out


def allowed_forms(who: Principal, steps: list[NextStep]) -> set[str]:
    """The document page's forms this user may use now on a case's application."""
    return {STEP_FORMS[n.step] for n in steps
            if n.office_id == who.office_id and n.allowed and n.step in STEP_FORMS and role_may_take(who, n.step)}


def needs_me(who: Principal, case: CaseView) -> bool:
    return any(o.can for o in offers(who, case))


@dataclass(frozen=True)
class EventRow:
    """A timeline entry with its sealed version's check (cached by the file's hash)."""

    seq: int
    stage_label: str
    on: str
    actor: str
    office: str
    note: str | None
    document_id: str | None
    version: int | None
    pdf: str | None
    verdict: str | None
    passed: bool


def _timeline(desk: Desk, case: CaseView, names: dict[str, str]) -> list[EventRow]:
    out = []
    checked: dict[tuple[str, int], tuple[str, bool] | None] = {}
    for e in case.events:
        pdf, verdict, passed = None, None, False
        if e.document_id and e.version:
            key = (e.document_id, e.version)
            if key not in checked:
                try:
                    view, blob = desk.services.workflow.pdf(desk.user, e.document_id, e.version)
                    kind = next((v.kind for v in view.versions if v.number == e.version), None)
                    if kind is not None and not VersionKind(kind).carries_a_seal:
                        checked[key] = ("未盖章", False)  # the draft as generated: nothing to check yet
                    else:
                        report = desk.services.checks.verify(blob)
                        checked[key] = (report.verdict.label, report.verdict.value == "PASSED")
                except MinSealError:  # a file this office may not read (another office's 公示)
                    checked[key] = None
            found = checked[key]
            if found is not None:
                pdf = f"/desk/documents/{e.document_id}/versions/{e.version}/pdf"
                verdict, passed = found
        out.append(EventRow(e.seq, e.stage_label, e.on, e.actor, names.get(e.office_id or "", e.office_id or "系统"),
                            e.note, e.document_id, e.version, pdf, verdict, passed))
    return out


# -- the list ---------------------------------------------------------------------------------------------------
@router.get("/cases", response_class=HTMLResponse)
async def listing(desk: DeskUser, done: str | None = None) -> HTMLResponse:
    if desk.user.role.value == "admin":
        raise DeskProblem(403, "案件由村、乡镇、县级经办、审核、审批人员办理")

    def work() -> dict[str, Any]:
        cases = desk.services.cases.listing(desk.user)
        return {"cases": cases, "mine": {c.id for c in cases if needs_me(desk.user, c)},
                "names": desk.services.workflow.office_names()}

    return page(desk, "cases.html.j2", **await desk.call(work), done=DONE.get(done or ""))


# -- one case ---------------------------------------------------------------------------------------------------
async def case_page(desk: Desk, case_id: str, *, done: str | None = None, error: str | None = None,
                    typed: dict[str, str] | None = None, status: int = 200, paper: str | None = None,
                    paper_typed: dict[str, Any] | None = None, scan_error: str | None = None) -> HTMLResponse:
    if desk.user.role.value == "admin":
        raise DeskProblem(403, "案件由村、乡镇、县级经办、审核、审批人员办理")

    def work() -> dict[str, Any]:
        case = desk.services.cases.get(desk.user, case_id)
        names = desk.services.workflow.office_names()
        options = desk.services.papers.options(desk.user, case_id)
        return {"case": case, "names": names, "events": _timeline(desk, case, names),
                "offers": offers(desk.user, case), "papers": options,
                "paper_forms": paper_forms(desk.services.documents.catalogue, options),
                "scans": desk.services.scans.listing(desk.user, case_id),
                "scan_papers": desk.services.scans.papers(desk.user, case_id)}

    ctx = await desk.call(work)
    return page(desk, "case.html.j2", status=status, **ctx, done=DONE.get(done or ""), error=error,
                typed=typed or {}, open_paper=paper, paper_typed=paper_typed or {}, scan_labels=SCAN_LABELS,
                scan_error=scan_error, scan_limit=desk.services.settings.scan_max_bytes)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case(case_id: str, desk: DeskUser, done: str | None = None) -> HTMLResponse:
    return await case_page(desk, case_id, done=done)


async def _application(desk: Desk, case_id: str) -> str:
    view: CaseView = await desk.call(desk.services.cases.get, desk.user, case_id)
    return view.application_id


# -- scans of pages signed by hand (registered before the case steps, whose path would take "scans") ------------
@router.post("/cases/{case_id}/scans", response_model=None)
async def add_scan(case_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    """签字扫描件: a scan of a signed page uploaded from the case page (its type is read from the bytes)."""
    form = await desk.form()
    try:  # the upload is spooled to a temporary file: closed here, whatever the answer
        upload = form.get("file")
        label = field(form, "label", 80)
        if label == "其他" and field(form, "other_label", 80).strip():
            label = field(form, "other_label", 80)
        document_id = field(form, "document_id", 64).strip() or None
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await case_page(desk, case_id, scan_error="请选择要上传的扫描件", status=422)
        data = await read_scan_upload(upload, desk.services.settings.scan_max_bytes)
        await desk.call(desk.services.scans.add, desk.user, case_id, data, filename=upload.filename, label=label,
                        document_id=document_id)
    except MinSealError as problem:
        return await case_page(desk, case_id, scan_error=problem.message, status=http_status(problem))
    finally:
        await form.close()
    return see_other(f"/desk/cases/{case_id}?done=scan#scans")


@router.get("/scans/{scan_id}")
async def scan_file(scan_id: str, desk: DeskUser) -> Response:
    """One scan, as stored, with the desk's headers (same origin only, never sniffed)."""
    view, data = await desk.call(desk.services.scans.file, desk.user, scan_id)
    return Response(data, media_type=view.media_type,
                    headers={**DESK_HEADERS, "Content-Disposition": content_disposition(view)})


@router.post("/cases/{case_id}/{step}", response_model=None)
async def take(case_id: str, step: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    """The steps taken on the case page itself: 报送 (village or township), 不予确认, 撤回申请, 出具证明. The
    others need the document page's forms (opinion, figures) or the 公示 page, which the case page links."""
    form = await desk.form()
    typed = {k: field(form, k, 500).strip() for k in ("reason", "recipient", "purpose")}
    application = await _application(desk, case_id)
    workflow = desk.services.workflow
    try:
        if step in (Step.SUBMIT, Step.REPORT):
            await desk.call(workflow.submit, desk.user, application)
            return see_other(f"/desk/cases/{case_id}?done={'reported' if step == Step.REPORT else 'submitted'}")
        if step == Step.REFUSE:
            await desk.call(workflow.refuse, desk.user, application, reason=typed["reason"])
            return see_other(f"/desk/cases/{case_id}?done=refused")
        if step == Step.WITHDRAW:
            await desk.call(workflow.withdraw, desk.user, application, reason=typed["reason"])
            return see_other(f"/desk/cases/{case_id}?done=withdrawn")
        if step == Step.CERTIFICATE:
            issued = await desk.call(desk.services.publication.issue_certificate, desk.user, case_id,
                                     recipient=typed["recipient"][:60] or None, purpose=typed["purpose"][:60] or None)
            return see_other(f"/desk/documents/{issued.document_id}?done=issued")
    except TemplateDataError as problem:
        details = "；".join(p.message for p in problem.problems)
        return await case_page(desk, case_id, error=f"{problem.message}{'：' + details if details else ''}",
                                typed=typed, status=422)
    except MinSealError as problem:
        return await case_page(desk, case_id, error=problem.message, typed=typed, status=409)
    raise DeskProblem(404, "案件页不能办理这一步骤")
