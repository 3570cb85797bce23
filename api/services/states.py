"""The workflow's states and transitions, in one table; every status MinSeal stores is an enum here, with its
Chinese label beside it.

A form goes draft → sealed (village seal) → submitted (to the township) → accepted (township countersign) →
submitted (to the county) → approved (county seal). A holder may return a submitted file (退回); a returned file
is closed by re-creating it from its data. A notice or certificate goes draft → issued (the issuing seal).
Each new file of a document is a version of a :class:`VersionKind`; a 公示, 结果公布 or certificate also has a
:class:`PublicationState` (draft → published → superseded / withdrawn / revoked).
"""

from __future__ import annotations

from enum import StrEnum

from api.services.access import Action
from signer.errors import ConflictError


class Status(StrEnum):
    DRAFT = "draft"
    SEALED = "sealed"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    APPROVED = "approved"
    ISSUED = "issued"
    RETURNED = "returned"
    CLOSED = "closed"
    REFUSED = "refused"
    DELETED = "deleted"  # a draft its office deleted: kept for the audit chain, gone from every page (404)

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


class VersionKind(StrEnum):
    """How a version of a document was made."""

    RENDERED = "rendered"
    SEALED = "sealed"  # the first seal (a form's village box, or the issuing seal)
    COUNTERSIGNED = "countersigned"  # a later tier's seal, not the last
    APPROVED = "approved"  # the last tier's seal
    IMPORTED = "imported"
    EDITED = "edited"  # a draft re-rendered from changed data (the earlier file stays as its own version)

    @property
    def label(self) -> str:
        return _VERSION_LABELS[self]

    @property
    def carries_a_seal(self) -> bool:
        """A version that adds an office's seal (one per office and document)."""
        return self in (VersionKind.SEALED, VersionKind.COUNTERSIGNED, VersionKind.APPROVED)


class PublicationKind(StrEnum):
    NOTICE = "notice"  # 公示 (the township's, by village)
    RESULT = "result"  # 结果公布 (the county's)
    CERTIFICATE = "certificate"


class PublicationState(StrEnum):
    """A 公示, 结果公布 or certificate as the public sees it (its document's :class:`Status` is the seal's)."""

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return _PUBLICATION_LABELS[self]

    @property
    def ended(self) -> bool:
        """No longer in force: the public page names the date it ended."""
        return self in (PublicationState.SUPERSEDED, PublicationState.WITHDRAWN, PublicationState.REVOKED)


class CaseStage(StrEnum):
    """Where a case stands (民发〔2021〕57号's order; 临时救助 skips the 公示 and may close at the township)."""

    FILED = "filed"  # the village drafted the application with the resident
    SEALED = "sealed"  # the village sealed its box
    RECEIVED = "received"  # sent to the township: 受理, the deadlines run from here
    RETURNED = "returned"  # returned to the village (退回), to be re-filed
    PRELIMINARY = "preliminary"  # the township's 初审 seal (its figures fixed)
    NOTICE = "notice"  # on a published 公示 in the applicant's village
    OBJECTION = "objection"  # the 公示 drew an objection: re-investigate, re-publish or refuse
    REPORTED = "reported"  # the township reported to the county (after the 公示 ended with no open objection)
    APPROVED = "approved"  # 审核确认 (the county's, or the township's for 临时救助 within its limit)
    ANNOUNCED = "announced"  # on a published 结果公布
    REFUSED = "refused"  # 不予确认 / 终止 with reasons
    WITHDRAWN = "withdrawn"  # the applicant withdrew (撤回申请)

    @property
    def label(self) -> str:
        return _CASE_LABELS[self]

    @property
    def open(self) -> bool:
        return self not in (CaseStage.APPROVED, CaseStage.ANNOUNCED, CaseStage.REFUSED, CaseStage.WITHDRAWN)


class CaseOutcome(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]

    @property
    def holds_persons(self) -> bool:
        """An open case, or a household receiving support, keeps its ID numbers from a new case."""
        return self in (CaseOutcome.OPEN, CaseOutcome.APPROVED)


#: what a posted notice or certificate says while in force, or after its period or validity ran out
IN_FORCE, NOTICE_RUNNING, NOTICE_ENDED, EXPIRED = "有效", "公示中（剩余 {days} 天）", "公示期满", "已过期"
#: a posted notice whose period has not begun (published today, starting tomorrow)
NOTICE_UPCOMING = "即将公示（{start}起，共 {days} 天）"

