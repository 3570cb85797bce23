"""The 公示 lifecycle through the real routes, moving the service's clock: 公示中 → 期满, objection → re-publish →
superseded, withdraw, the county's 结果公布, certificate revocation and expiry."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from api.services.documents import DocumentService
from api.services.identity import Role
from api.services.local_rules import local_rules
from api.services.publication import period_end
from api.settings import Settings
from signer.decision import dibao_amount, next_month
from signer.errors import TemplateDataError
from tests.support.cases import Desk, approved, decision_for, household
from tests.support.public_world import (
    DAY0,
    OBJECTION,
    POSTED_ON_DAY0,
    SAMPLE,
    TOWNSHIP,
    VILLAGE,
    accepted_application,
    login,
    second_household,
    upcoming,
)
from tests.support.service_world import COUNTY, World, serve_app

CERTIFICATE = json.loads((Path(__file__).parents[2] / "templates/dibao_certificate/sample.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    w = World(tmp_path_factory.mktemp("lifecycle"), documents)
    w.settings.public_rate_limit = "10000/minute"
    return w


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with serve_app(world) as url:
        yield url


def status(base: str, public_id: str) -> str:
    return str(httpx.get(f"{base}/api/public/{public_id}").json()["status"])


def test_period_rules() -> None:
    friday = dt.date(2026, 11, 27)
    assert period_end(friday, 7, working=False) == dt.date(2026, 12, 3)
    assert period_end(friday, 7, working=True) == dt.date(2026, 12, 7)
    assert period_end(friday, 7, working=True, holidays=frozenset({dt.date(2026, 12, 1)})) == dt.date(2026, 12, 8)
    assert period_end(friday, 7, working=True, workdays=frozenset({dt.date(2026, 11, 28)})) == dt.date(2026, 12, 4)


def test_local_rules_come_from_the_settings() -> None:
    """One home per rule: the 公示 period (its floor, calendar or working days), the 低保标准 per 申请类别 and
    the 临时救助 limit derived from the urban one unless set."""
    rules = local_rules(Settings(notice_days=10))
    with pytest.raises(TemplateDataError) as refused:
        rules.check_notice_days(8)  # the setting, not a hard-coded 7, is the floor
    assert refused.value.problems[0].path == "days" and "公示期应为10天" in refused.value.problems[0].message
    assert rules.document_rules().notice_days == rules.decision_rules().notice.days == 10
    with pytest.raises(ValidationError):
        Settings(notice_days=5)  # below the national 7 days of 57号 art. 19
    working = local_rules(Settings(notice_working_days=True)).notice
    assert working.end(dt.date(2026, 11, 27)) == period_end(dt.date(2026, 11, 27), 7, working=True)
    assert working.shortfall(working.counted(dt.date(2026, 11, 27), dt.date(2026, 12, 3))) is not None
    default = local_rules(Settings())
    assert default.dibao_standard("城市") == Decimal("870.00") and default.dibao_standard("农村") == Decimal("700.00")
    assert default.relief_township_limit == Decimal("2610.00")
    assert local_rules(Settings(dibao_standard_urban=Decimal("900"))).relief_township_limit == Decimal("2700.00")
    assert local_rules(Settings(relief_township_limit=Decimal("1500"))).relief_township_limit == Decimal("1500.00")
    with pytest.raises(TemplateDataError):
        default.dibao_standard("城镇")  # never guessed


def test_the_amount_is_computed_by_one_function() -> None:
    """(standard − total income ÷ household size) × persons, exact, rounded once at the end: the figures of the
    sealed decision."""
    figures = dibao_amount(Decimal("870.00"), None, 3, total_income="320.00", household_size=3)
    assert (figures.income_gap, figures.monthly_amount) == (Decimal("763.33"), Decimal("2290.00"))
    assert dibao_amount(Decimal("700"), Decimal("106.666"), 3).monthly_amount == Decimal("1780.00")


def test_notice_lifecycle_with_the_clock(world: World, base: str) -> None:
    clock = world.services.clock
    clock.set(DAY0)
    neighbour = second_household()
    neighbour["offices"] = SAMPLE["offices"]
    app1 = accepted_application(world, base, VILLAGE, household("王秀英", category="农村"))
    app2 = accepted_application(world, base, VILLAGE, neighbour)
    reviewer = login(world, base, TOWNSHIP, Role.REVIEWER)
    village_clerk = login(world, base, VILLAGE, Role.CLERK)
    try:
        # only the township posts a 公示; fewer than 7 days is refused
        assert village_clerk.post("/api/notices/build", json={"objection": OBJECTION}).status_code == 403
        r = reviewer.post("/api/notices/build", json={"objection": OBJECTION, "days": 5})
        assert r.status_code == 422 and r.json()["fields"][0]["path"] == "days"
        r = reviewer.post("/api/notices/build", json={"objection": OBJECTION})
        assert r.status_code == 201, r.text
        [notice] = r.json()
        assert notice["households"] == 2 and sorted(notice["application_ids"]) == sorted([app1, app2])
        old = notice["public_id"]
        assert httpx.get(f"{base}/v/{old}").status_code == 404  # a draft is not public
        assert reviewer.post("/api/notices/build", json={"objection": OBJECTION}).status_code == 409  # no retyping
        assert reviewer.post(f"/api/notices/{notice['document_id']}/publish").json()["state"] == "published"
        assert status(base, old) == POSTED_ON_DAY0  # built today, the period starts tomorrow
        clock.set(DAY0 + dt.timedelta(days=1))
        assert status(base, old) == "公示中（剩余 7 天）"
        clock.set(DAY0 + dt.timedelta(days=3))
        assert status(base, old) == "公示中（剩余 5 天）"

        # an objection to the second household: recorded with the objector for staff, never public
        r = reviewer.post(f"/api/notices/{notice['document_id']}/objections", json={
            "received_on": (DAY0 + dt.timedelta(days=3)).isoformat(), "channel": "来访",
            "summary": "反映该户有经营性收入未申报", "objector_name": "李四海", "objector_contact": "13812345678",
            "application_id": app2})
        assert r.status_code == 201, r.text
        staff = reviewer.get(f"/api/notices/{notice['document_id']}/objections").json()
        assert staff[0]["objector_name"] == "李四海"
        public_page = httpx.get(f"{base}/v/{old}").text + httpx.get(f"{base}/api/public/{old}").text
        assert "李四海" not in public_page and "13812345678" not in public_page and "经营性收入" not in public_page

        # re-investigation drops the second household: a new version with a new public id
        r = reviewer.post(f"/api/notices/{notice['document_id']}/republish",
                          json={"objection": OBJECTION, "remove": [app2]})
        assert r.status_code == 201, r.text
        newer = r.json()
        assert newer["version"] == 2 and newer["public_id"] != old and newer["households"] == 1
        assert status(base, old) == "公示中（剩余 5 天）"  # until the new version is posted
        assert reviewer.post(f"/api/notices/{newer['document_id']}/publish").status_code == 200
        assert status(base, old) == "已被新版本取代"
        page = httpx.get(f"{base}/v/{old}").text
        assert f'href="/v/{newer["public_id"]}"' in page and "已被新版本取代" in page
        assert status(base, newer["public_id"]) == upcoming(DAY0 + dt.timedelta(days=4))
        assert [r["name"] for r in httpx.get(f"{base}/api/public/{newer['public_id']}").json()["rows"]] == ["王秀英"]

        # the period runs out by the clock
        clock.set(dt.date.fromisoformat(newer["end_on"]) + dt.timedelta(days=1))
        assert status(base, newer["public_id"]) == "公示期满"
        reviewer.get("/api/notices").raise_for_status()  # the listing records the expiry in the audit chain
        assert any(r.action == "notice.expire" and r.document_id == newer["document_id"]
                   for r in world.services.audit_rows())
    finally:
        reviewer.close()
        village_clerk.close()

    # the township sends the household on; the county approves with its figures and announces the result
    reviewer = login(world, base, TOWNSHIP, Role.REVIEWER)
    approver = login(world, base, COUNTY, Role.APPROVER)
    d = Desk(login(world, base, VILLAGE, Role.CLERK), reviewer, approver)
    try:
        assert reviewer.post(f"/api/documents/{app1}/submit").status_code == 200
        decision = decision_for(world, d, app1, category="B类")
        r = approver.post(f"/api/documents/{app1}/accept", data={"decision": json.dumps(decision)})
        assert r.json()["status"] == "approved", r.text
        r = approver.post("/api/notices/results", json={
            "benefit_from": "2026-12-01", "supervision": {"phone": "0312-4222110", "address": "曲阳县民政局社会救助股"},
            "decisions": {app1: {"monthly_amount": decision["monthly_amount"], "persons": 3, "category": "B类"}}})
        assert r.status_code == 201, r.text
        result = r.json()
        assert approver.post(f"/api/notices/{result['document_id']}/publish").status_code == 200
        body = httpx.get(f"{base}/api/public/{result['public_id']}").json()
        assert body["status"] == "有效" and body["rows"] == [
            {"name": "王秀英", "village": "东沟南村", "persons": 3, "amount": yuan(decision["monthly_amount"])}]

        # the household dropped by re-investigation can be posted again in a later 公示; withdrawing one says so
        r = reviewer.post("/api/notices/build", json={"objection": OBJECTION})
        assert r.status_code == 201 and r.json()[0]["application_ids"] == [app2], r.text
        third = r.json()[0]
        assert reviewer.post(f"/api/notices/{third['document_id']}/publish").status_code == 200
        r = reviewer.post(f"/api/notices/{third['document_id']}/withdraw", json={"reason": "申请人主动撤回申请"})
        assert r.json()["state"] == "withdrawn"
        assert status(base, third["public_id"]) == "已撤回"
        assert "申请人主动撤回申请" not in httpx.get(f"{base}/v/{third['public_id']}").text  # reasons stay internal
    finally:
        d.close()


def yuan(amount: str) -> str:
    """An amount as public lists print it: 2,290.00."""
    return f"{Decimal(amount):,.2f}"


def test_certificate_expiry_and_revocation(world: World, base: str) -> None:
    clock = world.services.clock
    data = household(category="农村")
    _app, case_id = approved(world, base, data)
    issued_on = next_month(clock.today())  # support starts the month after the decision: certified from then
    clock.set(issued_on)
    reviewer = login(world, base, TOWNSHIP, Role.REVIEWER)
    try:
        # a certificate is issued from the approved case, never typed
        r = reviewer.post("/api/documents", json={"family": "dibao_certificate", "data": CERTIFICATE})
        assert r.status_code == 409 and r.json()["code"] == "DERIVED_ONLY", r.text
        r = reviewer.post(f"/api/cases/{case_id}/certificate",
                          json={"recipient": "曲阳县第一中学", "purpose": "助学金申请"})
        assert r.status_code == 201, r.text
        pid, doc_id = r.json()["public_id"], r.json()["document_id"]
        doc = reviewer.get(f"/api/documents/{doc_id}").json()
        assert doc["status"] == "issued"
        pdf = reviewer.get(f"/api/documents/{doc_id}/pdf").content
        page = httpx.get(f"{base}/v/{pid}")
        serial = httpx.get(f"{base}/api/public/{pid}").json()["serial"]
        assert status(base, pid) == "有效" and serial in page.text
        assert re.fullmatch(rf"燕赵镇低证〔{issued_on.year}〕[1-9]\d*号", serial), serial  # GB/T 9704: 不编虚位
        holder = data["applicant"]
        # the page names the holder (a printed copy with another name must not look valid), nothing more of them
        assert f"<dt>持有人</dt><dd>{holder['name']}</dd>" in page.text
        for private in (holder["id_number"], holder["registered_address"]):
            assert private not in page.text
        assert httpx.get(f"{base}/v/{pid}/pdf").status_code == 404  # the file names its holder: never public
        same = httpx.post(f"{base}/api/public/{pid}/check", files={"file": ("c.pdf", pdf)}, timeout=60).json()
        assert same["word"] == "一致" and same["holder"]["name"] == holder["name"]
        assert holder["id_number"] not in json.dumps(same, ensure_ascii=False)

        valid_until = dt.date.fromisoformat(r.json()["valid_until"])
        clock.set(valid_until + dt.timedelta(days=1))
        assert status(base, pid) == "已过期"
        clock.set(issued_on + dt.timedelta(days=10))
        assert status(base, pid) == "有效"
        r = reviewer.post(f"/api/certificates/{doc_id}/revoke", json={"reason": "该户已退出低保"})
        assert r.status_code == 200, r.text
        assert status(base, pid) == "已撤销"
        assert "该户已退出低保" not in httpx.get(f"{base}/v/{pid}").text
        assert reviewer.post(f"/api/certificates/{doc_id}/revoke", json={"reason": "x"}).status_code == 409
        # another township cannot revoke it
        other = login(world, base, "130634101", Role.REVIEWER)
        try:
            assert other.post(f"/api/certificates/{doc_id}/revoke", json={"reason": "x"}).status_code == 404
        finally:
            other.close()
    finally:
        reviewer.close()


def test_result_shows_the_sealed_decision_never_a_recomputation(world: World, base: str) -> None:
    """The county's sealed decision fixed the month's amount (standard 870, incomes 320 + 0 + 0 for three): its
    结果公布 shows exactly that, and a typed figure that contradicts the sealed one is refused."""
    data = household(category="城市")
    app, case_id = approved(world, base, data)
    approver = login(world, base, COUNTY, Role.APPROVER)
    try:
        decision = approver.get(f"/api/cases/{case_id}").json()["facts"]["decision"]
        assert (decision["standard"], decision["persons"]) == ("870.00", 3)
        supervision = {"phone": "0312-4222110", "address": "曲阳县民政局社会救助股"}
        r = approver.post("/api/notices/results", json={
            "benefit_from": "2026-12-01", "supervision": supervision,
            "decisions": {app: {"monthly_amount": "1780.00"}}})
        assert r.status_code == 422, r.text
        assert r.json()["fields"][0]["path"] == f"decisions.{app}.monthly_amount"
        r = approver.post("/api/notices/results", json={"benefit_from": "2026-12-01", "supervision": supervision})
        assert r.status_code == 201, r.text
        result = r.json()
        assert app in result["application_ids"]
        assert approver.post(f"/api/notices/{result['document_id']}/publish").status_code == 200
        rows = httpx.get(f"{base}/api/public/{result['public_id']}").json()["rows"]
        ours = [row for row in rows if row["name"] == data["applicant"]["name"]]
        assert ours == [{"name": data["applicant"]["name"], "village": "东沟南村", "persons": 3,
                         "amount": yuan(decision["monthly_amount"])}]
    finally:
        approver.close()


def test_a_notice_posted_before_its_period_says_when_it_starts(world: World) -> None:
    """Posted today for a period that starts tomorrow: not yet 公示中 — the days have not begun to run."""
    from api.services.states import PublicationKind, PublicationState

    clock, publication = world.services.clock, world.services.publication
    clock.set(DAY0)
    start, end = DAY0 + dt.timedelta(days=1), DAY0 + dt.timedelta(days=7)

    def word() -> str:
        return publication.status_word(PublicationKind.NOTICE, PublicationState.PUBLISHED, start=start, end=end,
                                       valid_until=None)

    assert word() == f"即将公示（{start.year}年{start.month}月{start.day}日起，共 7 天）"
    clock.set(start)
    assert word() == "公示中（剩余 7 天）"
    clock.set(end + dt.timedelta(days=1))
    assert word() == "公示期满"
