"""Sign-in and sign-out for the desk: the service's own session (cookie + CSRF token), so the desk and the API
share one sign-in, one timeout and one audit of who did what."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.http.client import client_address
from api.http.deps import SESSION_COOKIE, ServicesDep, run_blocking
from api.http.desk.common import DeskUser, field, page, see_other
from signer.errors import NotSignedInError, ThrottledError

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only a path of the desk itself (never another site)."""
    return value if value and value.startswith("/desk") and "//" not in value and "\\" not in value else "/desk"


@router.get("/login", response_class=HTMLResponse)
async def login_page(next: str | None = None, reason: str | None = None) -> HTMLResponse:
    return page(None, "login.html.j2", next=_safe_next(next), error=(reason or "")[:60], username="")


@router.post("/login", response_model=None)
async def login(request: Request, services: ServicesDep) -> HTMLResponse | RedirectResponse:
    form = await request.form()
    username, password = field(form, "username", 64), field(form, "password", 200)
    target = _safe_next(field(form, "next", 300))

    address = client_address(request, services.settings.trusted_proxies)
    try:
        token = (await run_blocking(request, services.sign_in.sign_in, username, password, address)).token
    except NotSignedInError as error:  # the password is never sent back to the page
        return page(None, "login.html.j2", status=401, next=target, error=error.message, username=username)
    except ThrottledError as error:
        refused = page(None, "login.html.j2", status=429, next=target, error=error.message, username=username)
        refused.headers["Retry-After"] = str(error.retry_after)
        return refused
    response = see_other(target)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=services.settings.secure_cookies, max_age=services.settings.session_minutes * 60)
    return response


@router.post("/logout")
async def logout(desk: DeskUser) -> RedirectResponse:
    cookie = desk.request.cookies.get(SESSION_COOKIE)

    def work() -> None:
        with desk.services.db.session() as session:
            if cookie:
                desk.services.identity.close_session(session, cookie)

    await desk.call(work)
    response = see_other("/desk/login")
    response.delete_cookie(SESSION_COOKIE)
    return response
