"""Visible seals as PDF vector graphics: the red round seal, the opinion text and the date, all drawn from
glyph outlines (no font embedding per signature, crisp at any zoom, the same bytes every time).

The seal is painted last with the Multiply blend mode, so black text under it stays readable, as under
real seal ink.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from .seal_image import SealSpec, layout

MM = 72 / 25.4
# AR PL KaitiM GB's glyf table is 4 bytes longer than its loca says; harmless, but fontTools warns every load
logging.getLogger("fontTools.ttLib.tables._g_l_y_f").setLevel(logging.ERROR)
RED = b"0.902 0 0.071"  # #e60012


class _PdfPathPen(BasePen):  # type: ignore[misc]
    """Glyph outline → PDF path operators (font units); quadratic curves become cubic (BasePen does that)."""

    def __init__(self, glyph_set: object) -> None:
        super().__init__(glyph_set)
        self.ops: list[str] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{pt[0]:.0f} {pt[1]:.0f} m")

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{pt[0]:.0f} {pt[1]:.0f} l")

    def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> None:
        self.ops.append(f"{p1[0]:.0f} {p1[1]:.0f} {p2[0]:.0f} {p2[1]:.0f} {p3[0]:.0f} {p3[1]:.0f} c")

    def _closePath(self) -> None:
        self.ops.append("h")


@dataclass
class OutlineFont:
    """A TrueType face read into memory once per process; glyph paths are cached as they are first used."""

    path: Path
    index: int = 0
    _cache: dict[str, tuple[bytes, float]] = field(default_factory=dict, repr=False)
    _font: TTFont | None = field(default=None, repr=False)

    def _tt(self) -> TTFont:
        if self._font is None:
            # from bytes, so no file handle stays open for the life of the process
            self._font = TTFont(io.BytesIO(self.path.read_bytes()), fontNumber=self.index, lazy=True)
            head, hhea = self._font["head"], self._font["hhea"]
            self.upem = int(head.unitsPerEm)
            self.middle = (hhea.ascent + hhea.descent) / 2
            self._cmap = self._font.getBestCmap()
            self._glyphs = self._font.getGlyphSet()
        return self._font

    def glyph(self, char: str) -> tuple[bytes, float]:
        """(path operators in font units, advance width); a missing character draws nothing."""
        if char not in self._cache:
            self._tt()
            name = self._cmap.get(ord(char))
            if name is None:
                self._cache[char] = (b"", float(self.upem))
            else:
                pen = _PdfPathPen(self._glyphs)
                self._glyphs[name].draw(pen)
                self._cache[char] = (" ".join(pen.ops).encode(), float(self._glyphs[name].width))
        return self._cache[char]

    def metrics(self) -> tuple[int, float]:
        self._tt()
        return self.upem, self.middle


def _glyph_at(font: OutlineFont, char: str, *, x: float, y: float, size: float, angle: float = 0.0,
              squeeze: float = 1.0) -> bytes:
    """One character centred at (x, y) points, ``size`` points tall, rotated ``angle`` degrees clockwise."""
    path, advance = font.glyph(char)
    if not path:
        return b""
    upem, middle = font.metrics()
    k = size / upem
    t = math.radians(angle)
    cos, sin = math.cos(t), math.sin(t)
    return b"q %.4f %.4f %.4f %.4f %.3f %.3f cm %.6f 0 0 %.6f %.3f %.3f cm %s f Q" % (
        cos, -sin, sin, cos, x, y, k * squeeze, k, -advance / 2 * k * squeeze, -middle * k, path)


def _circle(cx: float, cy: float, r: float) -> bytes:
    k = 0.5523 * r
    return (b"%.3f %.3f m %.3f %.3f %.3f %.3f %.3f %.3f c %.3f %.3f %.3f %.3f %.3f %.3f c "
            b"%.3f %.3f %.3f %.3f %.3f %.3f c %.3f %.3f %.3f %.3f %.3f %.3f c h") % (
        cx + r, cy, cx + r, cy + k, cx + k, cy + r, cx, cy + r,
        cx - k, cy + r, cx - r, cy + k, cx - r, cy,
        cx - r, cy - k, cx - k, cy - r, cx, cy - r,
        cx + k, cy - r, cx + r, cy - k, cx + r, cy)


def seal_ops(spec: SealSpec, font: OutlineFont) -> bytes:
    """The seal in its own D×D point box (origin lower left), red, fill and stroke only."""
    geo = layout(spec)
    d = geo.diameter * MM

    def flip(x_mm: float, y_mm: float) -> tuple[float, float]:
        return x_mm * MM, d - y_mm * MM

    parts = [b"q", RED + b" rg", RED + b" RG", b"%.3f w" % (geo.ring_width * MM),
             _circle(d / 2, d / 2, geo.ring_radius * MM) + b" S"]
    star = [flip(x, y) for x, y in geo.star]
    parts.append(b" ".join([b"%.3f %.3f m" % star[0], *(b"%.3f %.3f l" % p for p in star[1:]), b"h f"]))
    for g in geo.glyphs:
        x, y = flip(g.x, g.y)
        parts.append(_glyph_at(font, g.char, x=x, y=y, size=g.height * MM, angle=g.angle, squeeze=g.squeeze))
    parts.append(b"Q")
    return b"\n".join(parts)


def text_line_ops(font: OutlineFont, text: str, *, x: float, y: float, size: float, align: str = "left") -> bytes:
    """One line of CJK text, ``y`` = the line's vertical middle, in black."""
    advances = [font.glyph(c)[1] * size / font.metrics()[0] for c in text]
    width = sum(advances)
    start = {"left": x, "right": x - width, "center": x - width / 2}[align]
    parts, cursor = [], start
    for char, advance in zip(text, advances, strict=True):
        parts.append(_glyph_at(font, char, x=cursor + advance / 2, y=y, size=size))
        cursor += advance
    return b"0 g " + b" ".join(p for p in parts if p)


