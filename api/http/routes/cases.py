"""The case (案件): its record and timeline, and the steps that are the case's rather than one file's — a refusal
(不予确认), a withdrawal (撤回申请), a certificate issued from the approved case."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.http.deps import CurrentUser, ServicesDep, run_blocking
from api.http.downloads import disposition
from api.http.schemas import (
    CasePublic,
    CertificateCreate,
    DocumentPublic,
    NoticePublic,
    PaperCreate,
    PaperOptionPublic,
    ReturnBody,
)
from signer.errors import NotFoundError

router = APIRouter(prefix="/api", tags=["cases"])


@router.get("/cases")
async def listing(request: Request, services: ServicesDep, user: CurrentUser) -> list[CasePublic]:
    return [CasePublic.model_validate(v) for v in await run_blocking(request, services.cases.listing, user)]


@router.get("/cases/{case_id}")
async def get(case_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> CasePublic:
    return CasePublic.model_validate(await run_blocking(request, services.cases.get, user, case_id))


@router.get("/documents/{document_id}/case")
async def of_document(document_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> CasePublic:
    view = await run_blocking(request, services.cases.get_for_document, user, document_id)
    if view is None:
        raise NotFoundError("该文书不属于任何案件，或不属于本单位", code="UNKNOWN_CASE")
    return CasePublic.model_validate(view)


@router.post("/documents/{document_id}/refuse")
async def refuse(document_id: str, body: ReturnBody, request: Request, services: ServicesDep,
                 user: CurrentUser) -> DocumentPublic:
    """不予确认 (the county, after the township's report) or 终止 (the township) with reasons; the case closes."""
    view = await run_blocking(request, services.workflow.refuse, user, document_id, reason=body.reason)
    return DocumentPublic.model_validate(view)


@router.post("/documents/{document_id}/withdraw")
async def withdraw(document_id: str, body: ReturnBody, request: Request, services: ServicesDep,
                   user: CurrentUser) -> DocumentPublic:
    """撤回申请 at the applicant's request, while the village still holds the file."""
    view = await run_blocking(request, services.workflow.withdraw, user, document_id, reason=body.reason)
    return DocumentPublic.model_validate(view)


@router.post("/cases/{case_id}/certificate", status_code=201)
async def certificate(case_id: str, body: CertificateCreate, request: Request, services: ServicesDep,
                      user: CurrentUser) -> NoticePublic:
    """A 低保证明 from the approved case (its figures are the county's decision), sealed and registered."""
    view = await run_blocking(request, services.publication.issue_certificate, user, case_id,
                              recipient=body.recipient, purpose=body.purpose)
    return NoticePublic.model_validate(view)


@router.post("/cases/{case_id}/refusal-notified")
async def refusal_notified(case_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> CasePublic:
    """The township records that the applicant was told of the refusal in writing (the 3-working-day deadline)."""
    return CasePublic.model_validate(await run_blocking(request, services.cases.refusal_notified, user, case_id))


@router.get("/cases/{case_id}/papers")
async def papers(case_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> list[PaperOptionPublic]:
    """The papers of the case's kind: those issued, and whether this office may issue each now (and why not)."""
    return [PaperOptionPublic.model_validate(o) for o in await run_blocking(request, services.papers.options, user,
                                                                            case_id)]


@router.post("/cases/{case_id}/papers", status_code=201)
async def issue_paper(case_id: str, body: PaperCreate, request: Request, services: ServicesDep,
                      user: CurrentUser) -> DocumentPublic:
    """Issue a paper built from the case (受理通知书, 决定书, 低保证, 不予确认告知书 …), sealed by this office."""
    view = await run_blocking(request, services.papers.issue, user, case_id, body.family, body.data)
    return DocumentPublic.model_validate(view)


@router.get("/cases/{case_id}/case-file", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the sealed 案卷 (PDF)"}})
async def case_file(case_id: str, request: Request, services: ServicesDep, user: CurrentUser) -> Response:
    """The case's 案卷: 卷内目录, every sealed paper attached byte-for-byte, scans and manifest; sealed by this
    office. ``minseal verify`` checks it whole."""
    out = await run_blocking(request, services.case_files.export, user, case_id)
    return Response(out.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": disposition(out.filename), "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "no-store"})
