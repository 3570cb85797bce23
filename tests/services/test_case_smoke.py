from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from api.services.documents import DocumentService
from tests.support.cases import approved, desk, filed, household, notice, ok, preliminary
from tests.support.public_world import DAY0
from tests.support.service_world import World, serve_app


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("cases"), documents)


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with serve_app(world) as url:
        yield url


def test_smoke(world: World, base: str) -> None:
    world.services.clock.set(DAY0)
    d = desk(world, base)
    data = household("王秀英")
    doc = filed(d, data)
    r = d.township.post(f"/api/documents/{doc}/submit")
    assert r.status_code == 409, r.text
    print(r.json())
    preliminary(d, doc)
    r = d.township.post(f"/api/documents/{doc}/submit")
    assert r.status_code == 409 and r.json()["code"] == "NOTICE_MISSING", r.text
    [posted] = notice(d, [doc])
    r = d.township.post(f"/api/documents/{doc}/submit")
    assert r.status_code == 409 and r.json()["code"] == "NOTICE_RUNNING", r.text
    print(r.json())
    r = d.county.post(f"/api/documents/{doc}/accept")
    assert r.status_code == 409, r.text
    print(r.json())
    r = d.village.post("/api/documents", json={"family": "dibao_application", "data": data})
    assert r.status_code == 409 and r.json()["code"] == "CASE_EXISTS", r.text
    print(ok(d.township.get(f"/api/documents/{doc}/case")))
    d.close()
    doc2, case = approved(world, base)
    print(doc2, case)