def wrap(font: OutlineFont, text: str, *, size: float, width: float) -> list[str]:
    upem = font.metrics()[0]
    lines, line, used = [], "", 0.0
    for char in text:
        advance = font.glyph(char)[1] * size / upem
        if line and used + advance > width:
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += advance
    if line:
        lines.append(line)
    return lines


@dataclass(frozen=True)
class BoxAppearance:
    """What a seal box shows: the opinion (top left), the office and date (lower right) and the seal over
    them, scaled to fit the box height when the box is lower than the seal."""

    width: float
    height: float
    opinion: str | None
    office: str | None
    date_text: str | None
    seal: SealSpec


def box_ops(appearance: BoxAppearance, *, text_font: OutlineFont, seal_font: OutlineFont,
            seal_content: bytes | None = None) -> bytes:
    a = appearance
    parts: list[bytes] = []
    pad = 6.0
    size = 12.0
    diameter = min(a.seal.diameter_mm * MM, a.height - 2, a.width - 2)
    if a.opinion:
        y = a.height - pad - size * 0.7
        # the opinion keeps clear of the seal, which sits at the right
        for line in wrap(text_font, a.opinion, size=size, width=a.width - 3 * pad - diameter)[:4]:
            parts.append(text_line_ops(text_font, line, x=pad + size * 2 if not parts else pad, y=y, size=size))
            y -= size * 1.5
    plain = not (a.opinion or a.office or a.date_text)
    seal_cx = a.width / 2 if plain else a.width - pad - diameter / 2
    if a.date_text:
        parts.append(text_line_ops(text_font, a.date_text, x=seal_cx, y=pad + size * 0.6, size=size, align="center"))
    if a.office:
        parts.append(text_line_ops(text_font, a.office, x=seal_cx, y=pad + size * 2.2, size=size, align="center"))
    content = seal_content if seal_content is not None else seal_ops(a.seal, seal_font)
    scale = diameter / (a.seal.diameter_mm * MM)
    seal_y = max((a.height - diameter) / 2, 0.0)
    parts.append(b"q /MinSealInk gs %.5f 0 0 %.5f %.3f %.3f cm %s Q" % (
        scale, scale, seal_cx - diameter / 2, seal_y, content))
    return b"\n".join(parts)
