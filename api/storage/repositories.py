"""Queries and writes the services share; the only place (with models/audit) that knows the tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import and_, func, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.storage.models import BatchItemRow, BatchRow, CaseRow, DocumentRow, OfficeRow, SerialRow, VersionRow, utcnow
from signer.errors import ConflictError, NotFoundError

#: what a write refused by a unique constraint raises (services catch it by this name, without SQLAlchemy)
DuplicateRow = IntegrityError


def sync_offices(session: Session, offices: Iterable[tuple[str, str, str, str | None, str | None, float,
                                                           str | None, str, str | None, list[Any] | None,
                                                           dict[str, Any] | None]]) -> int:
    """Import the registry (id, name, tier, parent, credit code, seal diameter, bottom text, key store, 防伪编码,
    emblem polygons, seal provider): insert new offices, update changed ones; parents first so foreign keys hold.
    Returns how many rows changed."""
    changed = 0
    rows = sorted(offices, key=lambda o: {"county": 0, "township": 1, "village": 2}.get(o[2], 3))
    for oid, name, tier, parent, credit, diameter, bottom, store, security, emblem, provider in rows:
        row = session.get(OfficeRow, oid)
        values = {"name": name, "tier": tier, "parent_id": parent, "credit_code": credit,
                  "seal_diameter_mm": diameter, "seal_bottom_text": bottom, "key_store": store,
                  "seal_security_code": security, "seal_emblem": emblem, "seal_provider": provider}
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


# -- batches ---------------------------------------------------------------------------------------------------------
def add_batch(session: Session, *, batch_id: str, kind: str, family: str | None, user_id: int, office_id: str,
              items: Sequence[tuple[str, dict[str, Any]]]) -> BatchRow:
    """The batch and all its items (label, payload), pending, in the caller's transaction."""
    row = BatchRow(id=batch_id, kind=kind, family=family, user_id=user_id, office_id=office_id, total=len(items))
    session.add(row)
    session.flush()
    session.add_all(BatchItemRow(batch_id=batch_id, number=n, label=label[:120], payload=payload, state="pending",
                                 attempts=0) for n, (label, payload) in enumerate(items, start=1))
    session.flush()
    return row


def batch(session: Session, batch_id: str) -> BatchRow:
    row = session.get(BatchRow, batch_id)
    if row is None:
        raise NotFoundError("没有找到该批量任务", code="UNKNOWN_BATCH")
    return row


def batch_items(session: Session, batch_id: str, *, states: Iterable[str] | None = None) -> list[BatchItemRow]:
    query = select(BatchItemRow).where(BatchItemRow.batch_id == batch_id).order_by(BatchItemRow.number)
    if states is not None:
        query = query.where(BatchItemRow.state.in_(list(states)))
    return list(session.execute(query).scalars())


def batch_counts(session: Session, batch_id: str) -> dict[str, int]:
    rows = session.execute(select(BatchItemRow.state, func.count()).where(BatchItemRow.batch_id == batch_id)
                           .group_by(BatchItemRow.state)).all()
    return {state: int(count) for state, count in rows}


def batch_timing(session: Session, batch_id: str) -> tuple[dt.datetime | None, dt.datetime | None, int]:
    """First start, last finish and how many items finished: what an ETA is computed from."""
    first, last, finished = session.execute(
        select(func.min(BatchItemRow.started_at), func.max(BatchItemRow.finished_at),
               func.count(BatchItemRow.finished_at)).where(BatchItemRow.batch_id == batch_id)).one()
    return first, last, int(finished)


def start_batch_item(session: Session, batch_id: str, number: int) -> BatchItemRow:
    """Lock the item's row and mark it running (another attempt); a finished item comes back unchanged."""
    row = session.execute(select(BatchItemRow).where(BatchItemRow.batch_id == batch_id,
                                                     BatchItemRow.number == number).with_for_update()).scalar()
    if row is None:
        raise NotFoundError(f"批量任务中没有第 {number} 项", code="UNKNOWN_BATCH_ITEM")
    if row.state in ("done", "failed"):
        return row
    row.state, row.attempts = "running", row.attempts + 1
    row.started_at = row.started_at or utcnow()
    session.flush()
    return row


def link_batch_item(session: Session, item_id: int, document_id: str) -> str:
    """Record the document an item made, unless another run of the same item recorded one first; returns the
    document the item is bound to (so two runs of one item seal one document)."""
    session.execute(update(BatchItemRow).where(BatchItemRow.id == item_id, BatchItemRow.document_id.is_(None))
                    .values(document_id=document_id).execution_options(synchronize_session=False))
    bound = session.execute(select(BatchItemRow.document_id).where(BatchItemRow.id == item_id)).scalar_one()
    assert bound is not None
    return str(bound)


