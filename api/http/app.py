"""The HTTP service's app factory: settings in, an app out; nothing is built at import time.

``uvicorn --factory api.http.app:app_from_env`` (or ``minseal serve``) serves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.errors import http_headers, http_status
from api.http import api_docs, desk
from api.http.headers import SecurityHeaders
from api.http.openapi import document_responses
from api.http.pki import pki_router
from api.http.routes import admin, auth, cases, documents, notices, public, scans, verify
from api.http.routes.batches import router as batches_router
from api.http.upload_gate import BodyTooLarge, UploadGate
from api.services.container import Services
from api.settings import Settings
from signer.errors import MinSealError


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    services = services or Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(services.prepare)
        yield
        services.close()

    app = FastAPI(title="MinSeal", description="基层民政文书与电子签章服务", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    api_docs.install(app)
    app.add_middleware(UploadGate)
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)
    app.state.services = services
    app.state.limiter = anyio.CapacityLimiter(max(1, settings.worker_threads))
    for router in (auth.router, documents.router, cases.router, scans.router, verify.router, admin.router,
                   notices.router, public.router):
        app.include_router(router)
    app.include_router(pki_router(services.authority, services.sealing))
    desk.install(app)
    app.include_router(batches_router)
    document_responses(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        checks = await anyio.to_thread.run_sync(_health, services)
        ok = all(checks.values())
        return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503)

    @app.exception_handler(MinSealError)
    async def domain_error(request: Request, error: MinSealError) -> JSONResponse:
        return JSONResponse(error.to_dict(), status_code=http_status(error), headers=http_headers(error))

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
        return JSONResponse({"code": "UPLOAD_TOO_LARGE", "message": error.detail}, status_code=413,
                            headers={"Connection": "close"})

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        fields = [{"path": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": _cn(e)}
                  for e in error.errors()]
        return JSONResponse({"code": "INVALID_REQUEST", "message": f"请求有误（共 {len(fields)} 处）",
                             "fields": fields}, status_code=422)

    return app


def _cn(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    return {"missing": "缺少此项", "string_too_long": "内容过长", "string_too_short": "内容过短",
            "dict_type": "应为对象", "string_type": "应为文本", "int_parsing": "应为整数",
            "json_invalid": "不是有效的 JSON"}.get(kind, "格式不正确")


def _health(services: Services) -> dict[str, bool]:
    from templates.fonts import FontSet

    try:
        FontSet.locate()
        fonts = True
    except Exception:
        fonts = False
    return {"database": services.db.ping(), "key_stores": services.authority.root_cert_path.exists(),
            "registry": services.authority.registry_or_none() is not None, "fonts": fonts}


def app_from_env() -> FastAPI:
    """For uvicorn/gunicorn workers: each worker builds its own app from the environment (MINSEAL_*)."""
    return create_app(Settings())
