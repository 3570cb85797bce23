"""Scans of pages signed by hand, kept with their case: upload (multipart), the case's list, one scan's file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from starlette.datastructures import UploadFile as AnyUpload

from api.http.deps import CurrentUser, ServicesDep, run_blocking
from api.http.downloads import disposition
from api.http.schemas import Public
from api.services.scans import MAX_LABEL, ScanView
from signer.errors import UploadTooLargeError

router = APIRouter(prefix="/api", tags=["scans"])


class ScanPublic(Public):
    """A scan as the case's offices see it (mirrors :class:`api.services.scans.ScanView`)."""

    id: str
    case_id: str
    document_id: str | None
    label: str
    filename: str
    media_type: str
    size: int
    sha256: str
    office_id: str
    uploaded_by: str
    created_at: str


async def read_scan_upload(file: AnyUpload, limit: int) -> bytes:
    """The uploaded bytes, read in chunks so an oversized upload stops at the limit (the service checks again)."""
    chunks, size = [], 0
    while chunk := await file.read(1 << 20):
        size += len(chunk)
        if size > limit:
            raise UploadTooLargeError(f"扫描件不能超过 {limit / 2**20:g} MB", code="SCAN_TOO_LARGE")
        chunks.append(chunk)
    return b"".join(chunks)


def content_disposition(view: ScanView) -> str:
    """``inline``, named as uploaded (the Chinese name RFC 5987-encoded, with an ASCII fallback)."""
    suffix = "." + view.filename.rsplit(".", 1)[-1] if "." in view.filename else ""
    return disposition(view.filename, inline=True, fallback=f"scan-{view.id[:8]}{suffix}")


@router.post("/cases/{case_id}/scans", status_code=201)
async def add(case_id: str, request: Request, services: ServicesDep, user: CurrentUser,
              file: Annotated[UploadFile, File()], label: Annotated[str, Form(max_length=MAX_LABEL * 2)],
              document_id: Annotated[str | None, Form(max_length=64)] = None) -> ScanPublic:
    """A scan of a signed page (PDF, JPEG or PNG; its type is read from the bytes), stored with the case."""
    data = await read_scan_upload(file, services.settings.scan_max_bytes)
    view = await run_blocking(request, services.scans.add, user, case_id, data, filename=file.filename,
                              label=label, document_id=document_id or None)
    return ScanPublic.model_validate(view)


@router.get("/cases/{case_id}/scans")
async def listing(case_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> list[ScanPublic]:
    return [ScanPublic.model_validate(v) for v in await run_blocking(request, services.scans.listing, user, case_id)]


@router.get("/scans/{scan_id}/file")
async def scan_file(scan_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> Response:
    """The scan as stored, with its sniffed media type; never sniffed again by the browser."""
    view, data = await run_blocking(request, services.scans.file, user, scan_id)
    return Response(data, media_type=view.media_type, headers={
        "Content-Disposition": content_disposition(view), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})
