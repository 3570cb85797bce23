"""The office registry in the database: the one source every part reads (sealing, verification, rendering,
the workflow). ``registry.toml`` is its import format: a file that differs from the last one imported (by
SHA-256) is validated and imported — new offices added, changed ones updated, none deleted — and the import is
a row of the audit chain."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from signer.pki import Tier
from signer.seal_image import Emblem

from ..offices import Office, Registry
from . import audit
from .engine import Database
from .models import OfficeRow, PkiStateRow
from .repositories import sync_offices

_IMPORTED_SHA = "registry_sha256"


class DatabaseRegistry:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self) -> Registry | None:
        """None when no office was ever imported."""
        with self.db.session() as session:
            rows = session.execute(select(OfficeRow)).scalars().all()
            offices = [Office(id=r.id, name=r.name, tier=Tier(r.tier), parent=r.parent_id, credit_code=r.credit_code,
                              seal_diameter_mm=r.seal_diameter_mm, seal_bottom_text=r.seal_bottom_text,
                              key_store=r.key_store, seal_security_code=r.seal_security_code,
                              seal_emblem=_emblem(r.seal_emblem)) for r in rows]
        return Registry(offices) if offices else None

    def import_file(self, path: Path, *, county_seal_mm: float, actor: str = "system") -> int:
        """Import ``path`` unless it is the file imported last (with the same county seal default); returns how
        many offices changed."""
        sha = hashlib.sha256(path.read_bytes() + f"\0county_seal_mm={county_seal_mm}".encode()).hexdigest()
        with self.db.session() as session:
            seen = session.get(PkiStateRow, _IMPORTED_SHA)
            if seen is not None and seen.value == sha:
                return 0
        return self.import_registry(Registry.load(path, county_seal_mm=county_seal_mm), sha=sha, actor=actor)

    def import_registry(self, registry: Registry, *, sha: str | None = None, actor: str = "system") -> int:
        rows = [(o.id, o.name, o.tier.value, o.parent, o.credit_code, o.seal_diameter_mm, o.seal_bottom_text,
                 o.key_store, o.seal_security_code, _stored(o.seal_emblem)) for o in registry]
        with self.db.session() as session:
            changed = sync_offices(session, rows)
            if sha is not None:
                session.merge(PkiStateRow(name=_IMPORTED_SHA, value=sha))
            if changed:
                audit.append(session, actor=actor, action="registry.import", detail={"changed": changed})
        return changed


def _stored(emblem: Emblem | None) -> list[Any] | None:
    return [[list(point) for point in poly] for poly in emblem] if emblem else None


def _emblem(stored: list[Any] | None) -> Emblem | None:
    return tuple(tuple((float(x), float(y)) for x, y in poly) for poly in stored) if stored else None
