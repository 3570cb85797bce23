"""The interactive API pages (``/docs`` Swagger UI, ``/redoc`` ReDoc) served from the installed package, never a
CDN: a county's government intranet has no internet. Their one inline script is allowed by its hash."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

STATIC = Path(fastapi_offline.__file__).resolve().parent / "static"
_FILES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
          "redoc.standalone.js": "text/javascript; charset=utf-8", "favicon.png": "image/png"}


def _csp(html: str) -> str:
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in re.findall(r"<script>(.*?)</script>", html, flags=re.S))
    return (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'none'")


def _page(response: HTMLResponse) -> HTMLResponse:
    html = bytes(response.body).decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": _csp(html), "Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and their files under ``/docs/static/`` (the app is made with docs_url=None)."""
    title = f"{app.title} 接口文档"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return _page(get_swagger_ui_html(openapi_url="/openapi.json", title=title,
                                         swagger_js_url="/docs/static/swagger-ui-bundle.js",
                                         swagger_css_url="/docs/static/swagger-ui.css",
                                         swagger_favicon_url="/docs/static/favicon.png"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(get_redoc_html(openapi_url="/openapi.json", title=title,
                                    redoc_js_url="/docs/static/redoc.standalone.js",
                                    redoc_favicon_url="/docs/static/favicon.png", with_google_fonts=False))

    @app.get("/docs/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in _FILES:
            return Response(status_code=404)
        return Response((STATIC / name).read_bytes(), media_type=_FILES[name],
                        headers={"Cache-Control": "public, max-age=86400"})
