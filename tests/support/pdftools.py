"""Thin wrappers over poppler's command-line tools: the independent reader our tests check PDFs with."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Line:
    """One text line as ``pdftotext -bbox-layout`` sees it, in points from the page's top left."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    lines: tuple[Line, ...]


MM = 72 / 25.4


def layout(pdf: Path) -> list[Page]:
    """Every page's lines with their boxes (``pdftotext -bbox-layout``): the measure for fill, breaks, offsets."""
    root = ET.fromstring(re.sub(r'xmlns="[^"]*"', "", _run("pdftotext", "-bbox-layout", str(pdf), "-")))
    pages = []
    for n, page in enumerate(root.iter("page"), 1):
        lines = []
        for line in page.iter("line"):
            words = [w.text or "" for w in line.iter("word")]
            lines.append(Line(n, *(float(line.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax")),
                              text=" ".join(words)))
        pages.append(Page(n, float(page.get("width", 0)), float(page.get("height", 0)), tuple(lines)))
    return pages
