"""Scans of hand-signed pages over HTTP: the upload (multipart), the case's list and the file as served (its sniffed
type, the Chinese name RFC 5987-encoded, never sniffed by the browser); another township's staff get the unknown
case's 404; and the desk's case page in a real browser, where a PNG is uploaded and listed with its preview."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from api.http.routes.scans import ScanPublic
from api.services.documents import DocumentService
from api.services.identity import Role
from api.services.scans import ScanView
from tests.services.test_scans import signed_page
from tests.support.cases import Desk, desk, filed, household, ok
from tests.support.desk_world import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, VIEWPORT, desk_serve, sign_in, wait_for_images
from tests.support.public_world import DAY0, login
from tests.support.service_world import OTHER_TOWNSHIP, VILLAGE, World


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("scans-http"), documents)
    built.services.clock.set(DAY0)
    yield built
    built.services.db.dispose()


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with desk_serve(world) as url:
        yield url


@pytest.fixture(scope="module")
def d(world: World, base: str) -> Iterator[Desk]:
    users = desk(world, base)
    yield users
    users.close()


def a_case(d: Desk) -> tuple[str, str]:
    """A 低保 application the township has received: (case id, application id)."""
    doc = filed(d, household())
    return str(ok(d.township.get(f"/api/documents/{doc}/case"))["id"]), doc


def test_the_response_model_mirrors_the_view() -> None:
    assert list(ScanPublic.model_fields) == [f.name for f in dataclasses.fields(ScanView)]


def test_upload_list_and_file(d: Desk) -> None:
    case_id, doc = a_case(d)
    data = signed_page()
    r = d.township.post(f"/api/cases/{case_id}/scans", files={"file": ("授权书签字.pdf", data, "application/pdf")},
                        data={"label": "授权书签字页", "document_id": doc})
    scan = ok(r, 201)
    assert (scan["media_type"], scan["filename"], scan["document_id"]) == ("image/png", "授权书签字.png", doc)
    assert scan["sha256"] == hashlib.sha256(data).hexdigest() and scan["size"] == len(data)
    listed = ok(d.village.get(f"/api/cases/{case_id}/scans"))["items"]
    assert listed == [scan]
    r = d.village.get(f"/api/scans/{scan['id']}/file")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"] == (
        f"inline; filename=\"scan-{scan['id'][:8]}.png\"; filename*=UTF-8''{quote('授权书签字.png', safe='')}")
    assert "private" in r.headers["cache-control"]


def test_refusals_carry_stable_codes(d: Desk, world: World) -> None:
    case_id, _doc = a_case(d)
    url = f"/api/cases/{case_id}/scans"
    html = d.village.post(url, files={"file": ("a.png", b"<html><script>alert(1)</script></html>", "image/png")},
                          data={"label": "其他"})
    assert (html.status_code, html.json()["code"]) == (422, "SCAN_TYPE")
    exe = d.village.post(url, files={"file": ("setup.exe", b"MZ\x90\x00" + b"\x00" * 512, "application/octet-stream")},
                         data={"label": "其他"})
    assert (exe.status_code, exe.json()["code"]) == (422, "SCAN_TYPE")
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * world.settings.scan_max_bytes
    too_large = d.village.post(url, files={"file": ("big.png", big, "image/png")}, data={"label": "其他"})
    assert (too_large.status_code, too_large.json()["code"]) == (413, "SCAN_TOO_LARGE")
    _other_case, other_doc = a_case(d)
    wrong = d.village.post(url, files={"file": ("a.png", signed_page(mark=7), "image/png")},
                           data={"label": "其他", "document_id": other_doc})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "SCAN_DOCUMENT")
    assert wrong.json()["fields"] == [{"path": "document_id", "message": "所选文书不属于本案件"}]
    no_csrf = d.village.post(url, files={"file": ("a.png", signed_page(mark=8), "image/png")},
                             data={"label": "其他"}, headers={"x-csrf-token": "wrong"})
    assert (no_csrf.status_code, no_csrf.json()["code"]) == (403, "CSRF")
    assert ok(d.village.get(url))["items"] == []
    page = d.village.post(f"/desk/cases/{case_id}/scans", files={"file": ("a.png", b"<html></html>", "image/png")},
                          data={"label": "其他"})  # the desk shows the refusal in the scans section
    assert page.status_code == 422 and 'id="scan-error"' in page.text
    assert "扫描件只能是 PDF、JPEG 或 PNG 文件" in page.text


def test_another_townships_staff_get_the_unknown_cases_404(d: Desk, world: World, base: str) -> None:
    case_id, _doc = a_case(d)
    scan = ok(d.village.post(f"/api/cases/{case_id}/scans", files={"file": ("a.png", signed_page(mark=9),
                                                                             "image/png")},
                             data={"label": "入户调查表签字页"}), 201)
    unknown_case = d.township.get(f"/api/cases/{'0' * 32}/scans")
    unknown_scan = d.township.get(f"/api/scans/{'0' * 32}/file")
    assert unknown_case.status_code == unknown_scan.status_code == 404
    for role in (Role.CLERK, Role.REVIEWER):
        stranger = login(world, base, OTHER_TOWNSHIP, role)
        try:
            listed = stranger.get(f"/api/cases/{case_id}/scans")
            added = stranger.post(f"/api/cases/{case_id}/scans",
                                  files={"file": ("a.png", signed_page(mark=10), "image/png")}, data={"label": "其他"})
            read = stranger.get(f"/api/scans/{scan['id']}/file")
            desk_page = stranger.get(f"/desk/scans/{scan['id']}")
        finally:
            stranger.close()
        assert (listed.status_code, listed.json()) == (404, unknown_case.json())
        assert (added.status_code, added.json()) == (404, unknown_case.json())
        assert (read.status_code, read.json()) == (404, unknown_scan.json())
        assert desk_page.status_code == 404 and signed_page(mark=9) not in desk_page.content


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is installed by scripts/setup")
def test_the_case_page_uploads_a_png_and_lists_it(d: Desk, world: World, base: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    case_id, doc = a_case(d)
    scan = tmp_path / "入户调查表签字页.png"
    scan.write_bytes(signed_page(mark=11))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page: Any = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
            name = f"clerk-{VILLAGE}"
            sign_in(page, base, name, world.passwords[name])
            page.goto(f"{base}/desk/cases/{case_id}")
            assert page.inner_text("#no-scans") == "尚未上传签字扫描件。"
            page.select_option("#scan-label", "入户调查表签字页")
            page.select_option("#scan-document", doc)
            page.set_input_files("#scan-file", str(scan))
            page.click("#scan-submit")
            page.wait_for_url(f"{base}/desk/cases/{case_id}?done=scan#scans")
            row = page.locator("#scan-list tbody tr")
            assert row.count() == 1
            assert "入户调查表签字页" in row.inner_text() and "最低生活保障申请审批表" in row.inner_text()
            assert page.inner_text("#scan-list .scan-name") == "入户调查表签字页.png"
            digest = hashlib.sha256(scan.read_bytes()).hexdigest()
            assert page.inner_text("#scan-list .scan-sha") == digest[:16]
            assert wait_for_images(page, "#scan-list img.scan-thumb") == [400]
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator("#scans").screenshot(path=str(ARTIFACTS / "desk-case-scans.png"))
        finally:
            browser.close()
