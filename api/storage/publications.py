"""Queries of the 公示 / 公布 register: publication rows, their objections, and the documents and audit rows the
publication service reads. Plain functions over a session; the service owns the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.models import DocumentRow, ObjectionRow, PublicationRow


def application_ids_in(session: Session, kind: str, states: Iterable[str]) -> set[str]:
    """Applications already listed by a publication of ``kind`` in one of ``states``."""
    rows = session.execute(select(PublicationRow.application_ids).where(
        PublicationRow.kind == kind, PublicationRow.state.in_(list(states)))).scalars()
    return {a for ids in rows for a in ids}


def applications_held_by(session: Session, family: str, status: str, office_id: str) -> list[DocumentRow]:
    """Documents of ``family`` in ``status`` that ``office_id`` holds, oldest first."""
    return list(session.execute(select(DocumentRow).where(
        DocumentRow.family == family, DocumentRow.status == status, DocumentRow.holder_office_id == office_id)
        .order_by(DocumentRow.created_at)).scalars())


def applications_routed_through(session: Session, family: str, status: str, office_id: str) -> list[DocumentRow]:
    """Documents of ``family`` in ``status`` whose route ends at ``office_id``, oldest first."""
    rows = session.execute(select(DocumentRow).where(
        DocumentRow.family == family, DocumentRow.status == status,
        DocumentRow.route_key.like(f"%,{office_id},")).order_by(DocumentRow.created_at)).scalars()
    return [d for d in rows if d.route[-1] == office_id]


def earlier_versions(session: Session, series_id: str, version: int, state: str) -> list[PublicationRow]:
    """The versions of a series before ``version`` that are in ``state``."""
    return list(session.execute(select(PublicationRow).where(
        PublicationRow.series_id == series_id, PublicationRow.version < version,
        PublicationRow.state == state)).scalars())


def has_newer_version(session: Session, series_id: str, version: int) -> bool:
    return session.execute(select(PublicationRow.document_id).where(
        PublicationRow.series_id == series_id, PublicationRow.version > version)).first() is not None


def objections(session: Session, document_id: str) -> list[ObjectionRow]:
    return list(session.execute(select(ObjectionRow).where(ObjectionRow.document_id == document_id)
                                .order_by(ObjectionRow.id)).scalars())


def objection_count(session: Session, document_id: str) -> int:
    return len(session.execute(select(ObjectionRow.id).where(ObjectionRow.document_id == document_id))
               .scalars().all())


def overdue(session: Session, kind: str, state: str, today: dt.date) -> list[PublicationRow]:
    """Publications of ``kind`` in ``state`` whose end date passed and that were not ended yet."""
    return list(session.execute(select(PublicationRow).where(
        PublicationRow.kind == kind, PublicationRow.state == state,
        PublicationRow.end_on < today, PublicationRow.ended_at.is_(None))).scalars())


def of_office(session: Session, office_id: str) -> list[PublicationRow]:
    """An office's publications, newest first."""
    return list(session.execute(select(PublicationRow).where(PublicationRow.office_id == office_id)
                                .order_by(PublicationRow.created_at.desc())).scalars())


def document_by_public_id(session: Session, public_id: str) -> DocumentRow | None:
    return session.execute(select(DocumentRow).where(DocumentRow.public_id == public_id)).scalar()


def count_of_kind(session: Session, office_id: str, kind: str) -> int:
    """How many publications of ``kind`` an office has made (the next serial number follows)."""
    from sqlalchemy import func

    return int(session.execute(select(func.count()).select_from(PublicationRow).where(
        PublicationRow.office_id == office_id, PublicationRow.kind == kind)).scalar_one())
