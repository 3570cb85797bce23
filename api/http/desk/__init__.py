"""The staff web desk at ``/desk``: server-rendered pages in Chinese over the service layer (no JavaScript needed;
one stylesheet and one small script for progress, both served here)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.http.desk import admin, auth, cases, documents, notices, papers
from api.http.desk.common import DeskProblem, SignInRequired, problem_page, sign_in_redirect

ASSETS = Path(__file__).resolve().parents[1] / "pages" / "desk"
_STATIC = {"desk.css": "text/css; charset=utf-8", "desk.js": "text/javascript; charset=utf-8",
           "report.css": "text/css; charset=utf-8"}


def _assets() -> APIRouter:
    desk = APIRouter()

    @desk.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in _STATIC:
            return Response(status_code=404)
        return Response((ASSETS / name).read_bytes(), media_type=_STATIC[name],
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})

    return desk


def install(app: FastAPI) -> None:
    """The desk's routes and the two answers only the desk gives: go and sign in, or a refusal as a page."""
    for part in (auth.router, documents.router, cases.router, papers.router, notices.router, admin.router, _assets()):
        app.include_router(part, prefix="/desk", include_in_schema=False)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, error: SignInRequired) -> RedirectResponse:
        return sign_in_redirect(error)

    @app.exception_handler(DeskProblem)
    async def problem(request: Request, error: DeskProblem) -> HTMLResponse:
        return problem_page(error)
