"""HTML/CSS → PDF with WeasyPrint, plus the seal slots the signer needs.

One ``PdfRenderer`` per process: it owns the jinja Environment, the pre-parsed stylesheets and the shared
``FontConfiguration`` (one per process keeps memory flat). User data is autoescaped and WeasyPrint may read
only our own template assets and ``data:`` URLs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import segno
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from signer.errors import FieldProblem, TemplateDataError
from signer.form_facts import FORM_FACTS_KEY
from signer.slots import SLOTS_INFO_KEY, SealSlot, SlotTable

from .catalogue import TEMPLATES_ROOT, Catalogue, Family, Prepared, iter_strings
from .columns import FORM_WIDTHS
from .fit import LINE_PITCHES_PT, closer_css, closing_pushed
from .fonts import FontSet, check_subsetter
from .formats import cn_date, money
from .titles import title_lines
from .unbreakable import keep_whole
from .validators import mask_id_number

#: CSS px → PDF points
PX_TO_PT = 0.75
MM_TO_PX = 96 / 25.4
#: a seal slot over an issuing office is a square this wide: room for any seal up to 48 mm, drawn at its
#: registry diameter (seals are never scaled to a box)
ISSUER_SEAL_MM = 48.0
#: GB/T 9704 §7.3.5.1: office name and date sit below the seal's centre ("中心偏下"): the centre is at the top
#: of the signature block (the name's line box; its glyphs start ~2 mm lower)
SEAL_CENTRE_FROM_TOP_MM = 0.0
ASSETS = TEMPLATES_ROOT / "assets"


@dataclass(frozen=True)
class RenderedPdf:
    family_id: str
    title: str
    pdf: bytes
    page_count: int
    page_size: tuple[float, float]
    slots: tuple[SealSlot, ...]
    #: what WeasyPrint logged (a broken stylesheet, a refused URL …); empty for a clean render
    warnings: tuple[str, ...] = field(default=())

    def slot(self, name: str) -> SealSlot:
        return next(s for s in self.slots if s.name == name)


class AssetOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """Lets WeasyPrint read our template assets and ``data:`` URLs, nothing else."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self._root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file://"):
            path = Path(url.removeprefix("file://").split("?")[0].split("#")[0]).resolve()
            if path.is_relative_to(self._root) and path.suffix in {".css", ".svg", ".png"}:
                return super().fetch(url, headers)
        raise ValueError(f"资源被拒绝（只允许模板自带资源）: {url[:200]}")


