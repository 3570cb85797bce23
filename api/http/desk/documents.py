"""Home, inbox, the catalogue, the form, one document and its actions (seal, submit, accept, return, re-create).

Every action is a service call (api/services/workflow.py); what a page offers is read from the same rule tables
the service enforces (access.role_may, states.TRANSITIONS), so the desk never decides anything itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.http.desk import forms
from api.http.desk.cases import allowed_forms, needs_me, offers
from api.http.desk.common import DESK_HEADERS, Desk, DeskProblem, DeskUser, field, page, see_other
from api.http.downloads import DOCX, disposition, document_filename
from api.http.report_page import report_html
from api.http.schemas import VERSION_MAX
from api.services.access import Action, role_may
from api.services.cases import CaseView
from api.services.states import TRANSITIONS, Status
from api.services.workflow import DocumentQuery, DocumentView
from signer.decision import CATEGORIES, dibao_amount, next_month
from signer.errors import ConflictError, MinSealError, TemplateDataError, VerificationRefusedError
from signer.formats import cn_date_text
from templates.form_text import DEFAULT_OPINIONS, default_opinion

router = APIRouter()

#: what a redirect after an action says on the next page
DONE = {"created": "文书已生成，请核对预览后盖章。", "sealed": "已盖章。", "submitted": "已报送上级单位。",
        "accepted": "已审核签章。", "approved": "已审批签章。", "returned": "已退回，并通知填报单位。",
        "recreated": "已按退回的数据重新生成文书，请核对后盖章报送。",
        "issued": "证明已出具（盖章并发布），可打印交给申请人或接收单位。",
        "edited": "草稿已修改并重新生成，请核对预览后盖章。", "deleted": "草稿已删除。"}
#: the statuses a list may be filtered by (a deleted draft is in no list)
LISTED = [s for s in Status if s is not Status.DELETED]
ACTIVE = (Status.DRAFT, Status.SEALED, Status.SUBMITTED, Status.ACCEPTED, Status.RETURNED)


def _offers(desk: Desk, view: DocumentView, case: CaseView | None = None) -> set[str]:
    """The actions this page offers: the holder, a role that may, and a state that allows (the service checks
    all three again). An application's case narrows them to the steps its order allows now, and adds the case's
    own (不予确认, 撤回申请)."""
    me = desk.user
    if case is not None:
        allowed = allowed_forms(me, case.next_steps)
        held = view.holder_office_id == me.office_id
        drafts = {"edit", "delete"} & _offers(desk, view) if held and case.stage == "filed" else set()
        return ({"refuse", "withdraw"} & allowed) | (_offers(desk, view) & allowed if held else set()) | drafts
    if view.holder_office_id != me.office_id:
        return set()
    status = Status(view.status)
    offers = set()
    for action in (Action.SEAL, Action.SUBMIT, Action.ACCEPT, Action.RETURN, Action.RECREATE):
        issuing = action is Action.SEAL and status is Status.DRAFT
        if role_may(me, action) and ((status, action) in TRANSITIONS or issuing):
            offers.add(action.value)
    if Action.SUBMIT.value in offers and view.route[-1] == me.office_id:
        offers.discard(Action.SUBMIT.value)
    if status is Status.DRAFT and view.owner_office_id == me.office_id and view.data and _hand_filled(desk, view):
        offers |= {a.value for a in (Action.EDIT, Action.DELETE) if role_may(me, a)}
    return offers


def _hand_filled(desk: Desk, view: DocumentView) -> bool:
    """A form typed at the desk (公示, 公布 and 证明 follow their case and are never edited by hand)."""
    return bool(desk.services.documents.catalogue.family(view.family).tiers)


@dataclass(frozen=True)
class Verdict:
    word: str  # 通过 / 不通过 / 无法确定
    passed: bool
    summary: str


def _verdicts(desk: Desk, views: list[DocumentView]) -> dict[str, Verdict]:
    """The seal check of each file that came up to this office (cached by file hash and trust in the database)."""
    out = {}
    for view in views:
        if view.status == Status.SUBMITTED.value and view.holder_office_id == desk.user.office_id:
            _view, pdf = desk.services.workflow.pdf(desk.user, view.id)
            report = desk.services.checks.verify(pdf)
            out[view.id] = Verdict(report.verdict.label, report.verdict.value == "PASSED", report.summary())
    return out


def _names(desk: Desk) -> dict[str, str]:
    return desk.services.workflow.office_names()


@router.get("", response_class=HTMLResponse)
async def home(desk: DeskUser) -> HTMLResponse:
    def work() -> dict[str, Any]:
        inbox = desk.services.workflow.listing(desk.user, inbox=True)
        seen = desk.services.workflow.listing(desk.user, limit=500)
        waiting = {v.id for v in inbox}
        return {"inbox": inbox, "done_count": len([v for v in seen if v.id not in waiting]), "recent": seen[:10],
                "names": _names(desk), "families": _typed_families(desk)}

    return page(desk, "home.html.j2", **await desk.call(work))


def _list_query(q: str, status: str, since: str, until: str) -> tuple[DocumentQuery, dict[str, str]]:
    """The list filter from the query string (bad dates and unknown statuses are ignored, never a 500)."""
    def day(text: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    status = status if status in {s.value for s in LISTED} else ""
    query = DocumentQuery(search=q.strip()[:40], status=status, since=day(since), until=day(until))
    typed = {"q": query.search, "status": status, "since": query.since.isoformat() if query.since else "",
             "until": query.until.isoformat() if query.until else ""}
    return query, typed


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(desk: DeskUser, q: str = "", status: str = "", since: str = "", until: str = "",
                page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
                done: str | None = None) -> HTMLResponse:
    query, typed = _list_query(q, status, since, until)

    def work() -> dict[str, Any]:
        views, more = desk.services.workflow.page(desk.user, query, inbox=True, page=page_no)
        mine = set()
        cases = []
        for c in desk.services.cases.listing(desk.user):
            waiting = needs_me(desk.user, c)
            if waiting:
                mine.add(c.id)
            if waiting or (c.overdue and c.outcome == "open"):
                cases.append(c)
        return {"docs": views, "verdicts": _verdicts(desk, views), "names": _names(desk), "cases": cases,
                "mine": mine, "more": more}

    return page(desk, "inbox.html.j2", title="待办", **await desk.call(work), typed=typed, page_no=page_no,
                list_url="/desk/inbox", statuses=LISTED, done=DONE.get(done or ""))


@router.get("/documents", response_class=HTMLResponse)
async def documents(desk: DeskUser, q: str = "", status: str = "", since: str = "", until: str = "",
                    page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1) -> HTMLResponse:
    query, typed = _list_query(q, status, since, until)

    def work() -> dict[str, Any]:
        views, more = desk.services.workflow.page(desk.user, query, inbox=False, page=page_no)
        return {"docs": views, "verdicts": {}, "names": _names(desk), "cases": None, "mine": set(), "more": more}

    return page(desk, "inbox.html.j2", title="已办", **await desk.call(work), typed=typed, page_no=page_no,
                list_url="/desk/documents", statuses=LISTED, done=None)


# -- the catalogue and the form ---------------------------------------------------------------------------------
def _typed_families(desk: Desk) -> list[Any]:
    """What staff may type by hand: forms only. 公示, 公布 and 证明 are derived from cases (a certificate typed
    by hand is refused by the service), so the desk routes them to the case."""
    return desk.services.workflow.creatable(desk.user)


@router.get("/new", response_class=HTMLResponse)
async def catalogue(desk: DeskUser) -> HTMLResponse:
    return page(desk, "catalogue.html.j2", families=_typed_families(desk),
                certificates=desk.user.tier.value != "village" and desk.user.role.value != "admin")


def _family(desk: Desk, family_id: str) -> Any:
    for family in _typed_families(desk):
        if family.id == family_id:
            return family
    derived = {f.id for f in desk.services.documents.catalogue if f.kind != "form"}
    if family_id in derived:
        raise _ToCases()
    raise DeskProblem(404, "没有这种文书，或本单位不能填报它")


class _ToCases(Exception):
    """A derived family asked for by its form address: certificates are issued from the case."""


def _form_page(desk: Desk, family: Any, values: dict[str, Any], problems: list[Any] | None = None, *,
               message: str | None = None, add_row: str | None = None, status: int = 200,
               checked: bool = False, editing: str | None = None) -> HTMLResponse:
    tree, rest = forms.build(family.schema.root, values, problems, add_row=add_row)
    return page(desk, "form.html.j2", status=status, family=family, tree=tree, rest=rest, message=message,
                problem_count=len(problems or []), checked=checked, editing=editing)


@router.get("/new/{family_id}", response_model=None)
async def new_form(family_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    try:
        family = _family(desk, family_id)
    except _ToCases:
        return see_other("/desk/cases?done=certificate")
    today = desk.services.clock.today()
    return _form_page(desk, family, forms.defaults(family.schema.root, office_name=desk.user.office_name,
                                                   today=today))


@router.post("/new/{family_id}", response_model=None)
async def post_form(family_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    """One form, several buttons: add or remove a row, check, or make the document (validate + render)."""
    try:
        family = _family(desk, family_id)
    except _ToCases:
        return see_other("/desk/cases?done=certificate")
    return await _posted_form(desk, family)


async def _posted_form(desk: Desk, family: Any, editing: str | None = None) -> HTMLResponse | RedirectResponse:
    """A new form's or a draft's buttons (``editing``: the draft's id): a row added or removed, a check, or the
    document made (created, or the draft re-rendered in place)."""
    form = await desk.form()
    action = field(form, "_action", 80)
    remove = action.removeprefix("remove:") if action.startswith("remove:") else None
    values = forms.values_of(form, remove_row=remove)
    if action.startswith("add:"):
        return _form_page(desk, family, values, add_row=action.removeprefix("add:"), editing=editing)
    if remove is not None:
        return _form_page(desk, family, values, editing=editing)
    data = forms.data_of(family.schema.root, values)
    if action == "check":
        try:
            prepared = dict(data)
            if family.tiers:  # the route's offices are the service's to fill; only their presence is checked here
                prepared["offices"] = {t: "—" for t in family.tiers}
            await desk.call(desk.services.documents.check, family.id, prepared, today=desk.services.clock.today())
        except TemplateDataError as error:
            return _form_page(desk, family, values, error.problems, status=422, message=error.message,
                              editing=editing)
        return _form_page(desk, family, values, message="检查通过，可以生成文书。", checked=True, editing=editing)
    try:
        if editing is not None:
            view = await desk.call(desk.services.workflow.edit, desk.user, editing, data)
        else:
            view = await desk.call(desk.services.workflow.create, desk.user, family.id, data)
    except TemplateDataError as error:
        return _form_page(desk, family, values, error.problems, status=422, message=error.message, editing=editing)
    except MinSealError as error:
        return _form_page(desk, family, values, status=409, message=error.message, editing=editing)
    return see_other(f"/desk/documents/{view.id}?done={'edited' if editing else 'created'}")


# -- one document ---------------------------------------------------------------------------------------------
def _facts(desk: Desk, view: DocumentView) -> dict[str, Any]:
    if not view.data:
        return {}
    try:
        prepared = desk.services.documents.catalogue.prepare(view.family, view.data,
                                                             today=desk.services.clock.today())
    except MinSealError:
        return {}
    facts = prepared.view.get("facts")
    return dict(facts) if isinstance(facts, dict) else {}


@dataclass(frozen=True)
class Figures:
    """What the amount is computed from, shown beside the 初审 and 审核确认 forms (the one rule:
    signer.decision.dibao_amount, with the local standard of the application's 申请类别)."""

    category: str
    standard: str
    per_capita_income: str
    income_gap: str
    persons: int
    monthly_amount: str
    #: the township's 初审 figures, when the amount proposed is theirs
    township: bool


def _figures(desk: Desk, case: CaseView | None, facts: dict[str, Any]) -> Figures | None:
    """The 低保 figures of a case's application: persons and amount as the township fixed them at its 初审 (else
    the household and the one rule), the standard of its 申请类别."""
    if case is None or case.kind != "dibao" or not case.category:
        return None
    township = case.facts.get("township") or {}
    try:
        standard = desk.services.cases.rules.dibao_standard(case.category)
        persons = int(township.get("persons") or facts.get("household_size") or 1)
        computed = dibao_amount(standard, str(facts.get("per_capita_income") or "0"), persons,
                                total_income=facts.get("total_income"), household_size=facts.get("household_size"))
    except (MinSealError, InvalidOperation, ValueError):
        return None
    amount = township.get("monthly_amount")
    shown = Decimal(str(amount)) if amount is not None else max(computed.monthly_amount, Decimal("0"))
    return Figures(case.category, f"{computed.standard:.2f}", f"{computed.per_capita_income:.2f}",
                   f"{computed.income_gap:.2f}", persons, f"{shown:.2f}", amount is not None)


def _decision_defaults(desk: Desk, figures: Figures | None) -> dict[str, str]:
    """The county's figures as the form first shows them: the township's persons and amount, the standard of
    the application's 申请类别, the month after today; 保障类别 is left for the county to choose (the service
    checks every figure against the case and the rules)."""
    start = _month(next_month(desk.services.clock.today()))
    if figures is None:
        return {"persons": "", "category": "", "method": "差额", "standard": "", "monthly_amount": "",
                "start_month": start, "tier_amount": ""}
    return {"persons": str(figures.persons), "category": "", "method": "差额", "standard": figures.standard,
            "monthly_amount": figures.monthly_amount, "start_month": start, "tier_amount": ""}


def _opinion(desk: Desk, case: CaseView | None, kind: Any, names: dict[str, str], route: list[str]) -> str:
    """The default opinion of this tier: the county's states the case's real 公示 (dates and village); the
    township's 初审 promises the 公示, never claims it happened."""
    tier = desk.user.tier.value
    if case is not None and case.kind == "dibao" and tier == "county":
        notice = case.facts.get("notice") or {}
        if notice.get("start") and notice.get("end"):
            village = names.get(case.village_id, "申请人所在村（社区）")
            checked = "经复查" if case.facts.get("objection") else ""
            return (f"该户已于{cn_date_text(notice['start'])}至{cn_date_text(notice['end'])}在{village}公示，"
                    f"{checked}无异议。经审核，符合最低生活保障条件，同意纳入保障。")
    if case is not None and case.kind == "dibao" and tier == "township":
        return "经入户调查和家庭经济状况核对，情况属实，拟同意，按规定在申请人所在村公示。"
    if str(kind) not in DEFAULT_OPINIONS or tier not in DEFAULT_OPINIONS[str(kind)]:
        return ""
    return default_opinion(str(kind), tier, reports_to=names.get(route[1], "") if len(route) > 1 else "")


def _month(day: dt.date) -> str:
    """A month as the decision's start_month field takes it (YYYY-MM)."""
    return f"{day.year:04d}-{day.month:02d}"


async def _document_page(desk: Desk, document_id: str, *, done: str | None = None, error: str | None = None,
                         problems: list[Any] | None = None, typed: dict[str, str] | None = None,
                         status: int = 200) -> HTMLResponse:
    def work() -> dict[str, Any]:
        view = desk.services.workflow.get(desk.user, document_id)
        case = desk.services.cases.get_for_document(desk.user, view.id) if view.case_id else None
        verdicts = _verdicts(desk, [view])
        facts = _facts(desk, view)
        names = _names(desk)
        return {"doc": view, "verdict": verdicts.get(view.id), "facts": facts, "names": names, "case": case,
                "offers": _offers(desk, view, case),
                "case_offers": [o for o in offers(desk.user, case) if o.mine] if case else []}

    ctx = await desk.call(work)
    view: DocumentView = ctx["doc"]
    case: CaseView | None = ctx["case"]
    kind = ctx["facts"].get("kind")
    county = desk.user.office_id == view.route[-1] and len(view.route) == 3 and kind == "dibao"
    figures = _figures(desk, case, ctx["facts"]) if desk.user.tier.value != "village" else None
    decision = {**_decision_defaults(desk, figures), **(typed or {})} if county else {}
    decision_errors: dict[str, list[str]] = {}
    for p in problems or []:
        decision_errors.setdefault(p.path.removeprefix("decision."), []).append(p.message)
    return page(desk, "document.html.j2", status=status, **ctx, done=DONE.get(done or ""), error=error,
                opinion=(typed or {}).get("opinion") or _opinion(desk, case, kind, ctx["names"], list(view.route)),
                county=county, decision=decision, decision_errors=decision_errors, categories=CATEGORIES,
                typed=typed or {}, figures=figures)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
async def document(document_id: str, desk: DeskUser, done: str | None = None) -> HTMLResponse:
    return await _document_page(desk, document_id, done=done)


@router.get("/documents/{document_id}/pdf")
async def document_pdf(document_id: str, desk: DeskUser) -> Response:
    view, pdf = await desk.call(desk.services.workflow.pdf, desk.user, document_id)
    name, fallback = document_filename(view, view.current_version, "pdf")
    return Response(pdf, media_type="application/pdf", headers={
        **DESK_HEADERS, "Content-Disposition": disposition(name, inline=True, fallback=fallback)})


@router.get("/documents/{document_id}/docx")
async def document_docx(document_id: str, desk: DeskUser) -> Response:
    """The editable Word copy, named in Chinese like the PDF."""
    view, docx = await desk.call(desk.services.workflow.word_copy, desk.user, document_id)
    name, fallback = document_filename(view, None, "docx")
    return Response(docx, media_type=DOCX, headers={
        **DESK_HEADERS, "Content-Disposition": disposition(name, fallback=fallback)})


@router.get("/documents/{document_id}/versions/{number}/pdf")
async def version_pdf(document_id: str, number: Annotated[int, Path(ge=1, le=VERSION_MAX)],
                      desk: DeskUser) -> Response:
    """One sealed version as it was stored (the case's timeline links each tier's)."""
    view, pdf = await desk.call(desk.services.workflow.pdf, desk.user, document_id, number)
    name, fallback = document_filename(view, number, "pdf")
    return Response(pdf, media_type="application/pdf", headers={
        **DESK_HEADERS, "Content-Disposition": disposition(name, inline=True, fallback=fallback)})


@router.get("/documents/{document_id}/report", response_class=HTMLResponse)
async def document_report(document_id: str, desk: DeskUser) -> HTMLResponse:
    def work() -> str:
        _view, pdf = desk.services.workflow.pdf(desk.user, document_id)
        return report_html(desk.services.checks.verify(pdf), back=f"/desk/documents/{document_id}")

    return HTMLResponse(await desk.call(work), headers=DESK_HEADERS)


async def _act(desk: Desk, document_id: str, done: str, fn: Any, *args: Any,
               typed: dict[str, str] | None = None, **kwargs: Any) -> HTMLResponse | RedirectResponse:
    """Run one transition; a refusal comes back on the document page, with what was typed."""
    try:
        view = await desk.call(fn, desk.user, document_id, *args, **kwargs)
    except TemplateDataError as error:
        return await _document_page(desk, document_id, error=error.message, problems=error.problems, typed=typed,
                                    status=422)
    except (ConflictError, VerificationRefusedError, MinSealError) as error:
        return await _document_page(desk, document_id, error=error.message, typed=typed, status=409)
    target = view.id if isinstance(view, DocumentView) else document_id
    if done == "accepted" and isinstance(view, DocumentView) and view.status == Status.APPROVED.value:
        done = "approved"
    return see_other(f"/desk/documents/{target}?done={done}")


@router.post("/documents/{document_id}/seal", response_model=None)
async def seal(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    opinion = field(form, "opinion", 300).strip() or None
    return await _act(desk, document_id, "sealed", desk.services.workflow.seal, opinion=opinion,
                      typed={"opinion": opinion or ""})


@router.post("/documents/{document_id}/submit", response_model=None)
async def submit(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    return await _act(desk, document_id, "submitted", desk.services.workflow.submit)


DECISION_FIELDS = ("persons", "category", "method", "standard", "monthly_amount", "start_month", "tier_amount")


@router.post("/documents/{document_id}/accept", response_model=None)
async def accept(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    opinion = field(form, "opinion", 300).strip() or None
    typed = {name: field(form, name, 20).strip() for name in DECISION_FIELDS if name in form}
    decision: dict[str, Any] | None = None
    if typed:  # the county's 核定 figures (57号 art. 21): typed strings, the persons as a whole number
        decision = {k: v for k, v in typed.items() if v}
        if decision.get("persons", "").isdigit():
            decision["persons"] = int(decision["persons"])
        if decision.get("method") == "差额":
            decision.pop("tier_amount", None)
    return await _act(desk, document_id, "accepted", desk.services.workflow.accept, opinion=opinion,
                      decision=decision, typed={**typed, "opinion": opinion or ""})


@router.post("/documents/{document_id}/return", response_model=None)
async def return_(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    reason = field(form, "reason", 500)
    return await _act(desk, document_id, "returned", desk.services.workflow.return_, reason=reason,
                      typed={"reason": reason})


@router.post("/documents/{document_id}/recreate", response_model=None)
async def recreate(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    return await _act(desk, document_id, "recreated", desk.services.workflow.recreate)


# -- a draft: edit in place, delete ------------------------------------------------------------------------------
async def _draft_family(desk: Desk, document_id: str) -> tuple[DocumentView, Any]:
    """The draft and its family, or the document page's refusal (sealed or sent: 409, naming its status)."""
    view = await desk.call(desk.services.workflow.get, desk.user, document_id)
    if not {"edit"} & _offers(desk, view):
        raise _NotEditable(view)
    return view, desk.services.documents.catalogue.family(view.family)


class _NotEditable(Exception):
    def __init__(self, view: DocumentView) -> None:
        super().__init__(view.id)
        self.view = view


async def _not_editable(desk: Desk, error: _NotEditable) -> HTMLResponse:
    view = error.view
    word = f"文书当前状态为「{view.status_label}」：只有本单位未盖章的草稿可以修改或删除"
    return await _document_page(desk, view.id, error=word, status=409)


@router.get("/documents/{document_id}/edit", response_model=None)
async def edit_form(document_id: str, desk: DeskUser) -> HTMLResponse:
    """The form pre-filled with the draft's data (the route's office names are the service's, not typed)."""
    try:
        view, family = await _draft_family(desk, document_id)
    except _NotEditable as error:
        return await _not_editable(desk, error)
    values = forms.as_values({k: v for k, v in (view.data or {}).items() if k not in forms.ROUTE_FILLED})
    return _form_page(desk, family, values, editing=view.id)


@router.post("/documents/{document_id}/edit", response_model=None)
async def edit(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    try:
        _view, family = await _draft_family(desk, document_id)
    except _NotEditable as error:
        return await _not_editable(desk, error)
    return await _posted_form(desk, family, editing=document_id)


@router.post("/documents/{document_id}/delete", response_model=None)
async def delete(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    """Delete a draft once the clerk ticked 确认删除 (the page asks; the service refuses anything but a draft)."""
    form = await desk.form()
    if field(form, "confirm", 10) != "yes":
        return await _document_page(desk, document_id, error="请先勾选“确认删除这份草稿”，再点删除。", status=422)
    try:
        await desk.call(desk.services.workflow.delete, desk.user, document_id)
    except (ConflictError, MinSealError) as error:
        return await _document_page(desk, document_id, error=error.message, status=409)
    return see_other("/desk/inbox?done=deleted")
