"""The document catalogue: families of forms, notices and certificates, validated and rendered.

Public surface: :class:`Catalogue` (families and validation), :class:`PdfRenderer` (PDF + seal slots),
:func:`render_docx` (editable Word version), and the result types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signer.slots import SealSlot

from .catalogue import Catalogue, Family, Prepared

if TYPE_CHECKING:
    from .render_pdf import PdfRenderer, RenderedPdf

__all__ = ["Catalogue", "Family", "PdfRenderer", "Prepared", "RenderedPdf", "SealSlot", "render_docx"]


def render_docx(prepared: Prepared, *, verify_url: str | None = None) -> bytes:
    """The same content as the PDF, as a Word document the office can still edit; notices and certificates get
    the same QR code as their PDF (``verify_url``)."""
    from .docx_kit import qr_code, to_bytes

    document: Any = prepared.family.build_docx(prepared.view)
    if verify_url and prepared.family.kind in ("notice", "certificate"):
        qr_code(document, verify_url)
    return to_bytes(document)


def __getattr__(name: str) -> Any:
    """The renderer loads WeasyPrint (~0.4 s): imported when first asked for, so commands that only verify or
    read the catalogue start fast."""
    if name in ("PdfRenderer", "RenderedPdf"):
        from . import render_pdf

        return getattr(render_pdf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
