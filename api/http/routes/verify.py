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
    """A 案卷 is checked whole, as ``minseal verify`` does: its own seal, then every attachment against the
    manifest and its own seals; the verdict is the whole file's and ``case_file`` lists each paper."""
    pdf = await read_upload(file, services)
    html = "text/html" in request.headers.get("accept", "")
    if await run_blocking(request, services.verification.is_case_file, pdf):
        whole = await run_blocking(request, services.verification.verify_case_file, pdf)
        if whole.outer is not None:
            papers = [{"title": p.title, "name": p.name, "ok": p.ok, "label": p.label,
                       "reasons": [f.message for f in p.findings]} for p in whole.papers]
            if html:
                return HTMLResponse(report_html(whole.outer, case_file={
                    "summary": whole.summary(), "papers": papers, "verdict": whole.verdict.value,
                    "verdict_label": whole.verdict.label}))
            body = whole.outer.to_dict()
            body.update(verdict=whole.verdict.value, verdict_label=whole.verdict.label,
                        findings=[*body["findings"], *whole.to_dict()["findings"]],
                        case_file={"summary": whole.summary(), "papers": papers})
            return ReportPublic.model_validate(body)
    report = await run_blocking(request, services.checks.verify, pdf)
    if html:
        return HTMLResponse(report_html(report))
    return ReportPublic.model_validate(report.to_dict())
