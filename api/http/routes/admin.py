"""Users of an office and below (admins), and the audit log (admins): filters and CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.http.deps import CurrentUser, ServicesDep, run_blocking
from api.services.access import Action, role_may
from api.services.identity import Principal
from api.storage import audit, repositories
from api.storage.models import AuditRow
from signer.errors import ForbiddenError

router = APIRouter(prefix="/api", tags=["admin"])


class UserCreate(BaseModel):
    username: str = Field(max_length=64)
    office_id: str = Field(max_length=32)
    role: str = Field(max_length=16)
    password: str = Field(min_length=10, max_length=200)
    display_name: str | None = Field(default=None, max_length=64)


def _admin_scope(services: Any, user: Principal, action: Action) -> set[str]:
    if not role_may(user, action):
        with services.db.session() as session:
            audit.append(session, actor=user.actor, action="deny", office_id=user.office_id,
                         detail={"action": action.value, "code": "ROLE_FORBIDDEN"})
        raise ForbiddenError("只有管理员可以进行此操作", code="ROLE_FORBIDDEN")
    with services.db.session() as session:
        return {user.office_id, *repositories.offices_below(session, user.office_id)}


@router.get("/users")
async def users(request: Request, services: ServicesDep, user: CurrentUser) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        scope = _admin_scope(services, user, Action.MANAGE_USERS)
        with services.db.session() as session:
            return [{"username": u.username, "display_name": u.display_name, "office_id": u.office_id,
                     "role": u.role, "disabled": u.disabled} for u in services.identity.users(session, scope)]
    return await run_blocking(request, work)


@router.post("/users", status_code=201)
async def add_user(body: UserCreate, request: Request, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        scope = _admin_scope(services, user, Action.MANAGE_USERS)
        if body.office_id not in scope:
            raise ForbiddenError("只能为本单位及下级单位添加用户", code="OTHER_OFFICE")
        with services.db.session() as session:
            row = services.identity.add_user(session, username=body.username, office_id=body.office_id,
                                             role=body.role, password=body.password,
                                             display_name=body.display_name, actor=user.actor)
            return {"username": row.username, "office_id": row.office_id, "role": row.role}
    return await run_blocking(request, work)


@router.get("/audit")
async def audit_log(request: Request, services: ServicesDep, user: CurrentUser, office: str | None = None,
                    since: dt.date | None = None, until: dt.date | None = None, action: str | None = None,
                    format: str = "json", limit: int = 1000) -> Response:
    """Entries of the admin's office and the offices below it; ``format=csv`` for a spreadsheet."""
    def work() -> list[AuditRow]:
        scope = _admin_scope(services, user, Action.READ_AUDIT)
        offices = scope & {office} if office else scope
        query = select(AuditRow).where(AuditRow.office_id.in_(offices)).order_by(AuditRow.seq)
        if since:
            query = query.where(AuditRow.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
        if until:
            query = query.where(AuditRow.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
        if action:
            query = query.where(AuditRow.action == action)
        with services.db.session() as session:
            return list(session.execute(query.limit(min(limit, 10000))).scalars())

    rows = await run_blocking(request, work)
    items = [{"seq": r.seq, "at": r.at.isoformat(timespec="seconds"), "actor": r.actor, "office_id": r.office_id,
              "action": r.action, "document_id": r.document_id, "detail": r.detail, "hash": r.hash} for r in rows]
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["序号", "时间", "操作人", "单位", "操作", "文书", "详情", "哈希"])
        for item in items:
            writer.writerow([item["seq"], item["at"], item["actor"], item["office_id"], item["action"],
                             item["document_id"] or "", json.dumps(item["detail"], ensure_ascii=False), item["hash"]])
        return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
    return Response(json.dumps(items, ensure_ascii=False), media_type="application/json")
