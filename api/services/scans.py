"""Scans of pages signed by hand (签字或手印), kept with their case.

The 授权书, 入户调查表, 民主评议记录 and 发放记录 are printed and signed on paper by residents; the office
scans the signed page and keeps the scan in the case file next to the sealed documents, so the 案卷 holds both.
A scan is evidence, not a document of the workflow: it is stored as received (its SHA-256 recorded and audited),
never changed, and only the offices on the case's route that may see the case may add or read one.

What is stored is what the bytes are, not what the file is called: the type comes from the content (a PDF that
opens within the page limit, or a PNG or JPEG that decodes to sane dimensions), and anything else is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from io import BytesIO

from api.services.identity import Principal
from api.services.publication import STAFF_ROLES, may_see_case
from api.storage import audit, repositories
from api.storage import cases as case_store
from api.storage import scans as store
from api.storage.blobs import BlobStore
from api.storage.engine import Database, Session
from api.storage.models import CaseRow, ScanRow, utcnow
from signer.errors import (
    ConflictError,
    FieldProblem,
    InputFileError,
    NotFoundError,
    TemplateDataError,
    UploadTooLargeError,
)
from signer.layout import page_count

#: the media types a scan may be, and the file name ending each is offered with
MEDIA_TYPES: dict[str, str] = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
#: what the desk offers to name a scan (the service takes any short label)
LABELS = ("授权书签字页", "入户调查表签字页", "民主评议记录签字页", "发放记录签字页", "其他")
MAX_LABEL = 40
MAX_FILENAME = 120
#: a signed paper is a few pages; more is not a scan of one
MAX_PDF_PAGES = 20
#: an image smaller than this on a side shows no signature; larger than this is no page scan (A4 at 600 dpi is
#: 4961 × 7016 px, 35 million pixels); checked from the header, before anything is decoded
MIN_SIDE, MAX_SIDE, MAX_PIXELS = 100, 20_000, 60_000_000
_PNG, _JPEG, _PDF = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"%PDF-"
_UNSAFE_NAME = re.compile(r'[<>:"|?*;\\/]')


@dataclass(frozen=True)
class ScanView:
    """A scan as the case's offices see it."""

    id: str
    case_id: str
    #: the paper this page is the signed copy of (a document of the same case), if named
    document_id: str | None
    label: str
    #: the uploaded file's name, sanitised, its ending matching ``media_type``
    filename: str
    media_type: str
    size: int
    sha256: str
    office_id: str
    uploaded_by: str
    created_at: str


@dataclass(frozen=True)
class Paper:
    """A document of the case a scan may name (the desk's choice list)."""

    id: str
    title: str
    created_at: str


def _type_refused(message: str) -> InputFileError:
    return InputFileError(message, code="SCAN_TYPE")


def sniff(data: bytes) -> str:
    """The media type of a scan, from its bytes: a PDF that opens with 1–20 pages, or a PNG or JPEG that decodes to
    sane dimensions. Anything else (HTML, an executable, a damaged file) is refused with ``SCAN_TYPE``."""
    if data.startswith(_PDF):
        pages = page_count(data, stop_after=MAX_PDF_PAGES)
        if pages is None or pages < 1:
            raise _type_refused("PDF 文件无法打开或已损坏")
        if pages > MAX_PDF_PAGES:
            raise UploadTooLargeError(f"扫描件最多 {MAX_PDF_PAGES} 页（此文件超过此数）", code="SCAN_TOO_MANY_PAGES")
        return "application/pdf"
    if data.startswith(_PNG):
        _decode(data, "PNG")
        return "image/png"
    if data.startswith(_JPEG):
        _decode(data, "JPEG")
        return "image/jpeg"
    raise _type_refused("扫描件只能是 PDF、JPEG 或 PNG 文件")


def _decode(data: bytes, kind: str) -> None:
    """The image is whole and decodes as ``kind``, and its size (read from the header first) is a page's.

    Whole is checked apart from decoding: WeasyPrint, imported in the same process, sets Pillow's global
    ``LOAD_TRUNCATED_IMAGES``, so a cut-off file would decode silently. A PNG's chunks are checked to IEND with
    their CRCs (``verify``); a JPEG must end with its end-of-image marker."""
    from PIL import Image, UnidentifiedImageError

    broken = _type_refused(f"{kind} 图像不完整或已损坏")
    if kind == "JPEG" and not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        raise broken
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=[kind]) as image:
                width, height = image.size
                if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                    raise _type_refused(f"图像尺寸异常（{width} × {height} 像素），请按 150–600 dpi 重新扫描")
                if kind == "PNG":
                    image.verify()
            with Image.open(BytesIO(data), formats=[kind]) as image:
                image.load()
        except InputFileError:
            raise
        except (OSError, SyntaxError, ValueError, EOFError, UnidentifiedImageError, Image.DecompressionBombError,
                Image.DecompressionBombWarning):
            raise broken from None


