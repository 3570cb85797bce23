"""What every desk page shares: who is signed in (the service's session cookie and CSRF token), rendering a
page, and turning a domain error into a page rather than JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from api.errors import http_status
from api.http.deps import ServicesDep, check_csrf, identify, run_blocking, sent_csrf
from api.http.pages import environment
from api.services.container import Services
from api.services.identity import Principal
from api.services.states import VersionKind
from signer.errors import ForbiddenError, MinSealError, NotSignedInError

T = TypeVar("T")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
#: pages the desk serves: same origin only, no inline script, PDFs framed by our own pages only
DESK_HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'self'; frame-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'self'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class SignInRequired(Exception):
    """No live session: the browser goes to the sign-in page and comes back to ``next``."""

    def __init__(self, next_path: str, reason: str | None = None) -> None:
        super().__init__(reason or "")
        self.next_path, self.reason = next_path, reason


class DeskProblem(Exception):
    """A refusal shown as a page (another office's file, a wrong role, an unknown id): status + Chinese text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Desk:
    """The signed-in staff member, the CSRF token its forms carry, and the services."""

    user: Principal
    csrf: str
    services: Services
    request: Request

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A service call in the worker threads; an authorisation or lookup refusal becomes a page."""
        try:
            return await run_blocking(self.request, fn, *args, **kwargs)
        except NotSignedInError as error:
            raise SignInRequired(self.request.url.path, error.message) from None
        except MinSealError as error:
            if http_status(error) in (403, 404):
                raise DeskProblem(http_status(error), error.message) from None
            raise

    async def form(self) -> FormData:
        return await self.request.form()


def _desk_session(request: Request, services: Services) -> tuple[Principal, str | None]:
    return identify(request, services)


async def desk_user(request: Request, services: ServicesDep) -> Desk:
    """Cookie sessions only (a bearer token is for the API); forms must carry the session's CSRF token."""
    if "authorization" in request.headers:
        raise DeskProblem(400, "网页办公只能通过浏览器登录使用")
    try:
        principal, csrf = await run_blocking(request, _desk_session, request, services)
    except NotSignedInError as error:
        raise SignInRequired(request.url.path if request.method in SAFE_METHODS else "/desk",
                             None if error.code == "NOT_SIGNED_IN" else error.message) from None
    assert csrf is not None
    if request.method not in SAFE_METHODS:
        try:
            check_csrf(request, csrf, await sent_csrf(request))
        except ForbiddenError:
            raise DeskProblem(403, "页面已过期或来源不明（CSRF 校验未通过），请返回刷新后重试") from None
    return Desk(principal, csrf, services, request)


DeskUser = Annotated[Desk, Depends(desk_user)]



def _mask(value: Any) -> str:
    """First 6 and last 4 of an ID number, as staff lists show it."""
    text = str(value or "")
    return f"{text[:6]}********{text[-4:]}" if len(text) == 18 else text


def _version_kind(value: Any) -> str:
    """A version's kind as staff read it (生成, 盖章, 审核签章 …): the labels live in api/services/states.py."""
    try:
        return VersionKind(value).label
    except ValueError:
        return str(value)


_env = environment()  # its cn_date and when filters are the one date formatter (signer/formats.py)
_env.filters["mask"] = _mask
_env.filters["version_kind"] = _version_kind


def page(desk: Desk | None, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    body = _env.get_template(f"desk/{name}").render(
        me=desk.user if desk else None, csrf=desk.csrf if desk else "", **context)
    return HTMLResponse(body, status_code=status, headers=DESK_HEADERS)


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def sign_in_redirect(error: SignInRequired) -> RedirectResponse:
    target = f"/desk/login?next={quote(error.next_path, safe='/')}"
    if error.reason:
        target += f"&reason={quote(error.reason)}"
    return see_other(target)


def problem_page(error: DeskProblem) -> HTMLResponse:
    return page(None, "problem.html.j2", status=error.status, message=error.message)


def field(form: FormData, name: str, limit: int = 2000) -> str:
    """One text field of a posted form (absent → ""), trimmed to ``limit`` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
