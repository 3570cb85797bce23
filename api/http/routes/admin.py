"""Users of an office and below (admins), and the audit log (admins): filters and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.http.deps import CurrentUser, ServicesDep, run_blocking
from api.http.schemas import AuditEntryPublic, NewUserPublic, StatusPublic, UserCreate, UserPublic
from api.services.access import Action, admin_scope
from api.services.audit_log import AuditLog
from signer.errors import ForbiddenError

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/users")
async def users(request: Request, services: ServicesDep, user: CurrentUser) -> list[UserPublic]:
    def work() -> list[UserPublic]:
        scope = admin_scope(services.db, user, Action.MANAGE_USERS)
        with services.db.session() as session:
            return [UserPublic.model_validate(u) for u in services.identity.users(session, scope)]
    return await run_blocking(request, work)


@router.post("/users", status_code=201)
async def add_user(body: UserCreate, request: Request, services: ServicesDep, user: CurrentUser) -> NewUserPublic:
    def work() -> NewUserPublic:
        scope = admin_scope(services.db, user, Action.MANAGE_USERS)
        if body.office_id not in scope:
            raise ForbiddenError("只能为本单位及下级单位添加用户", code="OTHER_OFFICE")
        with services.db.session() as session:
            row = services.identity.add_user(session, username=body.username, office_id=body.office_id,
                                             role=body.role, password=body.password,
                                             display_name=body.display_name, actor=user.actor)
            return NewUserPublic.model_validate(row)
    return await run_blocking(request, work)


@router.post("/users/{username}/unlock")
async def unlock_user(username: str, request: Request, services: ServicesDep, user: CurrentUser) -> StatusPublic:
    """Lift a sign-in lockout (an admin of the user's office or above; audited as ``user.unlock``)."""
    await run_blocking(request, services.office_admin.unlock, user, username)
    return StatusPublic(status="ok")


@router.get("/audit", response_model=list[AuditEntryPublic])
async def audit_log(request: Request, services: ServicesDep, user: CurrentUser, office: str | None = None,
                    since: dt.date | None = None, until: dt.date | None = None, action: str | None = None,
                    format: str = "json", limit: int = 1000) -> list[AuditEntryPublic] | Response:
    """Entries of the admin's office and the offices below it; ``format=csv`` for a spreadsheet."""
    entries = await run_blocking(request, AuditLog(services.db).entries, user, office=office, since=since,
                                 until=until, action=action, limit=limit)
    items = [AuditEntryPublic(seq=e.seq, at=e.at.isoformat(timespec="seconds"), actor=e.actor,
                              office_id=e.office_id, action=e.action, document_id=e.document_id, detail=e.detail,
                              hash=e.hash) for e in entries]
    if format != "csv":
        return items
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["序号", "时间", "操作人", "单位", "操作", "文书", "详情", "哈希"])
    for item in items:
        writer.writerow([item.seq, item.at, item.actor, item.office_id, item.action, item.document_id or "",
                         json.dumps(item.detail, ensure_ascii=False), item.hash])
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
