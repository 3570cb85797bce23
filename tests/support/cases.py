"""Cases run through the real routes, as the offices would, moving the service's clock: households with their own
(valid, unique) ID numbers, and one function per stage of 民发〔2021〕57号's order, each asserting it was allowed.

A case needs days to pass (the 公示): tests set ``world.services.clock``; every stage is dated by that clock."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.services.demo_users import demo_username
from api.services.identity import Principal, Role
from signer.decision import next_month
from tests.support.public_world import DAY0, OBJECTION, login
from tests.support.service_world import COUNTY, SAMPLE, TOWNSHIP, VILLAGE, Api, World

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_serial = itertools.count(1)
#: the default 低保标准 of each 申请类别 (Settings: dibao_standard_urban, dibao_standard_rural)
STANDARDS = {"城市": "870.00", "农村": "700.00"}


def id_number(birth: str, sequence: int, *, area: str = "130634") -> str:
    """A valid 18-character 居民身份证号码 (GB 11643-1999 check character)."""
    body = f"{area}{birth}{sequence % 1000:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def household(name: str | None = None, *, category: str = "城市", incomes: tuple[str, ...] = ("320.00", "0", "0"),
              village_offices: dict[str, str] | None = None) -> dict[str, Any]:
    """A 低保 application like the sample, with ID numbers no other household in this test run holds."""
    n = next(_serial)
    data: dict[str, Any] = copy.deepcopy(SAMPLE)
    head = name or f"申请人{n:03d}"
    # the applicant and spouse born 1960–1989, the children (third member on) a generation later: a plausible
    # household (templates/household.py refuses a 子 or 女 as old as the applicant until a clerk confirms it)
    numbers = [id_number(f"{1960 + n % 30 + (25 if i >= 2 else 0)}0{1 + n % 9}1{n % 9}", 100 + n * 3 + i)
               for i in range(len(incomes))]
    data["category"] = category
    data["applicant"].update(name=head, id_number=numbers[0])
    members = []
    for i, income in enumerate(incomes):
        base = dict(SAMPLE["members"][min(i, len(SAMPLE["members"]) - 1)])
        base.update(name=head if i == 0 else f"{head}家属{i}", id_number=numbers[i], monthly_income=income,
                    relation="本人" if i == 0 else base["relation"])
        members.append(base)
    data["members"] = members
    if village_offices:
        data["offices"] = village_offices
    return data


@dataclass
class Desk:
    """The three offices' users of one case's route, signed in."""

    village: Api
    township: Api
    county: Api

    def close(self) -> None:
        for api in (self.village, self.township, self.county):
            api.close()


def desk(world: World, base: str, village: str = VILLAGE) -> Desk:
    return Desk(login(world, base, village, Role.CLERK), login(world, base, TOWNSHIP, Role.REVIEWER),
                login(world, base, COUNTY, Role.APPROVER))


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return dict(response.json()) if isinstance(response.json(), dict) else {"items": response.json()}


def filed(d: Desk, data: dict[str, Any]) -> str:
    """Filled, sealed and sent to the township by the village: the township has received it (受理)."""
    doc = ok(d.village.post("/api/documents", json={"family": "dibao_application", "data": data}), 201)["id"]
    ok(d.village.post(f"/api/documents/{doc}/seal", json={}))
    ok(d.village.post(f"/api/documents/{doc}/submit"))
    return str(doc)


def preliminary(d: Desk, doc: str, decision: dict[str, Any] | None = None) -> dict[str, Any]:
    """The township's 初审 seal (its figures default to the one rule's)."""
    form = {"decision": json.dumps(decision)} if decision else {}
    return ok(d.township.post(f"/api/documents/{doc}/accept", data=form))


def notice(d: Desk, docs: list[str], *, start: dt.date | None = None) -> list[dict[str, Any]]:
    """Build and publish the 公示 of these applications (one per village)."""
    body: dict[str, Any] = {"objection": OBJECTION, "application_ids": docs}
    if start is not None:
        body["start"] = start.isoformat()
    built = ok(d.township.post("/api/notices/build", json=body), 201)["items"]
    return [ok(d.township.post(f"/api/notices/{n['document_id']}/publish")) for n in built]


def after_notice(world: World, posted: dict[str, Any]) -> dt.date:
    """Move the clock to the day after the 公示 ended."""
    day = dt.date.fromisoformat(posted["end_on"]) + dt.timedelta(days=1)
    world.services.clock.set(day)
    return day


def decision_for(world: World, d: Desk, doc: str, *, category: str = "A类") -> dict[str, Any]:
    """The county's figures: the township's 初审 figures and the standard of the application's 申请类别."""
    case = ok(d.county.get(f"/api/documents/{doc}/case"))
    township = case["facts"]["township"]
    standard = STANDARDS[case["category"]]
    return {"persons": township["persons"], "category": category, "standard": standard,
            "monthly_amount": township["monthly_amount"],
            "start_month": next_month(world.services.clock.today()).strftime("%Y-%m"),
            "handler": "孙股长", "head": "钱局长"}