def clean_filename(name: str | None, media_type: str) -> str:
    """The name shown and offered on download: the last path part, without control or reserved characters, its
    ending the one of the sniffed type (``签字.pdf`` that is a PNG becomes ``签字.png``); never used as a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if not unicodedata.category(c).startswith("C"))
    base = " ".join(_UNSAFE_NAME.sub("_", base).split()).strip(" .")
    stem, dot, ending = base.rpartition(".")
    if not dot:
        stem, ending = base, ""
    suffix = MEDIA_TYPES[media_type]
    if media_type == "image/jpeg" and ending.lower() == "jpeg":
        suffix = ".jpeg"
    stem = stem.strip(" .") or "扫描件"
    return stem[: MAX_FILENAME - len(suffix)] + suffix


def _field(path: str, message: str, code: str) -> TemplateDataError:
    error = TemplateDataError([FieldProblem(path, message)], message)
    error.code = code
    return error


def _unknown_case() -> NotFoundError:
    return NotFoundError("没有这个案件，或它不属于本单位", code="UNKNOWN_CASE")


def _view(row: ScanRow) -> ScanView:
    at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)  # SQLite drops it
    return ScanView(row.id, row.case_id, row.document_id, row.label, row.filename, row.media_type, row.size,
                    row.sha256, row.office_id, row.uploaded_by, at.isoformat())


class ScanService:
    """Add, list and read a case's scans; every call checks who may see the case first."""

    def __init__(self, *, db: Database, blobs: BlobStore, max_bytes: int) -> None:
        self.db, self.blobs, self.max_bytes = db, blobs, max_bytes

    def _case(self, session: Session, who: Principal, case_id: str) -> CaseRow:
        """The case, if ``who`` is staff of an office on it that may see it; else the same 404 as an unknown case
        (an outsider cannot tell a case it may not see from one that does not exist)."""
        try:
            row = case_store.case(session, case_id)
        except NotFoundError:
            raise _unknown_case() from None
        application = repositories.document(session, row.application_id)
        if (who.role not in STAFF_ROLES or who.office_id not in (row.village_id, row.township_id, row.county_id)
                or not may_see_case(who, application)):
            raise _unknown_case()
        return row

    def add(self, who: Principal, case_id: str, data: bytes, *, filename: str | None, label: str,
            document_id: str | None = None) -> ScanView:
        """Store a signed page with its case: checked (size, type from the bytes, label, paper of the case), the
        blob written durably first, then the row and its ``scan.add`` audit row in one transaction."""
        with self.db.session() as session:
            case = self._case(session, who, case_id)
            label = " ".join((label or "").split())
            if not label or len(label) > MAX_LABEL:
                raise _field("label", f"请写明扫描件是哪一页（1–{MAX_LABEL} 字）", "SCAN_LABEL")
            document_id = (document_id or "").strip() or None
            if document_id is not None and document_id not in {p.id for p in store.papers_of_case(session, case)}:
                raise _field("document_id", "所选文书不属于本案件", "SCAN_DOCUMENT")
        if len(data) > self.max_bytes:
            raise UploadTooLargeError(f"扫描件不能超过 {self.max_bytes / 2**20:g} MB", code="SCAN_TOO_LARGE")
        if not data:
            raise _type_refused("上传的文件是空的")
        media_type = sniff(data)
        name = clean_filename(filename, media_type)
        sha = self.blobs.put(data)  # durable before any row points at it (a row that then fails leaves it to sweep)
        try:
            with self.db.session() as session:
                case = self._case(session, who, case_id)
                if any(s.sha256 == sha for s in store.of_case(session, case.id)):
                    raise ConflictError("本案件已有相同的扫描件", code="SCAN_DUPLICATE")
                row = store.add(session, ScanRow(
                    id=secrets.token_hex(16), case_id=case.id, document_id=document_id, label=label, filename=name,
                    media_type=media_type, size=len(data), sha256=sha, office_id=who.office_id,
                    uploaded_by=who.actor, created_at=utcnow()))
                audit.append(session, actor=who.actor, action="scan.add", office_id=who.office_id,
                             document_id=document_id or case.application_id,
                             detail={"case": case.id, "scan": row.id, "sha256": sha, "label": label,
                                     "media_type": media_type, "size": len(data)})
                return _view(row)
        except repositories.DuplicateRow:  # the same file sent twice at once: the other request stored it
            raise ConflictError("本案件已有相同的扫描件", code="SCAN_DUPLICATE") from None

    def listing(self, who: Principal, case_id: str) -> list[ScanView]:
        with self.db.session() as session:
            case = self._case(session, who, case_id)
            return [_view(r) for r in store.of_case(session, case.id)]

    def papers(self, who: Principal, case_id: str) -> list[Paper]:
        """The case's documents a scan may name (the desk's choice list)."""
        with self.db.session() as session:
            case = self._case(session, who, case_id)
            return [Paper(d.id, d.title, d.created_at.isoformat()) for d in store.papers_of_case(session, case)]

    def file(self, who: Principal, scan_id: str) -> tuple[ScanView, bytes]:
        """A scan and its bytes (hash-checked by the blob store); an unknown scan and one of a case ``who`` may not
        see are the same 404."""
        with self.db.session() as session:
            try:
                row = store.get(session, scan_id)
                self._case(session, who, row.case_id)
            except NotFoundError:
                raise NotFoundError("没有这份扫描件，或它不属于本单位", code="UNKNOWN_SCAN") from None
            view = _view(row)
        return view, self.blobs.get(view.sha256)
