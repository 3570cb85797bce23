"""Seals and users as an office's admin manages them (the desk's admin pages): only its own office and the offices
below it, every change in the audit chain. The seal authority (api/services/authority) does the PKI work; this module
decides who may ask for it."""

from __future__ import annotations

from pathlib import Path

from api.services.access import Action, manages, role_may
from api.services.authority import CertRecord, SealAuthority, SealStatus
from api.services.documents import seal_font
from api.services.identity import IdentityService, Principal
from api.services.sign_in import SignInGuard
from api.storage import audit, repositories
from api.storage.engine import Database
from signer.errors import ForbiddenError


class OfficeAdmin:
    def __init__(self, db: Database, authority: SealAuthority, identity: IdentityService,
                 sign_in: SignInGuard) -> None:
        self.db, self.authority, self.identity, self.sign_in = db, authority, identity, sign_in

    def scope(self, who: Principal) -> set[str]:
        """The offices this admin manages; anyone else is refused (and the refusal is logged)."""
        if not role_may(who, Action.MANAGE_USERS):
            with self.db.session() as session:
                audit.append(session, actor=who.actor, action="deny", office_id=who.office_id,
                             detail={"action": Action.MANAGE_USERS.value, "code": "ROLE_FORBIDDEN"})
            raise ForbiddenError("只有管理员可以进行此操作", code="ROLE_FORBIDDEN")
        with self.db.session() as session:
            return {who.office_id, *repositories.offices_below(session, who.office_id)}

    def _managed(self, who: Principal, office_id: str) -> None:
        if not manages(who, office_id, self.scope(who)):
            raise ForbiddenError("只能管理本单位及下级单位", code="OTHER_OFFICE")

    # -- users ----------------------------------------------------------------------------------------------
    def set_disabled(self, who: Principal, username: str, disabled: bool) -> None:
        with self.db.session() as session:
            office = self.identity.user(session, username).office_id
        self._managed(who, office)
        if username == who.username and disabled:
            raise ForbiddenError("不能停用自己的账号", code="SELF_DISABLE")
        with self.db.session() as session:
            self.identity.set_disabled(session, username, disabled, actor=who.actor)

    def reset_password(self, who: Principal, username: str, password: str) -> None:
        with self.db.session() as session:
            office = self.identity.user(session, username).office_id
        self._managed(who, office)
        with self.db.session() as session:
            self.identity.reset_password(session, username, password, actor=who.actor)

    def unlock(self, who: Principal, username: str) -> None:
        """Lift a sign-in lockout of a user this admin manages (audited)."""
        with self.db.session() as session:
            office = self.identity.user(session, username).office_id
        self._managed(who, office)
        self.sign_in.unlock(username, actor=who.actor)

    def locked(self, who: Principal, usernames: list[str]) -> set[str]:
        """Which of these users are locked out now."""
        self.scope(who)
        return self.sign_in.locked(usernames)

    # -- seals ----------------------------------------------------------------------------------------------
    def seals(self, who: Principal) -> list[SealStatus]:
        scope = self.scope(who)
        return [s for s in self.authority.status() if s.office.id in scope]

    def seal_image(self, who: Principal, office_id: str) -> Path:
        self._managed(who, office_id)
        return self.authority.seal_image_paths(office_id)[1]

    def change_seal(self, who: Principal, office_id: str, what: str, *, reason: str | None = None) -> CertRecord:
        """``issue`` / ``renew`` / ``revoke`` one office's seal certificate."""
        self._managed(who, office_id)
        if what == "issue":
            record = self.authority.issue(office_id, font=seal_font())
        elif what == "renew":
            record = self.authority.renew(office_id, font=seal_font())
        else:
            record = self.authority.revoke(office_id, reason=reason or "")
        with self.db.session() as session:
            audit.append(session, actor=who.actor, action=f"seal.{what}", office_id=office_id,
                         detail={"serial": record.serial, **({"reason": reason} if reason else {})})
        return record
