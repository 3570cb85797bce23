"""The gate every request body passes before any route reads it: the caller of a staff upload is known first (an
anonymous body is refused unread), a body over the limits is refused from its declared length before it is read,
and a body without a declared length is cut off as soon as it passes the limit. A client that goes away mid-upload
ends its request quietly (no traceback in the log)."""

from __future__ import annotations

import json
import logging

import anyio
from fastapi import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.deps import identify
from api.services.container import Services
from api.settings import Settings
from signer.errors import MinSealError

log = logging.getLogger("minseal.http")

#: form fields, boundaries and headers around the file itself
OVERHEAD = 64 * 1024
#: bodies of staff routes that are not uploads: JSON documents and batches, decisions, opinions
SMALL = 4 * 2**20
#: where anyone may post: sign-in, the public comparison form
OPEN = ("/api/auth/login", "/desk/login", "/v/", "/api/public/")


class BodyTooLarge(HTTPException):
    """Raised from the body stream itself, so it reaches the app's handler even from inside FastAPI's form parsing
    (which turns any other exception into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(limit), headers={"Connection": "close"})


def too_large(limit: int) -> str:
    return f"上传内容超过 {limit / 2**20:g} MB 的限制"


def body_limit(settings: Settings, path: str, content_type: str) -> int:
    if path.startswith(("/v/", "/api/public/")):
        return settings.public_max_upload_bytes + OVERHEAD
    if content_type.startswith("multipart/form-data"):
        return max(settings.max_upload_bytes, settings.scan_max_bytes) + OVERHEAD
    return SMALL


def _json(status: int, code: str, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode()
    return status, [(b"content-type", b"application/json"), (b"connection", b"close")], body


class UploadGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        services: Services = scope["app"].state.services
        request = Request(scope)
        path, content_type = scope["path"], request.headers.get("content-type", "")
        limit = body_limit(services.settings, path, content_type)
        if content_type.startswith("multipart/form-data") and not path.startswith(OPEN):
            refusal = await self._anonymous(request, services)
            if refusal is not None:
                await _answer(send, *refusal)
                return
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, *_json(413, "UPLOAD_TOO_LARGE", too_large(limit)))
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:  # read outside a route (the app's handler answers it inside one)
            if not started:
                await _answer(send, *_json(413, "UPLOAD_TOO_LARGE", too_large(limit)))
        except ClientDisconnect:
            log.info("client went away during %s %s", scope["method"], path)

    @staticmethod
    async def _anonymous(request: Request,
                         services: Services) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """A staff upload from nobody signed in: 401 (the API) or the sign-in page (the desk), body unread."""
        try:
            await anyio.to_thread.run_sync(identify, request, services)
        except MinSealError as error:
            if request.url.path.startswith("/desk/"):
                return 303, [(b"location", b"/desk/login"), (b"connection", b"close")], b""
            return _json(401, error.code, error.message)
        return None


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
