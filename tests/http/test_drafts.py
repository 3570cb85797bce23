"""A draft edited in place and deleted, over the real HTTP API and in the desk (Debian's Chromium): the same
document re-rendered as a new version with its case's people replaced in the same transaction (one open case per
ID number still holds), a deleted draft gone from every page with a 404, both in the audit chain; a sealed file
can be neither."""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from api.services.documents import DocumentService
from api.services.identity import Role
from api.storage import audit
from tests.support import cases as run
from tests.support.cases import household, ok
from tests.support.desk_world import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    Served,
    desk_serve,
    sign_in,
)
from tests.support.public_world import DAY0, login
from tests.support.service_world import VILLAGE, World


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[Served]:
    world = World(tmp_path_factory.mktemp("drafts"), documents)
    world.services.clock.set(DAY0)
    with desk_serve(world) as base:
        yield Served(world, base)


def _draft(api: Any, data: dict[str, Any]) -> dict[str, Any]:
    return ok(api.post("/api/documents", json={"family": "dibao_application", "data": data}), 201)


def _audited(served: Served, document_id: str) -> list[str]:
    with served.world.services.db.session() as session:
        return [r.action for r in audit.chain(session) if r.document_id == document_id]


def _persons(api: Any, document_id: str) -> list[tuple[str, str]]:
    case = ok(api.get(f"/api/documents/{document_id}/case"))
    return [(p["name"], p["id_masked"]) for p in case["persons"]]


def test_a_draft_is_edited_in_place_and_keeps_one_open_case_per_person(served: Served) -> None:
    clerk = login(served.world, served.base, VILLAGE, Role.CLERK)
    try:
        first, other = household("韩冬梅"), household("韩立新")
        draft = _draft(clerk, first)
        held = _draft(clerk, other)
        changed = copy.deepcopy(first)
        changed["applicant"]["name"] = changed["members"][0]["name"] = "韩冬雪"
        changed["members"] = changed["members"][:2]  # the third member leaves the household
        edited = ok(clerk.client.put(f"/api/documents/{draft['id']}", json={"data": changed}))
        assert edited["id"] == draft["id"] and edited["public_id"] == draft["public_id"]
        assert edited["status"] == "draft" and edited["current_version"] == 2
        assert [v["kind"] for v in edited["versions"]] == ["rendered", "edited"]
        assert edited["versions"][0]["sha256"] != edited["versions"][1]["sha256"]  # the first file stays
        assert edited["data"]["applicant"]["name"] == "韩冬雪"
        assert [n for n, _ in _persons(clerk, draft["id"])] == ["韩冬雪", "韩冬梅家属1"]
        # the member who left may be filed again; one of the other household's may not be edited in
        holder = served.world.services.cases.holder
        assert holder({"applicant": {"id_number": first["members"][2]["id_number"]}}) is None
        assert holder({"applicant": {"id_number": first["members"][1]["id_number"]}}) is not None
        taken = copy.deepcopy(changed)
        taken["members"][1]["id_number"] = other["members"][1]["id_number"]
        r = clerk.client.put(f"/api/documents/{draft['id']}", json={"data": taken})
        assert r.status_code == 409 and r.json()["code"] == "CASE_EXISTS", r.text
        assert "韩立新" in r.json()["message"]
        after = ok(clerk.get(f"/api/documents/{draft['id']}"))
        assert after["current_version"] == 2 and after["data"] == edited["data"]  # nothing half-written
        assert [n for n, _ in _persons(clerk, draft["id"])] == ["韩冬雪", "韩冬梅家属1"]
        assert ok(clerk.get(f"/api/documents/{held['id']}"))["current_version"] == 1
        # bad data: 422 naming the field, nothing written
        broken = copy.deepcopy(changed)
        broken["applicant"]["id_number"] = "130634196805120021"
        r = clerk.client.put(f"/api/documents/{draft['id']}", json={"data": broken})
        assert r.status_code == 422, r.text
        assert ok(clerk.get(f"/api/documents/{draft['id']}"))["current_version"] == 2
        assert _audited(served, draft["id"]).count("document.edit") == 1
        # sealed: neither edited nor deleted
        ok(clerk.post(f"/api/documents/{draft['id']}/seal", json={}))
        for r in (clerk.client.put(f"/api/documents/{draft['id']}", json={"data": changed}),
                  clerk.client.delete(f"/api/documents/{draft['id']}")):
            assert r.status_code == 409 and r.json()["code"] == "NOT_A_DRAFT", r.text
            assert "已盖章" in r.json()["message"]
    finally:
        clerk.close()


