"""The papers of a case through the services: each built from the case (nothing the case fixes can be typed),
issued only at its stage and by its tier, sealed by the issuing office (the seal verifies), recorded on the case;
the 案卷 of the whole case verifies, and refuses a changed attachment naming it."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from api.services.documents import DocumentService
from api.storage import cases as store
from signer import case_file
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
from tests.support.public_world import DAY0
from tests.support.service_world import World

INVESTIGATION = {"visited_on": DAY0.isoformat(),
                 "findings": {"housing": "自建平房一处，约80平方米", "income": "家庭月收入320元",
                              "property": "无车辆、无存款", "living": "生活困难"},
                 "conclusion": "家庭收入低于当地低保标准，情况属实。",
                 "investigators": [{"name": "张敏", "post": "民政助理员"}, {"name": "刘强", "post": "包村干部"}]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("papers"), documents)
    yield built
    built.services.db.dispose()


@pytest.fixture(scope="module")
def s(world: World) -> Staff:
    return staff(world)


def problems(error: pytest.ExceptionInfo[TemplateDataError]) -> set[str]:
    return {p.path for p in error.value.problems}


def facts(world: World, doc: str) -> tuple[str, dict[str, Any]]:
    with world.services.db.session() as session:
        row = store.case_of_application(session, doc)
        assert row is not None
        return row.id, dict(row.facts)


def issue(world: World, who: Any, case_id: str, family: str, data: dict[str, Any] | None = None) -> Any:
    view = world.services.papers.issue(who, case_id, family, data or {})
    assert view.status == "issued", view
    report = world.services.checks.verify(world.services.workflow.pdf(who, view.id)[1])
    assert report.verdict.value == "PASSED", report.summary()
    return view


@pytest.fixture(scope="module")
def whole_case(world: World, s: Staff) -> dict[str, Any]:
    """One 低保 case through every stage, with the papers of each stage issued on the way."""
    world.services.clock.set(DAY0)
    flow = world.services.workflow
    doc = filed_by(world, s, household())
    case_id, _ = facts(world, doc)
    issued: dict[str, Any] = {}
    issued["missing"] = issue(world, s.township, case_id, "dibao_missing_papers",
                              {"missing": ["户口簿复印件", "残疾人证复印件"], "contact_phone": "0312-4211234"})
    issued["acceptance"] = issue(world, s.township, case_id, "dibao_acceptance_notice",
                                 {"contact_phone": "0312-4211234"})
    issued["authorisation"] = issue(world, s.township, case_id, "dibao_authorisation")
    issued["investigation"] = issue(world, s.township, case_id, "dibao_investigation", INVESTIGATION)
    assert flow.accept(s.township, doc).status == "accepted"
    [notice] = posted_by(world, s, [doc])
    world.services.clock.set(dt.date.fromisoformat(notice.end_on) + dt.timedelta(days=1))
    flow.submit(s.township, doc)
    assert flow.accept(s.county, doc, decision=county_figures(world, doc)).status == "approved"
    issued["decision"] = issue(world, s.county, case_id, "dibao_decision")
    issued["card"] = issue(world, s.county, case_id, "dibao_card")
    issued["status"] = issue(world, s.township, case_id, "dibao_status_certificate",
                             {"recipient": "曲阳县第一中学", "purpose": "办理学生资助"})
    return {"doc": doc, "case_id": case_id, "issued": issued}


def test_papers_take_every_figure_from_the_case(world: World, s: Staff, whole_case: dict[str, Any]) -> None:
    doc, case_id, issued = whole_case["doc"], whole_case["case_id"], whole_case["issued"]
    _, stored = facts(world, doc)
    decision = stored["decision"]
    letter = issued["decision"].data
    assert (letter["persons"], letter["monthly_amount"], letter["start_month"]) == \
        (decision["persons"], decision["monthly_amount"], decision["start_month"])
    assert letter["appeal"]["review_body"] == "曲阳县人民政府" and letter["appeal"]["review_days"] == 60
    assert letter["doc_number"].startswith("曲阳县民低决〔") and letter["applicant"]["village"]
    authorisation = issued["authorisation"].data
    assert authorisation["signers"][0]["relation"] == "本人"
    assert all(p["id_number"][6:10] <= str(DAY0.year - 18) for p in authorisation["signers"])  # adults only
    assert issued["investigation"].data["household_size"] == len(issued["investigation"].data["members"])
    status = issued["status"].data
    assert set(status["holder"]) == {"name"}  # minimum necessary: no ID number, no amount
    # recorded on the case: its facts and its timeline
    recorded = {p["family"] for p in stored["papers"]}
    assert recorded >= {"dibao_missing_papers", "dibao_acceptance_notice", "dibao_authorisation",
                        "dibao_investigation", "dibao_decision", "dibao_card", "dibao_status_certificate"}
    notes = [e.note or "" for e in world.services.cases.get(s.county, case_id).events]
    assert any("出具《最低生活保障审核确认决定书》" in n for n in notes)


def test_letters_resolve_publicly_with_the_holders_name_only(world: World, whole_case: dict[str, Any]) -> None:
    for key in ("decision", "card", "status"):
        view = world.services.publication.public_view(whole_case["issued"][key].public_id)
        assert view.status == "有效" and view.verdict == "PASSED", (key, view)
        assert view.holder and view.holder in whole_case["issued"][key].data.get("applicant", {}).get("name", "") + \
            whole_case["issued"][key].data.get("holder", {}).get("name", "")
        shown = repr(view.to_dict())
        assert not any(p in shown for p in ("id_number", "monthly_amount")), shown


def test_a_paper_is_issued_only_at_its_stage_by_its_tier(world: World, s: Staff,
                                                         whole_case: dict[str, Any]) -> None:
    case_id = whole_case["case_id"]
    papers = world.services.papers
    with pytest.raises(ConflictError) as late:  # the case is decided: no more 一次性告知
        papers.issue(s.township, case_id, "dibao_missing_papers", {"missing": ["户口簿"]})
    assert late.value.code == "PAPER_NOT_NOW" and "初审之前" in late.value.message
    with pytest.raises(ConflictError) as tier:  # the decision is the county's
        papers.issue(s.township, case_id, "dibao_decision")
    assert tier.value.code == "PAPER_NOT_NOW" and "县级" in tier.value.message
    with pytest.raises(ConflictError) as review:  # no objection to its 公示: no 民主评议
        papers.issue(s.township, case_id, "dibao_review_record", {})
    assert "异议" in review.value.message
    with pytest.raises(TemplateDataError) as typed:  # what the case fixes cannot be typed
        papers.issue(s.county, case_id, "dibao_decision", {"monthly_amount": "9999.00", "persons": 9})
    assert problems(typed) == {"monthly_amount", "persons"}
    options = {o.family: o for o in papers.options(s.county, case_id)}
    assert options["dibao_decision"].allowed and len(options["dibao_decision"].issued) == 1
    assert not options["dibao_acceptance_notice"].allowed  # the township's
    assert "relief_decision" not in options  # a 临时救助 paper


def test_review_record_after_an_objection(world: World, s: Staff) -> None:
    world.services.clock.set(DAY0)
    doc = filed_by(world, s, household())
    case_id, _ = facts(world, doc)
    assert world.services.workflow.accept(s.township, doc).status == "accepted"
    [notice] = posted_by(world, s, [doc])
    world.services.clock.set(DAY0 + dt.timedelta(days=2))
    world.services.publication.record_objection(s.township, notice.document_id, received_on=DAY0 + dt.timedelta(
        days=2), channel="来访", summary="反映申请人有经营性收入")
    record = {"held_on": (DAY0 + dt.timedelta(days=2)).isoformat(), "place": "东沟南村村委会会议室",
              "chair": "王主任", "recorder": "李会计", "attendees": ["王主任", "李会计", "张代表", "赵代表", "刘代表"],
              "objection": "反映申请人有经营性收入", "discussion": "经核实，申请人无经营性收入。",
              "votes": {"agree": 4, "disagree": 1, "abstain": 0}, "conclusion": "同意纳入"}
    with pytest.raises(TemplateDataError) as votes:  # more votes than people present
        world.services.papers.issue(s.township, case_id, "dibao_review_record",
                                    {**record, "votes": {"agree": 9, "disagree": 0, "abstain": 0}})
    assert any(p.startswith("votes") for p in problems(votes))
    view = issue(world, s.township, case_id, "dibao_review_record", record)
    with world.services.db.session() as session:
        assert view.data["applicant"]["name"] == store.case(session, case_id).applicant_name


def test_refusal_letter_needs_reasons_and_meets_the_notice_deadline(world: World, s: Staff) -> None:
    world.services.clock.set(DAY0)
    doc = filed_by(world, s, household())
    case_id, _ = facts(world, doc)
    world.services.workflow.refuse(s.township, doc, reason="家庭人均收入高于当地低保标准")
    papers = world.services.papers
    with pytest.raises(TemplateDataError) as empty:
        papers.issue(s.township, case_id, "dibao_refusal_letter", {"reasons": ["  "]})
    assert problems(empty) & {"reasons", "reasons[0]"}
    view = issue(world, s.township, case_id, "dibao_refusal_letter")
    assert view.data["reasons"] == ["家庭人均收入高于当地低保标准"]
    assert view.data["appeal"]["court"] == "曲阳县人民法院"
    _, stored = facts(world, doc)
    assert stored["refusal"]["notified_on"] == DAY0.isoformat() and stored["refusal"]["letter"] == view.id
    deadline = next(d for d in world.services.cases.get(s.township, case_id).deadlines if "告知" in d.name)
    assert deadline.done


def test_relief_papers(world: World, s: Staff) -> None:
    world.services.clock.set(DAY0)
    doc = filed_by(world, s, relief_household(), family="temp_relief_application")
    case_id, _ = facts(world, doc)
    world.services.workflow.accept(s.township, doc, decision={"proposed_amount": "2000.00", "method": "救助金",
                                                              "approved_amount": "2000.00"})
    decision = issue(world, s.township, case_id, "relief_decision")
    assert (decision.data["outcome"], decision.data["amount"]) == ("批准", "2000.00")
    too_much = {"payments": [{"paid_on": DAY0.isoformat(), "amount": "2500.00", "method": "银行代发"}]}
    with pytest.raises(TemplateDataError) as refused:
        world.services.papers.issue(s.township, case_id, "relief_payment", too_much)
    assert "payments" in {p.split("[")[0] for p in problems(refused)}
    paid = issue(world, s.township, case_id, "relief_payment",
                 {"payments": [{"paid_on": DAY0.isoformat(), "amount": "2000.00", "method": "银行代发"}]})
    assert paid.data["decision_number"] == decision.data["doc_number"]


def test_the_case_file_holds_every_sealed_paper_and_verifies(world: World, s: Staff, whole_case: dict[str, Any],
                                                             tmp_path: Any) -> None:
    out = world.services.case_files.export(s.county, whole_case["case_id"])
    names = [e["name"] for e in out.manifest["papers"]]
    assert len(names) >= 9, names  # application, 公示, 7 papers
    assert any("审核确认决定书" in n for n in names) and any("公示" in n for n in names)
    report = world.services.verification.verify_case_file(out.pdf)
    assert report.verdict.value == "PASSED", report.summary()
    path = tmp_path / out.filename
    path.write_bytes(out.pdf)
    listed = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert "manifest.json" in listed and all(n in listed for n in names)
    # a changed attachment under the old manifest: refused, naming it
    contents = case_file.read(out.pdf)
    assert contents is not None
    papers = [case_file.Paper(name=e["name"], title=e["title"], media_type=e["media_type"],
                              issued_on=dt.date.fromisoformat(e["issued_on"]) if e.get("issued_on") else None,
                              data=contents.attachments[e["name"]] + (b"%" if i == 1 else b""))
              for i, e in enumerate(out.manifest["papers"])]
    forged = case_file.assemble(_bare_index(), papers, contents.manifest)
    checked = case_file.check(forged, world.services.checks.verify)
    assert checked.verdict.value == "FAILED" and "CASE_FILE_CHANGED" in checked.codes
    assert names[1] in checked.summary() + repr(checked.to_dict())


def _bare_index() -> bytes:
    from templates.case_file_index import render_index

    return render_index({"number": "x", "kind": "dibao", "applicant_name": "x", "village": "x"}, [],
                        issuer="曲阳县民政局", issued_on=DAY0)
