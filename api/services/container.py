"""The composition root's parts: every service of one process, built from one Settings object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from api.services.authority import SealAuthority
from api.services.checks import ReportCache
from api.services.documents import DocumentService
from api.services.identity import IdentityService
from api.services.public_links import Clock, PublicLinks
from api.services.publication import PublicationService
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.services.workflow import Workflow
from api.settings import Settings
from api.storage.blobs import DirectoryBlobStore
from api.storage.engine import Database, database_url
from api.storage.ledger import DatabaseLedger
from api.storage.migrate import upgrade
from api.storage.models import AuditRow


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
        authority = SealAuthority(settings, ledger=DatabaseLedger(db))
        documents = documents or DocumentService(settings, registry=authority.registry_or_none)
        verification = VerificationService(settings, authority)
        checks = ReportCache(db, verification)
        sealing = SealingService(settings, authority, check=checks.verify, use_log=_discard)
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
        """Migrate the schema and import registry.toml if it changed (idempotent; run on every start)."""
        upgrade(self.db.engine)
        self.authority.registry_or_none()

    def audit_rows(self) -> list[AuditRow]:
        with self.db.session() as session:
            return list(session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars())
