"""Staff routes of the 公示 lifecycle: build (per village, from accepted applications), publish, objections,
withdraw, re-publish; the county's 结果公布; certificate revocation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.http.deps import CurrentUser, ServicesDep, run_blocking
from api.http.schemas import (
    BuildNotices,
    BuildResult,
    NoticePublic,
    ObjectionCreate,
    ObjectionPublic,
    Proposal,
    Reason,
    Republish,
)

router = APIRouter(prefix="/api", tags=["notices"])


def _plain(items: dict[str, Proposal]) -> dict[str, dict[str, Any]]:
    return {k: v.model_dump(exclude_none=True) for k, v in items.items()}


@router.get("/notices")
async def listing(request: Request, services: ServicesDep, user: CurrentUser) -> list[NoticePublic]:
    await run_blocking(request, services.publication.sweep)
    return [NoticePublic.model_validate(v) for v in await run_blocking(request, services.publication.listing, user)]


@router.post("/notices/build", status_code=201)
async def build(body: BuildNotices, request: Request, services: ServicesDep,
                user: CurrentUser) -> list[NoticePublic]:
    views = await run_blocking(request, services.publication.build_notices, user,
                               objection=body.objection.model_dump(exclude_none=True), start=body.start,
                               days=body.days, overrides=_plain(body.overrides),
                               application_ids=body.application_ids)
    return [NoticePublic.model_validate(v) for v in views]


@router.post("/notices/results", status_code=201)
async def build_result(body: BuildResult, request: Request, services: ServicesDep,
                       user: CurrentUser) -> NoticePublic:
    view = await run_blocking(request, services.publication.build_result, user, benefit_from=body.benefit_from,
                              supervision=body.supervision.model_dump(exclude={"office"}),
                              decisions=_plain(body.decisions))
    return NoticePublic.model_validate(view)


@router.get("/notices/{document_id}")
async def get(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> NoticePublic:
    return NoticePublic.model_validate(await run_blocking(request, services.publication.get, user, document_id))


@router.post("/notices/{document_id}/publish")
async def publish(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> NoticePublic:
    view = await run_blocking(request, services.publication.publish, user, document_id)
    return NoticePublic.model_validate(view)


@router.post("/notices/{document_id}/withdraw")
async def withdraw(document_id: str, body: Reason, request: Request, services: ServicesDep,
                   user: CurrentUser) -> NoticePublic:
    view = await run_blocking(request, services.publication.withdraw, user, document_id, reason=body.reason)
    return NoticePublic.model_validate(view)


@router.post("/notices/{document_id}/objections", status_code=201)
async def object_(document_id: str, body: ObjectionCreate, request: Request, services: ServicesDep,
                  user: CurrentUser) -> ObjectionPublic:
    view = await run_blocking(request, services.publication.record_objection, user, document_id,
                              **body.model_dump())
    return ObjectionPublic.model_validate(view)


@router.get("/notices/{document_id}/objections")
async def objections(document_id: str, request: Request, services: ServicesDep,
                     user: CurrentUser) -> list[ObjectionPublic]:
    views = await run_blocking(request, services.publication.objections, user, document_id)
    return [ObjectionPublic.model_validate(o) for o in views]


@router.post("/notices/{document_id}/republish", status_code=201)
async def republish(document_id: str, body: Republish, request: Request, services: ServicesDep,
                    user: CurrentUser) -> NoticePublic:
    view = await run_blocking(request, services.publication.republish, user, document_id,
                              objection=body.objection.model_dump(exclude_none=True), remove=body.remove,
                              overrides=_plain(body.overrides), start=body.start, days=body.days)
    return NoticePublic.model_validate(view)


@router.post("/certificates/{document_id}/revoke")
async def revoke(document_id: str, body: Reason, request: Request, services: ServicesDep,
                 user: CurrentUser) -> NoticePublic:
    view = await run_blocking(request, services.publication.revoke_certificate, user, document_id,
                              reason=body.reason)
    return NoticePublic.model_validate(view)
