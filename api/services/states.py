"""The workflow's states and transitions, in one table.

A form goes draft → sealed (village seal) → submitted (to the township) → accepted (township countersign) →
submitted (to the county) → approved (county seal). A holder may return a submitted file (退回); a returned file
is closed by re-creating it from its data. A notice or certificate goes draft → issued (the issuing seal).
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

    @property
    def label(self) -> str:
        return {"draft": "草稿（未盖章）", "sealed": "已盖章，待报送", "submitted": "已报送，待审核",
                "accepted": "乡镇已审核，待报送县级", "approved": "已审批", "issued": "已发布",
                "returned": "已退回", "closed": "已关闭（已重新填报）"}[self.value]


#: (state, action) → next state; anything else is refused with 409
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SEAL): Status.SEALED,
    (Status.SEALED, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,  # at the last tier: APPROVED (see next_status)
    (Status.ACCEPTED, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.RETURN): Status.RETURNED,
    (Status.RETURNED, Action.RECREATE): Status.CLOSED,
}


def next_status(current: str, action: Action, *, last_tier: bool = False, issuing: bool = False) -> Status:
    state = Status(current)
    if issuing and state is Status.DRAFT and action is Action.SEAL:
        return Status.ISSUED
    try:
        target = TRANSITIONS[(state, action)]
    except KeyError:
        raise ConflictError(f"文书当前状态为「{state.label}」，不能{ACTION_LABELS[action]}",
                            code="BAD_TRANSITION") from None
    if target is Status.ACCEPTED and last_tier:
        return Status.APPROVED
    return target


ACTION_LABELS = {Action.CREATE: "新建", Action.SEAL: "盖章", Action.SUBMIT: "报送", Action.ACCEPT: "审核签章",
                 Action.RETURN: "退回", Action.RECREATE: "重新填报", Action.IMPORT: "导入", Action.READ: "查看",
                 Action.MANAGE_USERS: "管理用户", Action.READ_AUDIT: "查看审计日志", Action.VERIFY: "核验"}
