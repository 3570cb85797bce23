"""The audit log as an office's admin reads it: the entries of its own office and the offices below, filtered by
office, day and action; and the check of the whole chain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from api.services.access import Action, admin_scope
from api.services.identity import Principal
from api.storage import audit
from api.storage.audit import ChainCheck
from api.storage.engine import Database

#: the most entries one request may ask for
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class AuditEntry:
    """One row of the chain as staff see it."""

    seq: int
    at: dt.datetime
    actor: str
    office_id: str | None
    action: str
    document_id: str | None
    detail: dict[str, Any]
    hash: str


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def scope(self, who: Principal) -> set[str]:
        """The offices whose entries this admin may read (refused, and recorded, for anyone else)."""
        return admin_scope(self.db, who, Action.READ_AUDIT)

    def entries(self, who: Principal, *, office: str | None = None, since: dt.date | None = None,
                until: dt.date | None = None, action: str | None = None, limit: int = 1000,
                newest_first: bool = False) -> list[AuditEntry]:
        """Entries in the admin's scope (of one office, from ``since`` through ``until``, of one action)."""
        scope = self.scope(who)
        offices = scope & {office} if office else scope
        with self.db.session() as session:
            rows = audit.entries(session, offices, since=_start_of(since) if since else None,
                                 until=_start_of(until + dt.timedelta(days=1)) if until else None,
                                 action=action, limit=min(limit, MAX_ENTRIES), newest_first=newest_first)
            return [AuditEntry(r.seq, r.at, r.actor, r.office_id, r.action, r.document_id, r.detail, r.hash)
                    for r in rows]

    def actions(self) -> list[str]:
        with self.db.session() as session:
            return audit.actions(session)

    def check_chain(self) -> ChainCheck:
        """Walk the whole chain: intact, or the first row that does not fit."""
        with self.db.session() as session:
            return audit.verify_chain(audit.chain(session))
