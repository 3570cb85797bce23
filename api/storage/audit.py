"""The audit chain (用印日志 and every accept, return, import, denial, user or seal change).

Each row's hash covers its content and the previous row's hash, so an edited, deleted or reordered row breaks
the chain at a place :func:`verify_chain` names. Appends serialise on the chain's head: the next sequence number
is the primary key, so two writers racing for it cannot both commit. On SQLite the write transaction (BEGIN
IMMEDIATE) already serialises appends; on PostgreSQL :func:`lock_chain` takes a transaction-scoped advisory lock
first, so the next writer reads the head only after the previous one committed (a row lock on the head alone is not
enough under READ COMMITTED: the waiter would get the old head back and collide on its sequence number).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.storage.models import AuditRow

GENESIS = "0" * 64


def _canonical(seq: int, at: dt.datetime, actor: str, office_id: str | None, action: str,
               document_id: str | None, detail: dict[str, Any], prev_hash: str) -> bytes:
    at_utc = at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return json.dumps([seq, at_utc.isoformat(timespec="microseconds"), actor, office_id, action, document_id,
                       detail, prev_hash], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def row_hash(row: AuditRow) -> str:
    return hashlib.sha256(_canonical(row.seq, row.at, row.actor, row.office_id, row.action, row.document_id,
                                     row.detail, row.prev_hash)).hexdigest()


def append(session: Session, *, actor: str, action: str, office_id: str | None = None,
           document_id: str | None = None, detail: dict[str, Any] | None = None) -> AuditRow:
    """Add one row inside the caller's transaction (so it commits with the change it records)."""
    lock_chain(session)
    head = session.execute(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1).with_for_update()).scalar()
    seq = head.seq + 1 if head else 1
    prev = head.hash if head else GENESIS
    row = AuditRow(seq=seq, at=dt.datetime.now(dt.UTC), actor=actor, office_id=office_id, action=action,
                   document_id=document_id, detail=detail or {}, prev_hash=prev, hash="")
    row.hash = row_hash(row)
    session.add(row)
    session.flush()
    return row


def chain(session: Session) -> list[AuditRow]:
    """Every row, in chain order (what :func:`verify_chain` checks)."""
    return list(session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars())


#: the advisory lock key of the audit chain (any constant; "MSAUDIT" in ASCII)
CHAIN_LOCK_KEY = 0x4D534155444954


def lock_chain(session: Session) -> None:
    """Serialise appends across processes until this transaction ends (PostgreSQL; a no-op elsewhere)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    #: the first row that does not fit (edited, or after a deleted/reordered one)
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(rows: Iterable[AuditRow]) -> ChainCheck:
    prev, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return ChainCheck(False, count, row.seq, f"第 {expected_seq} 条缺失或顺序被改动（实际为第 {row.seq} 条）")
        if row.prev_hash != prev:
            return ChainCheck(False, count, row.seq, f"第 {row.seq} 条与前一条不衔接（前一条被删除、改动或调换）")
        if row_hash(row) != row.hash:
            return ChainCheck(False, count, row.seq, f"第 {row.seq} 条内容被改动")
        prev, expected_seq = row.hash, expected_seq + 1
    return ChainCheck(True, count)
