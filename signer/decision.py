"""The figures a tier records when it seals a form (民发〔2021〕57号): the county's decision (art. 21: 核定保障人数,
保障类别, 保障标准, 月人均收入差额, 户月保障金额, 起始发放月份), the township's 初审 figures and the 公示 it ran
(art. 19), and for 临时救助 the proposed and approved amounts and the form of help.

These are data of the seal step, not of the application: validated here against the form's facts (household
size, per-capita income — see form_facts.py) and the local rules, then drawn inside the tier's signature
appearance, so the tier's signature covers them. Every refusal names the field and, where one applies, the rule."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from .errors import FieldProblem, TemplateDataError
from .form_facts import FormFacts
from .formats import cn_date, cn_month, money
from .pki import Tier
from .relief_route import relief_approver

#: 《最低生活保障审核确认办法》（民发〔2021〕57号）
RULE = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
#: 57号 art. 19: the 公示 runs 7 days in the applicant's village (the national floor of the local setting)
NATIONAL_NOTICE_DAYS = 7
#: the default 临时救助 limit of the township: 3 × the default monthly urban 低保标准 (870.00)
DEFAULT_RELIEF_LIMIT = Decimal("2610.00")
CENT = Decimal("0.01")
CATEGORIES = ("A类", "B类", "C类", "全额", "差额", "一档", "二档", "三档")
RELIEF_METHODS = ("救助金", "实物", "转介服务")
_ALLOWED = {
    ("dibao", Tier.VILLAGE): {"handler", "head", "opinion"},
    ("dibao", Tier.TOWNSHIP): {"handler", "head", "opinion", "persons", "monthly_amount", "notice_from",
                               "notice_to", "objection"},
    ("dibao", Tier.COUNTY): {"handler", "head", "opinion", "persons", "category", "method", "standard",
                             "income_gap", "tier_amount", "monthly_amount", "start_month"},
    ("relief", Tier.VILLAGE): {"handler", "head", "opinion"},
    ("relief", Tier.TOWNSHIP): {"handler", "head", "opinion", "proposed_amount", "method", "approved_amount"},
    ("relief", Tier.COUNTY): {"handler", "head", "opinion", "approved_amount", "method"},
}


@dataclass(frozen=True)
class NoticeRule:
    """The 公示 period (57号 art. 19), the one rule every place that fixes or checks a period asks: the township
    building a 公示, the notice family's check, the township's 初审 figures. Built from the settings by
    api/services/local_rules.py."""

    #: the period's length in days, exactly (7 by art. 19; a local rule may set more)
    days: int = NATIONAL_NOTICE_DAYS
    #: count working days (weekends and ``holidays`` skipped, ``workdays`` counted: 调休) instead of calendar days
    working_days: bool = False
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def counts(self, day: dt.date) -> bool:
        """Whether ``day`` counts toward the period."""
        return not self.working_days or day in self.workdays or (day.weekday() < 5 and day not in self.holidays)

    def end(self, start: dt.date, days: int | None = None) -> dt.date:
        """The last day of a period of ``days`` (default: the rule's) counted days from ``start``, inclusive."""
        days = days or self.days
        if not self.working_days:
            return start + dt.timedelta(days=days - 1)
        day, counted = start, 0
        while True:
            if self.counts(day):
                counted += 1
                if counted == days:
                    return day
            day += dt.timedelta(days=1)

    def counted(self, start: dt.date, end: dt.date) -> int:
        """The days from ``start`` to ``end`` (inclusive) as this rule counts them."""
        if not self.working_days:
            return (end - start).days + 1
        return sum(self.counts(start + dt.timedelta(days=i)) for i in range((end - start).days + 1))

    @property
    def unit(self) -> str:
        return "个工作日" if self.working_days else "天"

    def shortfall(self, counted: int) -> str | None:
        """The refusal for a period of ``counted`` days, or None when it is long enough (a 公示 already run may
        have lasted longer: the township's 初审 records it as it ran)."""
        if counted >= self.days:
            return None
        return f"公示期不得少于{self.days}{self.unit}（{RULE}第十九条），实际{counted}{self.unit}"

    def mismatch(self, counted: int) -> str | None:
        """The refusal for a period of ``counted`` days to be set, or None when it is exactly the rule's: a longer
        公示 holds the case back as surely as a shorter one cuts the villagers' time to object."""
        if counted == self.days:
            return None
        return f"公示期应为{self.days}{self.unit}（{RULE}第十九条及本地规定），实际{counted}{self.unit}"


@dataclass(frozen=True)
class DecisionRules:
    """The local rules a decision is checked against (built from the settings by api/services/local_rules.py)."""

    notice: NoticeRule = field(default_factory=NoticeRule)
    #: 临时救助 the township approves itself up to this amount (yuan)
    relief_township_limit: Decimal = DEFAULT_RELIEF_LIMIT
    #: deprecated spelling of ``notice=NoticeRule(days=…)``, kept for callers not yet moved to local_rules
    notice_days: InitVar[int | None] = None

    def __post_init__(self, notice_days: int | None) -> None:
        if notice_days is not None and notice_days != self.notice.days:
            object.__setattr__(self, "notice", NoticeRule(notice_days, self.notice.working_days,
                                                          self.notice.holidays, self.notice.workdays))


@dataclass(frozen=True)
class DibaoAmount:
    """A household's monthly 低保 amount and the figures it was computed from (the form shows them all)."""

    standard: Decimal
    #: family monthly per-capita income as shown, to the fen
    per_capita_income: Decimal
    #: 月人均收入差额 = standard − per-capita income, as shown, to the fen
    income_gap: Decimal
    persons: int
    #: 户月保障金额 = (standard − exact per-capita income) × persons, rounded once to the fen
    monthly_amount: Decimal


def to_cent(exact: Decimal | Fraction) -> Decimal:
    """``exact`` rounded to the fen, half up (四舍五入): the one rounding a figure gets."""
    if isinstance(exact, Decimal):
        return exact.quantize(CENT, rounding=ROUND_HALF_UP)
    cents = abs(exact) * 100
    whole, rest = divmod(cents.numerator, cents.denominator)
    if 2 * rest >= cents.denominator:
        whole += 1
    return (Decimal(whole if exact >= 0 else -whole) / 100).quantize(CENT)


def dibao_amount(standard: Decimal | str, per_capita_income: Decimal | str | None, persons: int, *,
                 total_income: Decimal | str | None = None, household_size: int | None = None) -> DibaoAmount:
    """The one computation of the 差额 amount (57号; local 低保标准 − family monthly per-capita income) × persons
    covered: what the county's seal step checks, what the desk proposes, and what a document built before any
    decision was sealed shows. A document derived from a sealed decision shows that decision's figures instead
    and never calls this.

    Exact arithmetic, ONE rounding at the end (half up, to the fen): rounding the per-capita income or the gap
    first would make a household of 3 with 320.00 a month get (870 − 106.67) × 3 = 2,289.99 instead of
    (870 − 320/3) × 3 = 2,290.00. Pass ``total_income`` and ``household_size`` (the exact per-capita income is
    their quotient, which no decimal string holds); else ``per_capita_income`` is taken as exact as given."""
    if total_income is not None and household_size:
        per_capita = Fraction(Decimal(str(total_income))) / household_size
    elif per_capita_income is not None:
        per_capita = Fraction(Decimal(str(per_capita_income)))
    else:
        raise ValueError("dibao_amount needs per_capita_income or total_income with household_size")
    gap = Fraction(Decimal(str(standard))) - per_capita
    return DibaoAmount(to_cent(Decimal(str(standard))), to_cent(per_capita), to_cent(gap), persons,
                       to_cent(gap * persons))


def tier_amount_total(tier_amount: Decimal, persons: int) -> Decimal:
    """户月保障金额 by the 分档 method: the tier's amount per person × persons, rounded once to the fen."""
    return to_cent(Decimal(tier_amount) * persons)


@dataclass(frozen=True)
class TierDecision:
    """What the tier's box shows besides the opinion: figure lines and the staff names."""

    figures: tuple[str, ...] = ()
    handler: str = ""
    head: str = ""
    opinion: str | None = None
    #: 临时救助: the amount this tier approved (None: it only proposed)
    approved_amount: Decimal | None = None


class _Reader:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[FieldProblem] = []

    def bad(self, name: str, message: str) -> None:
        self.problems.append(FieldProblem(f"decision.{name}", message))

    def text(self, name: str, limit: int = 20) -> str:
        value = self.raw.get(name)
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > limit or any(ord(c) < 32 for c in value):
            self.bad(name, f"应为不超过 {limit} 字的文字")
            return ""
        return value.strip()

    def amount(self, name: str, *, required: bool = True) -> Decimal | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.bad(name, "必填")
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise InvalidOperation
            amount = Decimal(str(value)).quantize(CENT)
        except InvalidOperation:
            self.bad(name, "应为金额（元，两位小数）")
            return None
        if amount < 0 or amount > Decimal("1000000"):
            self.bad(name, "金额超出范围")
            return None
        return amount

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(name, "应为整数" if value is not None else "必填")
            return None
        return value

    def day(self, name: str) -> dt.date | None:
        value = self.raw.get(name)
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            pass
        self.bad(name, "应为日期 YYYY-MM-DD" if value is not None else "必填")
        return None

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.raw.get(name)
        if value is None and not required:
            return None
        if value not in choices:
            self.bad(name, f"只能是：{'、'.join(choices)}")
            return None
        return str(value)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def parse_decision(raw: object, *, tier: Tier, facts: FormFacts | None, day: dt.date,
                   rules: DecisionRules) -> TierDecision:
    """Validate a tier's decision data against the form and the rules; raise with every problem named."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise TemplateDataError([FieldProblem("decision", "应为一个 JSON 对象")], "决定数据有误")
    if facts is None:
        if raw:
            raise TemplateDataError([FieldProblem("decision", "该文书没有表格信息，不能记录审批数据")], "决定数据有误")
        return TierDecision()
    r = _Reader(raw)
    allowed = _ALLOWED.get((facts.kind, tier), {"handler", "head", "opinion"})
    for extra in sorted(set(raw) - allowed):
        r.bad(str(extra), f"未知字段（{tier.label}单位的决定中没有此项）")
    staff = facts.staff.get(tier.value, {})
    handler = r.text("handler", 10) or staff.get("handler", "")
    head = r.text("head", 10) or staff.get("head", "")
    opinion = r.text("opinion", 400) or None
    figures: list[str] = []
    approved: Decimal | None = None
    if not set(raw) - {"handler", "head", "opinion"}:
        pass  # no figures given: the box shows the opinion and staff only (the service may require them)
    elif facts.kind == "dibao" and tier is Tier.COUNTY:
        figures = _county_dibao(r, facts, day)
    elif facts.kind == "dibao" and tier is Tier.TOWNSHIP:
        figures = _township_dibao(r, facts, day, rules)
    elif facts.kind == "relief" and tier is Tier.TOWNSHIP:
        figures, approved = _township_relief(r, rules)
    elif facts.kind == "relief" and tier is Tier.COUNTY:
        approved = r.amount("approved_amount")
        method = r.choice("method", RELIEF_METHODS, required=False) or "救助金"
        if approved is not None:
            figures = [f"审批金额：{money(approved)}元　救助方式：{method}"]
    if r.problems:
        raise TemplateDataError(r.problems, f"{tier.label}单位的决定数据有误（共 {len(r.problems)} 处）")
    return TierDecision(tuple(figures), handler, head, opinion, approved)


def _persons(r: _Reader, facts: FormFacts) -> int | None:
    persons = r.integer("persons")
    if persons is not None and not 1 <= persons <= facts.household_size:
        r.bad("persons", f"保障人数应在 1 至家庭人口 {facts.household_size} 人之间（实际 {persons} 人）")
        return None
    return persons


def _accepted(exact: Decimal) -> tuple[Decimal, Decimal]:
    """The amount as computed, or rounded to the yuan (as many local rules pay)."""
    return exact, exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP).quantize(CENT)


def _county_dibao(r: _Reader, facts: FormFacts, day: dt.date) -> list[str]:
    persons = _persons(r, facts)
    category = r.choice("category", CATEGORIES)
    method = r.choice("method", ("差额", "分档"), required=False) or "差额"
    standard = r.amount("standard")
    amount = r.amount("monthly_amount")
    gap: Decimal | None = None
    basis = ""
    if method == "差额" and standard is not None:
        # exact from the form's total income and size; a form written before it carried the total gives the
        # per-capita income it showed
        computed = dibao_amount(standard, facts.per_capita_income, persons or 0, total_income=facts.total_income,
                                household_size=facts.household_size)
        per_capita, gap = computed.per_capita_income, computed.income_gap
        given = r.amount("income_gap", required=False)
        if given is not None and given != gap:
            r.bad("income_gap", f"月人均收入差额应为 保障标准 {money(standard)} − 家庭月人均收入 "
                                f"{money(per_capita)} = {money(gap)} 元（实际 {money(given)}）")
        if gap <= 0:
            r.bad("standard", f"家庭月人均收入 {money(per_capita)} 元不低于保障标准 {money(standard)} 元，"
                              "不符合保障条件")
        elif persons is not None and amount is not None and amount not in _accepted(computed.monthly_amount):
            income = (f"家庭月总收入 {money(Decimal(facts.total_income))} ÷ 家庭人口 {facts.household_size}"
                      if facts.total_income is not None else f"家庭月人均收入 {money(per_capita)}")
            r.bad("monthly_amount", f"户月保障金额应为（保障标准 {money(standard)} − {income}）× 保障人数 "
                                    f"{persons} = {money(computed.monthly_amount)} 元，只在最后取整到分"
                                    f"（实际 {money(amount)}）")
        basis = f"月人均收入差额：{money(gap)}元"
    elif method == "分档":
        tier_amount = r.amount("tier_amount")
        if tier_amount is not None and persons is not None and amount is not None \
                and amount not in _accepted(tier_amount_total(tier_amount, persons)):
            r.bad("monthly_amount", f"户月保障金额应为 分档标准 {money(tier_amount)} × 保障人数 {persons} = "
                                    f"{money(tier_amount_total(tier_amount, persons))} 元（实际 {money(amount)}）")
        basis = f"分档标准：{money(tier_amount)}元/人·月" if tier_amount is not None else ""
    start_raw = r.raw.get("start_month")
    start: dt.date | None = None
    if isinstance(start_raw, str) and re.fullmatch(r"\d{4}-\d{2}", start_raw):
        try:
            start = dt.date.fromisoformat(start_raw + "-01")
        except ValueError:
            start = None
    if start is None:
        r.bad("start_month", "起始发放月份应写作 YYYY-MM")
    elif start < next_month(day):
        first = next_month(day)
        r.bad("start_month", f"保障金自审核确认决定的次月起发放（{RULE}第二十一条）：决定日期{cn_date(day)}，"
                             f"起始发放月份最早为{cn_month(first)}")
    if r.problems:
        return []
    assert persons is not None and standard is not None and amount is not None and start is not None
    return [f"核定保障人数：{persons}人　保障类别：{category}　保障标准：{money(standard)}元/人·月",
            f"{basis}　户月保障金额：{money(amount)}元　起始发放月份：{cn_month(start)}"]


def _township_dibao(r: _Reader, facts: FormFacts, day: dt.date, rules: DecisionRules) -> list[str]:
    persons = _persons(r, facts)
    amount = r.amount("monthly_amount")
    # the 公示 follows the 初审: a township box sealed before it carries no notice dates (the case records them)
    held = "notice_from" in r.raw or "notice_to" in r.raw
    start, end = (r.day("notice_from"), r.day("notice_to")) if held else (None, None)
    objection = r.raw.get("objection", False)
    if not isinstance(objection, bool):
        r.bad("objection", "应为 true 或 false")
    if start and end:
        short = rules.notice.shortfall(rules.notice.counted(start, end))
        if short:
            r.bad("notice_to", short)
        if end >= day:
            r.bad("notice_to", f"公示期（至{cn_date(end)}）尚未结束，不能出具审核意见")
    if r.problems:
        return []
    assert persons is not None and amount is not None
    lines = [f"初审保障人数：{persons}人　拟月保障金额：{money(amount)}元"]
    if start is not None and end is not None:
        outcome = "有异议，已组织民主评议并重新调查" if objection is True else "无异议"
        lines.append(f"公示：{cn_date(start)}至{cn_date(end)}（{(end - start).days + 1}天），{outcome}")
    return lines


def _township_relief(r: _Reader, rules: DecisionRules) -> tuple[list[str], Decimal | None]:
    proposed = r.amount("proposed_amount")
    method = r.choice("method", RELIEF_METHODS)
    approved = r.amount("approved_amount", required=False)
    if approved is not None and relief_approver(approved, township_limit=rules.relief_township_limit) \
            is not Tier.TOWNSHIP:
        r.bad("approved_amount", f"{money(approved)} 元超过乡镇（街道）审批权限 "
                                 f"{money(rules.relief_township_limit)} 元，应由县级民政部门审批（只填建议救助金额）")
    if r.problems:
        return [], None
    assert proposed is not None
    lines = [f"建议救助金额：{money(proposed)}元　救助方式：{method}"]
    if approved is not None:
        lines.append(f"审批金额：{money(approved)}元（乡镇（街道）审批权限内）")
    return lines, approved
