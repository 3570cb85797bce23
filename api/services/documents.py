"""Use case: validate a document's data and render it (PDF, optionally DOCX) with its seal boxes resolved against
the office registry."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from api.services.local_rules import document_rules
from api.services.offices import Registry, resolve_office_ids
from api.settings import Settings
from signer.seal_image import SealFont
from templates import Catalogue, PdfRenderer, RenderedPdf, render_docx
from templates.fonts import FontSet


@dataclass(frozen=True)
class RenderOutput:
    document_id: str
    rendered: RenderedPdf
    docx: bytes | None
    #: the QR code's address: only a registered document's (given by the caller), else None and no QR code
    verify_url: str | None


class DocumentService:
    """Validates and renders documents; one per process (it holds the renderer and its font cache)."""

    def __init__(self, settings: Settings, catalogue: Catalogue | None = None,
                 renderer: PdfRenderer | None = None,
                 registry: Registry | Callable[[], Registry | None] | None = None) -> None:
        """``registry``: a fixed one, or where to read the installation's (its database); the container passes
        its authority's. Default (a service built alone, by a test or a script): the installation under
        ``settings``, wired by the container."""
        self.settings = settings
        self.catalogue = catalogue or Catalogue.load()
        self._renderer = renderer
        self._registry = registry

    def registry(self) -> Registry | None:
        """The office registry the documents' seal boxes are resolved against (None: no installation yet)."""
        if self._registry is None:
            from api.services.container import Services

            self._registry = Services(self.settings).authority.registry_or_none
        return self._registry() if callable(self._registry) else self._registry

    @property
    def renderer(self) -> PdfRenderer:
        # Built on first use: listing templates needs no fonts or WeasyPrint.
        if self._renderer is None:
            self._renderer = PdfRenderer(self.catalogue, pdf_variant=self.settings.pdf_variant_or_none)
        return self._renderer

    def render(self, family_id: str, data: Any, *, with_docx: bool = False, verify_url: str | None = None,
               today: date | None = None, office_ids: dict[str, str] | None = None) -> RenderOutput:
        """Validate first (nothing is produced from bad data), then render PDF and optionally DOCX.

        A notice or certificate carries a QR code only when ``verify_url`` is given: the caller registers the
        document under that address (the workflow does). Without one it prints no QR code at all, never an
        address that leads nowhere."""
        prepared = self.catalogue.prepare(family_id, data, today=today, rules=document_rules(self.settings))
        document_id = secrets.token_hex(8)
        if office_ids is None and (registry := self.registry()) is not None:
            office_ids = resolve_office_ids(prepared, registry)
        rendered = self.renderer.render(prepared, verify_url=verify_url, office_ids=office_ids)
        docx = render_docx(prepared, verify_url=verify_url) if with_docx else None
        return RenderOutput(document_id=document_id, rendered=rendered, docx=docx, verify_url=verify_url)


    def check(self, family_id: str, data: Any, *, today: date | None = None) -> None:
        """What rendering would refuse, without rendering: the schema and the faces' glyphs (so 检查填写 and
        生成 give the same answer for a rare character or an emoji)."""
        prepared = self.catalogue.prepare(family_id, data, today=today, rules=document_rules(self.settings))
        self.renderer.check_glyphs(prepared)

    def word_copy(self, family_id: str, data: Any) -> bytes:
        """The DOCX of ``data`` alone (no PDF rendered): the editable copy beside a stored document."""
        prepared = self.catalogue.prepare(family_id, data, rules=document_rules(self.settings))
        return render_docx(prepared, verify_url=None)


def seal_font() -> SealFont:
    """Seals are cut in a 宋体 face, as real seals are (located through fontconfig)."""
    for face, path, index in FontSet.locate().files:
        if face.role == "song":
            return SealFont(path, index)
    raise AssertionError("song face missing from FACES")
