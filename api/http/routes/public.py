"""The public verification pages a QR code opens: no sign-in, rate-limited per client address (counted in the
database, so every worker shares one count), cacheable.

``/v/{public_id}`` (HTML, phone-first) and its JSON twin ``/api/public/{public_id}``; ``/V/{token}`` is what the
QR code carries (upper case keeps the QR in its alphanumeric mode); ``/v/{public_id}/pdf`` serves a notice's sealed
file; ``…/check`` compares an uploaded file with the registered one. Unknown ids get the same friendly 404 as a
draft or an internal form, so a public id never reveals that something internal exists.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from api.errors import http_status
from api.http.client import client_address
from api.http.deps import ServicesDep, read_pdf_upload, run_blocking
from api.http.pages import environment, render
from api.http.schemas import ComparePublic, PublicPagePublic
from api.services.publication import CompareResult, PublicView
from api.services.throttle import Rate
from signer.errors import InputFileError, MinSealError, NotFoundError, ThrottledError
from signer.public_token import read_claims
from templates.formats import cn_date_text

router = APIRouter(tags=["public"])

PAGE_CACHE = "public, max-age=300"
NOT_FOUND_CACHE = "public, max-age=60"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}



environment().filters["cn_date"] = cn_date_text


async def _hit(request: Request, services: ServicesDep, scope: str, rate: str) -> None:
    """Count this request against the client address's rate (in the database: all workers share the count)."""
    address = client_address(request, services.settings.trusted_proxies)
    try:
        await run_blocking(request, services.throttle.hit, scope, address, Rate.parse(rate))
    except ThrottledError as error:
        raise HTTPException(status_code=429, detail=error.message,
                            headers={"Retry-After": str(error.retry_after), **SECURITY_HEADERS}) from None


async def _hit_page(request: Request, services: ServicesDep) -> None:
    await _hit(request, services, "public-page", services.settings.public_rate_limit)


def _tone(view: PublicView) -> str:
    if view.status.startswith("公示中") or view.status == "有效":
        return "ok"
    if view.status in ("公示期满",) or view.status.startswith("即将公示"):
        return "ended"
    return "bad"


def _html(body: str, *, status: int = 200, cache: str = PAGE_CACHE) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": cache, **SECURITY_HEADERS})


def _not_found_page() -> HTMLResponse:
    return _html(render("not_found.html.j2"), status=404, cache=NOT_FOUND_CACHE)


def _page(view: PublicView, compare: CompareResult | None = None) -> HTMLResponse:
    return _html(render("public.html.j2", v=view, tone=_tone(view), compare=compare),
                 cache="no-store" if compare is not None else PAGE_CACHE)


async def _view(request: Request, services: ServicesDep, public_id: str, token: str | None) -> PublicView:
    return await run_blocking(request, services.publication.public_view, public_id, token)


@router.get("/v/{public_id}", response_class=HTMLResponse)
async def page(public_id: str, request: Request, services: ServicesDep, t: str | None = None) -> Response:
    await _hit_page(request, services)
    try:
        view = await _view(request, services, public_id, t)
    except NotFoundError:
        return _not_found_page()
    return _page(view)


@router.get("/V/{token}", response_class=HTMLResponse)
async def scanned(token: str, request: Request, services: ServicesDep) -> Response:
    """What the QR code opens: the token names the document; the page checks the token's signature too."""
    await _hit_page(request, services)
    try:
        public_id = read_claims(token).public_id
        view = await _view(request, services, public_id, token)
    except MinSealError:
        return _not_found_page()
    return _page(view)


@router.get("/v/{public_id}/pdf")
async def pdf(public_id: str, request: Request, services: ServicesDep) -> Response:
    await _hit_page(request, services)
    try:
        sha, data = await run_blocking(request, services.publication.public_pdf, public_id)
    except NotFoundError:
        return _not_found_page()
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="notice-{sha[:12]}.pdf"', "ETag": f'"{sha}"',
        "Cache-Control": "public, max-age=86400, immutable", **SECURITY_HEADERS})


async def _read_public_upload(request: Request, services: ServicesDep) -> bytes:
    """The one file of the form, read in chunks so an oversized upload stops early."""
    async with request.form(max_files=1, max_fields=2) as form:
        file = form.get("file")
        if not isinstance(file, StarletteUpload):
            raise InputFileError("请选择要比对的 PDF 文件", code="NO_FILE")
        return await read_pdf_upload(file, services.settings.public_max_upload_bytes)


async def _compare(request: Request, services: ServicesDep, public_id: str) -> CompareResult:
    await _hit(request, services, "public-upload", services.settings.public_upload_rate_limit)
    # (a body over MINSEAL_PUBLIC_MAX_UPLOAD_BYTES is refused by the upload gate before it is read)
    data = await _read_public_upload(request, services)
    return await run_blocking(request, services.publication.compare, public_id, data)


@router.post("/v/{public_id}/check", response_class=HTMLResponse)
async def check_page(public_id: str, request: Request, services: ServicesDep) -> Response:
    try:
        result = await _compare(request, services, public_id)
        view = await _view(request, services, public_id, None)
    except NotFoundError:
        return _not_found_page()
    except MinSealError as error:
        return _html(render("error.html.j2", message=error.message), status=http_status(error), cache="no-store")
    return _page(view, result)


@router.get("/api/public/{public_id}", response_model=PublicPagePublic)
async def public_json(public_id: str, request: Request, services: ServicesDep, t: str | None = None) -> Response:
    await _hit_page(request, services)
    try:
        view = await _view(request, services, public_id, t)
    except NotFoundError as error:
        return JSONResponse(error.to_dict(), status_code=404, headers={"Cache-Control": NOT_FOUND_CACHE})
    body = PublicPagePublic.model_validate({**view.to_dict(),
                                            "pdf_url": f"/v/{public_id}/pdf" if view.pdf_available else None})
    return JSONResponse(body.model_dump(mode="json"),
                        headers={"Cache-Control": PAGE_CACHE, "X-Content-Type-Options": "nosniff"})


@router.post("/api/public/{public_id}/check", response_model=ComparePublic)
async def check_json(public_id: str, request: Request, services: ServicesDep) -> Response:
    result = ComparePublic.model_validate(await _compare(request, services, public_id))
    return JSONResponse(result.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