def approved(world: World, base: str, data: dict[str, Any] | None = None, *, day0: dt.date = DAY0,
             village: str = VILLAGE) -> tuple[str, str]:
    """A whole 低保 case to the county's 审核确认: (application id, case id). Leaves the clock after the decision."""
    world.services.clock.set(day0)
    d = desk(world, base, village)
    try:
        doc = filed(d, data or household())
        preliminary(d, doc)
        [posted] = notice(d, [doc])
        after_notice(world, posted)
        ok(d.township.post(f"/api/documents/{doc}/submit"))
        decided = ok(d.county.post(f"/api/documents/{doc}/accept",
                                   data={"decision": json.dumps(decision_for(world, d, doc))}))
        assert decided["status"] == "approved" and decided["case_stage"] == "approved", decided
        return doc, str(decided["case_id"])
    finally:
        d.close()


# -- the same order at the service level (no HTTP): the storage and service tests' cases -------------------------
def principal(world: World, office: str, role: Role) -> Principal:
    """A demo user of ``office`` signed in through the identity service."""
    name = demo_username(office, role)
    with world.services.db.session() as session:
        return world.services.identity.authenticate(session, name, world.passwords[name])


@dataclass
class Staff:
    """The three offices' users of one case's route, as principals."""

    village: Principal
    township: Principal
    county: Principal


def staff(world: World, village: str = VILLAGE) -> Staff:
    return Staff(principal(world, village, Role.CLERK), principal(world, TOWNSHIP, Role.REVIEWER),
                 principal(world, COUNTY, Role.APPROVER))


def filed_by(world: World, s: Staff, data: dict[str, Any] | None = None, *, family: str = "dibao_application",
             opinion: str | None = "经入户了解，情况属实。") -> str:
    """Filled, sealed and sent to the township by the village (受理), through the workflow service."""
    flow = world.services.workflow
    doc = flow.create(s.village, family, data or household())
    flow.seal(s.village, doc.id, opinion=opinion)
    assert flow.submit(s.village, doc.id).status == "submitted"
    return doc.id


def posted_by(world: World, s: Staff, docs: list[str], *, start: dt.date | None = None) -> list[Any]:
    """The township's 公示 of ``docs`` built and published through the publication service (NoticeViews)."""
    pub = world.services.publication
    built = pub.build_notices(s.township, objection=OBJECTION, start=start, application_ids=docs)
    return [pub.publish(s.township, n.document_id) for n in built]


def county_figures(world: World, doc: str, *, category: str = "A类") -> dict[str, Any]:
    """The county's figures from the case's stored facts: the township's 初审 persons and amount, the standard of
    the application's 申请类别, support from the month after today."""
    with world.services.db.session() as session:
        row = world.services.cases.of_document(session, doc)
        assert row is not None
        township, kind = dict(row.facts["township"]), row.category
    return {"persons": township["persons"], "category": category, "standard": STANDARDS[str(kind)],
            "monthly_amount": township["monthly_amount"],
            "start_month": next_month(world.services.clock.today()).strftime("%Y-%m"),
            "handler": "孙股长", "head": "钱局长"}


def approved_by(world: World, s: Staff, data: dict[str, Any] | None = None, *, day0: dt.date = DAY0) -> str:
    """A whole 低保 case to the county's 审核确认 through the services; the application id. Leaves the clock on
    the day after the 公示."""
    world.services.clock.set(day0)
    flow = world.services.workflow
    doc = filed_by(world, s, data)
    assert flow.accept(s.township, doc).status == "accepted"
    [notice_view] = posted_by(world, s, [doc])
    world.services.clock.set(dt.date.fromisoformat(notice_view.end_on) + dt.timedelta(days=1))
    flow.submit(s.township, doc)
    view = flow.accept(s.county, doc, decision=county_figures(world, doc))
    assert view.status == "approved" and view.case_stage == "approved", view
    return doc


RELIEF_SAMPLE = json.loads((Path(__file__).parents[2] / "templates/temp_relief_application/sample.json"
                            ).read_text("utf-8"))


def relief_household(name: str | None = None) -> dict[str, Any]:
    """A 临时救助 application like its sample, with ID numbers no other household in this test run holds."""
    data: dict[str, Any] = copy.deepcopy(RELIEF_SAMPLE)
    donor = household(name, incomes=tuple(m["monthly_income"] for m in data["members"]))
    data["applicant"].update(name=donor["applicant"]["name"], id_number=donor["applicant"]["id_number"])
    for member, fresh in zip(data["members"], donor["members"], strict=True):
        member.update(name=fresh["name"], id_number=fresh["id_number"])
    return data
