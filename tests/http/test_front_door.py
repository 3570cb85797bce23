"""The service's front door on a real server: guessing passwords locks the account (an admin lifts it, both in the
audit chain), limits are counted in the database so two worker processes share one count, a forged
X-Forwarded-For buys nothing, security headers on every answer, and /docs works with no network."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.services.demo_users import demo_username
from api.services.documents import DocumentService
from api.services.identity import Role
from api.storage.models import AuditRow
from tests.support.servers import free_port, serve, wait_until_ready
from tests.support.service_world import TOWNSHIP, VILLAGE, World, serve_app


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("front-door"), documents)


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with serve_app(world) as url:
        yield url


def login(base: str, username: str, password: str, **headers: str) -> httpx.Response:
    return httpx.post(f"{base}/api/auth/login", json={"username": username, "password": password}, headers=headers)


def audit_actions(world: World, action: str) -> list[dict[str, object]]:
    with world.services.db.session() as session:
        return [row.detail for row in session.execute(select(AuditRow).where(AuditRow.action == action)).scalars()]


def test_guessing_locks_the_account_until_an_admin_lifts_it(world: World, base: str) -> None:
    clerk = demo_username(VILLAGE, Role.CLERK)
    right = world.passwords[clerk]
    for _ in range(world.settings.signin_max_failures):
        r = login(base, clerk, "wrong-password-123")
        assert r.status_code == 401 and r.json()["code"] == "BAD_CREDENTIALS"
    r = login(base, clerk, right)  # the right password no longer opens it
    assert r.status_code == 429 and r.json()["code"] == "ACCOUNT_LOCKED", r.text
    assert 0 < int(r.headers["retry-after"]) <= world.settings.signin_window_minutes * 60
    assert "已锁定" in r.json()["message"]
    # the desk says the same, as a page
    page = httpx.post(f"{base}/desk/login", data={"username": clerk, "password": right})
    assert page.status_code == 429 and "已锁定" in page.text
    locked = audit_actions(world, "user.locked")
    assert [d["username"] for d in locked] == [clerk]

    # another office's admin may not lift it; the township's admin (the village is below it) may
    far = demo_username("130635", Role.ADMIN)
    far_admin = httpx.Client(base_url=base)
    r = far_admin.post("/api/auth/login", json={"username": far, "password": world.passwords[far]})
    far_admin.headers["x-csrf-token"] = r.json()["csrf_token"]
    assert far_admin.post(f"/api/users/{clerk}/unlock").status_code == 403
    admin_name = demo_username(TOWNSHIP, Role.ADMIN)
    admin = httpx.Client(base_url=base)
    r = admin.post("/api/auth/login", json={"username": admin_name, "password": world.passwords[admin_name]})
    admin.headers["x-csrf-token"] = r.json()["csrf_token"]
    users = admin.get("/desk/admin/users")
    assert "登录已锁定" in users.text and f"unlock-{clerk}" in users.text
    assert admin.post(f"/api/users/{clerk}/unlock").status_code == 200
    assert [d["username"] for d in audit_actions(world, "user.unlock")] == [clerk]
    assert login(base, clerk, right).status_code == 200
    far_admin.close()
    admin.close()


def test_many_accounts_guessed_from_one_address_make_that_address_wait(world: World, base: str) -> None:
    limit = world.settings.signin_address_failures
    with world.services.db.session() as session:  # the test before failed from this address too
        world.services.throttle.clear(session, "signin-address", "127.0.0.1")
    codes = [login(base, f"nobody-{n}", "wrong-password-123").json()["code"] for n in range(limit + 1)]
    assert codes[:limit] == ["BAD_CREDENTIALS"] * limit
    assert codes[limit] == "SIGNIN_THROTTLED"
    # a forged X-Forwarded-For is not believed (no trusted proxy is configured): still the same address
    r = login(base, "nobody-else", "wrong-password-123", **{"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 429 and r.json()["code"] == "SIGNIN_THROTTLED"
    with world.services.db.session() as session:  # let the other tests sign in from this address again
        world.services.throttle.clear(session, "signin-address", "127.0.0.1")


def test_public_limit_is_shared_by_two_worker_processes(world: World) -> None:
    """``minseal serve --workers 2``: each worker's memory would let 2 × the limit through."""
    port = free_port()
    env = {**os.environ, "MINSEAL_DATA_DIR": str(world.settings.data_dir),
           "MINSEAL_KEYS_DIR": str(world.settings.keys_dir), "MINSEAL_PUBLIC_RATE_LIMIT": "6/minute"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/healthz", timeout=90)
        statuses = []
        for _ in range(14):  # a new connection each time: the two workers take turns
            statuses.append(httpx.get(f"{url}/v/unknown-id", headers={"Connection": "close"}).status_code)
        assert statuses.count(404) == 6 and statuses.count(429) == 8, statuses
        # a forged X-Forwarded-For does not open a new bucket
        forged = httpx.get(f"{url}/v/unknown-id", headers={"X-Forwarded-For": "198.51.100.7"})
        assert forged.status_code == 429 and forged.headers["retry-after"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_trusted_proxy_names_the_client_and_only_its_own_hop_counts(world: World) -> None:
    """Behind a proxy on another host every resident would share one bucket; with the proxy named in
    MINSEAL_TRUSTED_PROXIES each client counts apart, and what a client writes into the header itself is ignored."""
    settings = world.settings.model_copy(update={"trusted_proxies": ["127.0.0.0/8"], "public_rate_limit": "2/minute"})
    with serve(settings, free_port(), ready="/healthz") as url:
        def get(chain: str) -> int:
            return httpx.get(f"{url}/v/unknown-id", headers={"X-Forwarded-For": chain}).status_code
        assert [get("192.0.2.1") for _ in range(3)] == [404, 404, 429]
        assert get("192.0.2.2") == 404  # another resident behind the same proxy
        # the client forges a left-most entry; the proxy appends what it saw (192.0.2.1): still that client
        assert get("10.9.9.9, 192.0.2.1") == 429


def test_security_headers_and_docs_without_network(world: World, base: str) -> None:
    for path in ("/healthz", "/desk/login", "/openapi.json", "/v/unknown-id"):
        r = httpx.get(f"{base}{path}")
        assert r.headers["x-frame-options"] == "SAMEORIGIN", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert "strict-transport-security" not in r.headers  # plain HTTP: HSTS would be a lie
    with serve(world.settings.model_copy(update={"secure_cookies": True}), free_port(), ready="/healthz") as url:
        assert httpx.get(f"{url}/healthz").headers["strict-transport-security"] == "max-age=31536000"

    for page in ("/docs", "/redoc"):
        r = httpx.get(f"{base}{page}")
        assert r.status_code == 200 and "content-security-policy" in r.headers
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
        assert assets and all(a.startswith("/") for a in assets), assets  # nothing from a CDN
        for asset in assets:
            assert httpx.get(f"{base}{asset}").status_code == 200, asset

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        outside: list[str] = []

        def only_local(route):  # type: ignore[no-untyped-def]
            if route.request.url.startswith(base):
                route.continue_()
            else:  # an intranet without internet
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "MinSeal" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock-tag", timeout=30_000)  # the operations are listed
        browser.close()
    assert outside == [] and not [e for e in errors if "Content Security Policy" in e], (outside, errors)


def _raw_post(base: str, path: str, headers: dict[str, str], body_chunks: Iterator[bytes] | None = None
              ) -> tuple[int, int]:
    """POST over a bare socket: send the head, then body chunks only while no answer has come; (status, body
    bytes sent before the answer)."""
    import select as selectmod
    import socket

    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall((head + "\r\n").encode())
    sent = 0
    try:
        for chunk in body_chunks or iter(()):
            if selectmod.select([sock], [], [], 0)[0]:
                break  # the server has answered
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        answer = sock.recv(4096).decode("latin-1")
    finally:
        sock.close()
    return int(answer.split(" ", 2)[1]), sent


def test_large_uploads_are_refused_before_they_are_read(world: World, base: str) -> None:
    boundary = "x" * 16
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    # anonymous, 300 MB declared: 401 from the head alone (nothing of the body is needed)
    status, _ = _raw_post(base, "/api/verify", {**multipart, "Content-Length": str(300 * 2**20)})
    assert status == 401
    # anonymous and chunked (no declared length): still refused before the body is read
    mb = b"\0" * 2**20
    status, sent = _raw_post(base, "/api/verify", {**multipart, "Transfer-Encoding": "chunked"},
                             (b"100000\r\n" + mb + b"\r\n" for _ in range(300)))
    assert status == 401 and sent < 40 * 2**20, sent
    clerk = demo_username(VILLAGE, Role.CLERK)
    r = login(base, clerk, world.passwords[clerk])
    cookie = f"minseal_session={r.cookies['minseal_session']}"
    signed = {**multipart, "Cookie": cookie, "X-CSRF-Token": r.json()["csrf_token"]}
    # signed in, 300 MB declared: 413 before reading
    status, _ = _raw_post(base, "/api/verify", {**signed, "Content-Length": str(300 * 2**20)})
    assert status == 413
    # signed in and chunked: cut off once past the limit, not after 300 MB
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    first = part + mb[len(part):]
    status, sent = _raw_post(base, "/api/verify", {**signed, "Transfer-Encoding": "chunked"},
                             (b"100000\r\n" + (first if n == 0 else mb) + b"\r\n" for n in range(300)))
    limit = max(world.settings.max_upload_bytes, world.settings.scan_max_bytes)
    assert status == 413 and sent < limit + 40 * 2**20, sent
    # a JSON route takes no 300 MB either
    status, _ = _raw_post(base, "/api/documents", {"Content-Type": "application/json", "Cookie": cookie,
                                                   "Content-Length": str(300 * 2**20)})
    assert status == 413


def test_a_lying_page_count_is_refused(world: World, base: str) -> None:
    """The page limit counts the page tree's leaves, not the /Count a file declares."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import NameObject, NumberObject

    writer = PdfWriter()
    for _ in range(world.settings.max_upload_pages + 10):
        writer.add_blank_page(100, 100)
    writer._root_object["/Pages"][NameObject("/Count")] = NumberObject(1)
    out = io.BytesIO()
    writer.write(out)
    clerk = demo_username(VILLAGE, Role.CLERK)
    client = httpx.Client(base_url=base, timeout=60)
    r = client.post("/api/auth/login", json={"username": clerk, "password": world.passwords[clerk]})
    client.headers["x-csrf-token"] = r.json()["csrf_token"]
    r = client.post("/api/verify", files={"file": ("lying.pdf", out.getvalue(), "application/pdf")})
    client.close()
    assert r.status_code == 413 and r.json()["code"] == "UPLOAD_TOO_LARGE", r.text
    assert f"{world.settings.max_upload_pages} 页" in r.json()["message"]


def test_bounded_schemathesis_run_finds_no_5xx_and_nothing_undocumented(world: World) -> None:
    """schemathesis fuzzes every operation of /openapi.json as a signed-in reviewer (a bearer token), on its own
    server; every answer must be a documented status with a documented media type, and never a 5xx. Bounded: a
    few examples per operation and a time budget, with a fixed seed so a failure can be replayed."""
    settings = world.settings.model_copy(update={"public_rate_limit": "100000/minute"})
    reviewer = demo_username(TOWNSHIP, Role.REVIEWER)
    with world.services.db.session() as session:
        user_id = world.services.identity.user(session, reviewer).id
        token = world.services.identity.create_token(session, user_id, "schemathesis", actor="test")
    with serve(settings, free_port(), ready="/healthz", lifespan="on") as url:
        run = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "run", f"{url}/openapi.json",
             "-H", f"Authorization: Bearer {token}",
             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance",
             "--phases", "examples,fuzzing", "--max-examples", "3", "--max-time", "45", "--seed", "20261205",
             "--no-color"],
            capture_output=True, text=True, timeout=300, cwd=world.settings.data_dir)
    with world.services.db.session() as session:  # fuzzed sign-ins throttled this address: the later tests in
        for scope in ("signin-address", "public-page", "public-upload", "tsa"):
            world.services.throttle.clear(session, scope, "127.0.0.1")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Server error" not in run.stdout and "passed" in run.stdout
