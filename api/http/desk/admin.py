"""Admin pages: users (add, disable, reset password), seals (list, issue, renew, revoke, the seal image), the audit
log (filters, CSV export, chain check); and the verify page for any staff member."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api.http.deps import read_upload
from api.http.desk.common import DESK_HEADERS, Desk, DeskUser, field, page, see_other
from api.http.report_page import report_html
from api.services.audit_log import AuditLog
from api.services.authority import REASONS, STATUS_LABELS
from api.services.identity import Role
from api.services.seal_admin import OfficeAdmin
from signer.errors import ForbiddenError, MinSealError

router = APIRouter()
DONE = {"added": "已添加用户。", "disabled": "已停用。", "enabled": "已启用。", "password": "已重设密码。",
        "unlocked": "已解除登录锁定。",
        "issue": "已签发印章证书。", "renew": "已更换印章证书。", "revoke": "已吊销印章证书。"}


def _admin(desk: Desk) -> OfficeAdmin:
    return desk.services.office_admin


async def _users_page(desk: Desk, *, done: str | None = None, error: str | None = None,
                      typed: dict[str, str] | None = None, status: int = 200) -> HTMLResponse:
    admin = _admin(desk)

    def work() -> dict[str, Any]:
        scope = admin.scope(desk.user)
        with desk.services.db.session() as session:
            users = [{"username": u.username, "display_name": u.display_name, "office_id": u.office_id,
                      "role": Role(u.role).label, "disabled": u.disabled}
                     for u in desk.services.identity.users(session, scope)]
        locked = admin.locked(desk.user, [str(u["username"]) for u in users])
        for u in users:
            u["locked"] = u["username"] in locked
        return {"users": users, "offices": sorted(scope)}

    return page(desk, "users.html.j2", status=status, **await desk.call(work), done=DONE.get(done or ""),
                error=error, typed=typed or {}, roles=list(Role))


@router.get("/admin/users", response_class=HTMLResponse)
async def users(desk: DeskUser, done: str | None = None) -> HTMLResponse:
    return await _users_page(desk, done=done)


@router.post("/admin/users", response_model=None)
async def add_user(desk: DeskUser) -> HTMLResponse | RedirectResponse:
    form = await desk.form()
    typed = {k: field(form, k, 64).strip() for k in ("username", "display_name", "office_id", "role")}
    password = field(form, "password", 200)
    admin = _admin(desk)

    def work() -> None:
        if typed["office_id"] not in admin.scope(desk.user):
            raise ForbiddenError("只能为本单位及下级单位添加用户", code="OTHER_OFFICE")
        with desk.services.db.session() as session:
            desk.services.identity.add_user(session, username=typed["username"], office_id=typed["office_id"],
                                            role=typed["role"], password=password,
                                            display_name=typed["display_name"] or None, actor=desk.user.actor)

    try:
        await desk.call(work)
    except MinSealError as error:  # the password is never sent back
        return await _users_page(desk, error=error.message, typed=typed, status=422)
    return see_other("/desk/admin/users?done=added")


@router.post("/admin/users/{username}/{what}", response_model=None)
async def change_user(username: str, what: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    admin = _admin(desk)
    form = await desk.form()
    try:
        if what in ("disable", "enable"):
            await desk.call(admin.set_disabled, desk.user, username, what == "disable")
            done = f"{what}d"
        elif what == "unlock":
            await desk.call(admin.unlock, desk.user, username)
            done = "unlocked"
        elif what == "password":
            await desk.call(admin.reset_password, desk.user, username, field(form, "password", 200))
            done = "password"
        else:
            return await _users_page(desk, error="未知操作", status=404)
    except MinSealError as error:
        return await _users_page(desk, error=error.message, status=422)
    return see_other(f"/desk/admin/users?done={done}")


@router.get("/admin/seals", response_class=HTMLResponse)
async def seals(desk: DeskUser, done: str | None = None, error: str | None = None) -> HTMLResponse:
    statuses = await desk.call(_admin(desk).seals, desk.user)
    return page(desk, "seals.html.j2", seals=statuses, labels=STATUS_LABELS, reasons=REASONS,
                done=DONE.get(done or ""), error=error)


@router.get("/admin/seals/{office_id}/image")
async def seal_image(office_id: str, desk: DeskUser) -> FileResponse:
    path = await desk.call(_admin(desk).seal_image, desk.user, office_id)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@router.post("/admin/seals/{office_id}/{what}", response_model=None)
async def change_seal(office_id: str, what: str, desk: DeskUser) -> HTMLResponse | RedirectResponse:
    if what not in ("issue", "renew", "revoke"):
        return await seals(desk, error="未知操作")
    form = await desk.form()
    try:
        await desk.call(_admin(desk).change_seal, desk.user, office_id, what, reason=field(form, "reason", 40))
    except MinSealError as error:
        statuses = await desk.call(_admin(desk).seals, desk.user)
        return page(desk, "seals.html.j2", status=422, seals=statuses, labels=STATUS_LABELS, reasons=REASONS,
                    done=None, error=error.message)
    return see_other(f"/desk/admin/seals?done={what}")


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_log(desk: DeskUser, office: str = "", since: str = "", until: str = "", action: str = "",
                    check: str = "") -> HTMLResponse:
    log = AuditLog(desk.services.db)
    filters = {"office": office[:32], "since": since[:10], "until": until[:10], "action": action[:40]}

    def day(text: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    def work() -> dict[str, Any]:
        scope = log.scope(desk.user)
        rows = log.entries(desk.user, office=office or None, since=day(since), until=day(until),
                           action=action or None, limit=300, newest_first=True)
        chain = log.check_chain() if check else None
        return {"rows": rows, "actions": log.actions(), "offices": sorted(scope), "chain": chain}

    ctx = await desk.call(work)
    csv_query = urlencode({k: v for k, v in {**filters, "format": "csv"}.items() if v})
    return page(desk, "audit.html.j2", **ctx, filters=filters, csv_url=f"/api/audit?{csv_query}")


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(desk: DeskUser) -> HTMLResponse:
    return page(desk, "verify.html.j2", error=None)


@router.post("/verify", response_class=HTMLResponse)
async def verify(desk: DeskUser) -> HTMLResponse:
    form = await desk.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return page(desk, "verify.html.j2", status=422, error="请选择要核验的 PDF 文件")
    try:
        pdf = await read_upload(upload, desk.services)  # type: ignore[arg-type]
    except MinSealError as error:
        return page(desk, "verify.html.j2", status=422, error=error.message)
    finally:
        await form.close()  # the spooled upload's temporary file, now rather than at garbage collection
    report = await desk.call(desk.services.checks.verify, pdf)
    return HTMLResponse(report_html(report, back="/desk/verify"), headers=DESK_HEADERS)
