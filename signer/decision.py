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
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import FieldProblem, TemplateDataError
from .form_facts import FormFacts
from .pki import Tier
from .relief_route import relief_approver

RULE = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
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
class DecisionRules:
    """The local rules a decision is checked against (built from api/settings.py)."""

    notice_days: int = 7
    relief_township_limit: Decimal = Decimal("2610.00")


@dataclass(frozen=True)
class TierDecision:
    """What the tier's box shows besides the opinion: figure lines and the staff names."""

    figures: tuple[str, ...] = ()
    handler: str = ""
    head: str = ""
    opinion: str | None = None
    #: 临时救助: the amount this tier approved (None: it only proposed)
    approved_amount: Decimal | None = None


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


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
            amount = Decimal(str(value)).quantize(Decimal("0.01"))
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
            figures = [f"审批金额：{_money(approved)}元　救助方式：{method}"]
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
    return exact, exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def _county_dibao(r: _Reader, facts: FormFacts, day: dt.date) -> list[str]:
    persons = _persons(r, facts)
    category = r.choice("category", CATEGORIES)
    method = r.choice("method", ("差额", "分档"), required=False) or "差额"
    standard = r.amount("standard")
    amount = r.amount("monthly_amount")
    per_capita = Decimal(facts.per_capita_income)
    gap: Decimal | None = None
    basis = ""
    if method == "差额" and standard is not None:
        gap = (standard - per_capita).quantize(Decimal("0.01"))
        given = r.amount("income_gap", required=False)
        if given is not None and given != gap:
            r.bad("income_gap", f"月人均收入差额应为 保障标准 {_money(standard)} − 家庭月人均收入 "
                                f"{_money(per_capita)} = {_money(gap)} 元（实际 {_money(given)}）")
        if gap <= 0:
            r.bad("standard", f"家庭月人均收入 {_money(per_capita)} 元不低于保障标准 {_money(standard)} 元，"
                              "不符合保障条件")
        elif persons is not None and amount is not None and amount not in _accepted(gap * persons):
            r.bad("monthly_amount", f"户月保障金额应为 月人均收入差额 {_money(gap)} × 保障人数 {persons} = "
                                    f"{_money(gap * persons)} 元（实际 {_money(amount)}）")
        basis = f"月人均收入差额：{_money(gap)}元"
    elif method == "分档":
        tier_amount = r.amount("tier_amount")
        if tier_amount is not None and persons is not None and amount is not None \
                and amount not in _accepted(tier_amount * persons):
            r.bad("monthly_amount", f"户月保障金额应为 分档标准 {_money(tier_amount)} × 保障人数 {persons} = "
                                    f"{_money(tier_amount * persons)} 元（实际 {_money(amount)}）")
        basis = f"分档标准：{_money(tier_amount)}元/人·月" if tier_amount is not None else ""
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
        r.bad("start_month", f"保障金自审核确认决定的次月起发放（{RULE}第二十一条）：决定日期{_cn(day)}，"
                             f"起始发放月份最早为{first.year}年{first.month}月")
    if r.problems:
        return []
    assert persons is not None and standard is not None and amount is not None and start is not None
    return [f"核定保障人数：{persons}人　保障类别：{category}　保障标准：{_money(standard)}元/人·月",
            f"{basis}　户月保障金额：{_money(amount)}元　起始发放月份：{start.year}年{start.month}月"]


def _township_dibao(r: _Reader, facts: FormFacts, day: dt.date, rules: DecisionRules) -> list[str]:
    persons = _persons(r, facts)
    amount = r.amount("monthly_amount")
    start, end = r.day("notice_from"), r.day("notice_to")
    objection = r.raw.get("objection", False)
    if not isinstance(objection, bool):
        r.bad("objection", "应为 true 或 false")
    if start and end:
        days = (end - start).days + 1
        if days < rules.notice_days:
            r.bad("notice_to", f"公示期不得少于{rules.notice_days}天（{RULE}第十九条），实际{days}天")
        if end >= day:
            r.bad("notice_to", f"公示期（至{_cn(end)}）尚未结束，不能出具审核意见")
    if r.problems:
        return []
    assert persons is not None and amount is not None and start is not None and end is not None
    outcome = "有异议，已组织民主评议并重新调查" if objection is True else "无异议"
    return [f"初审保障人数：{persons}人　拟月保障金额：{_money(amount)}元",
            f"公示：{_cn(start)}至{_cn(end)}（{(end - start).days + 1}天），{outcome}"]


def _township_relief(r: _Reader, rules: DecisionRules) -> tuple[list[str], Decimal | None]:
    proposed = r.amount("proposed_amount")
    method = r.choice("method", RELIEF_METHODS)
    approved = r.amount("approved_amount", required=False)
    if approved is not None and relief_approver(approved, township_limit=rules.relief_township_limit) \
            is not Tier.TOWNSHIP:
        r.bad("approved_amount", f"{_money(approved)} 元超过乡镇（街道）审批权限 "
                                 f"{_money(rules.relief_township_limit)} 元，应由县级民政部门审批（只填建议救助金额）")
    if r.problems:
        return [], None
    assert proposed is not None
    lines = [f"建议救助金额：{_money(proposed)}元　救助方式：{method}"]
    if approved is not None:
        lines.append(f"审批金额：{_money(approved)}元（乡镇（街道）审批权限内）")
    return lines, approved
