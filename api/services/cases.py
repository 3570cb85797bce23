"""The case (案件): one application and everything that follows from it, in 民发〔2021〕57号's order.

This module is the one home of the case's order: which step may follow which (:data:`ORDER`), what each step needs
before it may happen (:meth:`CaseBook.check`), what it records (:meth:`CaseBook.record`), the facts each tier
fixes when it seals (stored once in the case, read by every later document), the deadlines 57号 sets, and the
next steps the desk offers. The workflow and the publication service call it inside their own transactions, so a
refused step changes nothing and an allowed one moves the document and the case together.

低保: 填报 → 村盖章 → 报送乡镇 (受理) → 乡镇初审 → 公示 (the local rule's days) → [异议 → 复查, 重新公示 or 不予确认]
→ 报县 (only after the 公示 ended with no open objection) → 县审核确认 with its figures, or 不予确认 with reasons →
结果公布 → 证明 on request. 临时救助: no 公示; the township approves within its limit and the case closes there,
above it the township proposes and reports, and the county approves.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from api.services.access import Action, may_see
from api.services.identity import Principal
from api.services.local_rules import LocalRules
from api.services.public_links import Clock
from api.services.states import CaseOutcome, CaseStage
from api.storage import cases as store
from api.storage import repositories
from api.storage.engine import Database, Session
from api.storage.models import CaseRow, DocumentRow, utcnow
from signer.decision import CENT, dibao_amount
from signer.errors import ConflictError, FieldProblem, NotFoundError, TemplateDataError
from signer.formats import cn_date, money
from signer.pki import Tier
from signer.relief_route import relief_approver

#: the application families that open a case, and the kind of case each opens
CASE_FAMILIES = {"dibao_application": "dibao", "temp_relief_application": "relief"}
KIND_LABELS = {"dibao": "最低生活保障", "relief": "临时救助"}
#: who the township's 受理 event names: it is taken as the village's file reaches the township, by no one user
RECEIVED_BY = "乡镇受理（报送即受理）"


class Step:
    """What the desk may offer next (the keys of :class:`NextStep`)."""

    SEAL = "seal"
    SUBMIT = "submit"  # the village sends it to the township (报送乡镇)
    RETURN = "return"
    RECREATE = "recreate"
    WITHDRAW = "withdraw"
    PRELIMINARY = "preliminary"  # the township's 初审 seal (临时救助: its approval or proposal)
    NOTICE = "notice"  # build and publish the 公示
    REPUBLISH = "republish"  # after an objection: re-investigate and publish again
    REPORT = "report"  # the township reports to the county (报县)
    DECIDE = "decide"  # the county's 审核确认 with its figures
    REFUSE = "refuse"  # 不予确认 / 终止 with reasons
    ANNOUNCE = "announce"  # the 结果公布
    CERTIFICATE = "certificate"  # a 证明 from the approved case


STEP_LABELS = {
    Step.SEAL: "村级盖章", Step.SUBMIT: "报送乡镇", Step.RETURN: "退回村级", Step.RECREATE: "重新填报",
    Step.WITHDRAW: "撤回申请", Step.PRELIMINARY: "验章并初审签章", Step.NOTICE: "在村公示",
    Step.REPUBLISH: "复查后重新公示", Step.REPORT: "报送县级", Step.DECIDE: "验章并审核确认",
    Step.REFUSE: "不予确认", Step.ANNOUNCE: "结果公布", Step.CERTIFICATE: "出具证明",
}


@dataclass(frozen=True)
class NextStep:
    step: str
    label: str
    #: the office that takes it
    office_id: str
    #: allowed now; else ``blocked`` says what is missing (the same message a 409 gives)
    allowed: bool
    blocked: str | None = None


@dataclass(frozen=True)
class Deadline:
    name: str
    due: str
    done: bool
    overdue: bool


@dataclass(frozen=True)
class CaseEventView:
    seq: int
    stage: str
    stage_label: str
    on: str
    at: str
    actor: str
    office_id: str | None
    document_id: str | None
    version: int | None
    note: str | None


@dataclass(frozen=True)
class CasePersonView:
    name: str
    role: str
    #: masked for staff screens (first 6 and last 4)
    id_masked: str
    holds: bool


@dataclass(frozen=True)
class CaseView:
    """What staff on the case's route see of a case."""

    id: str
    kind: str
    kind_label: str
    application_id: str
    village_id: str
    township_id: str | None
    county_id: str | None
    applicant_name: str
    category: str | None
    stage: str
    stage_label: str
    outcome: str
    outcome_label: str
    received_on: str | None
    last_on: str
    facts: dict[str, Any]
    persons: list[CasePersonView]
    events: list[CaseEventView]
    deadlines: list[Deadline]
    next_steps: list[NextStep]
    overdue: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mask_id(id_number: str) -> str:
    return f"{id_number[:6]}{'*' * 8}{id_number[-4:]}" if len(id_number) == 18 else "******"


