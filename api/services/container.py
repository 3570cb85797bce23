"""The composition root's parts: every service of one process, built from one Settings object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..offices import Registry
from ..sealing import SealingService
from ..seals import SealAuthority
from ..settings import Settings
from ..storage import audit, repositories
from ..storage.blobs import DirectoryBlobStore
from ..storage.engine import Database, database_url
from ..storage.migrate import upgrade
from ..storage.models import AuditRow
from ..verification import VerificationService
from ..workflow import DocumentService
from .checks import ReportCache
from .identity import IdentityService
from .public_links import Clock, PublicLinks
from .publication import PublicationService
from .workflow import Workflow


def _discard(_entry: dict[str, Any]) -> None:
    """The service records seal use in the audit chain, in the transaction that stores the new version."""


@dataclass
class Services:
    settings: Settings
    db: Database
    authority: SealAuthority
    documents: DocumentService
    sealing: SealingService
    verification: VerificationService
    checks: ReportCache
    identity: IdentityService
    workflow: Workflow
    blobs: DirectoryBlobStore
    links: PublicLinks
    clock: Clock
    publication: PublicationService

    @classmethod
    def build(cls, settings: Settings, *, documents: DocumentService | None = None) -> Services:
        db = Database(database_url(settings.database_url, settings.data_dir))
        authority = SealAuthority(settings)
        documents = documents or DocumentService(settings)
        sealing = SealingService(settings, authority, use_log=_discard)
        verification = VerificationService(settings, authority)
        checks = ReportCache(db, verification)
        blobs = DirectoryBlobStore(settings.blobs_dir)
        links = PublicLinks(settings, authority, documents.catalogue)
        workflow = Workflow(db=db, blobs=blobs, documents=documents, sealing=sealing, checks=checks,
                            public_url=links.qr_url)
        clock = Clock(settings.fixed_today)
        publication = PublicationService(settings=settings, db=db, blobs=blobs, workflow=workflow, links=links,
                                         checks=checks, verification=verification, clock=clock)
        return cls(settings, db, authority, documents, sealing, verification, checks,
                   IdentityService(settings.session_minutes), workflow, blobs, links, clock, publication)

    def prepare(self) -> None:
        """Migrate the schema and import the registry (idempotent; run on every start)."""
        upgrade(self.db.engine)
        if self.settings.registry_path.exists():
            self.sync_registry(self.authority.registry())

    def sync_registry(self, registry: Registry) -> int:
        rows = [(o.id, o.name, o.tier.value, o.parent, o.credit_code, o.seal_diameter_mm, o.seal_bottom_text,
                 o.key_store) for o in registry]
        with self.db.session() as session:
            changed = repositories.sync_offices(session, rows)
            if changed:
                audit.append(session, actor="system", action="registry.import", detail={"changed": changed})
        return changed

    def audit_rows(self) -> list[AuditRow]:
        with self.db.session() as session:
            return list(session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars())
