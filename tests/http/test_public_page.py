"""The public verification page, end to end: a township posts its 公示 built from accepted applications; the QR
code is read off the rendered page (150 and 72 dpi) with a real decoder, opened on a real ``minseal serve``, its
token verified offline with the issuer's certificate; the page is driven in headless Chromium at phone size; an
uploaded file is compared; and every public response is scanned for personal data."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.services.documents import DocumentService
from api.services.identity import Role
from signer.public_token import PublicTokenError, read_claims, verify_token
from tests.support.public_world import (
    DAY0,
    OBJECTION,
    OTHER_VILLAGE,
    POSTED_ON_DAY0,
    SAMPLE,
    TOWNSHIP,
    VILLAGE,
    accepted_application,
    login,
    private_strings,
    rasterise,
    read_qr,
    second_household,
)
from tests.support.servers import free_port, serve, wait_until_ready
from tests.support.service_world import World, serve_app

ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class Posted:
    world: World
    base: str  # the in-process service (staff API)
    public: str  # a real `minseal serve` process: what the QR code points to
    notice: dict[str, Any]  # the posted 公示 of VILLAGE
    draft: dict[str, Any]  # the other village's 公示, built but not published
    pdf: bytes  # the sealed notice
    application: str
    private: set[str]


@pytest.fixture(scope="module")
def posted(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[Posted]:
    root = tmp_path_factory.mktemp("public")
    world = World(root, documents)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    world.settings.public_base_url = public
    world.settings.public_rate_limit = "10000/minute"
    world.services.clock.set(DAY0)
    with serve_app(world) as base:
        app1 = accepted_application(world, base, VILLAGE, SAMPLE)
        accepted_application(world, base, OTHER_VILLAGE, second_household())
        reviewer = login(world, base, TOWNSHIP, Role.REVIEWER)
        try:
            r = reviewer.post("/api/notices/build", json={"objection": OBJECTION})
            assert r.status_code == 201, r.text
            built = {n["village"]: n for n in r.json()}
            assert set(built) == {"东沟南村", "北养马村"}  # one notice per village
            r = reviewer.post(f"/api/notices/{built['东沟南村']['document_id']}/publish")
            assert r.status_code == 200, r.text
            notice = r.json()
            pdf = reviewer.get(f"/api/documents/{notice['document_id']}/pdf").content
        finally:
            reviewer.close()
        env = {**os.environ, "MINSEAL_DATA_DIR": str(world.settings.data_dir),
               "MINSEAL_KEYS_DIR": str(world.settings.keys_dir), "MINSEAL_PUBLIC_BASE_URL": public,
               "MINSEAL_FIXED_TODAY": DAY0.isoformat(), "MINSEAL_PUBLIC_RATE_LIMIT": "10000/minute"}
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_ready(f"{public}/healthz", timeout=60)
            yield Posted(world, base, public, notice, built["北养马村"], pdf, app1,
                         private_strings(SAMPLE, second_household()))
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _last_page(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def test_qr_read_at_150_and_72_dpi_opens_the_page_on_minseal_serve(posted: Posted, tmp_path: Path) -> None:
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(posted.pdf)
    page = _last_page(pdf)
    urls = {dpi: read_qr(rasterise(pdf, tmp_path / f"p{dpi}", dpi=dpi, page=page)) for dpi in (150, 72)}
    assert urls[150] and urls[150] == urls[72], urls
    url = urls[150][0]
    assert url.startswith(posted.public.upper() + "/V/")
    with httpx.Client(timeout=30) as client:
        # the scheme and host were upper-cased for the QR code's alphanumeric mode; any client accepts them
        r = client.get(url)
    assert r.status_code == 200, r.text
    assert POSTED_ON_DAY0 in r.text and "王秀英" in r.text
    assert OBJECTION["phone"] in r.text and OBJECTION["address"] in r.text  # where a resident may object
    assert "二维码签名有效，与登记内容一致" in r.text
    assert hashlib.sha256(posted.pdf).hexdigest() in r.text
    assert "燕赵镇人民政府" in r.text and "通过" in r.text


def test_token_verifies_offline_with_the_issuers_certificate(posted: Posted, tmp_path: Path) -> None:
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(posted.pdf)
    [url] = read_qr(rasterise(pdf, tmp_path / "p", dpi=150, page=_last_page(pdf)))
    token = url.rsplit("/", 1)[1]
    [cert, *_] = posted.world.services.links.certificates(TOWNSHIP)
    claims = verify_token(token, cert)
    assert claims.public_id == posted.notice["public_id"] and claims.issuer == TOWNSHIP
    assert claims.period is not None
    assert [d.isoformat() for d in claims.period] == [posted.notice["start_on"], posted.notice["end_on"]]
    public = httpx.get(f"{posted.base}/api/public/{claims.public_id}").json()
    assert public["content_sha256"] == claims.content_sha256
    # another office's certificate does not verify it; a changed character breaks it
    [other, *_] = posted.world.services.links.certificates(VILLAGE)
    with pytest.raises(PublicTokenError):
        verify_token(token, other)
    flipped = token[:100] + ("A" if token[100] != "A" else "B") + token[101:]
    with pytest.raises(PublicTokenError):
        verify_token(flipped, cert)
    assert read_claims(token) == claims
    r = httpx.get(f"{posted.base}/V/{flipped}")
    assert r.status_code in (200, 404)
    if r.status_code == 200:
        assert "二维码签名有效" not in r.text


def test_json_twin_headers_pdf_and_friendly_404(posted: Posted) -> None:
    pid = posted.notice["public_id"]
    with httpx.Client(base_url=posted.public, timeout=30) as client:
        r = client.get(f"/api/public/{pid}")
        assert r.status_code == 200 and r.headers["cache-control"].startswith("public")
        body = r.json()
        assert body["status"] == POSTED_ON_DAY0 and body["issuer"] == "燕赵镇人民政府"
        assert [set(row) for row in body["rows"]] == [{"name", "village", "persons", "amount"}]
        assert body["sha256"] == hashlib.sha256(posted.pdf).hexdigest()
        page = client.get(f"/v/{pid}")
        assert page.headers["cache-control"] == "public, max-age=300"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text and "http" not in page.text.split("<body>")[1].replace(
            f"/v/{pid}", "")  # no third-party scripts, fonts or links
        pdf = client.get(body["pdf_url"])
        assert pdf.content == posted.pdf and "immutable" in pdf.headers["cache-control"]
        # unknown ids, a draft notice and an internal form all get the same friendly 404
        reviewer = login(posted.world, posted.base, TOWNSHIP, Role.REVIEWER)
        try:
            form_pid = reviewer.get(f"/api/documents/{posted.application}").json()["public_id"]
        finally:
            reviewer.close()
        for missing in ("nope", "A" * 22, posted.draft["public_id"], form_pid):
            r = client.get(f"/v/{missing}")
            assert r.status_code == 404 and "没有找到这份公示或证明" in r.text
            assert client.get(f"/api/public/{missing}").json()["code"] == "UNKNOWN_PUBLIC_ID"
            assert client.get(f"/v/{missing}/pdf").status_code == 404
        assert client.get("/V/NOTATOKEN").status_code == 404


def test_upload_genuine_and_one_byte_changed(posted: Posted) -> None:
    pid = posted.notice["public_id"]
    changed = bytearray(posted.pdf)
    changed[len(changed) // 2] ^= 0x01
    with httpx.Client(base_url=posted.public, timeout=60) as client:
        same = client.post(f"/api/public/{pid}/check", files={"file": ("a.pdf", posted.pdf, "application/pdf")})
        assert same.json()["word"] == "一致" and same.json()["verdict"] == "PASSED"
        assert same.headers["cache-control"] == "no-store"
        other = client.post(f"/api/public/{pid}/check", files={"file": ("a.pdf", bytes(changed), "application/pdf")})
        assert other.json()["word"] == "不一致" and other.json()["verdict"] != "PASSED"
        assert client.post(f"/api/public/{pid}/check", files={"file": ("a.txt", b"hello")}).json()["code"] == "NOT_PDF"
        big = b"%PDF-1.7\n" + b"0" * (posted.world.settings.public_max_upload_bytes + 1)
        assert client.post(f"/api/public/{pid}/check", files={"file": ("a.pdf", big)}).status_code == 413


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is installed by scripts/setup")
def test_phone_page_in_chromium(posted: Posted, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    pid = posted.notice["public_id"]
    genuine, changed = tmp_path / "notice.pdf", tmp_path / "changed.pdf"
    genuine.write_bytes(posted.pdf)
    data = bytearray(posted.pdf)
    data[len(data) // 3] ^= 0x20
    changed.write_bytes(bytes(data))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True)
            requests: list[str] = []
            page.on("request", lambda req: requests.append(req.url))
            page.goto(f"{posted.public}/v/{pid}")
            assert page.locator("#status").inner_text() == POSTED_ON_DAY0
            assert page.locator("#list tbody tr").count() == 1
            # phone-first: nothing wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(ARTIFACTS / "public-page-390x844.png"))
            page.screenshot(path=str(ARTIFACTS / "public-page-full.png"), full_page=True)
            page.set_input_files("input[type=file]", str(genuine))
            page.click("button[type=submit]")
            assert page.locator("#compare-word").inner_text() == "一致"
            page.locator("#compare").screenshot(path=str(ARTIFACTS / "public-compare-same.png"))
            page.set_input_files("input[type=file]", str(changed))
            page.click("button[type=submit]")
            assert page.locator("#compare-word").inner_text() == "不一致"
            # the answer to "is my file genuine" is the first thing on the screen, above the registered file's
            # own green status
            compared, status = page.locator("#compare").bounding_box(), page.locator("#status").bounding_box()
            assert compared is not None and status is not None
            assert compared["y"] < status["y"] and compared["y"] < 300, (compared, status)
            page.locator("#compare").screenshot(path=str(ARTIFACTS / "public-compare-changed.png"))
            page.goto(f"{posted.public}/v/unknown-id")
            assert "没有找到" in page.inner_text("h1")
            assert all(u.startswith(posted.public) for u in requests), requests
        finally:
            browser.close()


def test_no_personal_data_in_any_public_response(posted: Posted, tmp_path: Path) -> None:
    pid = posted.notice["public_id"]
    bodies: dict[str, str] = {}
    with httpx.Client(base_url=posted.public, timeout=60) as client:
        for path in (f"/v/{pid}", f"/api/public/{pid}", "/v/unknown", "/api/public/unknown"):
            bodies[path] = client.get(path).text
        pdf = tmp_path / "public.pdf"
        pdf.write_bytes(client.get(f"/v/{pid}/pdf").content)
        bodies["pdf"] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                       check=True).stdout
        bodies["compare"] = client.post(f"/v/{pid}/check", files={"file": ("a.pdf", posted.pdf)}).text
        bodies["compare.json"] = client.post(f"/api/public/{pid}/check", files={"file": ("a.pdf", posted.pdf)}).text
    assert "王秀英" in bodies[f"/v/{pid}"]  # the scan looks at real pages
    for name, body in bodies.items():
        compact = body.replace(" ", "").replace("\n", "")
        found = [s for s in posted.private if s in body or s in compact]
        assert not found, (name, found)


def test_public_endpoints_are_rate_limited(posted: Posted) -> None:
    settings = posted.world.settings.model_copy(
        update={"public_rate_limit": "3/minute", "public_upload_rate_limit": "1/minute"})
    with posted.world.services.db.session() as session:  # the module's other tests read pages from here too
        posted.world.services.throttle.clear(session, "public-page", "127.0.0.1")
    with serve(settings, free_port(), ready="/healthz", lifespan="on") as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        codes = [client.get(f"/v/{posted.notice['public_id']}").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert "请求过于频繁" in client.get("/api/public/x").text
        assert client.get("/healthz").status_code == 200  # staff and health endpoints are not limited
