"""The 案卷: one PDF per case that a county keeps, with its 卷内目录 (each paper, its date, pages and seals), every
sealed paper attached byte-for-byte (so each signature in it stays verifiable), the scans of hand-signed pages and a
JSON manifest — sealed by the office that exports it, so nothing in it can be swapped without the seal saying so.

The papers are the case's own: every document its timeline names (the application as each tier sealed it, the
公示, the 结果公布, the certificates and the papers issued from the case) in the order they were made, then the
scans. A paper still in draft is not part of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.services.cases import KIND_LABELS
from api.services.identity import Principal
from api.services.public_links import Clock
from api.services.publication import may_see_case
from api.services.sealing import SealingService
from api.services.states import Status
from api.storage import audit, repositories, scans
from api.storage import cases as case_store
from api.storage.blobs import BlobStore
from api.storage.engine import Database, Session
from api.storage.models import CaseRow, DocumentRow
from signer import case_file
from signer.errors import NotFoundError
from templates.case_file_index import render_index
from templates.render_pdf import PdfRenderer


@dataclass(frozen=True)
class CaseFileOut:
    """An exported 案卷: its file name (Chinese, for the download), the sealed PDF and its manifest."""

    filename: str
    pdf: bytes
    manifest: dict[str, Any]


class CaseFiles:
    """Builds and seals the 案卷 of a case (see the module docstring)."""

    def __init__(self, *, db: Database, blobs: BlobStore, sealing: SealingService, clock: Clock,
                 titles: Callable[[str], str], renderer: PdfRenderer | None = None) -> None:
        self.renderer = renderer
        self.db = db
        self.blobs = blobs
        self.sealing = sealing
        self.clock = clock
        self._title = titles

    def _papers(self, session: Session, case: CaseRow) -> list[case_file.Paper]:
        """The case's sealed documents in the order its timeline first names them, then its scans."""
        order: list[str] = [case.application_id]
        for event in case_store.events(session, case.id):
            if event.document_id and event.document_id not in order:
                order.append(event.document_id)
        out: list[case_file.Paper] = []
        n = 0
        for document_id in order:
            doc = session.get(DocumentRow, document_id)
            if doc is None or doc.status == Status.DRAFT.value:
                continue
            version = repositories.version(session, doc.id, doc.current_version)
            n += 1
            title = self._title(doc.family) if doc.family else doc.title
            out.append(case_file.Paper(name=f"{n:02d}-{_safe(title)}.pdf", title=title,
                                       data=self.blobs.get(version.sha256), media_type="application/pdf",
                                       issued_on=version.created_at.date()))
        for scan in scans.of_case(session, case.id):
            n += 1
            suffix = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(scan.media_type, "bin")
            out.append(case_file.Paper(name=f"{n:02d}-{_safe(scan.label)}.{suffix}", title=scan.label,
                                       data=self.blobs.get(scan.sha256), media_type=scan.media_type,
                                       issued_on=scan.created_at.date(), note="签字页扫描件"))
        return out

    def export(self, who: Principal, case_id: str) -> CaseFileOut:
        """The sealed 案卷 of a case this office works on; the seal's use and the file's hash are audited."""
        today = self.clock.today()
        with self.db.session() as session:
            case = case_store.case(session, case_id)
            app = repositories.document(session, case.application_id)
            if who.office_id not in (case.village_id, case.township_id, case.county_id) or not may_see_case(who, app):
                raise NotFoundError("没有这个案件，或它不属于本单位", code="UNKNOWN_CASE")
            papers = self._papers(session, case)
            names = repositories.office_names(session, [o for o in (case.village_id, case.township_id,
                                                                   case.county_id) if o])
            summary = {"number": case.id, "kind": case.kind, "kind_label": KIND_LABELS[case.kind],
                       "applicant_name": case.applicant_name, "village": names.get(case.village_id, ""),
                       "township": names.get(case.township_id or "", ""),
                       "county": names.get(case.county_id or "", "")}
        manifest = case_file.manifest(summary, papers, exported_by=who.office_name,
                                      exported_at=self.clock.now())
        index = render_index(summary, manifest["papers"], issuer=who.office_name, issued_on=today,
                             issuer_id=who.office_id, renderer=self.renderer)
        unsealed = case_file.assemble(index, papers, manifest)
        sealed = self.sealing.seal(unsealed, who.office_id, actor=who.actor, day=today)
        sha = self.blobs.put(sealed.pdf)
        with self.db.session() as session:
            audit.append(session, actor=who.actor, action="seal.use", office_id=who.office_id,
                         detail=sealed.use_entry)
            audit.append(session, actor=who.actor, action="case_file.export", office_id=who.office_id,
                         detail={"case": case_id, "sha256": sha, "papers": len(papers)})
        filename = f"{summary['applicant_name']}-{summary['kind_label']}案卷-{case_id[:8]}.pdf"
        return CaseFileOut(filename, sealed.pdf, manifest)


def _safe(text: str) -> str:
    """A file name part: no path separators or control characters."""
    cleaned = "".join(ch for ch in text if ch.isprintable() and ch not in '/\\:*?"<>|')
    return cleaned.strip()[:40] or "文件"
