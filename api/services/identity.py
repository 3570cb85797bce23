"""Users, passwords, API tokens and browser sessions; who the caller is (:class:`Principal`).

Passwords are hashed with argon2 (argon2-cffi); API tokens and session tokens are 256-bit random values stored as
SHA-256 (what a database thief gets cannot be replayed). Nothing here decides what a user may do: that is
:mod:`api.services.access`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.storage import audit
from api.storage import users as user_rows
from api.storage.engine import Session
from api.storage.models import UserRow
from signer.errors import ErrorCategory, NotSignedInError, UserError
from signer.pki import Tier


class Role(StrEnum):
    CLERK = "clerk"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"clerk": "经办人", "reviewer": "审核人", "approver": "审批人", "admin": "管理员"}[self.value]


@dataclass(frozen=True)
class Principal:
    """The signed-in caller: one user, one office, one role."""

    user_id: int
    username: str
    display_name: str
    office_id: str
    office_name: str
    tier: Tier
    role: Role

    @property
    def actor(self) -> str:
        return f"{self.username}@{self.office_id}"


_hasher = PasswordHasher()
MIN_PASSWORD = 10


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 位", code="WEAK_PASSWORD")
    return _hasher.hash(password)


def _principal(session: Session, user: UserRow) -> Principal:
    office = user_rows.find_office(session, user.office_id)
    assert office is not None
    return Principal(user.id, user.username, user.display_name, office.id, office.name, Tier(office.tier),
                     Role(user.role))


def active_principal(session: Session, user_id: int) -> Principal | None:
    """The user as a caller, or None when it no longer exists or is disabled (work queued in its name stops)."""
    user = user_rows.by_id(session, user_id)
    if user is None or user.disabled:
        return None
    return _principal(session, user)


class IdentityService:
    def __init__(self, session_minutes: int) -> None:
        self.session_minutes = session_minutes

    # -- users ----------------------------------------------------------------------------------------------
    def add_user(self, session: Session, *, username: str, office_id: str, role: str, password: str,
                 display_name: str | None = None, actor: str = "cli") -> UserRow:
        if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
            raise UserError("用户名只能由字母、数字、- 和 _ 组成（1–64 位）", code="BAD_USERNAME")
        try:
            role_value = Role(role)
        except ValueError:
            raise UserError(f"角色只能是：{'、'.join(r.value for r in Role)}", code="BAD_ROLE") from None
        if user_rows.find_office(session, office_id) is None:
            raise UserError(f"名录中没有编号为「{office_id}」的单位", code="UNKNOWN_OFFICE")
        if user_rows.by_name(session, username) is not None:
            raise UserError(f"用户名「{username}」已存在", code="USER_EXISTS", category=ErrorCategory.CONFLICT)
        user = user_rows.add(session, username=username, display_name=display_name or username,
                             office_id=office_id, role=role_value.value, password_hash=hash_password(password))
        audit.append(session, actor=actor, action="user.add", office_id=office_id,
                     detail={"username": username, "role": role_value.value})
        return user

    def set_disabled(self, session: Session, username: str, disabled: bool, *, actor: str) -> UserRow:
        user = self.user(session, username)
        user.disabled = disabled
        if disabled:  # a disabled user is signed out everywhere and its tokens stop working
            user_rows.sign_out_everywhere(session, user.id)
        audit.append(session, actor=actor, action="user.disable" if disabled else "user.enable",
                     office_id=user.office_id, detail={"username": username})
        return user

    def reset_password(self, session: Session, username: str, password: str, *, actor: str) -> None:
        user = self.user(session, username)
        user.password_hash = hash_password(password)
        audit.append(session, actor=actor, action="user.password", office_id=user.office_id,
                     detail={"username": username})

    def user(self, session: Session, username: str) -> UserRow:
        user = user_rows.by_name(session, username)
        if user is None:
            raise UserError(f"没有用户「{username}」", code="UNKNOWN_USER", category=ErrorCategory.NOT_FOUND)
        return user

    def users(self, session: Session, office_ids: set[str] | None = None) -> list[UserRow]:
        return user_rows.listing(session, office_ids)

    # -- sign-in -------------------------------------------------------------------------------------------
    def authenticate(self, session: Session, username: str, password: str) -> Principal:
        """Same answer for an unknown user and a wrong password (no user enumeration)."""
        user = user_rows.by_name(session, username)
        bad = NotSignedInError("用户名或密码错误", code="BAD_CREDENTIALS")
        if user is None:
            _hasher.hash("timing-equaliser")
            raise bad
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise bad from None
        if user.disabled:
            raise NotSignedInError("该用户已停用", code="USER_DISABLED")
        return _principal(session, user)

    def open_session(self, session: Session, principal: Principal) -> tuple[str, str]:
        """A new browser session: (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        user_rows.add_web_session(session, token_hash=token_hash(token), user_id=principal.user_id,
                                  csrf_token=csrf, expires_at=self._expiry())
        return token, csrf

    def _expiry(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=self.session_minutes)

    def from_session(self, session: Session, token: str) -> tuple[Principal, str]:
        """(caller, CSRF token) of a live session; sliding expiry."""
        row = user_rows.web_session(session, token_hash(token))
        now = dt.datetime.now(dt.UTC)
        if row is None:
            raise NotSignedInError("登录已失效，请重新登录", code="SESSION_EXPIRED")
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
        if expires < now:
            user_rows.end_web_session(session, row)
            raise NotSignedInError("登录已超时，请重新登录", code="SESSION_EXPIRED")
        user = user_rows.by_id(session, row.user_id)
        if user is None or user.disabled:
            raise NotSignedInError("该用户已停用", code="USER_DISABLED")
        row.expires_at = self._expiry()
        return _principal(session, user), row.csrf_token

    def close_session(self, session: Session, token: str) -> None:
        row = user_rows.web_session(session, token_hash(token))
        if row is not None:
            user_rows.end_web_session(session, row)

    # -- API tokens ----------------------------------------------------------------------------------------
    def create_token(self, session: Session, user_id: int, name: str, *, actor: str) -> str:
        """Returns the token once; only its hash is kept."""
        token = "mst_" + secrets.token_urlsafe(32)
        user_rows.add_token(session, user_id=user_id, name=name[:64] or "token", token_hash=token_hash(token))
        user = user_rows.by_id(session, user_id)
        audit.append(session, actor=actor, action="token.create", office_id=user.office_id if user else None,
                     detail={"name": name[:64]})
        return token

    def from_token(self, session: Session, token: str) -> Principal:
        row = user_rows.token(session, token_hash(token))
        if row is None or row.revoked:
            raise NotSignedInError("API 令牌无效或已撤销", code="BAD_TOKEN")
        user = user_rows.by_id(session, row.user_id)
        if user is None or user.disabled:
            raise NotSignedInError("该用户已停用", code="USER_DISABLED")
        return _principal(session, user)
