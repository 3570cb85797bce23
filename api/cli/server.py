"""How the CLI runs the HTTP server (``minseal serve``, ``minseal demo --serve``): one set of uvicorn options."""

from __future__ import annotations

from typing import Any

from api.settings import Settings


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for this service: X-Forwarded-For is never rewritten by uvicorn (the app decides whom to
    believe, MINSEAL_TRUSTED_PROXIES), a cap on open connections, a short keep-alive. Header and body read timeouts
    belong to the reverse proxy in front (docs/operations.md)."""
    return {"proxy_headers": False, "server_header": False, "limit_concurrency": settings.max_connections,
            "timeout_keep_alive": settings.keep_alive_s, "log_level": "warning"}
