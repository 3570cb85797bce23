"""Every desk page that shows a document, for a document in every state it can have, as every role (issue 23):
plain HTTP against the real server (fast; the browser tests cover the flows). Each page is a page (200) or a
refusal page (403/404/409) — never a server error — and no page shows a raw English status code."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from api.services.documents import DocumentService
from api.services.identity import Role
from api.services.states import CaseStage, PublicationState, Status
from tests.support import cases as run
from tests.support.cases import household, ok
from tests.support.desk_world import Served, desk_serve
from tests.support.public_world import DAY0
from tests.support.service_world import COUNTY, FAR_COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE, World

ROLES = ((VILLAGE, Role.CLERK), (VILLAGE, Role.ADMIN), (TOWNSHIP, Role.CLERK), (TOWNSHIP, Role.REVIEWER),
         (TOWNSHIP, Role.ADMIN), (COUNTY, Role.APPROVER), (COUNTY, Role.ADMIN), (OTHER_VILLAGE, Role.CLERK),
         (FAR_COUNTY, Role.APPROVER))
#: every code a status, stage or publication state is stored as: none may reach a page as visible text
CODES = sorted({*(s.value for s in Status), *(s.value for s in CaseStage), *(s.value for s in PublicationState)})
_CODE = re.compile(r"(?<![A-Za-z0-9_./-])(" + "|".join(CODES) + r")(?![A-Za-z0-9_-])")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[Served]:
    world = World(tmp_path_factory.mktemp("walk"), documents)
    with desk_serve(world) as base:
        yield Served(world, base)


def visible_text(page: str) -> str:
    """What a reader sees: no tags (their attributes hold ids and codes on purpose), no script or style."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", page))


class Reader:
    """One user signed in to the desk over plain HTTP."""

    def __init__(self, served: Served, office: str, role: Role) -> None:
        self.client = httpx.Client(base_url=served.base, timeout=120)
        username, password = served.password(office, role)
        r = self.client.post("/desk/login", data={"username": username, "password": password, "next": "/desk"})
        assert r.status_code == 303, r.text

    def close(self) -> None:
        self.client.close()


def _every_state(served: Served) -> tuple[dict[str, str], dict[str, str]]:
    """One document in each state (by what it is), and the case of each application; ids."""
    world, base = served.world, served.base
    world.services.clock.set(DAY0)
    docs: dict[str, str] = {}
    d = run.desk(world, base)
    try:
        def draft() -> str:
            return str(ok(d.village.post("/api/documents", json={"family": "dibao_application",
                                                                 "data": household()}), 201)["id"])

        docs["draft"] = draft()
        edited = draft()
        changed = household()
        ok(d.village.client.put(f"/api/documents/{edited}", json={"data": changed}))
        docs["draft-edited"] = edited
        docs["sealed"] = draft()
        ok(d.village.post(f"/api/documents/{docs['sealed']}/seal", json={}))
        docs["deleted"] = draft()
        assert d.village.client.delete(f"/api/documents/{docs['deleted']}").status_code == 204
        docs["withdrawn"] = draft()
        ok(d.village.post(f"/api/documents/{docs['withdrawn']}/withdraw", json={"reason": "申请人不再申请"}))
        docs["submitted"] = run.filed(d, household())
        docs["returned"] = run.filed(d, household())
        ok(d.township.post(f"/api/documents/{docs['returned']}/return", json={"reason": "缺少收入证明"}))
        docs["recreated"] = run.filed(d, household())
        ok(d.township.post(f"/api/documents/{docs['recreated']}/return", json={"reason": "缺少收入证明"}))
        docs["recreated-new"] = str(ok(d.village.post(f"/api/documents/{docs['recreated']}/recreate"), 201)["id"])
        docs["accepted"] = run.filed(d, household())
        run.preliminary(d, docs["accepted"])
        docs["refused"] = run.filed(d, household())
        ok(d.township.post(f"/api/documents/{docs['refused']}/refuse", json={"reason": "家庭人均收入高于当地低保标准"}))
        docs["in-notice"] = run.filed(d, household())
        run.preliminary(d, docs["in-notice"])
        [posted] = run.notice(d, [docs["in-notice"]])
        docs["notice"] = posted["document_id"]
    finally:
        d.close()
    docs["approved"], approved_case = run.approved(served.world, base, household(), day0=DAY0)
    d = run.desk(world, base)
    try:
        issued = ok(d.county.post(f"/api/cases/{approved_case}/certificate",
                                  json={"recipient": "曲阳县教育局", "purpose": "助学"}), 201)
        docs["certificate"] = issued["document_id"]
        # reported to the county after its 公示 ended: submitted, held by the county
        reported = run.filed(d, household())
        run.preliminary(d, reported)
        [posted] = run.notice(d, [reported])
        run.after_notice(world, posted)
        ok(d.township.post(f"/api/documents/{reported}/submit"))
        docs["reported"] = reported
        cases = {}
        for name, doc in docs.items():
            r = d.county.get(f"/api/documents/{doc}/case") if name not in ("notice", "certificate", "deleted") \
                else None
            if r is not None and r.status_code == 200 and r.json():
                cases[name] = str(r.json()["id"])
        for name in ("draft", "sealed", "withdrawn", "draft-edited"):  # not yet visible to the county
            r = d.village.get(f"/api/documents/{docs[name]}/case")
            cases[name] = str(ok(r)["id"])
    finally:
        d.close()
    statuses = {name: "" for name in docs}
    reader = run.desk(world, base)
    try:
        for name, doc in docs.items():
            for api in (reader.village, reader.township, reader.county):
                r = api.get(f"/api/documents/{doc}")
                if r.status_code == 200:
                    statuses[name] = r.json()["status"]
                    break
    finally:
        reader.close()
    seen = set(statuses.values())
    # every status a document can be in is walked (a deleted draft answers 404 to everyone)
    assert seen | {Status.DELETED.value} >= {s.value for s in Status}, (statuses, seen)
    return docs, cases


