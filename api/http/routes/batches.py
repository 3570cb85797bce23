"""Batches over HTTP: ``POST /api/batches`` records and enqueues, ``GET /api/batches/{id}`` reports progress.

Kinds: ``certificates`` (items name approved cases: ``case_id`` or ``id_number``, optional ``recipient`` and
``purpose``), ``reseal`` (document ids) and ``case_files`` (case ids; ``GET /api/batches/{id}/archive`` downloads
the exported 案卷 as one zip); the service checks the items (see :mod:`api.services.batches`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.http.deps import CurrentUser, ServicesDep, run_blocking
from api.http.downloads import disposition, zip_files
from api.http.schemas import BatchCreate, BatchPublic
from api.services.batches import Progress
from api.services.queue import enqueue, require_postgres

router = APIRouter(prefix="/api", tags=["batches"])


@router.post("/batches", status_code=202)
async def create(body: BatchCreate, request: Request, services: ServicesDep, user: CurrentUser) -> BatchPublic:
    def start() -> Progress:
        require_postgres(services.db.url)
        runner = services.batches
        batch_id = runner.create(user, body.kind, body.items, family=body.family)
        enqueue(services.db.url, batch_id, runner.numbers(batch_id))
        return runner.progress(batch_id)

    return BatchPublic.model_validate(await run_blocking(request, start))


@router.get("/batches/{batch_id}")
async def progress(batch_id: str, request: Request, services: ServicesDep, user: CurrentUser,
                   items: bool = False) -> BatchPublic:
    view = await run_blocking(request, services.batches.progress, batch_id, who=user, with_items=items)
    return BatchPublic.model_validate(view)


@router.get("/batches/{batch_id}/archive", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "the exported 案卷 (zip)"}})
async def archive(batch_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> Response:
    """The 案卷 a ``case_files`` batch has exported so far, as one zip."""
    name, files = await run_blocking(request, services.batches.archive, user, batch_id)
    return Response(zip_files(files), media_type="application/zip",
                    headers={"Content-Disposition": disposition(name), "Cache-Control": "no-store"})
