"""File downloads: a Chinese file name in ``Content-Disposition`` (RFC 6266 / RFC 5987: an ASCII fallback and the
UTF-8 name), and zip archives of several files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def disposition(filename: str, *, inline: bool = False, fallback: str | None = None) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…``.

    The ASCII fallback (for clients without RFC 5987) is ``fallback`` when the caller has a readable one, else the
    name with every unsafe character replaced.
    """
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_"
                       for ch in (fallback or filename)) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def document_filename(view: Any, number: int | None, ext: str) -> tuple[str, str]:
    """(the Chinese name a clerk files the download under, its ASCII fallback): 申请人-文书名-第N版.ext."""
    data = getattr(view, "data", None) or {}
    who = data.get("applicant", {}).get("name") if isinstance(data.get("applicant"), dict) else None
    version = f"-第{number}版" if number else ""
    name = "-".join(part for part in (who, view.title) if part) + version + f".{ext}"
    fallback = f"{view.family}-{view.id[:8]}" + (f"-v{number}" if number else "") + f".{ext}"
    return _clean(name), fallback


def _clean(name: str) -> str:
    """No path separators or control characters in a file name a browser will save."""
    return "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in name)[:120]


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
