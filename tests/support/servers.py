"""A real MinSeal PKI service (CRL, OCSP, TSA over HTTP) on 127.0.0.1, started by the tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from api.cli.server import server_options
from api.http.app import create_app
from api.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(url: str, *, timeout: float) -> None:
    """Until ``url`` answers 200 (a server the test started is up; /healthz answers 503 until it is ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # after a 503 too: polling, not hammering a server that is starting
    raise RuntimeError(f"the server did not start: {url}")


@contextmanager
def serve(settings: Settings, port: int, *, app: FastAPI | None = None, ready: str = "/pki/root.crt",
          lifespan: str = "off") -> Iterator[str]:
    """``app`` (default: the app for ``settings``) on 127.0.0.1:``port`` in a thread, once ``ready`` answers 200."""
    config = uvicorn.Config(app or create_app(settings), host="127.0.0.1", port=port, lifespan=lifespan,
                            **server_options(settings))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(f"{base}{ready}", timeout=60)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
