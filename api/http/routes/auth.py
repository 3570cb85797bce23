"""Sign-in (session cookie + CSRF token), sign-out, API tokens, who am I."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.http.deps import SESSION_COOKIE, CurrentUser, ServicesDep, run_blocking

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=200)


class TokenCreate(BaseModel):
    name: str = Field(default="api", max_length=64)


def _me(p: Any) -> dict[str, Any]:
    return {"username": p.username, "display_name": p.display_name, "office_id": p.office_id,
            "office_name": p.office_name, "tier": p.tier.value, "role": p.role.value, "role_label": p.role.label}


@router.post("/login")
async def login(body: Login, request: Request, response: Response, services: ServicesDep) -> dict[str, Any]:
    def work() -> tuple[Any, str, str]:
        with services.db.session() as session:
            principal = services.identity.authenticate(session, body.username, body.password)
            token, csrf = services.identity.open_session(session, principal)
            return principal, token, csrf

    principal, token, csrf = await run_blocking(request, work)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=services.settings.secure_cookies, max_age=services.settings.session_minutes * 60)
    return {"user": _me(principal), "csrf_token": csrf}


@router.post("/logout")
async def logout(request: Request, response: Response, services: ServicesDep, _user: CurrentUser) -> dict[str, str]:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        def work() -> None:
            with services.db.session() as session:
                services.identity.close_session(session, cookie)
        await run_blocking(request, work)
    response.delete_cookie(SESSION_COOKIE)
    return {"status": "ok"}


@router.get("/me")
async def me(user: CurrentUser) -> dict[str, Any]:
    return _me(user)


@router.post("/tokens", status_code=201)
async def create_token(body: TokenCreate, request: Request, services: ServicesDep, user: CurrentUser) -> dict[str, str]:
    """The token is shown once; only its hash is stored."""
    def work() -> str:
        with services.db.session() as session:
            return services.identity.create_token(session, user.user_id, body.name, actor=user.actor)
    return {"token": await run_blocking(request, work), "note": "令牌只显示这一次，请妥善保存"}
