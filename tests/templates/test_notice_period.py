"""The 公示 period is exactly the rule's (57号 art. 19 and the local setting): 7 days accepted, 6 and 8 refused,
naming the field and the rule, in calendar or working days — when a 公示 is set, in the rules and in the notice
family's check alike."""

from __future__ import annotations

import datetime as dt

import pytest

from api.services.local_rules import document_rules, local_rules
from api.settings import Settings
from signer.decision import NoticeRule
from signer.errors import TemplateDataError
from templates import Catalogue

FRIDAY = dt.date(2026, 11, 27)


def test_the_rule_wants_exactly_its_days() -> None:
    rule = NoticeRule()
    assert rule.mismatch(7) is None
    for wrong in (6, 8):
        message = rule.mismatch(wrong)
        assert message is not None and "公示期应为7天" in message and f"实际{wrong}天" in message
        assert "民发〔2021〕57号" in message and "第十九条" in message
    # the township's 初审 records a 公示 as it ran: only a short one is refused there
    assert rule.shortfall(8) is None and rule.shortfall(6) is not None
    assert NoticeRule(days=10).mismatch(10) is None and "公示期应为10天" in (NoticeRule(days=10).mismatch(7) or "")


def test_working_days_are_counted() -> None:
    rule = NoticeRule(working_days=True)
    end = rule.end(FRIDAY)
    assert end == dt.date(2026, 12, 7) and rule.counted(FRIDAY, end) == 7 and rule.mismatch(7) is None
    assert rule.mismatch(rule.counted(FRIDAY, end + dt.timedelta(days=1))) == \
        "公示期应为7个工作日（《最低生活保障审核确认办法》（民发〔2021〕57号）第十九条及本地规定），实际8个工作日"
    assert rule.counted(FRIDAY, FRIDAY + dt.timedelta(days=6)) == 5


@pytest.mark.parametrize(("days", "refused"), [(7, False), (6, True), (8, True)])
def test_local_rules_refuse_any_other_length(days: int, refused: bool) -> None:
    rules = local_rules(Settings())
    if not refused:
        rules.check_notice_days(days)
        return
    with pytest.raises(TemplateDataError) as caught:
        rules.check_notice_days(days)
    problem = caught.value.problems[0]
    assert problem.path == "days" and "公示期应为7天" in problem.message and f"实际{days}天" in problem.message


def test_a_local_rule_of_ten_days_refuses_seven_and_eleven() -> None:
    rules = local_rules(Settings(notice_days=10))
    rules.check_notice_days(10)
    for days in (7, 11):
        with pytest.raises(TemplateDataError, match="公示期应为10天"):
            rules.check_notice_days(days)


@pytest.mark.parametrize(("days", "refused"), [(7, False), (6, True), (8, True)])
def test_the_notice_family_wants_exactly_the_rule(catalogue: Catalogue, days: int, refused: bool) -> None:
    sample = catalogue.family("dibao_notice").sample()
    sample["period"]["days"] = days
    if not refused:
        assert catalogue.prepare("dibao_notice", sample).view["period"]["days"] == 7
        return
    with pytest.raises(TemplateDataError) as caught:
        catalogue.prepare("dibao_notice", sample)
    problem = caught.value.problems[0]
    assert problem.path == "period.days" and "公示期应为7天" in problem.message and f"实际{days}天" in problem.message


def test_the_notice_family_counts_working_days(catalogue: Catalogue) -> None:
    rules = document_rules(Settings(notice_working_days=True))
    sample = catalogue.family("dibao_notice").sample()
    sample["period"] = {"start": FRIDAY.isoformat(), "days": 11}  # 27 Nov – 7 Dec: 7 working days
    assert catalogue.prepare("dibao_notice", sample, rules=rules).view["period"]["end"] == dt.date(2026, 12, 7)
    sample["period"]["days"] = 12  # to 8 Dec: 8 working days
    with pytest.raises(TemplateDataError) as caught:
        catalogue.prepare("dibao_notice", sample, rules=rules)
    assert caught.value.problems[0].path == "period.days" and "实际8个工作日" in caught.value.problems[0].message
    sample["period"]["days"] = 7  # to 3 Dec: 5 working days
    with pytest.raises(TemplateDataError, match="共 1 处"):
        catalogue.prepare("dibao_notice", sample, rules=rules)
