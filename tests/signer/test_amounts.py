"""The monthly 低保 amount: exact arithmetic, one rounding at the end (half up, to the fen), the same in the one
computation and in the county's seal-step check. The worked case: a household of 3 with 320.00 a month under a
standard of 870.00 gets (870 − 320/3) × 3 = 2,290.00, not (870 − 106.67) × 3 = 2,289.99."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from api.services.documents import DocumentService
from signer.decision import DecisionRules, dibao_amount, parse_decision, tier_amount_total, to_cent
from signer.errors import TemplateDataError
from signer.form_facts import FormFacts, read_form_facts
from signer.pki import Tier

DAY = dt.date(2026, 12, 20)
STAFF = {"county": {"handler": "孙股长", "head": "钱局长"}}
WORKED = FormFacts(kind="dibao", household_size=3, per_capita_income="106.67", applicant="王秀英",
                   serial="燕赵低保〔2026〕0117号", staff=STAFF, total_income="320.00")


def _county(facts: FormFacts, **figures: object) -> dict[str, object]:
    decision: dict[str, object] = {"persons": 3, "category": "B类", "standard": "870.00",
                                   "monthly_amount": "2290.00", "start_month": "2027-01"}
    decision.update(figures)
    return {k: v for k, v in decision.items() if v is not None}


def _decide(facts: FormFacts, **figures: object) -> list[str]:
    return list(parse_decision(_county(facts, **figures), tier=Tier.COUNTY, facts=facts, day=DAY,
                               rules=DecisionRules()).figures)


def _refused(facts: FormFacts, **figures: object) -> dict[str, str]:
    with pytest.raises(TemplateDataError) as caught:
        _decide(facts, **figures)
    return {p.path.removeprefix("decision."): p.message for p in caught.value.problems}


def test_worked_case_rounds_once() -> None:
    figures = dibao_amount(Decimal("870.00"), None, 3, total_income="320.00", household_size=3)
    assert figures.per_capita_income == Decimal("106.67") and figures.income_gap == Decimal("763.33")
    assert figures.monthly_amount == Decimal("2290.00") and figures.standard == Decimal("870.00")
    # the total wins over a per-capita figure already rounded for display
    assert dibao_amount(Decimal("870"), "106.67", 3, total_income=Decimal("320"), household_size=3) == figures
    # a per-capita income close enough to exact gives the same; a rounded one is taken as given
    assert dibao_amount(Decimal("870"), Decimal("320") / 3, 3).monthly_amount == Decimal("2290.00")
    assert dibao_amount(Decimal("870"), "106.67", 3).monthly_amount == Decimal("2289.99")


def test_half_up_at_half_a_fen() -> None:
    # (870 − 0.07/2) × 1 = 869.965: half up gives 869.97 where half-even would give 869.96
    figures = dibao_amount(Decimal("870.00"), None, 1, total_income="0.07", household_size=2)
    assert figures.monthly_amount == Decimal("869.97") and figures.per_capita_income == Decimal("0.04")
    assert to_cent(Fraction(1, 200)) == Decimal("0.01") and to_cent(Fraction(-1, 200)) == Decimal("-0.01")
    assert to_cent(Fraction(1, 300)) == Decimal("0.00") and to_cent(Decimal("2.675")) == Decimal("2.68")
    assert str(to_cent(Fraction(6870, 3))) == "2290.00"


def test_fewer_persons_than_the_household() -> None:
    # (870 − 320/3) × 2 = 1,526.666… → 1,526.67 (rounding the gap first gave 763.33 × 2 = 1,526.66)
    figures = dibao_amount(Decimal("870.00"), "106.67", 2, total_income="320.00", household_size=3)
    assert (figures.income_gap, figures.persons, figures.monthly_amount) == \
        (Decimal("763.33"), 2, Decimal("1526.67"))


def test_tiered_amount_is_rounded_once() -> None:
    assert tier_amount_total(Decimal("290.00"), 3) == Decimal("870.00")
    assert tier_amount_total(Decimal("0.335"), 3) == Decimal("1.01")


def test_needs_an_income() -> None:
    with pytest.raises(ValueError):
        dibao_amount(Decimal("870"), None, 3)


def test_county_check_accepts_the_exact_amount_and_refuses_the_twice_rounded_one() -> None:
    lines = _decide(WORKED)
    assert "月人均收入差额：763.33元" in lines[1] and "户月保障金额：2,290.00元" in lines[1]
    assert _decide(WORKED, monthly_amount="2290")  # rounded to the yuan, as many local rules pay
    assert _decide(WORKED, income_gap="763.33")
    problems = _refused(WORKED, monthly_amount="2289.99")
    assert list(problems) == ["monthly_amount"]
    assert "2,290.00" in problems["monthly_amount"] and "家庭月总收入 320.00 ÷ 家庭人口 3" in \
        problems["monthly_amount"] and "实际 2,289.99" in problems["monthly_amount"]
    assert "1,526.67" in _refused(WORKED, persons=2, monthly_amount="1526.66")["monthly_amount"]
    assert _decide(WORKED, persons=2, monthly_amount="1526.67")


def test_county_check_of_a_form_without_the_total_uses_its_per_capita_income() -> None:
    old = FormFacts(kind="dibao", household_size=3, per_capita_income="106.67", applicant="王秀英",
                    serial="", staff=STAFF)
    assert _decide(old, monthly_amount="2289.99")
    assert "家庭月人均收入 106.67" in _refused(old, monthly_amount="2288.00")["monthly_amount"]
    for broken in ('"total_income": "NaN"', '"total_income": "abc"', '"total_income": "Infinity"'):
        assert FormFacts.parse('{"kind": "dibao", "household_size": 3, "per_capita_income": "106.67", '
                               + broken + "}") is None  # refused by the sealer as a form without facts
    parsed = FormFacts.parse('{"kind": "dibao", "household_size": 3, "per_capita_income": "106.67"}')
    assert parsed is not None and parsed.total_income is None
    assert FormFacts.parse('{"kind": "dibao", "household_size": 3, "per_capita_income": "106.67", '
                           '"total_income": "320.00"}') == FormFacts("dibao", 3, "106.67", "", "", {}, None, "320.00")


def test_tiered_method_at_the_county() -> None:
    assert _decide(WORKED, method="分档", tier_amount="290.00", monthly_amount="870.00")
    assert "870.00" in _refused(WORKED, method="分档", tier_amount="290.00", monthly_amount="869.99")["monthly_amount"]


def test_the_rendered_form_carries_its_total_income(documents: DocumentService) -> None:
    """The facts written into the PDF carry the total, so the seal step computes exactly what the desk does."""
    sample = documents.catalogue.family("dibao_application").sample()
    pdf = documents.render("dibao_application", sample).rendered.pdf
    facts = read_form_facts(PdfFileReader(BytesIO(pdf)))
    assert facts is not None
    assert (facts.household_size, facts.total_income, facts.per_capita_income) == (3, "320.00", "106.67")
    assert _decide(facts)
    assert list(_refused(facts, monthly_amount="2289.99")) == ["monthly_amount"]