def keep_batch_result(session: Session, item_id: int, payload: dict[str, Any]) -> None:
    """Record what an item produced besides a document (a 案卷's hash and file name) in its payload."""
    session.execute(update(BatchItemRow).where(BatchItemRow.id == item_id).values(payload=payload)
                    .execution_options(synchronize_session=False))


def finish_batch_item(session: Session, item_id: int, *, failed: bool = False, error_code: str | None = None,
                      error: str | None = None) -> None:
    session.execute(update(BatchItemRow).where(BatchItemRow.id == item_id)
                    .values(state="failed" if failed else "done", error_code=error_code, error=error,
                            finished_at=utcnow()).execution_options(synchronize_session=False))


def replacement_of(session: Session, document_id: str) -> str | None:
    """The document that replaced this one, if any (at most one: uq_documents_replaces_once)."""
    return session.execute(select(DocumentRow.id).where(DocumentRow.replaces_id == document_id)).scalar()


def recent_documents(session: Session, *, limit: int, holder: str | None = None, statuses: Sequence[str] = (),
                     on_route_of: str | None = None, hidden: Sequence[str] = ()) -> list[DocumentRow]:
    """Documents newest first: those ``holder`` holds in one of ``statuses``, or those whose route names
    ``on_route_of`` (a superset; the caller narrows by what the office may see); none in a ``hidden`` status."""
    query = select(DocumentRow).order_by(DocumentRow.updated_at.desc()).limit(limit)
    if hidden:
        query = query.where(DocumentRow.status.not_in(list(hidden)))
    if holder is not None:
        query = query.where(DocumentRow.holder_office_id == holder, DocumentRow.status.in_(list(statuses)))
    if on_route_of is not None:
        query = query.where(DocumentRow.route_key.like(f"%,{on_route_of},%"))
    return list(session.execute(query).scalars())


def find_documents(session: Session, *, office_id: str, inbox: bool, waiting: Sequence[str], search: str = "",
                   status: str = "", since: dt.date | None = None, until: dt.date | None = None,
                   hidden: Sequence[str] = (), batch: int = 500) -> Iterator[DocumentRow]:
    """Documents newest first, read in batches as the caller goes on: those ``office_id`` holds in a ``waiting`` status
    (``inbox``), or the others on its route (its 已办), none in a ``hidden`` status. The caller narrows by what
    the office may see."""
    held = and_(DocumentRow.holder_office_id == office_id, DocumentRow.status.in_(list(waiting)))
    stmt = select(DocumentRow).order_by(DocumentRow.updated_at.desc(), DocumentRow.id)
    if hidden:
        stmt = stmt.where(DocumentRow.status.not_in(list(hidden)))
    stmt = stmt.where(held) if inbox else stmt.where(DocumentRow.route_key.like(f"%,{office_id},%"), not_(held))
    if search.strip():
        words = f"%{search.strip()[:40]}%"
        applicants = select(CaseRow.application_id).where(CaseRow.applicant_name.like(words))
        stmt = stmt.where(or_(DocumentRow.title.like(words), DocumentRow.id.in_(applicants)))
    if status:
        stmt = stmt.where(DocumentRow.status == status)
    if since is not None:
        stmt = stmt.where(DocumentRow.updated_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until is not None:
        stmt = stmt.where(DocumentRow.updated_at < dt.datetime.combine(until + dt.timedelta(days=1),
                                                                        dt.time(), dt.UTC))
    start = 0
    while True:
        rows = list(session.execute(stmt.offset(start).limit(batch)).scalars())
        yield from rows
        if len(rows) < batch:
            return
        start += batch


def office_names(session: Session, office_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Office names by id: of ``office_ids``, or of every office."""
    query = select(OfficeRow)
    if office_ids is not None:
        query = query.where(OfficeRow.id.in_(list(office_ids)))
    return {o.id: o.name for o in session.execute(query).scalars()}


def next_serial(session: Session, office_id: str, series: str, *, floor: int) -> int:
    """The next serial of ``series`` at ``office_id``, counted on from ``floor`` (the numbers given before the
    counter existed) the first time. Call it in a transaction of its own and commit: the UPDATE holds the row
    until then. Two first issues at once: one INSERT fails on the primary key (DuplicateRow) and is retried."""
    key = (SerialRow.office_id == office_id, SerialRow.series == series)
    moved = session.execute(update(SerialRow).where(*key).values(last=SerialRow.last + 1)
                            .execution_options(synchronize_session=False))
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        session.add(SerialRow(office_id=office_id, series=series, last=floor + 1))
        session.flush()
    return int(session.execute(select(SerialRow.last).where(*key)).scalar_one())


def count_family(session: Session, office_id: str, family: str) -> int:
    """How many documents of ``family`` an office has made (the next 文号 of a case paper follows)."""
    from sqlalchemy import func

    return int(session.execute(select(func.count()).select_from(DocumentRow).where(
        DocumentRow.owner_office_id == office_id, DocumentRow.family == family)).scalar_one())
