"""The local rules, read from the one Settings object here and nowhere else: the 公示 period (57号 art. 19: its
length, the national floor of 7 days, calendar or working days), the 低保标准 per 申请类别 (城市/农村), the
township's 临时救助 limit, whether public lists show 保障类别, the case's deadlines and how long a certificate holds.

Every consumer gets a frozen rule object built here: :class:`DocumentRules` for the templates,
:class:`DecisionRules` for the seal step (signer/decision.py), :class:`LocalRules` for the services and the desk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING

from signer.decision import CENT, DecisionRules, NoticeRule
from signer.errors import FieldProblem, TemplateDataError
from templates.rules import DocumentRules

if TYPE_CHECKING:
    from api.settings import Settings

#: 申请类别 of the 低保 application form (templates/assets/fields/household.toml)
URBAN, RURAL = "城市", "农村"
#: the 临时救助 limit of a township, unless set: this many months of the urban 低保标准 (a common local rule)
RELIEF_LIMIT_MONTHS = 3


@dataclass(frozen=True)
class LocalRules:
    """All local rules of one installation, as the settings fix them."""

    notice: NoticeRule
    #: monthly 低保标准 (yuan per person) per 申请类别
    dibao_standards: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    #: 临时救助 the township approves itself up to this amount (yuan)
    relief_township_limit: Decimal = Decimal("0")
    #: public lists show 保障类别 (art. 24 allows only 姓名, 人数, 金额 unless a local rule requires more)
    show_category: bool = False
    #: the case's time limits in working days: decide, decide_special, refusal_notice, reinvestigate
    case_deadlines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType(
        {"decide": 30, "decide_special": 45, "refusal_notice": 3, "reinvestigate": 15}))
    #: days a 低保证明 stays valid from its issue
    certificate_valid_days: int = 90
    #: days a 低保证 holds (until the yearly review)
    card_valid_days: int = 365
    #: the remedies every decision letter states: review body and days, court and months ("" = derived)
    appeal_review_body: str = ""
    appeal_review_days: int = 60
    appeal_court: str = ""
    appeal_litigation_months: int = 6

    def appeal(self, county_name: str) -> dict[str, object]:
        """The remedies against a decision of ``county_name`` (e.g. 曲阳县民政局): 行政复议 at the county's
        人民政府, 行政诉讼 at its 人民法院, unless the settings name other bodies."""
        county = county_name.removesuffix("民政局").removesuffix("民政和社会事务局") or county_name
        return {"review_body": self.appeal_review_body or f"{county}人民政府",
                "review_days": self.appeal_review_days,
                "court": self.appeal_court or f"{county}人民法院",
                "litigation_months": self.appeal_litigation_months}

    def dibao_standard(self, category: object) -> Decimal:
        """The 低保标准 of an application's 申请类别; an unknown category is refused, never guessed."""
        try:
            return self.dibao_standards[str(category)]
        except KeyError:
            raise TemplateDataError([FieldProblem("category", f"申请类别只能是：{'、'.join(self.dibao_standards)}")],
                                    "无法确定适用的低保标准") from None

    def check_notice_days(self, days: int) -> None:
        """A 公示 set to any length but the local rule's (never shorter than the national 7 days) is refused."""
        wrong = self.notice.mismatch(days)
        if wrong:
            raise TemplateDataError([FieldProblem("days", wrong)])

    def document_rules(self) -> DocumentRules:
        return DocumentRules(notice=self.notice, show_category=self.show_category)

    def decision_rules(self) -> DecisionRules:
        return DecisionRules(notice=self.notice, relief_township_limit=self.relief_township_limit)


def local_rules(settings: Settings) -> LocalRules:
    """The rules as ``settings`` fix them (cheap: build one per use, or keep one per process)."""
    urban = settings.dibao_standard_urban.quantize(CENT)
    limit = settings.relief_township_limit
    return LocalRules(
        notice=NoticeRule(days=settings.notice_days, working_days=settings.notice_working_days,
                          holidays=frozenset(settings.notice_holidays),
                          workdays=frozenset(settings.notice_extra_workdays)),
        dibao_standards=MappingProxyType({URBAN: urban, RURAL: settings.dibao_standard_rural.quantize(CENT)}),
        relief_township_limit=(limit if limit is not None else urban * RELIEF_LIMIT_MONTHS).quantize(CENT),
        show_category=settings.notice_show_category,
        case_deadlines=MappingProxyType({"decide": settings.case_decide_working_days,
                                         "decide_special": settings.case_decide_special_working_days,
                                         "refusal_notice": settings.case_refusal_notice_working_days,
                                         "reinvestigate": settings.case_reinvestigate_working_days}),
        certificate_valid_days=settings.certificate_valid_days, card_valid_days=settings.card_valid_days,
        appeal_review_body=settings.appeal_review_body, appeal_review_days=settings.appeal_review_days,
        appeal_court=settings.appeal_court, appeal_litigation_months=settings.appeal_litigation_months)


def document_rules(settings: Settings) -> DocumentRules:
    return local_rules(settings).document_rules()


def decision_rules(settings: Settings) -> DecisionRules:
    return local_rules(settings).decision_rules()
