"""Seal checks as the service runs them: the installation's trust (roots, current CRL, registry routes), and a
report cache keyed by (file SHA-256, trust configuration) in the database, so every worker shares it and a new
CRL or root invalidates it."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes

from api.services.verification import VerificationService
from api.storage import repositories
from api.storage.blobs import sha256_hex
from api.storage.engine import Database
from api.storage.models import ReportCacheRow
from signer.report import VerificationReport, report_from_dict
from signer.verify import ParsedPdf


class ReportCache:
    def __init__(self, db: Database, verification: VerificationService) -> None:
        self.db = db
        self.verification = verification

    def trust_key(self) -> str:
        trust = self.verification.trust()
        h = hashlib.sha256()
        for root in trust.roots:
            h.update(root.fingerprint(hashes.SHA256()))
        for crl in trust.crls:
            h.update(hashlib.sha256(crl).digest())
        h.update(b"fetch" if trust.allow_fetching else b"local")
        return h.hexdigest()

    def verify(self, pdf: bytes, *, parsed: ParsedPdf | None = None) -> VerificationReport:
        """``parsed``: a parse of ``pdf`` the caller already holds (the sealer's), used on a cache miss."""
        digest, key = sha256_hex(pdf), self.trust_key()
        with self.db.session() as session:
            row = session.get(ReportCacheRow, (digest, key))
            if row is not None:
                return report_from_dict(row.report)
        report = self.verification.verify(pdf, parsed=parsed)
        try:
            with self.db.session() as session:
                session.add(ReportCacheRow(sha256=digest, trust_key=key, report=report.to_dict()))
        except repositories.DuplicateRow:  # another worker cached it first: same answer
            pass
        return report

