"""公示 and 公布 (api/services/publication.py): build the per-village 公示 from accepted files, publish it, record
objections, withdraw; the county's 结果公布; certificates issued by this office, and their revocation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from api.http.desk.common import Desk, DeskProblem, DeskUser, field, page, see_other
from api.services.local_rules import local_rules
from api.services.publication import CHANNELS
from api.services.states import PublicationKind, PublicationState, Status
from signer.errors import MinSealError, TemplateDataError
from signer.pki import Tier

router = APIRouter()

DONE = {"built": "已生成公示草稿，请核对后发布。", "published": "已盖章发布。", "withdrawn": "已撤回。",
        "objection": "已登记异议。", "result": "已生成结果公布草稿，请核对后发布。", "revoked": "证明已撤销。"}


def _staff(desk: Desk) -> None:
    if desk.user.tier is Tier.VILLAGE or desk.user.role.value == "admin":
        raise DeskProblem(403, "公示、公布和证明由乡镇或县级经办、审核、审批人员办理")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def _list_page(desk: Desk, *, done: str | None = None, error: str | None = None,
                     problems: list[Any] | None = None, typed: dict[str, str] | None = None,
                     status: int = 200) -> HTMLResponse:
    _staff(desk)

    def work() -> dict[str, Any]:
        desk.services.publication.sweep()
        notices = desk.services.publication.listing(desk.user)
        docs = desk.services.workflow.listing(desk.user, limit=500)
        families = {f.id: f for f in desk.services.documents.catalogue}
        certificates = [d for d in docs if families[d.family].kind == "certificate"
                        and d.owner_office_id == desk.user.office_id]
        posted = {a for n in notices if n.kind == PublicationKind.NOTICE
                  and n.state in (PublicationState.DRAFT, PublicationState.PUBLISHED) for a in n.application_ids}
        ready = [d for d in docs if d.family == "dibao_application" and d.status == Status.ACCEPTED.value
                 and d.holder_office_id == desk.user.office_id and d.id not in posted]
        return {"notices": notices, "certificates": certificates, "ready": ready}

    ctx = await desk.call(work)
    errors: dict[str, list[str]] = {}
    for p in problems or []:
        errors.setdefault(p.path.split(".")[0], []).append(p.message)
    tomorrow = desk.services.clock.today() + dt.timedelta(days=1)
    rule = local_rules(desk.services.settings).notice
    return page(desk, "notices.html.j2", status=status, **ctx, done=DONE.get(done or ""), error=error,
                errors=errors, typed=typed or {}, county=desk.user.tier is Tier.COUNTY,
                default_start=tomorrow.isoformat(), days=rule.days, day_unit="个工作日" if rule.working_days else "天")


@router.get("/notices", response_class=HTMLResponse)
async def notices(desk: DeskUser, done: str | None = None) -> HTMLResponse:
    return await _list_page(desk, done=done)


@router.post("/notices/build", response_model=None)
async def build(desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    typed = {k: field(form, k, 60).strip() for k in ("phone", "address", "start", "days")}
    try:
        await desk.call(desk.services.publication.build_notices, desk.user,
                        objection={"phone": typed["phone"], "address": typed["address"]},
                        start=_date(typed["start"]), days=int(typed["days"]) if typed["days"].isdigit() else None)
    except TemplateDataError as error:
        return await _list_page(desk, error=error.message, problems=error.problems, typed=typed, status=422)
    except MinSealError as error:
        return await _list_page(desk, error=error.message, typed=typed, status=409)
    return see_other("/desk/notices?done=built")


@router.post("/notices/results", response_model=None)
async def build_result(desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    typed = {k: field(form, k, 60).strip() for k in ("benefit_from", "phone", "address")}
    benefit_from = _date(typed["benefit_from"])
    if benefit_from is None:
        return await _list_page(desk, error="请填写保障金起发日期", typed=typed, status=422)
    try:
        await desk.call(desk.services.publication.build_result, desk.user, benefit_from=benefit_from,
                        supervision={"phone": typed["phone"], "address": typed["address"]})
    except TemplateDataError as error:
        return await _list_page(desk, error=error.message, problems=error.problems, typed=typed, status=422)
    except MinSealError as error:
        return await _list_page(desk, error=error.message, typed=typed, status=409)
    return see_other("/desk/notices?done=result")


async def _notice_page(desk: Desk, document_id: str, *, done: str | None = None, error: str | None = None,
                       problems: list[Any] | None = None, typed: dict[str, str] | None = None,
                       status: int = 200) -> HTMLResponse:
    _staff(desk)

    def work() -> dict[str, Any]:
        notice = desk.services.publication.get(desk.user, document_id)
        households = []
        if notice.kind == PublicationKind.NOTICE:
            for application_id in notice.application_ids:  # which household an objection concerns
                try:
                    data = desk.services.workflow.get(desk.user, application_id).data or {}
                except MinSealError:
                    continue
                households.append((application_id, str((data.get("applicant") or {}).get("name") or application_id)))
        return {"n": notice, "objections": desk.services.publication.objections(desk.user, document_id),
                "doc": desk.services.workflow.get(desk.user, document_id), "households": households}

    ctx = await desk.call(work)
    errors: dict[str, list[str]] = {}
    for p in problems or []:
        errors.setdefault(p.path, []).append(p.message)
    return page(desk, "notice.html.j2", status=status, **ctx, done=DONE.get(done or ""), error=error,
                errors=errors, typed=typed or {}, channels=CHANNELS, today=desk.services.clock.today().isoformat(),
                township=desk.user.tier is Tier.TOWNSHIP)


@router.get("/notices/{document_id}", response_class=HTMLResponse)
async def notice(document_id: str, desk: DeskUser, done: str | None = None) -> HTMLResponse:
    return await _notice_page(desk, document_id, done=done)


async def _notice_act(desk: Desk, document_id: str, done: str, fn: Any, typed: dict[str, str] | None = None,
                      **kwargs: Any) -> HTMLResponse | RedirectResponse:
    _staff(desk)
    try:
        await desk.call(fn, desk.user, document_id, **kwargs)
    except TemplateDataError as error:
        return await _notice_page(desk, document_id, error=error.message, problems=error.problems, typed=typed,
                                  status=422)
    except MinSealError as error:
        return await _notice_page(desk, document_id, error=error.message, typed=typed, status=409)
    return see_other(f"/desk/notices/{document_id}?done={done}")


@router.post("/notices/{document_id}/publish", response_model=None)
async def publish(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    return await _notice_act(desk, document_id, "published", desk.services.publication.publish)


@router.post("/notices/{document_id}/withdraw", response_model=None)
async def withdraw(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    reason = field(form, "reason", 500)
    return await _notice_act(desk, document_id, "withdrawn", desk.services.publication.withdraw, reason=reason,
                             typed={"reason": reason})


@router.post("/notices/{document_id}/objections", response_model=None)
async def objection(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    typed = {"received_on": field(form, "received_on", 10), "channel": field(form, "channel", 16),
             "summary": field(form, "summary", 1000), "objector_name": field(form, "objector_name", 40),
             "objector_contact": field(form, "objector_contact", 60),
             "application_id": field(form, "application_id", 64)}
    received = _date(typed["received_on"])
    if received is None:
        return await _notice_page(desk, document_id, error="请填写受理日期", typed=typed, status=422,
                                  problems=[])
    return await _notice_act(desk, document_id, "objection", desk.services.publication.record_objection,
                             typed=typed, received_on=received, channel=typed["channel"], summary=typed["summary"],
                             objector_name=typed["objector_name"] or None,
                             objector_contact=typed["objector_contact"] or None,
                             application_id=typed["application_id"] or None)


@router.post("/certificates/{document_id}/revoke", response_model=None)
async def revoke(document_id: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    _staff(desk)
    form = await desk.form()
    reason = field(form, "reason", 500)
    try:
        await desk.call(desk.services.publication.revoke_certificate, desk.user, document_id, reason=reason)
    except MinSealError as error:
        return await _list_page(desk, error=error.message, status=422)
    return see_other("/desk/notices?done=revoked")
