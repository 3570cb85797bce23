"""The case (案件) through the real HTTP server: 57号's order refused out of turn (and a refusal changes nothing),
the figures every derived document shows are the county's sealed decision, one open case per person, and two
simultaneous filings of one application make one case (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.services.documents import DocumentService
from api.services.identity import Role
from api.storage import cases as store
from api.storage.models import AuditRow, CaseRow, DocumentRow
from signer.decision import next_month
from signer.formats import money
from tests.conftest import BACKENDS, database_url_for
from tests.support.cases import (
    Desk,
    after_notice,
    approved,
    decision_for,
    desk,
    filed,
    household,
    notice,
    ok,
    preliminary,
)
from tests.support.public_world import DAY0, OBJECTION, login
from tests.support.service_world import FAR_VILLAGE, OTHER_VILLAGE, VILLAGE, World, serve_app

#: the day the shared approved case starts (the clock never goes back for a case)
LATER = DAY0 + dt.timedelta(days=60)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    w = World(tmp_path_factory.mktemp("case-http"), documents)
    w.settings.public_rate_limit = "10000/minute"
    return w


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with serve_app(world) as url:
        yield url


@pytest.fixture
def d(world: World, base: str) -> Iterator[Desk]:
    signed_in = desk(world, base)
    yield signed_in
    signed_in.close()


@dataclass(frozen=True)
class Decided:
    """One 低保 case the county approved: its application, case and data."""

    application: str
    case: str
    data: dict[str, Any]


@pytest.fixture(scope="module")
def decided(world: World, base: str) -> Decided:
    data = household("陈玉兰", category="城市")
    # later than the other tests' cases: the 结果公布 takes every approved case, dated no earlier than each
    application, case = approved(world, base, data, day0=LATER)
    return Decided(application, case, data)


def snapshot(world: World, doc: str) -> tuple[str, int, str, int, int]:
    """What a refused step must leave as it was: the document's status and version, its case's stage and event
    count, and the audit rows about the document."""
    with world.services.db.session() as s:
        row = s.get(DocumentRow, doc)
        case = s.execute(select(CaseRow).where(CaseRow.application_id == doc)).scalar_one()
        audit = s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.document_id == doc)) or 0
        events = len(store.events(s, case.id))
        assert row is not None
        return row.status, row.current_version, case.stage, events, audit


def refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == code, response.text


# -- the order: the report and the decision wait for the 公示 ------------------------------------------------------
def test_report_and_decision_wait_for_a_notice_that_ended_without_objection(world: World, d: Desk) -> None:
    clock = world.services.clock
    clock.set(DAY0)
    doc = filed(d, household(category="农村"))
    preliminary(d, doc)
    decision = {"persons": 3, "category": "A类", "standard": "700.00", "monthly_amount": "1.00",
                "start_month": next_month(DAY0).strftime("%Y-%m")}

    def nothing_moves(code: str) -> None:
        before = snapshot(world, doc)
        refused(d.township.post(f"/api/documents/{doc}/submit"), code)
        refused(d.county.post(f"/api/documents/{doc}/accept", data={"decision": json.dumps(decision)}), code)
        assert snapshot(world, doc) == before

    nothing_moves("NOTICE_MISSING")  # no 公示 yet (art. 19)
    [posted] = notice(d, [doc])
    assert ok(d.township.get(f"/api/documents/{doc}/case"))["stage"] == "notice"
    clock.set(dt.date.fromisoformat(posted["start_on"]) + dt.timedelta(days=2))
    nothing_moves("NOTICE_RUNNING")  # the period runs
    r = d.township.post(f"/api/notices/{posted['document_id']}/objections", json={
        "received_on": clock.today().isoformat(), "channel": "来访", "summary": "反映该户有一辆营运货车",
        "application_id": doc})
    assert r.status_code == 201, r.text
    assert ok(d.township.get(f"/api/documents/{doc}/case"))["stage"] == "objection"
    clock.set(dt.date.fromisoformat(posted["end_on"]) + dt.timedelta(days=1))
    nothing_moves("OPEN_OBJECTION")  # the period ended, the objection is open

    # re-investigated and posted again: once the new period ends the township reports and the county decides
    again = ok(d.township.post(f"/api/notices/{posted['document_id']}/republish", json={"objection": OBJECTION}), 201)
    republished = ok(d.township.post(f"/api/notices/{again['document_id']}/publish"))
    assert ok(d.township.get(f"/api/documents/{doc}/case"))["stage"] == "notice"
    nothing_moves("NOTICE_RUNNING")
    after_notice(world, republished)
    assert ok(d.township.post(f"/api/documents/{doc}/submit"))["case_stage"] == "reported"
    figures = decision_for(world, d, doc)
    # the county's start month is after the decision's month (57号: support from the next month)
    before = snapshot(world, doc)
    this_month = world.services.clock.today().strftime("%Y-%m")
    r = d.county.post(f"/api/documents/{doc}/accept", data={"decision": json.dumps(dict(figures,
                                                                                         start_month=this_month))})
    assert r.status_code == 422 and "decision.start_month" in {f["path"] for f in r.json()["fields"]}, r.text
    # the standard is the application's 申请类别's (农村 → 700.00, never the 城市 870.00)
    r = d.county.post(f"/api/documents/{doc}/accept", data={"decision": json.dumps(dict(figures, standard="870.00"))})
    assert r.status_code == 422 and "decision.standard" in {f["path"] for f in r.json()["fields"]}, r.text
    assert snapshot(world, doc) == before
    done = ok(d.county.post(f"/api/documents/{doc}/accept", data={"decision": json.dumps(figures)}))
    assert (done["status"], done["case_stage"]) == ("approved", "approved")
    case = ok(d.county.get(f"/api/documents/{doc}/case"))
    assert case["outcome"] == "approved" and case["facts"]["decision"]["monthly_amount"] == figures["monthly_amount"]
    assert case["facts"]["notice"]["document_id"] == again["document_id"]


# -- every derived document shows the sealed decision ---------------------------------------------------------------
def pdf_text(api: Any, doc: str, tmp_path: Path) -> str:
    path = tmp_path / f"{doc}.pdf"
    r = api.get(f"/api/documents/{doc}/pdf")
    assert r.status_code == 200, r.text
    path.write_bytes(r.content)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(out.split())


def test_announcement_certificate_and_public_page_show_the_sealed_decision(
        world: World, base: str, d: Desk, decided: Decided, tmp_path: Path) -> None:
    case = ok(d.county.get(f"/api/cases/{decided.case}"))
    decision = case["facts"]["decision"]
    amount = money(Decimal(decision["monthly_amount"]))
    name = decided.data["applicant"]["name"]
    # the county's figure is the one rule's from the township's 初审 (never retyped)
    assert decision["monthly_amount"] == case["facts"]["township"]["monthly_amount"]
    r = d.county.post("/api/notices/results", json={
        "benefit_from": f"{decision['start_month']}-01",
        "supervision": {"phone": "0312-4222110", "address": "曲阳县民政局社会救助股"}})
    assert r.status_code == 201, r.text
    result = ok(d.county.post(f"/api/notices/{r.json()['document_id']}/publish"))
    text = pdf_text(d.county, result["document_id"], tmp_path)
    assert name in text and amount in text, text
    rows = httpx.get(f"{base}/api/public/{result['public_id']}").json()["rows"]
    assert [row for row in rows if row["name"] == name] == [
        {"name": name, "village": "东沟南村", "persons": decision["persons"], "amount": amount}]
    assert ok(d.county.get(f"/api/cases/{decided.case}"))["stage"] == "announced"

    # a 低保证明 from the day of the decision (before the first payment month)
    issued = ok(d.township.post(f"/api/cases/{decided.case}/certificate", json={"purpose": "助学金申请"}), 201)
    text = pdf_text(d.township, issued["document_id"], tmp_path)
    assert name in text and f"月保障金额{amount}元" in text and f"保障人数{decision['persons']}人" in text, text
    held = ok(d.township.get(f"/api/cases/{decided.case}"))["facts"]["certificates"]
    assert [c["document_id"] for c in held] == [issued["document_id"]]


# -- one open case per person -------------------------------------------------------------------------------------
def create(api: Any, data: dict[str, Any]) -> httpx.Response:
    return api.post("/api/documents", json={"family": "dibao_application", "data": data})  # type: ignore[no-any-return]


def same_person(data: dict[str, Any], number: str, name: str) -> dict[str, Any]:
    """Another household whose applicant holds ``number``."""
    other = household(name)
    other["applicant"]["id_number"] = number
    other["members"][0]["id_number"] = number
    # the other members keep their own birth years, which may not fit this applicant's: the clerk has checked them
    # (the refusal under test is CASE_EXISTS, not an implausible age)
    for member in other["members"][1:]:
        member["confirmed"] = True
    return other


def test_a_person_in_an_open_case_cannot_apply_again(world: World, base: str, d: Desk) -> None:
    world.services.clock.set(DAY0)
    data = household("周桂芝")
    doc = filed(d, data)
    case_id = ok(d.village.get(f"/api/documents/{doc}/case"))["id"]
    number = data["applicant"]["id_number"]
    with world.services.db.session() as s:
        documents = s.scalar(select(func.count()).select_from(DocumentRow)) or 0
    # the same village's clerk sees the case: named (short id, village, applicant, stage)
    r = create(d.village, same_person(data, number, "周桂芝"))
    refused(r, "CASE_EXISTS")
    message = r.json()["message"]
    assert case_id[:8] in message and "东沟南村" in message and "周桂芝" in message, message
    # staff of another county (and of another village) cannot see it: refused
    hidden = []
    for office in (FAR_VILLAGE, OTHER_VILLAGE):
        clerk = login(world, base, office, Role.CLERK)
        try:
            r = create(clerk, same_person(data, number, "某某"))
            refused(r, "CASE_EXISTS")
            hidden.append(r.json()["message"])
        finally:
            clerk.close()
    with world.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(DocumentRow)) == documents, "a refused filing stores nothing"
    # the township ends the case (终止, with reasons): the person may apply again
    closed = ok(d.township.post(f"/api/documents/{doc}/refuse", json={"reason": "申请人家庭收入超过低保标准"}))
    assert closed["case_stage"] == "refused"
    again = ok(create(d.village, same_person(data, number, "周桂芝")), 201)
    assert again["case_id"] not in (None, case_id)
    # ... and the refusals named nothing of a case those offices may not see (its id, village, the names in it)
    for message in hidden:
        assert case_id[:8] not in message and "东沟南村" not in message and "周桂芝" not in message, message


def test_a_member_of_an_approved_household_cannot_open_a_new_case(world: World, base: str, d: Desk,
                                                                   decided: Decided) -> None:
    member = decided.data["members"][1]
    r = create(d.village, same_person(decided.data, member["id_number"], member["name"]))
    refused(r, "CASE_EXISTS")
    assert decided.case[:8] in r.json()["message"], r.text
    far = login(world, base, FAR_VILLAGE, Role.CLERK)
    try:
        r = create(far, same_person(decided.data, member["id_number"], "某某"))
        refused(r, "CASE_EXISTS")
        assert decided.case[:8] not in r.json()["message"] and decided.data["applicant"]["name"] not in r.text
        assert "东沟南村" not in r.text
    finally:
        far.close()


# -- two simultaneous filings of one application ------------------------------------------------------------------
@pytest.fixture(scope="module", params=BACKENDS)
def racing(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           documents: DocumentService) -> Iterator[tuple[World, str]]:
    root = tmp_path_factory.mktemp(f"case-race-{request.param}")
    built = World(root, documents, database_url=database_url_for(request.param, request, root))
    with serve_app(built) as url:
        yield built, url
    built.services.db.dispose()


def test_two_simultaneous_filings_make_one_case(racing: tuple[World, str]) -> None:
    world, base = racing
    data = household()
    clerks = [login(world, base, VILLAGE, Role.CLERK) for _ in range(2)]
    gate = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def file(api: Any) -> None:
        gate.wait(timeout=60)
        answers.append(create(api, data))

    threads = [threading.Thread(target=file, args=(c,)) for c in clerks]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for c in clerks:
            c.close()
    assert len(answers) == 2
    made = [a.json()["id"] for a in answers if a.status_code == 201]
    others = [a for a in answers if a.status_code != 201]
    assert made and all(a.status_code == 409 and a.json()["code"] == "CASE_EXISTS" for a in others), \
        [a.text for a in answers]
    assert len(set(made)) == 1, [a.text for a in answers]
    with world.services.db.session() as s:
        applications = s.execute(select(DocumentRow.id).where(DocumentRow.family == "dibao_application")
                                 ).scalars().all()
        cases = s.execute(select(CaseRow.application_id)).scalars().all()
    assert list(applications) == made[:1] and list(cases) == made[:1]


def test_the_townships_acceptance_is_the_townships_on_the_timeline(world: World, base: str, d: Desk) -> None:
    """受理 happens as the village's file reaches the township: its event names the township (and, in its note,
    the clerk who sent it), on the case record and on the desk's timeline, never the village clerk alone."""
    world.services.clock.set(DAY0)
    doc = filed(d, household("邱凤兰"))
    case = ok(d.township.get(f"/api/documents/{doc}/case"))
    by_stage = {e["stage"]: e for e in case["events"]}
    assert by_stage["sealed"]["office_id"] == VILLAGE
    received = by_stage["received"]
    assert received["office_id"] == case["township_id"] and VILLAGE not in received["actor"], received
    assert "村级报送" in (received["note"] or "")
    with httpx.Client(base_url=base, cookies=d.township.client.cookies) as browser:
        page = browser.get(f"/desk/cases/{case['id']}").text
    timeline = page[page.index('id="timeline"'):]
    row = timeline[timeline.index("<td>乡镇已受理"):]
    row = row[:row.index("</tr>")]
    assert "燕赵镇人民政府" in row and "村民委员会" not in row, row
