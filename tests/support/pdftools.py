"""Thin wrappers over poppler's command-line tools: the independent reader our tests check PDFs with."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout


def text(pdf: Path, *, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return _run("pdftotext", "-layout", *pages, str(pdf), "-")


def fonts(pdf: Path) -> list[dict[str, str]]:
    """One dict per embedded font row of ``pdffonts``."""
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    out = []
    for row in rows:
        parts = row.split()
        # name, type words…, encoding, emb, sub, uni, object id, generation
        out.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3],
                    "type": " ".join(parts[1:-6])})
    return out


def info(pdf: Path) -> dict[str, str]:
    out = {}
    for line in _run("pdfinfo", "-isodates", str(pdf)).splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def page_png(pdf: Path, out_prefix: Path, *, page: int = 1, dpi: int = 72, mode: str = "L") -> Image.Image:
    """Rasterise one page; at 72 dpi one pixel is one PDF point."""
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(out_prefix)], check=True, timeout=120)
    return Image.open(f"{out_prefix}.png").convert(mode)