def persons_of(data: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The ID numbers an application names: the applicant's and each member's (id number, name, role), once each."""
    out: dict[str, tuple[str, str, str]] = {}
    applicant = data.get("applicant") or {}
    if applicant.get("id_number"):
        out[str(applicant["id_number"]).upper()] = (str(applicant["id_number"]).upper(),
                                                    str(applicant.get("name") or ""), "applicant")
    for m in data.get("members") or []:
        number = str((m or {}).get("id_number") or "").upper()
        if number and number not in out:
            out[number] = (number, str(m.get("name") or ""), "member")
    return list(out.values())


def _conflict(message: str, code: str) -> ConflictError:
    return ConflictError(message, code=code)


class CaseBook:
    """The case register and its order. Methods taking a ``session`` run inside the caller's transaction."""

    def __init__(self, *, db: Database, clock: Clock, rules: LocalRules) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules
        #: working days: decision (from 受理), decision in special cases, refusal notice, re-investigation
        self.limits = dict(rules.case_deadlines)

    # -- opening ----------------------------------------------------------------------------------------------
    def open(self, session: Session, who: Principal, doc: DocumentRow) -> CaseRow | None:
        """Open the case of a newly filed application (flushes: a person held by another case fails here on the
        database's unique index). A re-filed application (``doc.replaces_id``) takes its old one's place."""
        kind = CASE_FAMILIES.get(doc.family)
        if kind is None or doc.data is None:
            return None
        today = self.clock.today()
        if doc.replaces_id is not None:
            row = store.case_of_application(session, doc.replaces_id)
            if row is not None:
                self._require(row, Step.RECREATE)
                store.move(session, row, row.lock_version, application_id=doc.id, stage=CaseStage.FILED.value,
                           last_on=max(today, row.last_on))
                store.add_event(session, row.id, stage=CaseStage.FILED.value, on=today, actor=who.actor,
                                office_id=who.office_id, document_id=doc.id, version=1, note="重新填报")
                return row
        data = doc.data
        route = list(doc.route)
        row = CaseRow(id=secrets.token_hex(16), kind=kind, application_id=doc.id, village_id=route[0],
                      township_id=route[1] if len(route) > 1 else None,
                      county_id=route[2] if len(route) > 2 else None,
                      applicant_name=str((data.get("applicant") or {}).get("name") or "")[:40],
                      category=str(data["category"]) if data.get("category") else None,
                      stage=CaseStage.FILED.value, outcome=CaseOutcome.OPEN.value, facts={}, last_on=today,
                      opened_at=utcnow())
        store.add_case(session, row, persons_of(data))
        store.add_event(session, row.id, stage=CaseStage.FILED.value, on=today, actor=who.actor,
                        office_id=who.office_id, document_id=doc.id, version=1)
        return row

    def edited(self, session: Session, who: Principal, row: CaseRow, doc: DocumentRow, *, version: int) -> None:
        """A draft application edited in place: its case names the new applicant and category and holds the new
        people (a person another case holds fails on the unique index, in the caller's transaction)."""
        if row.stage != CaseStage.FILED.value or doc.data is None:
            raise _conflict(f"案件当前为「{CaseStage(row.stage).label}」，申请不能再修改", "CASE_OUT_OF_ORDER")
        data = doc.data
        store.replace_persons(session, row.id, persons_of(data))
        store.move(session, row, row.lock_version,
                   applicant_name=str((data.get("applicant") or {}).get("name") or "")[:40],
                   category=str(data["category"]) if data.get("category") else None)
        store.add_event(session, row.id, stage=CaseStage.FILED.value, on=self.clock.today(), actor=who.actor,
                        office_id=who.office_id, document_id=doc.id, version=version, note="修改草稿")

    def deleted(self, session: Session, row: CaseRow, doc: DocumentRow) -> None:
        """A draft application deleted: its case goes with it when the draft is all it ever had (filed, never
        returned and re-filed, no scans or papers); anything more is kept, and the draft must be withdrawn."""
        if (row.stage != CaseStage.FILED.value or doc.replaces_id is not None or (row.facts or {}).get("papers")
                or store.has_scans(session, row.id)):
            raise _conflict("案件中已有其他材料（退回后重新填报、扫描件或文书），草稿不能删除；"
                            "申请人不再申请的，请撤回申请", "CASE_HAS_HISTORY")
        store.delete_case(session, row.id)

    def open_imported(self, session: Session, who: Principal, doc: DocumentRow, *, applicant: str) -> CaseRow | None:
        """The case of an application sealed offline by the village and imported: it starts sealed. Its people's
        ID numbers are not in the file's facts, so one-open-case-per-person cannot be checked for it (the
        township sees the case marked as imported)."""
        kind = CASE_FAMILIES.get(doc.family)
        if kind is None:
            return None
        today = self.clock.today()
        route = list(doc.route)
        row = CaseRow(id=secrets.token_hex(16), kind=kind, application_id=doc.id, village_id=route[0],
                      township_id=route[1] if len(route) > 1 else None,
                      county_id=route[2] if len(route) > 2 else None, applicant_name=applicant[:40], category=None,
                      stage=CaseStage.SEALED.value, outcome=CaseOutcome.OPEN.value, facts={"imported": True},
                      last_on=today, opened_at=utcnow())
        store.add_case(session, row, [])
        store.add_event(session, row.id, stage=CaseStage.SEALED.value, on=today, actor=who.actor,
                        office_id=who.office_id, document_id=doc.id, version=1, note="导入村级盖章件")
        return row

    def holder(self, data: Mapping[str, Any], *, besides: str | None = None) -> tuple[CaseRow, str] | None:
        """The case that already holds one of the people this application names, and which person (``besides``:
        the case being edited, which holds its own people)."""
        numbers = [p[0] for p in persons_of(data)]
        with self.db.session() as session:
            found = store.holder_of(session, numbers, besides=besides)
            if found is None:
                return None
            row, person = found
            session.expunge(row)
            return row, f"{person.name}（{mask_id(person.id_number)}）"

    # -- the order --------------------------------------------------------------------------------------------
    def of_document(self, session: Session, document_id: str) -> CaseRow | None:
        return store.case_of_application(session, document_id)

    def _require(self, row: CaseRow, step: str, *, tier: Tier | None = None) -> None:
        blocked = self.blocked(row, step, tier=tier)
        if blocked is not None:
            raise _conflict(blocked[0], blocked[1])

    def check(self, row: CaseRow, action: Action, tier: Tier) -> str:
        """The case step a document action is, refused (409, naming what is missing) unless it may happen now."""
        step = self.step_of(row, action, tier)
        self._require(row, step, tier=tier)
        return step

    @staticmethod
    def step_of(row: CaseRow, action: Action, tier: Tier) -> str:
        if action is Action.SEAL:
            return Step.SEAL
        if action is Action.RETURN:
            return Step.RETURN
        if action is Action.RECREATE:
            return Step.RECREATE
        if action is Action.SUBMIT:
            return Step.SUBMIT if tier is Tier.VILLAGE else Step.REPORT
        if action is Action.ACCEPT:
            return Step.PRELIMINARY if tier is Tier.TOWNSHIP else Step.DECIDE
        return str(action.value)

    def blocked(self, row: CaseRow, step: str, *, tier: Tier | None = None) -> tuple[str, str] | None:
        """Why ``step`` may not happen now (message, code), or None. The one statement of 57号's order."""
        stage = CaseStage(row.stage)
        if not stage.open and step not in (Step.ANNOUNCE, Step.CERTIFICATE):
            return f"案件已{stage.label}，不能再{STEP_LABELS.get(step, step)}", "CASE_CLOSED"
        facts = row.facts or {}
        today = self.clock.today()
        notice = facts.get("notice") or {}
        need: dict[str, tuple[set[CaseStage], str]] = {
            Step.SEAL: ({CaseStage.FILED}, "申请尚未填报或已盖章"),
            Step.SUBMIT: ({CaseStage.SEALED}, "村级尚未盖章"),
            Step.WITHDRAW: ({CaseStage.FILED, CaseStage.SEALED, CaseStage.RETURNED}, "申请已报送乡镇，不能由村级撤回"),
            Step.RECREATE: ({CaseStage.RETURNED}, "申请未被退回"),
            Step.RETURN: ({CaseStage.RECEIVED, CaseStage.REPORTED}, "只有刚受理（尚未初审）或刚报县的申请可以退回"),
            Step.PRELIMINARY: ({CaseStage.RECEIVED}, "乡镇尚未受理该申请，或已初审"),
            Step.REFUSE: ({CaseStage.RECEIVED, CaseStage.PRELIMINARY, CaseStage.OBJECTION, CaseStage.REPORTED},
                          "当前环节不能作出不予确认"),
        }
        if step in need:
            stages, missing = need[step]
            if stage not in stages:
                return f"{missing}（案件当前为「{stage.label}」），不能{STEP_LABELS[step]}", "CASE_OUT_OF_ORDER"
            if step == Step.REFUSE and tier is not None:
                mine = {CaseStage.REPORTED} if tier is Tier.COUNTY else {CaseStage.RECEIVED, CaseStage.PRELIMINARY,
                                                                          CaseStage.OBJECTION}
                if stage not in mine:
                    by = "县级民政部门" if stage is CaseStage.REPORTED else "乡镇"
                    return f"案件当前为「{stage.label}」，应由{by}作出决定", "CASE_OUT_OF_ORDER"
            return None
        if step == Step.NOTICE:
            if row.kind != "dibao":
                return "临时救助不需要公示", "NO_NOTICE_FOR_RELIEF"
            if stage is not CaseStage.PRELIMINARY:
                return f"只有乡镇已初审、尚未公示的申请可以公示（案件当前为「{stage.label}」）", "CASE_OUT_OF_ORDER"
            return None
        if step == Step.REPUBLISH:
            if stage is not CaseStage.OBJECTION:
                return "只有公示有异议的申请需要复查后重新公示", "CASE_OUT_OF_ORDER"
            return None
        if step == Step.REPORT:
            if row.kind == "relief":
                if stage is not CaseStage.PRELIMINARY:
                    return f"乡镇尚未初审（案件当前为「{stage.label}」），不能报送县级", "PRELIMINARY_MISSING"
                return None
            if stage in (CaseStage.RECEIVED, CaseStage.SEALED, CaseStage.FILED):
                return "乡镇尚未初审，不能报送县级", "PRELIMINARY_MISSING"
            if stage is CaseStage.PRELIMINARY:
                return (f"尚未在申请人所在村（社区）公示（{self.rules.notice.days}天），不能报送县级"
                        f"（民发〔2021〕57号第十九条）", "NOTICE_MISSING")
            if stage is CaseStage.OBJECTION:
                return "公示有未处理的异议：请复查后重新公示或作出不予确认，不能报送县级", "OPEN_OBJECTION"
            if stage is CaseStage.NOTICE:
                end = dt.date.fromisoformat(notice["end"])
                if today <= end:
                    return (f"公示期未满（{cn_date(dt.date.fromisoformat(notice['start']))}至{cn_date(end)}），"
                            f"{cn_date(end + dt.timedelta(days=1))}起方可报送县级", "NOTICE_RUNNING")
                return None
            return f"案件当前为「{stage.label}」，不能报送县级", "CASE_OUT_OF_ORDER"
        if step == Step.DECIDE:
            if stage is CaseStage.REPORTED:
                return None
            if stage is CaseStage.NOTICE:
                end = dt.date.fromisoformat(notice["end"])
                return (f"公示期{'未满' if today <= end else '已满但乡镇尚未报送县级'}"
                        f"（至{cn_date(end)}），县级不能审核确认", "NOTICE_RUNNING" if today <= end else "NOT_REPORTED")
            if stage is CaseStage.OBJECTION:
                return "公示有未处理的异议，县级不能审核确认", "OPEN_OBJECTION"
            if stage is CaseStage.PRELIMINARY and row.kind == "dibao":
                return "尚未公示，县级不能审核确认", "NOTICE_MISSING"
            return f"乡镇尚未报送县级（案件当前为「{stage.label}」），不能审核确认", "NOT_REPORTED"
        if step == Step.ANNOUNCE:
            if stage is not CaseStage.APPROVED or row.kind != "dibao":
                return f"只有已审核确认、尚未公布的低保案件可以公布（案件当前为「{stage.label}」）", "CASE_OUT_OF_ORDER"
            return None
        if step == Step.CERTIFICATE:
            if row.kind != "dibao" or stage not in (CaseStage.APPROVED, CaseStage.ANNOUNCED) \
                    or row.outcome != CaseOutcome.APPROVED:
                return f"只有已审核确认的低保案件可以出具证明（案件当前为「{stage.label}」）", "NOT_APPROVED"
            return None
        return None

    # -- facts a tier fixes -----------------------------------------------------------------------------------
    def preliminary_figures(self, session: Session, row: CaseRow, doc: DocumentRow,
                            decision: Mapping[str, Any] | None) -> dict[str, Any]:
        """The township's 初审 figures: as given, or by the one rule from the form (persons: the household). The
        公示 has not happened yet, so its dates are not the township's to state here."""
        decision = dict(decision or {})
        early = sorted(k for k in ("notice_from", "notice_to", "objection") if k in decision)
        if early:
            raise TemplateDataError(
                [FieldProblem(f"decision.{k}", "公示尚未进行：公示期由系统在公示发布后记录，初审时不能填写")
                 for k in early], "初审意见不能写入尚未进行的公示")
        if row.kind != "dibao":
            return decision
        figures = self.computed(doc)
        decision.setdefault("persons", figures["persons"])
        decision.setdefault("monthly_amount", figures["monthly_amount"])
        return decision

    def computed(self, doc: DocumentRow, persons: int | None = None) -> dict[str, Any]:
        """The amount by the one rule (signer.decision.dibao_amount) from the form's own figures and the
        standard of its 申请类别: what the desk proposes and the township's 初审 defaults to."""
        data = doc.data or {}
        members = data.get("members") or []
        size = max(len(members), 1)
        total = sum((Decimal(str(m.get("monthly_income") or "0")) for m in members), Decimal("0"))
        standard = self.rules.dibao_standard(data.get("category"))
        count = persons or size
        amount = dibao_amount(standard, total / size, count, total_income=total, household_size=size)
        return {"persons": count, "category": data.get("category"), "standard": str(standard),
                "per_capita_income": str(amount.per_capita_income), "income_gap": str(amount.income_gap),
                "monthly_amount": str(amount.monthly_amount), "household_size": size, "total_income": str(total)}

    def check_decision(self, row: CaseRow, decision: Mapping[str, Any] | None) -> dict[str, Any]:
        """The county's 审核确认 must fix every figure of art. 21, with the standard of the application's
        申请类别 (a different standard is another category's, never this one's)."""
        decision = dict(decision or {})
        if row.kind != "dibao":
            if row.kind == "relief" and decision.get("approved_amount") is None:
                raise TemplateDataError([FieldProblem("decision.approved_amount", "必填")], "县级审批须填写审批金额")
            return decision
        missing = [k for k in ("persons", "category", "standard", "monthly_amount", "start_month")
                   if decision.get(k) in (None, "")]
        if missing:
            raise TemplateDataError([FieldProblem(f"decision.{k}", "必填") for k in missing],
                                    "审核确认须同时核定保障人数、类别、标准、金额和起始发放月份（民发〔2021〕57号第二十一条）")
        if (decision.get("method") or "差额") == "差额":
            expected = self.rules.dibao_standard(row.category)
            try:
                given = Decimal(str(decision["standard"])).quantize(CENT)
            except ArithmeticError:
                given = None
            if given != expected:
                raise TemplateDataError([FieldProblem(
                    "decision.standard", f"申请类别为「{row.category}」，适用的低保标准为 {money(expected)} 元"
                                         f"（实际填写 {decision['standard']}）")], "保障标准与申请类别不符")
        return decision

    def default_opinion(self, session: Session, row: CaseRow, tier: Tier) -> str | None:
        """The county's default 低保 opinion, stating the case's real 公示 (dates and village); None: the tier's
        fixed wording applies (templates/form_text.py)."""
        notice = (row.facts or {}).get("notice")
        if tier is not Tier.COUNTY or row.kind != "dibao" or not notice:
            return None
        village = repositories.office_names(session, [row.village_id]).get(row.village_id, "")
        village = village.removesuffix("村民委员会").removesuffix("居民委员会")
        start, end = dt.date.fromisoformat(notice["start"]), dt.date.fromisoformat(notice["end"])
        return (f"该户已于{cn_date(start)}至{cn_date(end)}在{village}公示"
                f"，无异议。经审核确认，该家庭符合最低生活保障条件，同意纳入最低生活保障，自次月起发放保障金。")

    def relief_closes_at_township(self, decision: Mapping[str, Any] | None) -> bool:
        """临时救助: the township approved an amount within its limit — the case ends there."""
        approved = (decision or {}).get("approved_amount")
        if approved is None:
            return False
        return relief_approver(Decimal(str(approved)), township_limit=self.rules.relief_township_limit) \
            is Tier.TOWNSHIP

    # -- recording ----------------------------------------------------------------------------------------------
    def record(self, session: Session, row: CaseRow, stage: CaseStage, who: Principal | None, *,
               document_id: str | None = None, version: int | None = None, note: str | None = None,
               facts: Mapping[str, Any] | None = None, outcome: CaseOutcome | None = None,
               received: bool = False, actor: str | None = None, office_id: str | None = None) -> None:
        """Move the case to ``stage`` today (never before its last stage), record the event and the facts."""
        today = self.clock.today()
        if today < row.last_on:
            raise _conflict(f"日期早于案件上一环节（{cn_date(row.last_on)}），不能办理", "DATE_ORDER")
        values: dict[str, Any] = {"stage": stage.value, "last_on": today}
        if facts:
            values["facts"] = {**(row.facts or {}), **facts}
        if received:
            values["received_on"] = today
        if outcome is not None:
            values["outcome"] = outcome.value
            if outcome in (CaseOutcome.REFUSED, CaseOutcome.WITHDRAWN):
                values["closed_at"] = utcnow()
                store.release_persons(session, row.id)
            elif outcome is CaseOutcome.APPROVED:
                values["closed_at"] = utcnow()
        store.move(session, row, row.lock_version, **values)
        store.add_event(session, row.id, stage=stage.value, on=today, actor=actor or (who.actor if who else "system"),
                        office_id=office_id or (who.office_id if who else None), document_id=document_id,
                        version=version, note=note)

    def after_document(self, session: Session, row: CaseRow, who: Principal, step: str, *, version: int | None,
                       decision: Mapping[str, Any] | None = None, reason: str | None = None,
                       document_id: str | None = None) -> None:
        """What a document transition means for its case (called in the transition's transaction)."""
        doc_id = document_id or row.application_id
        today = self.clock.today().isoformat()
        if step == Step.SEAL:
            self.record(session, row, CaseStage.SEALED, who, document_id=doc_id, version=version)
        elif step == Step.SUBMIT:
            # 受理 is the township's act (it happens as the file reaches it): recorded as the township's, with
            # the village clerk who sent it in the note (the audit chain has the submit under the clerk's name)
            self.record(session, row, CaseStage.RECEIVED, who, document_id=doc_id, received=True,
                        actor=RECEIVED_BY, office_id=row.township_id or who.office_id,
                        note=f"村级报送（{who.actor}）")
        elif step == Step.RETURN:
            self.record(session, row, CaseStage.RETURNED, who, document_id=doc_id, note=reason,
                        facts={"township": None, "notice": None})
        elif step == Step.PRELIMINARY:
            fixed = {**dict(decision or {}), "on": today}
            if row.kind == "relief" and self.relief_closes_at_township(decision):
                self.record(session, row, CaseStage.APPROVED, who, document_id=doc_id, version=version,
                            facts={"township": fixed, "decision": {**fixed, "by": "township"}},
                            outcome=CaseOutcome.APPROVED, note="乡镇审批权限内，案件办结")
            else:
                self.record(session, row, CaseStage.PRELIMINARY, who, document_id=doc_id, version=version,
                            facts={"township": fixed})
        elif step == Step.REPORT:
            self.record(session, row, CaseStage.REPORTED, who, document_id=doc_id)
        elif step == Step.DECIDE:
            self.record(session, row, CaseStage.APPROVED, who, document_id=doc_id, version=version,
                        facts={"decision": {**dict(decision or {}), "on": today, "by": "county"}},
                        outcome=CaseOutcome.APPROVED)
        elif step == Step.REFUSE:
            self.record(session, row, CaseStage.REFUSED, who, document_id=doc_id, note=reason,
                        facts={"refusal": {"reason": reason, "on": today, "by": who.tier.value}},
                        outcome=CaseOutcome.REFUSED)
        elif step == Step.WITHDRAW:
            self.record(session, row, CaseStage.WITHDRAWN, who, document_id=doc_id, note=reason,
                        outcome=CaseOutcome.WITHDRAWN)

    # -- the 公示 and 公布 (called by the publication service in its transactions) ---------------------------------
    def on_notice_published(self, session: Session, who: Principal, application_ids: list[str], *,
                            document_id: str, public_id: str, start: dt.date, end: dt.date, version: int) -> None:
        for row in store.cases_of_applications(session, application_ids).values():
            if not (version > 1 and row.stage == CaseStage.NOTICE):  # carried over onto the new version
                self._require(row, Step.NOTICE if row.stage != CaseStage.OBJECTION else Step.REPUBLISH)
            if start < row.last_on:
                raise _conflict(f"公示开始日期{cn_date(start)}早于案件上一环节（{cn_date(row.last_on)}）", "DATE_ORDER")
            self.record(session, row, CaseStage.NOTICE, who, document_id=document_id, version=1,
                        note=f"公示 {cn_date(start)}至{cn_date(end)}",
                        facts={"notice": {"document_id": document_id, "public_id": public_id,
                                          "start": start.isoformat(), "end": end.isoformat(), "version": version}})

    def check_postable(self, session: Session, application_ids: list[str], *, republish: bool = False) -> None:
        for row in store.cases_of_applications(session, application_ids).values():
            self._require(row, Step.REPUBLISH if republish and row.stage == CaseStage.OBJECTION else Step.NOTICE)

    def on_publication_withdrawn(self, session: Session, who: Principal, application_ids: list[str],
                                 document_id: str, *, result: bool) -> None:
        """A withdrawn 公示 puts its cases back at 初审 (to be posted again); a withdrawn 结果公布 puts them back
        at 审核确认 (to be announced again)."""
        for row in store.cases_of_applications(session, application_ids).values():
            if result and row.stage == CaseStage.ANNOUNCED:
                self.record(session, row, CaseStage.APPROVED, who, document_id=document_id, note="结果公布已撤回",
                            facts={"announced": None})
            elif not result and row.stage in (CaseStage.NOTICE, CaseStage.OBJECTION) \
                    and (row.facts.get("notice") or {}).get("document_id") == document_id:
                self.record(session, row, CaseStage.PRELIMINARY, who, document_id=document_id, note="公示已撤回",
                            facts={"notice": None})

    def on_objection(self, session: Session, who: Principal, application_id: str, document_id: str,
                     summary: str) -> None:
        row = store.case_of_application(session, application_id)
        if row is not None and row.stage == CaseStage.NOTICE:
            self.record(session, row, CaseStage.OBJECTION, who, document_id=document_id, note="公示期间收到异议",
                        facts={"objection": {"on": self.clock.today().isoformat(), "notice": document_id}})

    def on_result_published(self, session: Session, who: Principal, application_ids: list[str], *,
                            document_id: str, public_id: str) -> None:
        for row in store.cases_of_applications(session, application_ids).values():
            self._require(row, Step.ANNOUNCE)
            self.record(session, row, CaseStage.ANNOUNCED, who, document_id=document_id, version=1,
                        facts={"announced": {"document_id": document_id, "public_id": public_id,
                                             "on": self.clock.today().isoformat()}})

    def on_certificate(self, session: Session, who: Principal, row: CaseRow, *, document_id: str,
                       public_id: str) -> None:
        certificates = [*(row.facts.get("certificates") or []),
                        {"document_id": document_id, "public_id": public_id, "on": self.clock.today().isoformat()}]
        store.move(session, row, row.lock_version, facts={**row.facts, "certificates": certificates})
        store.add_event(session, row.id, stage=row.stage, on=self.clock.today(), actor=who.actor,
                        office_id=who.office_id, document_id=document_id, version=1, note="出具证明")

    def refusal_notified(self, who: Principal, case_id: str) -> CaseView:
        """The township records that the applicant was told of the refusal in writing (with the reasons and the
        right to 行政复议 or 行政诉讼); the deadline on the case page is then met."""
        with self.db.session() as session:
            row = store.case(session, case_id)
            doc = repositories.document(session, row.application_id)
            if who.office_id != row.township_id or not may_see(who, doc.route, doc.reached):
                raise NotFoundError("没有这个案件，或它不属于本单位", code="UNKNOWN_CASE")
            refusal = dict((row.facts or {}).get("refusal") or {})
            if row.stage != CaseStage.REFUSED or not refusal:
                raise _conflict("案件未作出不予确认决定，无需告知", "CASE_OUT_OF_ORDER")
            if refusal.get("notified_on"):
                raise _conflict(f"已于{refusal['notified_on']}登记书面告知", "ALREADY_NOTIFIED")
            today = self.clock.today()
            refusal["notified_on"] = today.isoformat()
            store.move(session, row, row.lock_version, facts={**row.facts, "refusal": refusal})
            store.add_event(session, row.id, stage=row.stage, on=today, actor=who.actor, office_id=who.office_id,
                            note="已书面告知申请人不予确认的理由及复议、诉讼权利")
            return self._view(session, row, doc, who)

    # -- reading --------------------------------------------------------------------------------------------------
    def get(self, who: Principal, case_id: str) -> CaseView:
        with self.db.session() as session:
            row = store.case(session, case_id)
            doc = repositories.document(session, row.application_id)
            if not may_see(who, doc.route, doc.reached):
                raise NotFoundError("没有这个案件，或它不属于本单位", code="UNKNOWN_CASE")
            return self._view(session, row, doc, who)

    def get_for_document(self, who: Principal, document_id: str) -> CaseView | None:
        with self.db.session() as session:
            row = store.case_of_application(session, document_id)
            if row is None:
                return None
            doc = repositories.document(session, row.application_id)
            if not may_see(who, doc.route, doc.reached):
                return None
            return self._view(session, row, doc, who)

    def listing(self, who: Principal, *, limit: int = 200) -> list[CaseView]:
        with self.db.session() as session:
            rows = store.visible_cases(session, who.office_id, who.tier.value, limit=limit)
            out = []
            for row in rows:
                doc = repositories.document(session, row.application_id)
                if may_see(who, doc.route, doc.reached):
                    out.append(self._view(session, row, doc, who))
            return out

    def next_steps(self, row: CaseRow, doc: DocumentRow) -> list[NextStep]:
        stage = CaseStage(row.stage)
        village, township, county = row.village_id, row.township_id or "", row.county_id or ""
        candidates: list[tuple[str, str]] = {
            CaseStage.FILED: [(Step.SEAL, village), (Step.WITHDRAW, village)],
            CaseStage.SEALED: [(Step.SUBMIT, village), (Step.WITHDRAW, village)],
            CaseStage.RETURNED: [(Step.RECREATE, village), (Step.WITHDRAW, village)],
            CaseStage.RECEIVED: [(Step.PRELIMINARY, township), (Step.RETURN, township), (Step.REFUSE, township)],
            CaseStage.PRELIMINARY: ([(Step.NOTICE, township), (Step.REPORT, township), (Step.REFUSE, township)]
                                    if row.kind == "dibao" else [(Step.REPORT, township), (Step.REFUSE, township)]),
            CaseStage.NOTICE: [(Step.REPORT, township)],
            CaseStage.OBJECTION: [(Step.REPUBLISH, township), (Step.REFUSE, township)],
            CaseStage.REPORTED: [(Step.DECIDE, county), (Step.REFUSE, county), (Step.RETURN, county)],
            CaseStage.APPROVED: ([(Step.ANNOUNCE, county), (Step.CERTIFICATE, township), (Step.CERTIFICATE, county)]
                                 if row.kind == "dibao" else []),
            CaseStage.ANNOUNCED: [(Step.CERTIFICATE, township), (Step.CERTIFICATE, county)],
        }.get(stage, [])
        out = []
        for step, office in candidates:
            blocked = self.blocked(row, step, tier=_tier_of(row, office))
            out.append(NextStep(step, STEP_LABELS[step], office, blocked is None, blocked[0] if blocked else None))
        return out

    def deadlines(self, row: CaseRow, session: Session) -> list[Deadline]:
        """57号's time limits as working days from their start (local values are settings)."""
        today = self.clock.today()
        out: list[Deadline] = []
        facts = row.facts or {}
        if row.received_on is not None:
            days = self.limits["decide_special" if facts.get("special") else "decide"]
            due = self.working_days_after(row.received_on, days)
            done = row.outcome != CaseOutcome.OPEN
            out.append(Deadline(f"审核确认（受理后{days}个工作日内）", due.isoformat(), done, not done and today > due))
        objection = facts.get("objection")
        if objection:
            due = self.working_days_after(dt.date.fromisoformat(objection["on"]), self.limits["reinvestigate"])
            done = row.stage != CaseStage.OBJECTION
            out.append(Deadline(f"异议复查（{self.limits['reinvestigate']}个工作日内）", due.isoformat(), done,
                                not done and today > due))
        refusal = facts.get("refusal")
        if refusal:
            due = self.working_days_after(dt.date.fromisoformat(refusal["on"]), self.limits["refusal_notice"])
            done = bool(refusal.get("notified_on"))
            out.append(Deadline(f"书面告知申请人（{self.limits['refusal_notice']}个工作日内）", due.isoformat(),
                                done, not done and today > due))
        return out

    def working_days_after(self, start: dt.date, days: int) -> dt.date:
        """The last day of ``days`` working days counted from the day after ``start``."""
        from signer.decision import NoticeRule

        rule = NoticeRule(days, True, self.rules.notice.holidays, self.rules.notice.workdays)
        return rule.end(start + dt.timedelta(days=1))

    def _view(self, session: Session, row: CaseRow, doc: DocumentRow, who: Principal | None) -> CaseView:
        events = [CaseEventView(e.seq, e.stage, CaseStage(e.stage).label, e.on.isoformat(),
                                e.at.isoformat(timespec="seconds"), e.actor, e.office_id, e.document_id, e.version,
                                e.note) for e in store.events(session, row.id)]
        persons = [CasePersonView(p.name, p.role, mask_id(p.id_number), p.holds)
                   for p in store.persons(session, row.id)]
        deadlines = self.deadlines(row, session)
        stage, outcome = CaseStage(row.stage), CaseOutcome(row.outcome)
        return CaseView(row.id, row.kind, KIND_LABELS[row.kind], row.application_id, row.village_id, row.township_id,
                        row.county_id, row.applicant_name, row.category, row.stage, stage.label, row.outcome,
                        outcome.label, row.received_on.isoformat() if row.received_on else None,
                        row.last_on.isoformat(), dict(row.facts or {}), persons, events, deadlines,
                        self.next_steps(row, doc), any(d.overdue for d in deadlines))


def _tier_of(row: CaseRow, office_id: str) -> Tier:
    if office_id == row.village_id:
        return Tier.VILLAGE
    if office_id == row.township_id:
        return Tier.TOWNSHIP
    return Tier.COUNTY
