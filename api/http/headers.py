"""Security headers every answer carries, whichever route (or error handler) made it: the pages set their own
Content-Security-Policy; this adds what no answer should be without."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: a year; sent only when the service runs behind TLS (MINSEAL_SECURE_COOKIES=true)
HSTS = "max-age=31536000"
BASE = {b"x-frame-options": b"SAMEORIGIN", b"x-content-type-options": b"nosniff",
        b"referrer-policy": b"same-origin"}


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering): adds the headers a response lacks, never overrides one."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.extra = {**BASE, **({b"strict-transport-security": HSTS.encode()} if https else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.extra.items() if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
