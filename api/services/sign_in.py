"""Sign-in with a guard against guessing: failures are counted per account and per client address (in the
database, shared by all workers). Past the account's limit the account is locked — the right password too —
until the window passes or an admin lifts the lockout; past the address's limit that address must wait.
Lockouts and unlocks go to the audit chain."""

from __future__ import annotations

from dataclasses import dataclass

from api.services.identity import IdentityService, Principal
from api.services.throttle import Throttle
from api.storage import audit
from api.storage import users as user_rows
from api.storage.engine import Database
from signer.errors import NotSignedInError, ThrottledError

ACCOUNT, ADDRESS = "signin-account", "signin-address"


@dataclass(frozen=True)
class SignInLimits:
    account_failures: int
    address_failures: int
    window_s: int


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    token: str
    csrf: str


def _account(username: str) -> str:
    return username.strip().lower()


class SignInGuard:
    def __init__(self, db: Database, identity: IdentityService, throttle: Throttle, limits: SignInLimits) -> None:
        self.db, self.identity, self.throttle, self.limits = db, identity, throttle, limits

    def sign_in(self, username: str, password: str, address: str) -> SignedIn:
        """A browser session for the right password of an account that is not locked, asked from an address that
        has not failed too often; otherwise :class:`NotSignedInError` or :class:`ThrottledError`."""
        window = self.limits.window_s
        with self.db.session() as session:
            failures, left = self.throttle.current(session, ADDRESS, address, window)
            if failures >= self.limits.address_failures:
                raise ThrottledError(f"本机登录失败次数过多，请 {_minutes(left)} 分钟后再试",
                                     code="SIGNIN_THROTTLED", retry_after=left)
            failures, left = self.throttle.current(session, ACCOUNT, _account(username), window)
            if failures >= self.limits.account_failures:
                raise _locked(left)
        try:
            with self.db.session() as session:
                principal = self.identity.authenticate(session, username, password)
                token, csrf = self.identity.open_session(session, principal)
                self.throttle.clear(session, ACCOUNT, _account(username))
                return SignedIn(principal, token, csrf)
        except NotSignedInError as error:
            if error.code == "BAD_CREDENTIALS":
                self._failed(username, address)
            raise

    def _failed(self, username: str, address: str) -> None:
        window = self.limits.window_s
        with self.db.session() as session:
            self.throttle.count(session, ADDRESS, address, window)
            failures, left = self.throttle.count(session, ACCOUNT, _account(username), window)
            if failures == self.limits.account_failures:  # the failure that locks it: once in the audit chain
                user = user_rows.by_name(session, username)
                audit.append(session, actor="system", action="user.locked",
                             office_id=user.office_id if user else None,
                             detail={"username": username[:64], "failures": failures, "address": address,
                                     "minutes": _minutes(left)})

    def locked(self, usernames: list[str]) -> set[str]:
        """Which of these accounts are locked out now."""
        with self.db.session() as session:
            return {name for name in usernames
                    if self.throttle.current(session, ACCOUNT, _account(name), self.limits.window_s)[0]
                    >= self.limits.account_failures}

    def unlock(self, username: str, *, actor: str) -> bool:
        """Lift an account's lockout (an admin, audited); whether it had failures counted."""
        with self.db.session() as session:
            user = self.identity.user(session, username)
            had = self.throttle.clear(session, ACCOUNT, _account(username))
            audit.append(session, actor=actor, action="user.unlock", office_id=user.office_id,
                         detail={"username": username})
        return had


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _locked(left: int) -> ThrottledError:
    return ThrottledError(f"该账号连续登录失败次数过多，已锁定，请 {_minutes(left)} 分钟后再试或请管理员解锁",
                          code="ACCOUNT_LOCKED", retry_after=left)
