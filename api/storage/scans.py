"""Queries and writes of a case's scans (pages signed by hand). Plain functions over a session; the scan service
owns the transaction, the checks and who may see what. The bytes live in the blob store, under the row's SHA-256."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import CaseEventRow, CaseRow, DocumentRow, ScanRow
from signer.errors import NotFoundError


def add(session: Session, row: ScanRow) -> ScanRow:
    """The row, flushed inside the caller's transaction (whose audit row commits with it)."""
    session.add(row)
    session.flush()
    return row


def of_case(session: Session, case_id: str) -> list[ScanRow]:
    """A case's scans, oldest first."""
    return list(session.execute(select(ScanRow).where(ScanRow.case_id == case_id)
                                .order_by(ScanRow.created_at, ScanRow.id)).scalars())


def get(session: Session, scan_id: str) -> ScanRow:
    row = session.get(ScanRow, scan_id)
    if row is None:
        raise NotFoundError("没有这份扫描件", code="UNKNOWN_SCAN")
    return row


def papers_of_case(session: Session, case: CaseRow) -> list[DocumentRow]:
    """The documents of a case, in the order they came: its application, then every document its timeline names
    (公示, 公布, 证明 and the papers issued from the case). A scan may name only one of these."""
    ids: list[str] = [case.application_id]
    for document_id in session.execute(select(CaseEventRow.document_id).where(
            CaseEventRow.case_id == case.id, CaseEventRow.document_id.is_not(None)).order_by(CaseEventRow.seq)
            ).scalars():
        if document_id and document_id not in ids:
            ids.append(document_id)
    for extra in (case.facts or {}).get("certificates") or []:
        document_id = extra.get("document_id") if isinstance(extra, dict) else None
        if isinstance(document_id, str) and document_id not in ids:
            ids.append(document_id)
    rows = {r.id: r for r in session.execute(select(DocumentRow).where(DocumentRow.id.in_(ids))).scalars()}
    return [rows[i] for i in ids if i in rows]


def referenced(session: Session) -> set[str]:
    """Every blob a scan points at: a blob sweep must keep these as it keeps the versions' blobs."""
    return set(session.execute(select(ScanRow.sha256)).scalars())

