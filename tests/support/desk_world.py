"""A demo installation served over real HTTP on 127.0.0.1 for the desk's browser tests, and the Chromium the tests
drive (Debian's, never downloaded). ``minseal serve`` runs it as its own process; :func:`desk_serve` runs the same
app in this process, so a test can move the service's clock (the 公示 and the deadlines need days to pass)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.services.demo_users import demo_username
from api.services.identity import Role
from tests.support.servers import free_port, wait_until_ready
from tests.support.service_world import World, serve_app

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}


@dataclass
class Served:
    world: World
    base: str

    def password(self, office: str, role: Role) -> tuple[str, str]:
        name = demo_username(office, role)
        return name, self.world.passwords[name]


@contextmanager
def minseal_serve(world: World) -> Iterator[str]:
    """``minseal serve`` (python -m api.cli serve) over the world's data and keys."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MINSEAL_DATA_DIR": str(world.settings.data_dir),
           "MINSEAL_KEYS_DIR": str(world.settings.keys_dir), "MINSEAL_PUBLIC_BASE_URL": base}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_ready(f"{base}/healthz", timeout=60)
        yield base
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
        if proc.stderr:
            proc.stderr.close()
        if err and b"Traceback" in err:  # a server-side exception is a failure even when the page looked fine
            raise AssertionError(err.decode(errors="replace")[-3000:])


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(self.format(record))


@contextmanager
def desk_serve(world: World) -> Iterator[str]:
    """The service in this process (``world.services``, its clock included) on a free port; a server-side
    exception logged while it ran fails the test even when the page looked fine."""
    errors = _Errors()
    watched = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn.asgi", "minseal")]
    for logger in watched:
        logger.addHandler(errors)
    try:
        with serve_app(world) as base:
            yield base
    finally:
        for logger in watched:
            logger.removeHandler(errors)
    if errors.seen:
        raise AssertionError("\n".join(errors.seen)[-3000:])


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/desk")
    assert "/desk/login" in page.url
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/desk")


def open_tab(page: Any, label: str) -> None:
    """Follow the desk's nav link ``label`` and return once the new page has loaded.

    A bare click returns when the navigation starts; a count read straight after it saw a half-parsed table on a
    busy CI machine (2 of 3 seal rows)."""
    with page.expect_navigation(wait_until="load"):
        page.click(f"nav >> text={label}")


def wait_for_images(page: Any, selector: str) -> list[int]:
    """Each image under ``selector`` once it has loaded (``complete`` with a decoded width), then their widths.

    A page's ``load`` may come before an image's bytes did; reading ``naturalWidth`` straight away read 0 on a busy
    machine. This waits for the state; a broken image never reaches it and fails the wait with the widths seen."""
    loaded = ("sel => [...document.querySelectorAll(sel)].every(i => i.complete && i.naturalWidth > 0)")
    widths = "sel => [...document.querySelectorAll(sel)].map(i => [i.getAttribute('src'), i.naturalWidth])"
    try:
        page.wait_for_function(loaded, arg=selector)
    except Exception as error:  # playwright's TimeoutError: say which image did not load
        raise AssertionError(f"images not loaded: {page.evaluate(widths, selector)}") from error
    return [int(w) for _src, w in page.evaluate(widths, selector)]
