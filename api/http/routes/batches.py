"""Batches over HTTP: ``POST /api/batches`` records and enqueues, ``GET /api/batches/{id}`` reports progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.http.deps import CurrentUser, ServicesDep, run_blocking
from api.services.batch_inputs import MAX_ITEMS
from api.services.batches import BatchService
from api.services.queue import enqueue, require_postgres

router = APIRouter(prefix="/api", tags=["batches"])


class BatchCreate(BaseModel):
    kind: str = Field(max_length=16, description="certificates | notices | reseal")
    family: str | None = Field(default=None, max_length=64)
    #: certificates/notices: one data object per item; reseal: document ids
    items: list[Any] = Field(min_length=1, max_length=MAX_ITEMS)


@router.post("/batches", status_code=202)
async def create(body: BatchCreate, request: Request, services: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    def start() -> dict[str, Any]:
        require_postgres(services.db.url)
        runner = BatchService(services)
        batch_id = runner.create(user, body.kind, body.items, family=body.family)
        enqueue(services.db.url, batch_id, runner.numbers(batch_id))
        return runner.progress(batch_id).to_dict()

    return await run_blocking(request, start)


@router.get("/batches/{batch_id}")
async def progress(batch_id: str, request: Request, services: ServicesDep, user: CurrentUser,
                   items: bool = False) -> dict[str, Any]:
    view = await run_blocking(request, BatchService(services).progress, batch_id, who=user, with_items=items)
    return view.to_dict()
