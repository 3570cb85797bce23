"""Rows of users, API tokens and browser sessions: the queries identity needs, nothing it decides.

Hashing, expiry and who may sign in are :mod:`api.services.identity`'s business; this module finds, adds and
removes rows inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import ApiTokenRow, OfficeRow, UserRow, WebSessionRow


def find_office(session: Session, office_id: str) -> OfficeRow | None:
    return session.get(OfficeRow, office_id)


def by_name(session: Session, username: str) -> UserRow | None:
    return session.execute(select(UserRow).where(UserRow.username == username)).scalar()


def by_id(session: Session, user_id: int) -> UserRow | None:
    return session.get(UserRow, user_id)


def add(session: Session, *, username: str, display_name: str, office_id: str, role: str,
        password_hash: str) -> UserRow:
    """A new user row, flushed so its id is known."""
    user = UserRow(username=username, display_name=display_name, office_id=office_id, role=role,
                   password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def listing(session: Session, office_ids: Iterable[str] | None = None) -> list[UserRow]:
    """Users by office then name; ``office_ids``: only those offices' users."""
    query = select(UserRow).order_by(UserRow.office_id, UserRow.username)
    if office_ids is not None:
        query = query.where(UserRow.office_id.in_(list(office_ids)))
    return list(session.execute(query).scalars())


def sign_out_everywhere(session: Session, user_id: int) -> None:
    """Delete the user's browser sessions and revoke its API tokens."""
    for row in session.execute(select(WebSessionRow).where(WebSessionRow.user_id == user_id)).scalars():
        session.delete(row)
    for tok in session.execute(select(ApiTokenRow).where(ApiTokenRow.user_id == user_id)).scalars():
        tok.revoked = True


def add_web_session(session: Session, *, token_hash: str, user_id: int, csrf_token: str,
                    expires_at: dt.datetime) -> None:
    session.add(WebSessionRow(token_hash=token_hash, user_id=user_id, csrf_token=csrf_token, expires_at=expires_at))


def web_session(session: Session, token_hash: str) -> WebSessionRow | None:
    return session.get(WebSessionRow, token_hash)


def end_web_session(session: Session, row: WebSessionRow) -> None:
    session.delete(row)


def add_token(session: Session, *, user_id: int, name: str, token_hash: str) -> None:
    session.add(ApiTokenRow(user_id=user_id, name=name, token_hash=token_hash))


def token(session: Session, token_hash: str) -> ApiTokenRow | None:
    return session.execute(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)).scalar()
