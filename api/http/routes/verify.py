"""POST /api/verify: any signed-in staff member checks a PDF; JSON, or the Chinese HTML report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse

from api.http.deps import CurrentUser, ServicesDep, read_upload, run_blocking
from api.http.report_page import report_html
from api.http.schemas import ReportPublic

router = APIRouter(prefix="/api", tags=["verify"])


@router.post("/verify", response_model=ReportPublic)
async def verify(request: Request, services: ServicesDep, _user: CurrentUser,
                 file: Annotated[UploadFile, File()]) -> ReportPublic | HTMLResponse:
    pdf = await read_upload(file, services)
    report = await run_blocking(request, services.checks.verify, pdf)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(report_html(report))
    return ReportPublic.model_validate(report.to_dict())
