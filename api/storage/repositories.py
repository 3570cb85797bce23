"""Queries and writes the services share; the only place (with models/audit) that knows the tables."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from signer.errors import ConflictError, NotFoundError

from .models import DocumentRow, OfficeRow, VersionRow


def sync_offices(session: Session, offices: Iterable[tuple[str, str, str, str | None, str | None, float,
                                                           str | None, str, str | None]]) -> int:
    """Import the registry (id, name, tier, parent, credit code, seal diameter, bottom text, key store, 防伪编码):
    insert new offices, update changed ones; parents first so foreign keys hold. Returns how many rows changed."""
    changed = 0
    rows = sorted(offices, key=lambda o: {"county": 0, "township": 1, "village": 2}.get(o[2], 3))
    for oid, name, tier, parent, credit, diameter, bottom, store, security in rows:
        row = session.get(OfficeRow, oid)
        values = {"name": name, "tier": tier, "parent_id": parent, "credit_code": credit,
                  "seal_diameter_mm": diameter, "seal_bottom_text": bottom, "key_store": store,
                  "seal_security_code": security}
        if row is None:
            session.add(OfficeRow(id=oid, **values))
            session.flush()
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
    return changed


def office(session: Session, office_id: str) -> OfficeRow:
    row = session.get(OfficeRow, office_id)
    if row is None:
        raise NotFoundError(f"名录中没有编号为「{office_id}」的单位", code="UNKNOWN_OFFICE")
    return row


def offices_below(session: Session, office_id: str) -> set[str]:
    """Every office under ``office_id`` (its townships and their villages)."""
    out: set[str] = set()
    frontier = {office_id}
    while frontier:
        children = set(session.execute(select(OfficeRow.id).where(OfficeRow.parent_id.in_(frontier))).scalars())
        frontier = children - out
        out |= children
    return out


def route_of(session: Session, office_id: str) -> list[str]:
    chain = [office(session, office_id)]
    while chain[-1].parent_id:
        chain.append(office(session, chain[-1].parent_id))
    return [o.id for o in chain]


def document(session: Session, document_id: str) -> DocumentRow:
    row = session.get(DocumentRow, document_id)
    if row is None:
        raise NotFoundError(code="UNKNOWN_DOCUMENT")
    return row


def versions(session: Session, document_id: str) -> list[VersionRow]:
    return list(session.execute(select(VersionRow).where(VersionRow.document_id == document_id)
                                .order_by(VersionRow.number)).scalars())


def version(session: Session, document_id: str, number: int) -> VersionRow:
    row = session.execute(select(VersionRow).where(VersionRow.document_id == document_id,
                                                   VersionRow.number == number)).scalar()
    if row is None:
        raise NotFoundError(f"该文书没有第 {number} 版", code="UNKNOWN_VERSION")
    return row


def transition(session: Session, doc: DocumentRow, seen_lock: int, **values: object) -> None:
    """Move a document on only if nobody else did since we read it (lock_version); else 409."""
    result = session.execute(update(DocumentRow).where(DocumentRow.id == doc.id,
                                                       DocumentRow.lock_version == seen_lock)
                             .values(lock_version=seen_lock + 1, **values)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError("文书已被他人处理，请刷新后查看", code="CONCURRENT_CHANGE")
    session.refresh(doc)


def referenced_blobs(session: Session) -> set[str]:
    return set(session.execute(select(VersionRow.sha256)).scalars())
