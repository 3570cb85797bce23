"""What a forger does to a sealed file, for the demo and its checks: an incremental update that paints over part
of the first page after the seals. Verification must call the result modified after signing."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def paint_over(pdf: bytes) -> bytes:
    """``pdf`` with a white box drawn on page 1 in a new revision (the earlier bytes untouched)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(
        stream_data=b"q 1 1 1 rg 300 600 200 24 re f Q")))
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
