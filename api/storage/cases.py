"""Queries and writes of the case register (cases, their stages, the ID numbers they hold). Plain functions over a
session; the case service owns the transaction and the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from api.storage.models import CaseEventRow, CasePersonRow, CaseRow, ScanRow, utcnow
from signer.errors import ConflictError, NotFoundError


def add_case(session: Session, row: CaseRow, persons: Sequence[tuple[str, str, str]]) -> None:
    """The case and the ID numbers it holds (id number, name, role). Flushed here: a person already held by
    another case fails on the partial unique index now, inside the caller's transaction."""
    session.add(row)
    session.flush()
    session.add_all(CasePersonRow(case_id=row.id, id_number=n, name=name, role=role, holds=True)
                    for n, name, role in persons)
    session.flush()


def case(session: Session, case_id: str) -> CaseRow:
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFoundError("没有这个案件", code="UNKNOWN_CASE")
    return row


def case_of_application(session: Session, document_id: str) -> CaseRow | None:
    return session.execute(select(CaseRow).where(CaseRow.application_id == document_id)).scalar()


def cases_of_applications(session: Session, document_ids: Iterable[str]) -> dict[str, CaseRow]:
    ids = list(document_ids)
    if not ids:
        return {}
    rows = session.execute(select(CaseRow).where(CaseRow.application_id.in_(ids))).scalars()
    return {r.application_id: r for r in rows}


def holder_of(session: Session, id_numbers: Iterable[str], *,
              besides: str | None = None) -> tuple[CaseRow, CasePersonRow] | None:
    """The case that holds one of these ID numbers (open, or its household receives support), if any;
    ``besides``: a case not to count (a draft being edited holds its own people)."""
    query = (select(CaseRow, CasePersonRow).join(CasePersonRow, CasePersonRow.case_id == CaseRow.id)
             .where(CasePersonRow.id_number.in_(list(id_numbers)), CasePersonRow.holds))
    if besides is not None:
        query = query.where(CaseRow.id != besides)
    found = session.execute(query).first()
    return (found[0], found[1]) if found else None


def persons(session: Session, case_id: str) -> list[CasePersonRow]:
    return list(session.execute(select(CasePersonRow).where(CasePersonRow.case_id == case_id)
                                .order_by(CasePersonRow.id)).scalars())


def replace_persons(session: Session, case_id: str, persons: Sequence[tuple[str, str, str]]) -> None:
    """An edited draft's people in place of those it held (flushed: a person another case holds fails on the
    partial unique index here, inside the caller's transaction, so nothing is half-written)."""
    session.execute(delete(CasePersonRow).where(CasePersonRow.case_id == case_id)
                    .execution_options(synchronize_session=False))
    session.flush()
    session.add_all(CasePersonRow(case_id=case_id, id_number=n, name=name, role=role, holds=True)
                    for n, name, role in persons)
    session.flush()


def has_scans(session: Session, case_id: str) -> bool:
    return session.execute(select(ScanRow.id).where(ScanRow.case_id == case_id).limit(1)).first() is not None


def delete_case(session: Session, case_id: str) -> None:
    """A case that only ever held one draft, gone with it: its people, its events, the case."""
    for table in (CasePersonRow, CaseEventRow):
        session.execute(delete(table).where(table.case_id == case_id).execution_options(synchronize_session=False))
    session.execute(delete(CaseRow).where(CaseRow.id == case_id).execution_options(synchronize_session=False))
    session.flush()


def release_persons(session: Session, case_id: str) -> None:
    """A refused or withdrawn case no longer keeps its people from applying again."""
    session.execute(update(CasePersonRow).where(CasePersonRow.case_id == case_id)
                    .values(holds=False).execution_options(synchronize_session=False))


def events(session: Session, case_id: str) -> list[CaseEventRow]:
    return list(session.execute(select(CaseEventRow).where(CaseEventRow.case_id == case_id)
                                .order_by(CaseEventRow.seq)).scalars())


def add_event(session: Session, case_id: str, *, stage: str, on: dt.date, actor: str, office_id: str | None,
              document_id: str | None = None, version: int | None = None, note: str | None = None) -> CaseEventRow:
    seq = session.execute(select(func.coalesce(func.max(CaseEventRow.seq), 0))
                          .where(CaseEventRow.case_id == case_id)).scalar_one() + 1
    row = CaseEventRow(case_id=case_id, seq=seq, stage=stage, on=on, at=utcnow(), actor=actor, office_id=office_id,
                       document_id=document_id, version=version, note=note)
    session.add(row)
    session.flush()
    return row


def move(session: Session, row: CaseRow, seen_lock: int, **values: Any) -> None:
    """Move a case on only if nobody else did since it was read (lock_version); else 409."""
    result = session.execute(update(CaseRow).where(CaseRow.id == row.id, CaseRow.lock_version == seen_lock)
                             .values(lock_version=seen_lock + 1, **values)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError("案件已被他人处理，请刷新后查看", code="CONCURRENT_CHANGE")
    session.refresh(row)


def visible_cases(session: Session, office_id: str, tier: str, *, limit: int = 200) -> list[CaseRow]:
    """Cases of an office's area, newest first (a village's own, a township's, a county's)."""
    column = {"village": CaseRow.village_id, "township": CaseRow.township_id, "county": CaseRow.county_id}[tier]
    return list(session.execute(select(CaseRow).where(column == office_id)
                                .order_by(CaseRow.opened_at.desc()).limit(limit)).scalars())


def cases_by_id(session: Session, case_ids: Iterable[str]) -> dict[str, CaseRow]:
    """These cases, by id (unknown ids are left out); in chunks, for long batch lists."""
    ids = list(dict.fromkeys(case_ids))
    out: dict[str, CaseRow] = {}
    for start in range(0, len(ids), 1000):
        out.update({r.id: r for r in session.execute(select(CaseRow).where(
            CaseRow.id.in_(ids[start:start + 1000]))).scalars()})
    return out


def holders(session: Session, id_numbers: Iterable[str]) -> dict[str, CaseRow]:
    """The case that holds each of these ID numbers (see :func:`holder_of`); numbers no case holds are left out."""
    numbers = list(dict.fromkeys(id_numbers))
    out: dict[str, CaseRow] = {}
    for start in range(0, len(numbers), 1000):
        rows = session.execute(select(CasePersonRow.id_number, CaseRow).join(
            CaseRow, CasePersonRow.case_id == CaseRow.id).where(
            CasePersonRow.id_number.in_(numbers[start:start + 1000]), CasePersonRow.holds))
        out.update({n: c for n, c in rows})
    return out
