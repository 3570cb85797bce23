"""The case (案件) through the services: 临时救助's two routes (the township's limit), and the dates 57号's order
implies (a 公示 not before the 初审, exactly the rule's days; support from the month after the decision)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from api.services.documents import DocumentService
from api.storage import cases as store
from signer.errors import ConflictError, TemplateDataError
from tests.support.cases import (
    Staff,
    county_figures,
    filed_by,
    household,
    posted_by,
    relief_household,
    staff,
)
from tests.support.public_world import DAY0, OBJECTION
from tests.support.service_world import World


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("cases"), documents)
    yield built
    built.services.db.dispose()


@pytest.fixture
def s(world: World) -> Staff:
    return staff(world)


def case_of(world: World, doc: str) -> tuple[str, str, dict[str, object]]:
    with world.services.db.session() as session:
        row = store.case_of_application(session, doc)
        assert row is not None
        return row.stage, row.outcome, dict(row.facts)


def problems(error: pytest.ExceptionInfo[TemplateDataError]) -> set[str]:
    return {p.path for p in error.value.problems}


# -- 临时救助 -----------------------------------------------------------------------------------------------------
def test_relief_within_the_township_limit_closes_at_the_township(world: World, s: Staff) -> None:
    world.services.clock.set(DAY0)
    flow = world.services.workflow
    assert world.services.cases.rules.relief_township_limit == Decimal("2610.00")
    doc = filed_by(world, s, relief_household(), family="temp_relief_application")
    view = flow.accept(s.township, doc, decision={"proposed_amount": "2000.00", "method": "救助金",
                                                  "approved_amount": "2000.00"})
    assert view.status == "approved"
    stage, outcome, facts = case_of(world, doc)
    assert (stage, outcome) == ("approved", "approved")
    assert facts["decision"]["by"] == "township" and facts["decision"]["approved_amount"] == "2000.00"  # type: ignore[index]
    with pytest.raises(ConflictError):  # the case ended at the township: nothing to report
        flow.submit(s.township, doc)
    assert case_of(world, doc)[:2] == ("approved", "approved")


def test_relief_above_the_limit_is_proposed_and_approved_by_the_county(world: World, s: Staff) -> None:
    world.services.clock.set(DAY0)
    flow = world.services.workflow
    doc = filed_by(world, s, relief_household(), family="temp_relief_application")
    with pytest.raises(TemplateDataError) as refused:  # beyond the township's authority
        flow.accept(s.township, doc, decision={"proposed_amount": "8000.00", "method": "救助金",
                                               "approved_amount": "8000.00"})
    assert "approved_amount" in {p.rsplit(".", 1)[-1] for p in problems(refused)}
    assert case_of(world, doc)[0] == "received"
    view = flow.accept(s.township, doc, decision={"proposed_amount": "8000.00", "method": "救助金"})
    assert view.status == "accepted" and case_of(world, doc)[:2] == ("preliminary", "open")
    assert flow.submit(s.township, doc).case_stage == "reported"  # no 公示 for 临时救助
    view = flow.accept(s.county, doc, decision={"approved_amount": "8000.00", "method": "救助金"})
    assert view.status == "approved"
    stage, outcome, facts = case_of(world, doc)
    assert (stage, outcome) == ("approved", "approved") and facts["decision"]["by"] == "county"  # type: ignore[index]


# -- dates ----------------------------------------------------------------------------------------------------------
def test_a_notice_cannot_start_before_the_preliminary_review(world: World, s: Staff) -> None:
    clock = world.services.clock
    clock.set(DAY0)
    doc = filed_by(world, s, household())
    clock.set(DAY0 + dt.timedelta(days=5))
    world.services.workflow.accept(s.township, doc)  # 初审 on DAY0 + 5
    clock.set(DAY0)  # a desk whose clock is behind: the 公示 would start before the 初审
    with pytest.raises((TemplateDataError, ConflictError)) as refused:
        world.services.publication.build_notices(s.township, objection=OBJECTION, start=DAY0 + dt.timedelta(days=1),
                                                 application_ids=[doc])
    assert "start" in str(getattr(refused.value, "problems", "")) or refused.value.code == "DATE_ORDER"
    assert case_of(world, doc)[0] == "preliminary"
    clock.set(DAY0 + dt.timedelta(days=5))
    [posted] = posted_by(world, s, [doc])
    assert dt.date.fromisoformat(posted.start_on) > DAY0 + dt.timedelta(days=4)


def test_a_notice_lasts_exactly_the_rules_days(world: World, s: Staff) -> None:
    world.services.clock.set(DAY0)
    doc = filed_by(world, s, household())
    world.services.workflow.accept(s.township, doc)
    for days in (5, 8):  # shorter cuts the villagers' time to object; longer holds the case back
        with pytest.raises(TemplateDataError) as refused:
            world.services.publication.build_notices(s.township, objection=OBJECTION, days=days,
                                                     application_ids=[doc])
        assert problems(refused) == {"days"}, (days, refused.value.problems)
    assert case_of(world, doc)[0] == "preliminary"


def test_the_county_support_starts_after_the_decision_month(world: World, s: Staff) -> None:
    clock = world.services.clock
    clock.set(DAY0)
    flow = world.services.workflow
    doc = filed_by(world, s, household(category="农村"))
    flow.accept(s.township, doc)
    [posted] = posted_by(world, s, [doc])
    clock.set(dt.date.fromisoformat(posted.end_on) + dt.timedelta(days=1))
    flow.submit(s.township, doc)
    figures = county_figures(world, doc)
    assert figures["standard"] == "700.00"  # 农村
    for month in (clock.today().strftime("%Y-%m"), (clock.today().replace(day=1) - dt.timedelta(days=1)
                                                    ).strftime("%Y-%m")):
        with pytest.raises(TemplateDataError) as refused:
            flow.accept(s.county, doc, decision={**figures, "start_month": month})
        assert "decision.start_month" in problems(refused) or "start_month" in problems(refused), refused.value
    assert case_of(world, doc)[0] == "reported"
    assert flow.accept(s.county, doc, decision=figures).case_stage == "approved"