class _LogCollector(logging.Handler):
    """Collects WeasyPrint's warnings per thread, so one render's problems land in its own result."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._local = threading.local()

    def start(self) -> None:
        self._local.records = []

    def stop(self) -> tuple[str, ...]:
        records: list[str] = getattr(self._local, "records", [])
        self._local.records = None
        return tuple(records)

    def emit(self, record: logging.LogRecord) -> None:
        records = getattr(self._local, "records", None)
        if records is not None:
            records.append(record.getMessage())


#: The QR slot is 24 mm wide (26 mm on certificates). Up to version 9 (53 modules, 0.45 mm each at 24 mm) the code
#: reads from a printed board with a phone and still decodes from a 72 dpi scan (tests/test_public_page.py);
#: version 10 did not at 72 dpi. Error correction M (15 % of the symbol may be soiled) where the URL fits, else L.
MAX_QR_VERSION = 9
QR_ERROR_LEVELS = ("m", "l")
#: a plain URL of this length always fits; a longer one must still fit version 9 (checked below)
MAX_VERIFY_URL = 330


def qr_code(url: str) -> segno.QRCode:
    """The smallest QR code of version ≤ 9 for ``url``, preferring error correction M."""
    for level in QR_ERROR_LEVELS:
        try:
            code = segno.make(url, error=level, micro=False, boost_error=True)
        except segno.DataOverflowError:
            continue
        if int(code.version) <= MAX_QR_VERSION:
            return code
    raise TemplateDataError([FieldProblem("verify_url", f"核验网址过长，二维码无法在{MAX_QR_VERSION}版以内容纳")])


def check_verify_url(url: str | None) -> None:
    """Refuse a verification URL the QR code cannot carry, before anything renders."""
    if url is None:
        return
    problem = None
    if not url.lower().startswith(("https://", "http://")):
        problem = "核验网址应以 http:// 或 https:// 开头"
    elif len(url) > MAX_VERIFY_URL:
        problem = f"核验网址过长（最多 {MAX_VERIFY_URL} 个字符，实际 {len(url)} 个）"
    elif any(ord(c) < 33 or ord(c) == 127 or not c.isascii() for c in url):
        problem = "核验网址含有空白、控制字符或非 ASCII 字符"
    if problem:
        raise TemplateDataError([FieldProblem("verify_url", problem)])
    qr_code(url)


def qr_data_uri(url: str) -> str:
    return str(qr_code(url).svg_data_uri(border=0, dark="#000", scale=4))


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """The same code as a PNG with its quiet zone (for the Word version)."""
    import io

    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


class PdfRenderer:
    def __init__(self, catalogue: Catalogue, *, pdf_variant: str | None = "pdf/a-2b") -> None:
        check_subsetter()
        self.catalogue = catalogue
        self.fonts = FontSet.locate()
        self.pdf_variant = pdf_variant
        self._font_config = FontConfiguration()
        self._fetcher = AssetOnlyFetcher(TEMPLATES_ROOT)
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES_ROOT)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(cn_date=cn_date, money=money, mask_id=mask_id_number, title_lines=title_lines)
        self._env.globals.update(qr_data_uri=qr_data_uri, widths=FORM_WIDTHS)
        self._stylesheets: dict[str, list[Any]] = {}
        self._closer: list[Any] = []
        self._render_lock = threading.Lock()
        self._log = _LogCollector()
        logging.getLogger("weasyprint").addHandler(self._log)

    def close(self) -> None:
        logging.getLogger("weasyprint").removeHandler(self._log)

    def _styles(self, family: Family) -> list[Any]:
        if family.id not in self._stylesheets:
            files = [ASSETS / "common.css", ASSETS / f"{family.kind}.css", family.directory / "style.css"]
            self._stylesheets[family.id] = [
                CSS(filename=str(f), font_config=self._font_config, url_fetcher=self._fetcher)
                for f in files if f.exists()
            ]
        return self._stylesheets[family.id]

    def check_glyphs(self, prepared: Prepared) -> None:
        problems = []
        for path, text in iter_strings(prepared.family.schema.root, prepared.data):
            missing = self.fonts.missing([text])
            if missing:
                chars = "、".join(f"「{c}」(U+{ord(c):04X})" for c in missing)
                problems.append(FieldProblem(path, f"含有文书字体无法显示的字符：{chars}"))
        if problems:
            raise TemplateDataError(problems, f"「{prepared.family.title}」含有无法显示的字符")

    def html(self, prepared: Prepared, *, verify_url: str | None = None, created: datetime | None = None) -> str:
        family = prepared.family
        template = self._env.get_template(f"{family.directory.name}/template.html.j2")
        return keep_whole(template.render(
            **family.helpers,
            d=prepared.view,
            family=family,
            issuer=prepared.issuer,
            verify_url=verify_url,
            created=(created or datetime.now(UTC)).isoformat(timespec="seconds"),
        ))

    def render(
        self, prepared: Prepared, *, verify_url: str | None = None, created: datetime | None = None,
        office_ids: Mapping[str, str] | None = None,
    ) -> RenderedPdf:
        """``office_ids`` maps slot names (tiers, "issuer") to the registry ids of the offices that seal them;
        sealing and verification match those ids, never the printed names."""
        check_verify_url(verify_url)
        self.check_glyphs(prepared)
        source = self.html(prepared, verify_url=verify_url, created=created)
        with self._render_lock:
            return self._render_locked(prepared, source, office_ids)

    def _render_locked(self, prepared: Prepared, source: str, office_ids: Mapping[str, str] | None) -> RenderedPdf:
        """One render at a time per renderer: WeasyPrint's font configuration (Pango/fontconfig underneath) and
        our warning collector are shared, and concurrent renders from the service's threads corrupted GLib's heap.
        The GIL serialises this work anyway, so the lock costs no throughput."""
        self._log.start()
        try:
            document = self._layout(source, self._styles(prepared.family))
            if closing_pushed(document):  # GB/T 9704 §7.3.5.1: a closer line pitch keeps the seal with the body
                document = self._closer_fit(document, source, prepared.family)
            slots = tuple(_find_slots(document, prepared.family.tiers, office_ids or {}))
            # the slots travel inside the file too, so a later tier's signer knows where its box is
            document.metadata.custom[SLOTS_INFO_KEY] = SlotTable(prepared.family.id, slots).to_json()
            if "facts" in prepared.view:  # what the seal step checks a decision against (forms only)
                document.metadata.custom[FORM_FACTS_KEY] = json.dumps(prepared.view["facts"], ensure_ascii=False,
                                                                      separators=(",", ":"))
            pdf = document.write_pdf(pdf_variant=self.pdf_variant, custom_metadata=True)
        finally:
            warnings = self._log.stop()
        return _rendered(prepared.family.id, prepared.family.title, document, pdf, slots, warnings)

    def _layout(self, source: str, stylesheets: Sequence[Any], *, pdf_variant: str | None = None) -> Any:
        """WeasyPrint's layout of ``source`` with this renderer's fonts and asset-only fetcher."""
        return HTML(string=source, base_url=str(ASSETS) + "/", url_fetcher=self._fetcher).render(
            font_config=self._font_config, stylesheets=list(stylesheets),
            pdf_variant=pdf_variant or self.pdf_variant)

    def _closer_fit(self, document: Any, source: str, family: Family) -> Any:
        """The least closer pitch that saves the pushed page, else ``document`` unchanged. The closest pitch is
        tried first (if it does not save the page none does: one extra layout), then the others back towards
        the grid, so the kept layout is the one that changes the grid least."""
        closest = self._layout(source, [*self._styles(family), self._closer_styles()[-1]])
        if len(closest.pages) >= len(document.pages):
            return document
        for closer in self._closer_styles()[:-1]:
            candidate = self._layout(source, [*self._styles(family), closer])
            if len(candidate.pages) < len(document.pages):
                return candidate
        return closest

    def _closer_styles(self) -> list[Any]:
        """The closer line pitches of ``templates/fit.py``, least change first (parsed once per renderer)."""
        if not self._closer:
            self._closer = [CSS(string=closer_css(pitch), font_config=self._font_config)
                            for pitch in LINE_PITCHES_PT]
        return self._closer

    def render_page(self, template: str, context: Mapping[str, Any], *, page_id: str, title: str,
                    stylesheets: Sequence[str], office_ids: Mapping[str, str] | None = None,
                    pdf_variant: str | None = None) -> RenderedPdf:
        """A page that is no catalogue family (the 案卷's 卷内目录), rendered with this renderer's one
        environment, fonts, asset-only fetcher and slot rules. ``template`` and ``stylesheets`` are paths under
        ``templates/``; ``page_id`` is the slot table's family; ``pdf_variant`` overrides the renderer's (a
        PDF/A-3 page may carry attachments)."""
        variant = pdf_variant or self.pdf_variant
        source = keep_whole(self._env.get_template(template).render(**context))
        key = "page:" + "|".join(stylesheets)
        if key not in self._stylesheets:
            self._stylesheets[key] = [CSS(filename=str(TEMPLATES_ROOT / f), font_config=self._font_config,
                                          url_fetcher=self._fetcher) for f in stylesheets]
        with self._render_lock:
            self._log.start()
            try:
                document = self._layout(source, self._stylesheets[key], pdf_variant=variant)
                slots = tuple(_find_slots(document, (), office_ids or {}))
                document.metadata.custom[SLOTS_INFO_KEY] = SlotTable(page_id, slots).to_json()
                pdf = document.write_pdf(pdf_variant=variant, custom_metadata=True)
            finally:
                warnings = self._log.stop()
        return _rendered(page_id, title, document, pdf, slots, warnings)


def _rendered(family_id: str, title: str, document: Any, pdf: bytes, slots: tuple[SealSlot, ...],
              warnings: tuple[str, ...]) -> RenderedPdf:
    first = document.pages[0]
    return RenderedPdf(
        family_id=family_id,
        title=title,
        pdf=pdf,
        page_count=len(document.pages),
        page_size=(first.width * PX_TO_PT, first.height * PX_TO_PT),
        slots=slots,
        warnings=warnings,
    )


def _find_slots(document: Any, tiers: Sequence[str], office_ids: Mapping[str, str]) -> Iterator[SealSlot]:
    """Boxes carrying ``data-seal-slot`` become slots as laid out; a ``data-seal-anchor`` box (office name and
    date) gets a seal-sized square centred over it, slightly raised."""
    for index, page in enumerate(document.pages):
        seen: set[str] = set()
        height = page.height
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None:
                continue
            name = element.get("data-seal-slot") or element.get("data-seal-anchor")
            if not name or name in seen:
                continue
            seen.add(name)
            x, y = box.border_box_x(), box.border_box_y()
            w, h = box.border_width(), box.border_height()
            if element.get("data-seal-anchor"):
                side = ISSUER_SEAL_MM * MM_TO_PX
                cx, cy = x + w / 2, y + SEAL_CENTRE_FROM_TOP_MM * MM_TO_PX
                x, y, w, h = cx - side / 2, cy - side / 2, side, side
            purpose = "tier" if name in tiers else ("qr" if name == "qr" else "issuer")
            yield SealSlot(
                name=name,
                purpose=purpose,
                page_index=index,
                rect=(x * PX_TO_PT, (height - y - h) * PX_TO_PT, (x + w) * PX_TO_PT, (height - y) * PX_TO_PT),
                office=element.get("data-office"),
                office_id=office_ids.get(name) if purpose != "qr" else None,
            )
