"""The case's papers at the desk, in Debian's chromium: the township fills the 入户调查表 from the case page (only
the investigators' part; a wrong entry comes back naming the field, with what was typed kept), issues it sealed, and
downloads the 案卷, which holds it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.services.documents import DocumentService
from api.services.identity import Role
from signer import case_file
from tests.support import cases as run
from tests.support.cases import household, ok
from tests.support.desk_world import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, Served, desk_serve, sign_in
from tests.support.public_world import DAY0
from tests.support.service_world import TOWNSHIP, World

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is installed by scripts/setup")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[Served]:
    world = World(tmp_path_factory.mktemp("desk-papers"), documents)
    with desk_serve(world) as base:
        yield Served(world, base)


def test_township_issues_a_home_visit_record_and_downloads_the_case_file(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    world, base = served.world, served.base
    world.services.clock.set(DAY0)
    d = run.desk(world, base)
    try:
        doc = run.filed(d, household())
        case_id = ok(d.township.get(f"/api/documents/{doc}/case"))["id"]
    finally:
        d.close()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page: Any = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True).new_page()
            sign_in(page, base, *served.password(TOWNSHIP, Role.REVIEWER))
            page.goto(f"{base}/desk/cases/{case_id}")
            assert page.locator("#papers-list").is_visible()
            page.click("#summary-dibao_investigation")
            form = "#paper-form-dibao_investigation"
            page.fill(f"{form} [name='visited_on']", DAY0.isoformat())
            for key, text in (("housing", "自建平房一处"), ("income", "月收入320元"), ("property", "无车辆"),
                              ("living", "生活困难")):
                page.fill(f"{form} [name='findings.{key}']", text)
            page.fill(f"{form} [name='conclusion']", "情况属实。")
            page.fill(f"{form} [name='investigators[0].name']", "张敏")
            page.fill(f"{form} [name='investigators[1].name']", "张敏")  # the same person twice: refused
            page.click("#issue-dibao_investigation")
            page.wait_for_selector("#action-error")
            assert "investigators" in page.inner_text("#action-error")
            assert page.input_value(f"{form} [name='findings.housing']") == "自建平房一处"  # kept
            page.fill(f"{form} [name='investigators[1].name']", "刘强")
            page.click("#issue-dibao_investigation")
            page.wait_for_url(re.compile(r"done=issued"))
            page.goto(f"{base}/desk/cases/{case_id}")
            assert "出具《最低生活保障家庭入户调查表》" in page.inner_text("#timeline")
            with page.expect_download() as info:
                page.click("#case-file-download")
            download = info.value
            assert "案卷" in download.suggested_filename
            saved = tmp_path / "case.pdf"
            download.save_as(saved)
        finally:
            browser.close()
    contents = case_file.read(saved.read_bytes())
    assert contents is not None
    assert any("入户调查表" in e["title"] for e in contents.manifest["papers"])
