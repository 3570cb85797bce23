"""Who may see and do what: deny by default. One module, so the authorisation matrix is readable in one place.

- a user acts only for its own office;
- a document is visible to the offices on its route that it has reached (the village that made it; its
  township once submitted there; its county once submitted on) — never to another village, township or county;
- clerks create, seal (where their office lets clerks use the seal) and submit; township reviewers accept
  (countersign) and return; county approvers approve and return; admins manage users and seals of their office
  and the offices below it, read the audit log, and never seal documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from api.services.identity import Principal, Role
from api.storage import audit, repositories
from api.storage.engine import Database
from signer.errors import ForbiddenError
from signer.pki import Tier


class Action(StrEnum):
    CREATE = "create"
    SEAL = "seal"
    SUBMIT = "submit"
    ACCEPT = "accept"
    RETURN = "return"
    RECREATE = "recreate"
    IMPORT = "import"
    READ = "read"
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"
    VERIFY = "verify"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    EDIT = "edit"  # change a draft's data in place (not yet sealed)
    DELETE = "delete"  # delete a draft (and the case it alone opened)


#: which role may take which document action, by the tier of the acting office
ROLE_ACTIONS: dict[tuple[Tier, Action], frozenset[Role]] = {
    (Tier.VILLAGE, Action.CREATE): frozenset({Role.CLERK}),
    (Tier.VILLAGE, Action.SEAL): frozenset({Role.CLERK}),
    (Tier.VILLAGE, Action.SUBMIT): frozenset({Role.CLERK}),
    (Tier.VILLAGE, Action.RECREATE): frozenset({Role.CLERK}),
    (Tier.VILLAGE, Action.IMPORT): frozenset({Role.CLERK}),
    (Tier.VILLAGE, Action.WITHDRAW): frozenset({Role.CLERK}),
    (Tier.TOWNSHIP, Action.REFUSE): frozenset({Role.REVIEWER}),
    (Tier.COUNTY, Action.REFUSE): frozenset({Role.APPROVER}),
    (Tier.TOWNSHIP, Action.CREATE): frozenset({Role.CLERK, Role.REVIEWER}),
    (Tier.TOWNSHIP, Action.SEAL): frozenset({Role.CLERK, Role.REVIEWER}),
    (Tier.TOWNSHIP, Action.ACCEPT): frozenset({Role.REVIEWER}),
    (Tier.TOWNSHIP, Action.RETURN): frozenset({Role.REVIEWER}),
    (Tier.TOWNSHIP, Action.SUBMIT): frozenset({Role.REVIEWER}),
    (Tier.TOWNSHIP, Action.IMPORT): frozenset({Role.CLERK, Role.REVIEWER}),
    (Tier.COUNTY, Action.CREATE): frozenset({Role.CLERK, Role.APPROVER}),
    (Tier.COUNTY, Action.SEAL): frozenset({Role.CLERK, Role.APPROVER}),
    (Tier.COUNTY, Action.ACCEPT): frozenset({Role.APPROVER}),
    (Tier.COUNTY, Action.RETURN): frozenset({Role.APPROVER}),
    (Tier.COUNTY, Action.IMPORT): frozenset({Role.CLERK, Role.APPROVER}),
}
# a draft is edited or deleted by those who may file it (the service also requires its office to hold it)
for (_tier, _action), _roles in list(ROLE_ACTIONS.items()):
    if _action is Action.CREATE:
        ROLE_ACTIONS[(_tier, Action.EDIT)] = ROLE_ACTIONS[(_tier, Action.DELETE)] = _roles


def role_may(principal: Principal, action: Action) -> bool:
    if action in (Action.READ, Action.VERIFY):
        return True
    if action in (Action.MANAGE_USERS, Action.READ_AUDIT):
        return principal.role is Role.ADMIN
    return principal.role in ROLE_ACTIONS.get((principal.tier, action), frozenset())


def may_see(principal: Principal, route: Sequence[str], reached: int) -> bool:
    """Visible to the offices of the route the file has reached, nobody else."""
    return principal.office_id in list(route)[: reached + 1]


def manages(principal: Principal, office_id: str, subtree: set[str]) -> bool:
    """An admin manages its own office and every office below it."""
    return principal.role is Role.ADMIN and (office_id == principal.office_id or office_id in subtree)


def admin_scope(db: Database, who: Principal, action: Action) -> set[str]:
    """The offices an admin acts for (its own and every office below it); anyone else is refused, and the refusal
    is recorded in the audit chain."""
    if not role_may(who, action):
        with db.session() as session:
            audit.append(session, actor=who.actor, action="deny", office_id=who.office_id,
                         detail={"action": action.value, "code": "ROLE_FORBIDDEN"})
        raise ForbiddenError("只有管理员可以进行此操作", code="ROLE_FORBIDDEN")
    with db.session() as session:
        return {who.office_id, *repositories.offices_below(session, who.office_id)}
