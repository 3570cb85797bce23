"""The papers of a case and its 案卷 over the real HTTP server: listed with why each may or may not be issued now,
issued with only the clerk's fields (a field the case fixes is refused, naming it), the 案卷 downloaded with a
Chinese file name and refused to an office outside the case."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from api.services.documents import DocumentService
from api.services.identity import Role
from tests.support.cases import approved, ok
from tests.support.public_world import login
from tests.support.service_world import COUNTY, FAR_VILLAGE, World, serve_app


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("papers-http"), documents)


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with serve_app(world) as url:
        yield url


def test_papers_and_the_case_file_over_http(world: World, base: str) -> None:
    _, case_id = approved(world, base)
    county = login(world, base, COUNTY, Role.APPROVER)
    try:
        options = {o["family"]: o for o in ok(county.get(f"/api/cases/{case_id}/papers"))["items"]}
        assert options["dibao_decision"]["allowed"] and options["dibao_decision"]["inputs"] == ["card_number"]
        assert not options["dibao_acceptance_notice"]["allowed"]
        assert "乡镇" in options["dibao_acceptance_notice"]["why_not"]
        typed = county.post(f"/api/cases/{case_id}/papers",
                            json={"family": "dibao_decision", "data": {"monthly_amount": "1.00"}})
        assert typed.status_code == 422 and typed.json()["code"] and "monthly_amount" in typed.text
        decision = ok(county.post(f"/api/cases/{case_id}/papers", json={"family": "dibao_decision", "data": {}}),
                      201)
        assert decision["status"] == "issued" and decision["data"]["doc_number"].startswith("曲阳县民低决")
        page = county.get(f"/v/{decision['public_id']}")
        assert page.status_code == 200 and decision["data"]["applicant"]["name"] in page.text
        assert decision["data"]["applicant"]["id_number"] not in page.text
        got = county.get(f"/api/cases/{case_id}/case-file")
        assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
        assert "案卷" in unquote(got.headers["content-disposition"])
        assert got.content.startswith(b"%PDF")
    finally:
        county.close()
    stranger = login(world, base, FAR_VILLAGE, Role.CLERK)
    try:
        assert stranger.get(f"/api/cases/{case_id}/case-file").status_code == 404
        assert stranger.post(f"/api/cases/{case_id}/papers",
                             json={"family": "dibao_authorisation", "data": {}}).status_code == 404
    finally:
        stranger.close()
