"""Documents and the workflow: create, seal, submit, accept, return, re-create, import; versions and history."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile

from api.http.deps import CurrentUser, ServicesDep, read_upload, run_blocking
from api.http.downloads import DOCX, disposition, document_filename
from api.http.schemas import (
    VERSION_MAX,
    DocumentCreate,
    DocumentEdit,
    DocumentPublic,
    FamilyPublic,
    ReturnBody,
    SealBody,
)
from signer.errors import FieldProblem, TemplateDataError

router = APIRouter(prefix="/api", tags=["documents"])


@router.get("/templates")
async def templates(services: ServicesDep, _user: CurrentUser) -> list[FamilyPublic]:
    return [FamilyPublic(id=f.id, title=f.title, kind=f.kind, tiers=list(f.tiers))
            for f in services.documents.catalogue]


@router.post("/documents", status_code=201)
async def create(body: DocumentCreate, request: Request, services: ServicesDep,
                 user: CurrentUser) -> DocumentPublic:
    view = await run_blocking(request, services.workflow.create, user, body.family, body.data)
    return DocumentPublic.model_validate(view)


@router.get("/documents")
async def listing(request: Request, services: ServicesDep, user: CurrentUser,
                  inbox: bool = False) -> list[DocumentPublic]:
    views = await run_blocking(request, services.workflow.listing, user, inbox=inbox)
    return [DocumentPublic.model_validate(v) for v in views]


@router.get("/inbox")
async def inbox(request: Request, services: ServicesDep, user: CurrentUser) -> list[DocumentPublic]:
    views = await run_blocking(request, services.workflow.listing, user, inbox=True)
    return [DocumentPublic.model_validate(v) for v in views]


@router.get("/documents/{document_id}")
async def get(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> DocumentPublic:
    return DocumentPublic.model_validate(await run_blocking(request, services.workflow.get, user, document_id))


@router.put("/documents/{document_id}")
async def edit(document_id: str, body: DocumentEdit, request: Request, services: ServicesDep,
               user: CurrentUser) -> DocumentPublic:
    """Change a draft (not yet sealed) in place: the same document re-rendered from ``data`` as a new version,
    its case's people replaced with it. 409 NOT_A_DRAFT once sealed or sent; 409 CASE_EXISTS when a person
    named is in another open case (nothing is changed); 422 for data the family refuses."""
    view = await run_blocking(request, services.workflow.edit, user, document_id, body.data)
    return DocumentPublic.model_validate(view)


@router.delete("/documents/{document_id}", status_code=204)
async def delete(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> Response:
    """Delete a draft (not yet sealed) of this office, and the case it alone opened; its addresses answer 404
    afterwards. 409 NOT_A_DRAFT once sealed or sent; 409 CASE_HAS_HISTORY when its case holds more than it."""
    await run_blocking(request, services.workflow.delete, user, document_id)
    return Response(status_code=204)


def _pdf(view: Any, pdf: bytes, number: int) -> Response:
    name, fallback = document_filename(view, number, "pdf")
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": disposition(name, inline=True, fallback=fallback), "Cache-Control": "private, no-store"})


@router.get("/documents/{document_id}/docx")
async def word_copy(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> Response:
    """The editable Word copy of the document's data (the same layout rules; no seal: the PDF is the record)."""
    view, docx = await run_blocking(request, services.workflow.word_copy, user, document_id)
    name, fallback = document_filename(view, None, "docx")
    return Response(docx, media_type=DOCX, headers={
        "Content-Disposition": disposition(name, fallback=fallback), "Cache-Control": "private, no-store"})


@router.get("/documents/{document_id}/pdf")
async def current_pdf(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> Response:
    view, pdf = await run_blocking(request, services.workflow.pdf, user, document_id)
    return _pdf(view, pdf, view.current_version)


@router.get("/documents/{document_id}/versions/{number}/pdf")
async def version_pdf(document_id: str, number: Annotated[int, Path(ge=1, le=VERSION_MAX)], request: Request,
                      services: ServicesDep,
                      user: CurrentUser) -> Response:
    view, pdf = await run_blocking(request, services.workflow.pdf, user, document_id, number)
    return _pdf(view, pdf, number)


@router.post("/documents/{document_id}/seal")
async def seal(document_id: str, body: SealBody, request: Request, services: ServicesDep,
               user: CurrentUser) -> DocumentPublic:
    view = await run_blocking(request, services.workflow.seal, user, document_id, opinion=body.opinion)
    return DocumentPublic.model_validate(view)


@router.post("/documents/{document_id}/submit")
async def submit(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> DocumentPublic:
    return DocumentPublic.model_validate(await run_blocking(request, services.workflow.submit, user, document_id))


@router.post("/documents/{document_id}/accept")
async def accept(document_id: str, request: Request, services: ServicesDep, user: CurrentUser,
                 opinion: Annotated[str | None, Form(max_length=300)] = None,
                 decision: Annotated[str | None, Form(max_length=4000)] = None,
                 file: Annotated[UploadFile | None, File()] = None) -> DocumentPublic:
    """Verify against the record, then countersign (the county: approve). ``decision``: a JSON object with this
    tier's figures (township: persons, monthly_amount, notice_from, notice_to; county: persons, category,
    standard, monthly_amount, start_month; both: handler, head). Optional ``file``: the file as this office
    received it; it must be the registered version."""
    figures = _decision(decision)
    received = await read_upload(file, services) if file is not None else None
    view = await run_blocking(request, services.workflow.accept, user, document_id, opinion=opinion or None,
                              received=received, decision=figures)
    return DocumentPublic.model_validate(view)


@router.post("/documents/{document_id}/return")
async def return_(document_id: str, body: ReturnBody, request: Request, services: ServicesDep,
                  user: CurrentUser) -> DocumentPublic:
    view = await run_blocking(request, services.workflow.return_, user, document_id, reason=body.reason)
    return DocumentPublic.model_validate(view)


@router.post("/documents/{document_id}/recreate", status_code=201)
async def recreate(document_id: str, request: Request, services: ServicesDep,
                   user: CurrentUser) -> DocumentPublic:
    return DocumentPublic.model_validate(await run_blocking(request, services.workflow.recreate, user, document_id))


@router.post("/documents/import", status_code=201)
async def import_pdf(request: Request, services: ServicesDep, user: CurrentUser,
                     file: Annotated[UploadFile, File()]) -> DocumentPublic:
    pdf = await read_upload(file, services)
    return DocumentPublic.model_validate(await run_blocking(request, services.workflow.import_pdf, user, pdf))


def _decision(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise TemplateDataError([FieldProblem("decision", "应为一个 JSON 对象")], "决定数据有误")
    return value