def test_a_deleted_draft_and_its_case_are_gone_and_audited(served: Served) -> None:
    d = run.desk(served.world, served.base)
    try:
        data = household("魏春花")
        draft = _draft(d.village, data)
        case_id = ok(d.village.get(f"/api/documents/{draft['id']}/case"))["id"]
        r = d.township.client.delete(f"/api/documents/{draft['id']}")
        assert r.status_code == 403, r.text  # not the township's (nor sent there)
        r = d.village.client.delete(f"/api/documents/{draft['id']}")
        assert r.status_code == 204, r.text
        for path in (f"/api/documents/{draft['id']}", f"/api/documents/{draft['id']}/pdf",
                     f"/api/documents/{draft['id']}/docx", f"/api/documents/{draft['id']}/case",
                     f"/api/cases/{case_id}"):
            assert d.village.get(path).status_code == 404, path
        assert d.village.client.delete(f"/api/documents/{draft['id']}").status_code == 404
        assert draft["id"] not in d.village.get("/api/documents").text
        assert _audited(served, draft["id"]) == ["document.create", "deny", "document.delete"]  # deny: the township
        # its people are free again: the same household is filed anew
        again = _draft(d.village, data)
        assert again["id"] != draft["id"]
        # a draft re-filed after a return is the case's second application: withdrawn, never deleted
        returned = run.filed(d, household())
        ok(d.township.post(f"/api/documents/{returned}/return", json={"reason": "缺少收入证明"}))
        refiled = ok(d.village.post(f"/api/documents/{returned}/recreate"), 201)
        r = d.village.client.delete(f"/api/documents/{refiled['id']}")
        assert r.status_code == 409 and r.json()["code"] == "CASE_HAS_HISTORY", r.text
    finally:
        d.close()


def test_edit_and_delete_are_documented_with_their_refusals(served: Served) -> None:
    api = login(served.world, served.base, VILLAGE, Role.CLERK)
    try:
        spec = ok(api.get("/openapi.json"))
    finally:
        api.close()
    item = spec["paths"]["/api/documents/{document_id}"]
    for method in ("put", "delete"):
        assert {"401", "403", "404", "409", "422"} <= set(item[method]["responses"]), method
    assert "204" in item["delete"]["responses"]


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is installed by scripts/setup")
def test_a_clerk_edits_a_draft_then_deletes_another_in_the_desk(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    clerk = login(served.world, served.base, VILLAGE, Role.CLERK)
    try:
        draft = _draft(clerk, household("苗秀云"))
        doomed = _draft(clerk, household("苗德胜"))
    finally:
        clerk.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
            sign_in(page, served.base, *served.password(VILLAGE, Role.CLERK))
            page.goto(f"{served.base}/desk/documents/{draft['id']}")
            page.click("#edit")
            page.wait_for_url(re.compile(r"/edit$"))
            assert page.input_value("#f-applicant-name") == "苗秀云"  # the form comes pre-filled
            assert page.input_value("#f-members-2--name") == "苗秀云家属2"
            page.fill("#f-applicant-name", "苗秀芸")
            page.fill("#f-members-0--name", "苗秀芸")
            page.screenshot(path=str(ARTIFACTS / "drafts-01-edit-form.png"))
            page.click("#save")
            page.wait_for_url(re.compile(r"done=edited"))
            assert f"/desk/documents/{draft['id']}" in page.url  # the same document
            assert "苗秀芸" in page.inner_text("h1")
            assert "修改" in page.inner_text("ol.versions")
            page.screenshot(path=str(ARTIFACTS / "drafts-02-edited.png"))
            # delete: the page asks to confirm first
            page.goto(f"{served.base}/desk/documents/{doomed['id']}")
            page.check("#delete-confirm")
            page.screenshot(path=str(ARTIFACTS / "drafts-03-delete.png"))
            page.click("#delete")
            page.wait_for_url(re.compile(r"/desk/inbox\?done=deleted"))
            assert "草稿已删除" in page.inner_text("#done")
            assert doomed["id"] not in page.content()
            response = page.goto(f"{served.base}/desk/documents/{doomed['id']}")
            assert response is not None and response.status == 404
            assert "已被删除" in page.inner_text("body")
            # a sealed draft no longer offers either
            page.goto(f"{served.base}/desk/documents/{draft['id']}")
            page.click("#seal")
            page.wait_for_url(re.compile(r"done=sealed"))
            assert page.query_selector("#edit") is None and page.query_selector("#delete") is None
            response = page.goto(f"{served.base}/desk/documents/{draft['id']}/edit")
            assert response is not None and response.status == 409
            assert "只有本单位未盖章的草稿可以修改" in page.inner_text("#action-error")
        finally:
            browser.close()
    assert _audited(served, draft["id"]).count("document.edit") == 1
    assert "document.delete" in _audited(served, doomed["id"])
