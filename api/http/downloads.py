"""File downloads: a Chinese file name in ``Content-Disposition`` (RFC 6266 / RFC 5987: an ASCII fallback and the
UTF-8 name), and zip archives of several files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from urllib.parse import quote


def disposition(filename: str, *, inline: bool = False, fallback: str | None = None) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…``.

    The ASCII fallback (for clients without RFC 5987) is ``fallback`` when the caller has a readable one, else the
    name with every unsafe character replaced.
    """
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_"
                       for ch in (fallback or filename)) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def zip_files(files: Sequence[tuple[str, bytes]]) -> bytes:
    """One zip of ``files`` (stored, not compressed: PDFs are compressed already); names are UTF-8."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        seen: set[str] = set()
        for name, data in files:
            unique, n = name, 1
            while unique in seen:
                n += 1
                unique = f"{n}-{name}"
            seen.add(unique)
            archive.writestr(unique, data)
    return out.getvalue()
