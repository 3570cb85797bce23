"""What routes declare they need (Annotated dependencies), and the bridge that runs blocking work off the loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request, UploadFile

from api.services.container import Services
from api.services.identity import Principal
from signer.errors import ForbiddenError, InputFileError, NotSignedInError, UploadTooLargeError
from signer.layout import page_count

SESSION_COOKIE = "minseal_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
T = TypeVar("T")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def run_blocking(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """WeasyPrint, signing, verification and database work run in the worker threads (sized by a setting)."""
    limiter: anyio.CapacityLimiter = request.app.state.limiter
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=limiter)


def identify(request: Request, services: Services) -> tuple[Principal, str | None]:
    """The caller and, for a cookie session, its CSRF token (``None`` for a bearer token)."""
    auth = request.headers.get("authorization", "")
    with services.db.session() as session:
        if auth.lower().startswith("bearer "):
            return services.identity.from_token(session, auth[7:].strip()), None
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotSignedInError()
        return services.identity.from_session(session, cookie)


def check_csrf(request: Request, csrf: str | None, sent: str | None) -> None:
    """Cookie sessions are CSRF-protected: the token issued at sign-in comes back in a header or a form field."""
    if csrf is not None and request.method not in ("GET", "HEAD", "OPTIONS") and sent != csrf:
        raise ForbiddenError("请求缺少有效的 CSRF 令牌", code="CSRF")


async def sent_csrf(request: Request) -> str | None:
    """The CSRF token a request carries: the header, else (an HTML form post) the ``csrf_token`` field."""
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)  # parsed once; the route reads the cached form
        sent = value if isinstance(value, str) else None
    return sent


def _authenticate(request: Request, services: Services, sent: str | None) -> Principal:
    principal, csrf = identify(request, services)
    check_csrf(request, csrf, sent)
    return principal


async def current_user(request: Request, services: ServicesDep) -> Principal:
    sent = await sent_csrf(request) if request.method not in ("GET", "HEAD", "OPTIONS") else None
    return await run_blocking(request, _authenticate, request, services, sent)


CurrentUser = Annotated[Principal, Depends(current_user)]


async def read_pdf_upload(file: Any, limit: int) -> bytes:
    """An uploaded PDF of at most ``limit`` bytes, read in chunks so an oversized upload stops early."""
    chunks, size = [], 0
    while chunk := await file.read(1 << 20):
        size += len(chunk)
        if size > limit:
            raise UploadTooLargeError(f"上传的文件超过 {limit // 2**20} MB 的限制")
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data.startswith(b"%PDF-"):
        raise InputFileError("上传的文件不是 PDF", code="NOT_PDF")
    return data


async def read_upload(file: UploadFile, services: Services) -> bytes:
    """An uploaded PDF within the byte and page limits."""
    data = await read_pdf_upload(file, services.settings.max_upload_bytes)
    pages = page_count(data, stop_after=services.settings.max_upload_pages)
    if pages is not None and pages > services.settings.max_upload_pages:
        raise UploadTooLargeError(f"上传的文件超过 {services.settings.max_upload_pages} 页的限制")
    return data
