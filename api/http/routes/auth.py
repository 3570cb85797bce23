"""Sign-in (session cookie + CSRF token), sign-out, API tokens, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.http.client import client_address
from api.http.deps import SESSION_COOKIE, CurrentUser, ServicesDep, run_blocking
from api.http.schemas import Login, LoginPublic, MePublic, StatusPublic, TokenCreate, TokenPublic

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login")
async def login(body: Login, request: Request, response: Response, services: ServicesDep) -> LoginPublic:
    """Five wrong passwords for one account (MINSEAL_SIGNIN_MAX_FAILURES) lock it for the window — the right one
    too — until an admin unlocks it: 429 ``ACCOUNT_LOCKED``; too many failures from one address: 429
    ``SIGNIN_THROTTLED``."""
    address = client_address(request, services.settings.trusted_proxies)
    signed = await run_blocking(request, services.sign_in.sign_in, body.username, body.password, address)
    response.set_cookie(SESSION_COOKIE, signed.token, httponly=True, samesite="strict",
                        secure=services.settings.secure_cookies, max_age=services.settings.session_minutes * 60)
    return LoginPublic(user=MePublic.of(signed.principal), csrf_token=signed.csrf)


@router.post("/logout")
async def logout(request: Request, response: Response, services: ServicesDep, _user: CurrentUser) -> StatusPublic:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        def work() -> None:
            with services.db.session() as session:
                services.identity.close_session(session, cookie)
        await run_blocking(request, work)
    response.delete_cookie(SESSION_COOKIE)
    return StatusPublic(status="ok")


@router.get("/me")
async def me(user: CurrentUser) -> MePublic:
    return MePublic.of(user)


@router.post("/tokens", status_code=201)
async def create_token(body: TokenCreate, request: Request, services: ServicesDep, user: CurrentUser) -> TokenPublic:
    """The token is shown once; only its hash is stored."""
    def work() -> str:
        with services.db.session() as session:
            return services.identity.create_token(session, user.user_id, body.name, actor=user.actor)
    return TokenPublic(token=await run_blocking(request, work), note="令牌只显示这一次，请妥善保存")
