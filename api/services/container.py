"""The composition root: every service of one process, built from one Settings object. The CLI, the HTTP server,
the queue workers and the demo all get their services here, and nothing else constructs the database, the seal
authority or the document, sealing and verification services.

Each part is built on first use (and its libraries imported then): ``minseal verify`` builds the verification
service and the authority, and opens the database only if there is an installation — it never loads WeasyPrint,
SQLAlchemy, Alembic, FastAPI or python-docx for a file it cannot read.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from api.services.authority import SealAuthority
from api.settings import Settings

if TYPE_CHECKING:
    from api.services.batches import BatchService
    from api.services.case_files import CaseFiles
    from api.services.case_papers import CasePapers
    from api.services.cases import CaseBook
    from api.services.checks import ReportCache
    from api.services.documents import DocumentService
    from api.services.identity import IdentityService
    from api.services.public_links import Clock, PublicLinks
    from api.services.publication import PublicationService
    from api.services.scans import ScanService
    from api.services.seal_admin import OfficeAdmin
    from api.services.sealing import SealingService
    from api.services.sign_in import SignInGuard
    from api.services.throttle import Throttle
    from api.services.verification import VerificationService
    from api.services.workflow import Workflow
    from api.storage.blobs import DirectoryBlobStore
    from api.storage.engine import Database
    from api.storage.models import AuditRow
    from signer.report import VerificationReport
    from signer.verify import ParsedPdf


def open_database(settings: Settings) -> Database:
    """The installation's database, migrated to the newest schema (idempotent; on PostgreSQL one of several
    starting processes migrates, the others wait)."""
    from api.storage.engine import Database, database_url
    from api.storage.migrate import upgrade

    db = Database(database_url(settings.database_url, settings.data_dir))
    upgrade(db.engine)
    return db


class Services:
    """Every service of one process. Build it once per process (``Services(settings)``) and pass it down."""

    def __init__(self, settings: Settings, *, documents: DocumentService | None = None) -> None:
        """``documents``: a document service to share (tests reuse one renderer across installations)."""
        self.settings = settings
        if documents is not None:
            self.__dict__["documents"] = documents

    @classmethod
    def build(cls, settings: Settings, *, documents: DocumentService | None = None) -> Services:
        return cls(settings, documents=documents)

    # -- infrastructure ----------------------------------------------------------------------------------------
    @cached_property
    def db(self) -> Database:
        """Opened and migrated on first use."""
        return open_database(self.settings)

    @cached_property
    def blobs(self) -> DirectoryBlobStore:
        from api.storage.blobs import DirectoryBlobStore

        return DirectoryBlobStore(self.settings.blobs_dir)

    @cached_property
    def clock(self) -> Clock:
        from api.services.public_links import Clock

        return Clock(self.settings.fixed_today)

    # -- seals, documents, checks --------------------------------------------------------------------------------
    @cached_property
    def authority(self) -> SealAuthority:
        return SealAuthority(self.settings, database=lambda: self.db)

    @cached_property
    def documents(self) -> DocumentService:
        from api.services.documents import DocumentService

        return DocumentService(self.settings, registry=self.authority.registry_or_none)

    @cached_property
    def verification(self) -> VerificationService:
        from api.services.verification import VerificationService

        return VerificationService(self.settings, self.authority)

    @cached_property
    def checks(self) -> ReportCache:
        """The check before a countersign or an accept: the verifier, its reports cached in the database."""
        from api.services.checks import ReportCache

        return ReportCache(self.db, self.verification)

    def _check(self, pdf: bytes, /, *, parsed: ParsedPdf | None = None) -> VerificationReport:
        """The cache (and the database) only when a countersign asks; ``parsed``: the sealer's own parse."""
        return self.checks.verify(pdf, parsed=parsed)

    @cached_property
    def sealing(self) -> SealingService:
        """Sealing inside the workflow: the workflow writes each 用印日志 entry into the audit chain in the
        transaction that stores the new version."""
        from api.services.sealing import SealingService

        return SealingService(self.settings, self.authority, check=self._check, use_log=_recorded_by_caller)

    @cached_property
    def standalone_sealing(self) -> SealingService:
        """Sealing outside the workflow (``minseal seal``, the demo, scripts): each use is written to the audit
        chain at once. The same pre-countersign check as the workflow's."""
        from api.services.sealing import SealingService

        return SealingService(self.settings, self.authority, check=self._check)

    # -- the service's use cases -------------------------------------------------------------------------------
    @cached_property
    def identity(self) -> IdentityService:
        from api.services.identity import IdentityService

        return IdentityService(self.settings.session_minutes)

    @cached_property
    def links(self) -> PublicLinks:
        from api.services.public_links import PublicLinks

        return PublicLinks(self.settings, self.authority, self.documents.catalogue)

    @cached_property
    def workflow(self) -> Workflow:
        from api.services.workflow import Workflow

        return Workflow(db=self.db, blobs=self.blobs, documents=self.documents, sealing=self.sealing,
                        checks=self.checks, public_url=self.links.qr_url, cases=self.cases, clock=self.clock)

    @cached_property
    def cases(self) -> CaseBook:
        """The case register and 57号's order (the workflow and the publication service record through it)."""
        from api.services.cases import CaseBook
        from api.services.local_rules import local_rules

        return CaseBook(db=self.db, clock=self.clock, rules=local_rules(self.settings))

    @cached_property
    def publication(self) -> PublicationService:
        from api.services.publication import PublicationService

        return PublicationService(settings=self.settings, db=self.db, blobs=self.blobs, workflow=self.workflow,
                                  links=self.links, checks=self.checks, verification=self.verification,
                                  clock=self.clock, cases=self.cases)

    @cached_property
    def papers(self) -> CasePapers:
        """The papers of a case (letters, records, cards), each built from the case and sealed by its issuer."""
        from api.services.case_papers import CasePapers
        from api.services.local_rules import local_rules

        return CasePapers(db=self.db, workflow=self.workflow, publication=self.publication, cases=self.cases,
                          clock=self.clock, rules=lambda: local_rules(self.settings))

    @cached_property
    def case_files(self) -> CaseFiles:
        """The 案卷 of a case: index, every sealed paper attached byte-for-byte, scans, manifest; sealed."""
        from api.services.case_files import CaseFiles

        catalogue = self.documents.catalogue
        return CaseFiles(db=self.db, blobs=self.blobs, sealing=self.sealing, clock=self.clock,
                         titles=lambda family: catalogue.family(family).title, renderer=self.documents.renderer)

    @cached_property
    def scans(self) -> ScanService:
        """Scans of pages signed by hand, kept with their case."""
        from api.services.scans import ScanService

        return ScanService(db=self.db, blobs=self.blobs, max_bytes=self.settings.scan_max_bytes)

    @cached_property
    def office_admin(self) -> OfficeAdmin:
        from api.services.seal_admin import OfficeAdmin

        return OfficeAdmin(self.db, self.authority, self.identity, self.sign_in)

    @cached_property
    def throttle(self) -> Throttle:
        """Request counters in the database, shared by every worker (public pages, sign-in)."""
        from api.services.throttle import Throttle

        return Throttle(self.db)

    @cached_property
    def sign_in(self) -> SignInGuard:
        """Sign-in with the lockout against guessing (MINSEAL_SIGNIN_*)."""
        from api.services.sign_in import SignInGuard, SignInLimits

        s = self.settings
        limits = SignInLimits(account_failures=s.signin_max_failures, address_failures=s.signin_address_failures,
                              window_s=s.signin_window_minutes * 60)
        return SignInGuard(self.db, self.identity, self.throttle, limits)

    @cached_property
    def batches(self) -> BatchService:
        from api.services.batches import BatchService

        return BatchService(self)

    # -- start-up and reads ------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Migrate the schema and import registry.toml if it changed (idempotent; run on every start)."""
        _ = self.db
        self.authority.registry_or_none()

    def audit_rows(self) -> list[AuditRow]:
        """The whole audit chain, in order (``minseal audit verify``)."""
        from api.storage import audit

        with self.db.session() as session:
            return audit.chain(session)

    def close(self) -> None:
        """Release the database's connections, if it was opened."""
        db = self.__dict__.get("db")
        if db is not None:
            db.dispose()


def _recorded_by_caller(_entry: dict[str, Any]) -> None:
    """The workflow records seal use in the audit chain, in the transaction that stores the new version."""
