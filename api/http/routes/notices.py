"""Staff routes of the 公示 lifecycle: build (per village, from accepted applications), publish, objections,
withdraw, re-publish; the county's 结果公布; certificate revocation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.http.deps import CurrentUser, ServicesDep, run_blocking

router = APIRouter(prefix="/api", tags=["notices"])


class Contact(BaseModel):
    office: str | None = Field(default=None, max_length=40)
    phone: str = Field(max_length=20)
    address: str = Field(max_length=60)


class Proposal(BaseModel):
    persons: int | None = Field(default=None, ge=1, le=20)
    monthly_amount: str | None = Field(default=None, max_length=12)
    category: str | None = Field(default=None, max_length=4)


class BuildNotices(BaseModel):
    objection: Contact
    start: dt.date | None = None
    days: int | None = Field(default=None, ge=1, le=30)
    overrides: dict[str, Proposal] = {}
    application_ids: list[str] | None = None


class Republish(BaseModel):
    objection: Contact
    start: dt.date | None = None
    days: int | None = Field(default=None, ge=1, le=30)
    remove: list[str] = []
    overrides: dict[str, Proposal] = {}


class BuildResult(BaseModel):
    benefit_from: dt.date
    supervision: Contact
    decisions: dict[str, Proposal] = {}


class Reason(BaseModel):
    reason: str = Field(max_length=500)


class Objection(BaseModel):
    received_on: dt.date
    channel: str = Field(max_length=16)
    summary: str = Field(max_length=1000)
    objector_name: str | None = Field(default=None, max_length=40)
    objector_contact: str | None = Field(default=None, max_length=60)


def _plain(items: dict[str, Proposal]) -> dict[str, dict[str, Any]]:
    return {k: v.model_dump(exclude_none=True) for k, v in items.items()}


@router.get("/notices")
async def listing(request: Request, services: ServicesDep, user: CurrentUser) -> list[dict[str, Any]]:
    await run_blocking(request, services.publication.sweep)
    return [v.to_dict() for v in await run_blocking(request, services.publication.listing, user)]


@router.post("/notices/build", status_code=201)
async def build(body: BuildNotices, request: Request, services: ServicesDep, user: CurrentUser) -> list[Any]:
    views = await run_blocking(request, services.publication.build_notices, user,
                               objection=body.objection.model_dump(exclude_none=True), start=body.start,
                               days=body.days, overrides=_plain(body.overrides),
                               application_ids=body.application_ids)
    return [v.to_dict() for v in views]


@router.post("/notices/results", status_code=201)
async def build_result(body: BuildResult, request: Request, services: ServicesDep,
                       user: CurrentUser) -> dict[str, Any]:
    view = await run_blocking(request, services.publication.build_result, user, benefit_from=body.benefit_from,
                              supervision=body.supervision.model_dump(exclude={"office"}),
                              decisions=_plain(body.decisions))
    return view.to_dict()


@router.get("/notices/{document_id}")
async def get(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    return (await run_blocking(request, services.publication.get, user, document_id)).to_dict()


@router.post("/notices/{document_id}/publish")
async def publish(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    return (await run_blocking(request, services.publication.publish, user, document_id)).to_dict()


@router.post("/notices/{document_id}/withdraw")
async def withdraw(document_id: str, body: Reason, request: Request, services: ServicesDep,
                   user: CurrentUser) -> dict[str, Any]:
    view = await run_blocking(request, services.publication.withdraw, user, document_id, reason=body.reason)
    return view.to_dict()


@router.post("/notices/{document_id}/objections", status_code=201)
async def object_(document_id: str, body: Objection, request: Request, services: ServicesDep,
                  user: CurrentUser) -> dict[str, Any]:
    view = await run_blocking(request, services.publication.record_objection, user, document_id,
                              **body.model_dump())
    return view.to_dict()


@router.get("/notices/{document_id}/objections")
async def objections(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> list[Any]:
    return [o.to_dict() for o in await run_blocking(request, services.publication.objections, user, document_id)]


@router.post("/notices/{document_id}/republish", status_code=201)
async def republish(document_id: str, body: Republish, request: Request, services: ServicesDep,
                    user: CurrentUser) -> dict[str, Any]:
    view = await run_blocking(request, services.publication.republish, user, document_id,
                              objection=body.objection.model_dump(exclude_none=True), remove=body.remove,
                              overrides=_plain(body.overrides), start=body.start, days=body.days)
    return view.to_dict()


@router.post("/certificates/{document_id}/revoke")
async def revoke(document_id: str, body: Reason, request: Request, services: ServicesDep,
                 user: CurrentUser) -> dict[str, Any]:
    view = await run_blocking(request, services.publication.revoke_certificate, user, document_id,
                              reason=body.reason)
    return view.to_dict()
