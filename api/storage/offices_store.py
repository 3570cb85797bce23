"""The office registry's rows in the database: the one source every part reads (sealing, verification,
rendering, the workflow). ``api.services.offices.DatabaseRegistry`` turns them into the domain's ``Registry``;
this module only reads and writes rows (and records an import in the audit chain)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from api.storage import audit
from api.storage.engine import Database
from api.storage.models import OfficeRow, PkiStateRow
from api.storage.repositories import sync_offices

_IMPORTED_SHA = "registry_sha256"


def office_rows(db: Database) -> list[OfficeRow]:
    """Every office row (detached: plain values once the session closed)."""
    with db.session() as session:
        rows = list(session.execute(select(OfficeRow)).scalars().all())
        session.expunge_all()
    return rows


def imported_sha(db: Database) -> str | None:
    """The SHA-256 of the registry file imported last (None: never imported)."""
    with db.session() as session:
        seen = session.get(PkiStateRow, _IMPORTED_SHA)
        return seen.value if seen is not None else None


def store_offices(db: Database, rows: Sequence[tuple[Any, ...]], *, sha: str | None, actor: str) -> int:
    """Insert or update the offices (none deleted), remember ``sha``, audit a change; returns how many changed."""
    with db.session() as session:
        changed = sync_offices(session, rows)
        if sha is not None:
            session.merge(PkiStateRow(name=_IMPORTED_SHA, value=sha))
        if changed:
            audit.append(session, actor=actor, action="registry.import", detail={"changed": changed})
    return changed
