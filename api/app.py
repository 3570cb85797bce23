"""The HTTP service's app factory. Nothing is built at import time: settings come in, an app goes out."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from signer.errors import MinSealError

from .errors import http_status
from .pki_http import pki_router
from .sealing import SealingService
from .seals import SealAuthority
from .settings import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="MinSeal", description="基层民政文书与电子签章服务")
    authority = SealAuthority(settings)
    sealing = SealingService(settings, authority)
    app.include_router(pki_router(authority, sealing))

    @app.exception_handler(MinSealError)
    async def domain_error(request: Request, error: MinSealError) -> JSONResponse:
        return JSONResponse(error.to_dict(), status_code=http_status(error))

    return app
