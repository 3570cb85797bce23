"""The document catalogue: families of forms, notices and certificates, validated and rendered.

Public surface: :class:`Catalogue` (families and validation), :class:`PdfRenderer` (PDF + seal slots),
:func:`render_docx` (editable Word version), and the result types.
"""

from __future__ import annotations

from typing import Any

from signer.slots import SealSlot

from .catalogue import Catalogue, Family, Prepared
from .render_pdf import PdfRenderer, RenderedPdf

__all__ = ["Catalogue", "Family", "PdfRenderer", "Prepared", "RenderedPdf", "SealSlot", "render_docx"]


def render_docx(prepared: Prepared) -> bytes:
    """The same content as the PDF, as a Word document the office can still edit."""
    from .docx_kit import to_bytes

    document: Any = prepared.family.build_docx(prepared.view)
    return to_bytes(document)