# one table per enum: members of different StrEnums with the same value are equal (Status.DRAFT == "draft")
_STATUS_LABELS = {
    Status.DRAFT: "草稿（未盖章）", Status.SEALED: "已盖章，待报送", Status.SUBMITTED: "已报送，待审核",
    Status.ACCEPTED: "乡镇已审核，待报送县级", Status.APPROVED: "已审批", Status.ISSUED: "已发布",
    Status.RETURNED: "已退回", Status.CLOSED: "已关闭（已重新填报或撤回）", Status.REFUSED: "不予确认（已办结）",
    Status.DELETED: "已删除（草稿）",
}
_VERSION_LABELS = {
    VersionKind.RENDERED: "生成", VersionKind.SEALED: "盖章", VersionKind.COUNTERSIGNED: "审核签章",
    VersionKind.APPROVED: "审批签章", VersionKind.IMPORTED: "导入",
    VersionKind.EDITED: "修改",
}
_CASE_LABELS = {
    CaseStage.FILED: "村级已填报（未盖章）", CaseStage.SEALED: "村级已盖章，待报送乡镇",
    CaseStage.RECEIVED: "乡镇已受理，待调查初审", CaseStage.RETURNED: "已退回村级",
    CaseStage.PRELIMINARY: "乡镇已初审", CaseStage.NOTICE: "公示中", CaseStage.OBJECTION: "公示有异议，待复查",
    CaseStage.REPORTED: "已报县级，待审核确认", CaseStage.APPROVED: "已审核确认",
    CaseStage.ANNOUNCED: "已审核确认并公布",
    CaseStage.REFUSED: "不予确认", CaseStage.WITHDRAWN: "已撤回申请",
}
_OUTCOME_LABELS = {
    CaseOutcome.OPEN: "办理中", CaseOutcome.APPROVED: "已批准", CaseOutcome.REFUSED: "不予确认",
    CaseOutcome.WITHDRAWN: "已撤回",
}
_PUBLICATION_LABELS = {
    PublicationState.DRAFT: "未发布", PublicationState.PUBLISHED: "有效", PublicationState.SUPERSEDED: "已被新版本取代",
    PublicationState.WITHDRAWN: "已撤回", PublicationState.REVOKED: "已撤销",
}


#: (state, action) → next state; anything else is refused with 409
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SEAL): Status.SEALED,
    (Status.SEALED, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,  # at the last tier: APPROVED (see next_status)
    (Status.ACCEPTED, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.RETURN): Status.RETURNED,
    (Status.RETURNED, Action.RECREATE): Status.CLOSED,
    (Status.SUBMITTED, Action.REFUSE): Status.REFUSED,
    (Status.ACCEPTED, Action.REFUSE): Status.REFUSED,
    (Status.DRAFT, Action.WITHDRAW): Status.CLOSED,
    (Status.SEALED, Action.WITHDRAW): Status.CLOSED,
    (Status.RETURNED, Action.WITHDRAW): Status.CLOSED,
    (Status.DRAFT, Action.EDIT): Status.DRAFT,
    (Status.DRAFT, Action.DELETE): Status.DELETED,
}


def next_status(current: str, action: Action, *, last_tier: bool = False, issuing: bool = False) -> Status:
    state = Status(current)
    if issuing and state is Status.DRAFT and action is Action.SEAL:
        return Status.ISSUED
    try:
        target = TRANSITIONS[(state, action)]
    except KeyError:
        # the last tier's accept is its approval: a county's stale tab says 审批签章, not 审核签章
        word = "审批签章" if action is Action.ACCEPT and last_tier else ACTION_LABELS[action]
        raise ConflictError(f"文书当前状态为「{state.label}」，不能{word}", code="BAD_TRANSITION") from None
    if target is Status.ACCEPTED and last_tier:
        return Status.APPROVED
    return target


ACTION_LABELS = {Action.CREATE: "新建", Action.SEAL: "盖章", Action.SUBMIT: "报送", Action.ACCEPT: "审核签章",
                 Action.RETURN: "退回", Action.RECREATE: "重新填报", Action.IMPORT: "导入", Action.READ: "查看",
                 Action.MANAGE_USERS: "管理用户", Action.READ_AUDIT: "查看审计日志", Action.VERIFY: "核验",
                 Action.REFUSE: "不予确认", Action.WITHDRAW: "撤回申请", Action.EDIT: "修改",
                 Action.DELETE: "删除"}