def _pages(docs: dict[str, str], cases: dict[str, str]) -> list[str]:
    out = ["/desk", "/desk/inbox", "/desk/documents", "/desk/cases", "/desk/notices", "/desk/new",
           "/desk/inbox?q=申请人&status=draft", "/desk/documents?since=2026-01-01&until=2027-12-31&page=2",
           "/desk/documents?status=nonsense&since=not-a-date"]
    out += [f"/desk/{lst}?status={s.value}" for lst in ("inbox", "documents") for s in Status]
    for doc in docs.values():
        out += [f"/desk/documents/{doc}", f"/desk/documents/{doc}/pdf", f"/desk/documents/{doc}/docx",
                f"/desk/documents/{doc}/versions/1/pdf", f"/desk/documents/{doc}/report",
                f"/desk/documents/{doc}/edit"]
    out += [f"/desk/notices/{docs['notice']}", f"/desk/notices/{docs['certificate']}"]
    out += [f"/desk/cases/{case}" for case in sorted(set(cases.values()))]
    out.append(f"/desk/cases/{cases['approved']}/case-file")
    return out


def test_every_desk_page_in_every_document_state_for_every_role(served: Served) -> None:
    docs, cases = _every_state(served)
    pages = _pages(docs, cases)
    statuses: dict[int, int] = {}
    for office, role in ROLES:
        reader = Reader(served, office, role)
        try:
            for path in pages:
                r = reader.client.get(path)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                where = (office, role.value, path, r.status_code)
                assert r.status_code < 500, (*where, r.text[-2000:])
                assert r.status_code in (200, 403, 404, 409), where
                if r.headers.get("content-type", "").startswith("text/html"):
                    raw = _CODE.findall(visible_text(r.text))
                    assert not raw, (*where, raw)
                    assert "Internal Server Error" not in r.text and "Traceback" not in r.text, where
            # a deleted draft is a clear 404 page to everyone
            r = reader.client.get(f"/desk/documents/{docs['deleted']}")
            assert r.status_code == 404 and ("已被删除" in r.text or "无法办理" in r.text), (office, role)
        finally:
            reader.close()
    assert statuses.get(200, 0) > 500, statuses  # the walk saw pages, not only refusals
    # the village clerk, who holds the draft: its page offers 修改 and 删除草稿; a sealed one neither
    clerk = Reader(served, VILLAGE, Role.CLERK)
    try:
        page = clerk.client.get(f"/desk/documents/{docs['draft']}").text
        assert 'id="edit"' in page and 'id="delete-form"' in page
        page = clerk.client.get(f"/desk/documents/{docs['sealed']}").text
        assert 'id="edit"' not in page and 'id="delete-form"' not in page
        r = clerk.client.get(f"/desk/documents/{docs['sealed']}/edit")
        assert r.status_code == 409 and "只有本单位未盖章的草稿可以修改" in r.text
        form = clerk.client.get(f"/desk/documents/{docs['draft']}/edit").text
        assert 'action="/desk/documents/' in form and 'id="save"' in form
    finally:
        clerk.close()
