"""The red round seal (公章) drawn from an office's name: SVG (text as glyph outlines, so it looks the same
everywhere) and a transparent PNG at print resolution.

Office name along the upper arc, clockwise, evenly spaced, in a 宋体 face (seals are cut in Song); a five-pointed
star in the centre; optional horizontal bottom text (e.g. 民政专用章) and an optional 防伪编码 along the lower arc.
Proportions of a cut seal: ring ~1.2 mm on 42 mm, star 1/3 of the diameter across. Long names get a longer arc,
then smaller, narrower characters, so they always fit. One seal, one size: the registry's diameter (国发〔1999〕25号:
乡镇 42 mm) is drawn everywhere, never scaled to a box. Deterministic: the same input gives the same bytes.
Never draws the national emblem: an office whose seal carries another emblem supplies its own artwork (an SVG of
filled paths, see ``emblem_from_svg``), drawn in the star's place and size; MinSeal ships none.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# fontTools and Pillow are imported where a seal is drawn, not at import: a verifier or ``minseal verify`` reads
# office records that name this module's types and never draws (~0.2 s of start-up saved)

SEAL_RED = (230, 0, 18)
SEAL_RED_HEX = "#e60012"
MAX_ARC_DEGREES = 250.0


Polygon = tuple[tuple[float, float], ...]
Emblem = tuple[Polygon, ...]
#: an emblem is a line drawing for a seal a few centimetres across: this many points is plenty
MAX_EMBLEM_POINTS = 20_000


def _flattening_pen() -> Any:
    from fontTools.pens.basePen import BasePen

    class _FlatteningPen(BasePen):  # type: ignore[misc]
        """Curves as short line segments (a seal emblem is ~14 mm across: 12 segments a curve is smooth in
        print)."""

        def __init__(self) -> None:
            super().__init__(None)
            self.polygons: list[list[tuple[float, float]]] = []

        def _moveTo(self, pt: tuple[float, float]) -> None:
            self.polygons.append([pt])

        def _lineTo(self, pt: tuple[float, float]) -> None:
            self.polygons[-1].append(pt)

        def _curveToOne(self, p1: Any, p2: Any, p3: Any) -> None:
            p0 = self.polygons[-1][-1]
            for i in range(1, 13):
                t = i / 12
                a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
                self.polygons[-1].append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                                          a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))

        def _closePath(self) -> None:
            pass

        def _endPath(self) -> None:
            pass

    return _FlatteningPen()


def emblem_from_svg(text: str) -> Emblem:
    """An office's emblem artwork: an SVG whose ``<path d="…">`` elements (no transforms) are the emblem, in
    the coordinates of its viewBox, one ink colour as a seal has. Scaled to a unit box, centred, keeping its
    proportions. Raises ValueError saying what is wrong."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"不是有效的 SVG 文件（{exc}）") from None
    box = [float(v) for v in (root.get("viewBox") or "").replace(",", " ").split()]
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise ValueError("SVG 缺少有效的 viewBox")
    from fontTools.svgLib.path import parse_path

    pen = _flattening_pen()
    paths = [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "path"]
    if not paths or any(e.get("transform") for e in root.iter()):
        raise ValueError("SVG 中应有不带 transform 的 <path> 元素")
    for element in paths:
        try:
            parse_path(element.get("d", ""), pen)
        except Exception:
            raise ValueError("SVG 路径数据（d）格式错误") from None
    polygons = [poly for poly in pen.polygons if len(poly) >= 3]
    if not polygons or sum(map(len, polygons)) > MAX_EMBLEM_POINTS:
        raise ValueError(f"SVG 路径应为 1 至 {MAX_EMBLEM_POINTS} 个点的封闭图形")
    x0, y0, w, h = box
    k = 1 / max(w, h)
    dx, dy = (1 - w * k) / 2, (1 - h * k) / 2
    return tuple(tuple((round((x - x0) * k + dx, 5), round((y - y0) * k + dy, 5)) for x, y in poly)
                 for poly in polygons)


@dataclass(frozen=True)
class SealSpec:
    name: str
    diameter_mm: float = 42.0
    bottom_text: str | None = None
    #: 防伪编码 along the lower arc (digits, as the registry holds it), or None
    security_code: str | None = None
    #: the centre emblem where it is not the star: closed polygons in a unit box (x right, y down), filled
    #: even-odd (holes stay open), from the office's artwork (``emblem_from_svg``)
    emblem: Emblem | None = None


@dataclass(frozen=True)
class SealFont:
    """The face seal characters are drawn in (a TrueType file, with its index inside a collection)."""

    path: Path
    index: int = 0

    def outlines(self, chars: str) -> tuple[int, float, dict[str, tuple[str, float]]]:
        """Units per em, the vertical middle between ascender and descender (Pillow's 'm' anchor), and per
        character its SVG path data (font units, y up) and advance width. Opens the file once per call."""
        from fontTools.pens.svgPathPen import SVGPathPen
        from fontTools.ttLib import TTFont

        with TTFont(str(self.path), fontNumber=self.index, lazy=True) as font:
            hhea = font["hhea"]
            upem = int(font["head"].unitsPerEm)
            cmap = font.getBestCmap()
            glyphs = font.getGlyphSet()
            out: dict[str, tuple[str, float]] = {}
            for char in set(chars):
                glyph_name = cmap.get(ord(char))
                if glyph_name is None:
                    out[char] = ("", float(upem))
                    continue
                pen = SVGPathPen(glyphs, ntos=lambda v: f"{v:.0f}")
                glyphs[glyph_name].draw(pen)
                out[char] = (pen.getCommands(), float(glyphs[glyph_name].width))
            return upem, (hhea.ascent + hhea.descent) / 2, out


@dataclass(frozen=True)
class _Glyph:
    char: str
    x: float  # centre, mm
    y: float
    angle: float  # degrees, clockwise from upright
    height: float  # mm
    squeeze: float  # horizontal scale


@dataclass(frozen=True)
class SealLayout:
    diameter: float
    ring_width: float
    ring_radius: float
    #: the centre emblem in mm (y down): the star, or the office's artwork in the star's box
    emblem: tuple[Polygon, ...]
    glyphs: tuple[_Glyph, ...]


def layout(spec: SealSpec) -> SealLayout:
    d = spec.diameter_mm
    c = d / 2
    ring_width = d * 0.029
    ring_radius = c - ring_width / 2
    star_outer, star_inner = d / 6, d / 6 * 0.382
    star = tuple(
        (c + r * math.sin(math.radians(i * 36)), c - r * math.cos(math.radians(i * 36)))
        for i in range(10) for r in [star_outer if i % 2 == 0 else star_inner]
    )
    emblem: tuple[Polygon, ...] = (star,)
    if spec.emblem:
        side = 2 * star_outer  # the star's box: a third of the diameter
        emblem = tuple(tuple((c - side / 2 + x * side, c - side / 2 + y * side) for x, y in poly)
                       for poly in spec.emblem)
    name = spec.name.strip()
    n = max(len(name), 1)
    height = d * 0.155
    squeeze = 0.85
    radius = ring_radius - ring_width / 2 - d * 0.02 - height / 2
    step = math.degrees(height * 1.02 / radius)
    # short names are spread out over a wider arc, as cut seals are; long ones use up to MAX_ARC_DEGREES
    arc = max(n * step, min(210.0, n * step * 1.6))
    if arc > MAX_ARC_DEGREES:
        # long names: keep the arc at its maximum and shrink the characters until they fit
        arc = MAX_ARC_DEGREES
        for _ in range(4):
            height = min(d * 0.155, math.radians(arc / n) * radius / 1.02)
            radius = ring_radius - ring_width / 2 - d * 0.02 - height / 2
        squeeze = 0.85 if height > d * 0.11 else 0.75
    glyphs = []
    for i, char in enumerate(name):
        theta = -arc / 2 + (i + 0.5) * arc / n
        t = math.radians(theta)
        glyphs.append(_Glyph(char, c + radius * math.sin(t), c - radius * math.cos(t), theta, height, squeeze))
    if spec.security_code:
        glyphs += _lower_arc(spec.security_code.strip(), c=c, radius=ring_radius - ring_width / 2 - d * 0.045,
                             height=d * 0.055)
    if spec.bottom_text:
        text = spec.bottom_text.strip()
        size = d * 0.085
        width = size * 0.9 * len(text)
        for i, char in enumerate(text):
            glyphs.append(_Glyph(char, c - width / 2 + (i + 0.5) * size * 0.9, c + d * 0.27, 0.0, size, 0.9))
    return SealLayout(d, ring_width, ring_radius, emblem, tuple(glyphs))


def _lower_arc(code: str, *, c: float, radius: float, height: float) -> list[_Glyph]:
    """The 防伪编码 along the lower arc, read left to right, feet towards the ring, evenly spaced."""
    n = len(code)
    step = math.degrees(height * 0.62 / radius)
    arc = min(n * step, 110.0)
    out = []
    for i, char in enumerate(code):
        theta = -arc / 2 + (i + 0.5) * arc / n
        t = math.radians(theta)
        out.append(_Glyph(char, c + radius * math.sin(t), c + radius * math.cos(t), -theta, height, 0.9))
    return out


def seal_svg(spec: SealSpec, font: SealFont) -> str:
    geo = layout(spec)
    upem, middle, outlines = font.outlines("".join(g.char for g in geo.glyphs))
    d = geo.diameter
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{d:g}mm" height="{d:g}mm" viewBox="0 0 {d:g} {d:g}">',
        f'<g fill="{SEAL_RED_HEX}">',
        f'<circle cx="{d / 2:.3f}" cy="{d / 2:.3f}" r="{geo.ring_radius:.3f}" fill="none" stroke="{SEAL_RED_HEX}" '
        f'stroke-width="{geo.ring_width:.3f}"/>',
        '<path fill-rule="evenodd" d="' + " ".join(
            "M" + " L".join(f"{x:.3f},{y:.3f}" for x, y in poly) + " Z" for poly in geo.emblem) + '"/>',
    ]
    for g in geo.glyphs:
        path, advance = outlines[g.char]
        if not path:
            continue
        k = g.height / upem
        parts.append(
            f'<path transform="translate({g.x:.3f} {g.y:.3f}) rotate({g.angle:.3f}) '
            f'scale({k * g.squeeze:.6f} {-k:.6f}) translate({-advance / 2:.1f} {-middle:.1f})" d="{path}"/>'
        )
    parts.append("</g></svg>")
    return "\n".join(parts) + "\n"


def seal_png(spec: SealSpec, font: SealFont, *, dpi: int = 600) -> bytes:
    """Transparent PNG, red only; drawn at twice the size and reduced for smooth edges."""
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    geo = layout(spec)
    scale = dpi / 25.4 * 2
    size = math.ceil(geo.diameter * scale)
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    c = geo.diameter / 2 * scale
    outer = (geo.ring_radius + geo.ring_width / 2) * scale
    draw.ellipse((c - outer, c - outer, c + outer, c + outer), fill=255)
    inner = (geo.ring_radius - geo.ring_width / 2) * scale
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), fill=0)
    emblem = Image.new("1", (size, size), 0)
    for poly in geo.emblem:  # even-odd: each polygon flips what it covers, so holes stay open
        layer = Image.new("1", (size, size), 0)
        ImageDraw.Draw(layer).polygon([(x * scale, y * scale) for x, y in poly], fill=1)
        emblem = ImageChops.logical_xor(emblem, layer)
    mask.paste(255, (0, 0), emblem)
    faces: dict[int, ImageFont.FreeTypeFont] = {}
    for g in geo.glyphs:
        px = max(round(g.height * scale), 4)
        face = faces.setdefault(px, ImageFont.truetype(str(font.path), size=px, index=font.index))
        tile = Image.new("L", (px * 2, px * 2), 0)
        ImageDraw.Draw(tile).text((px, px), g.char, font=face, fill=255, anchor="mm")
        tile = tile.resize((max(int(px * 2 * g.squeeze), 1), px * 2), Image.Resampling.BICUBIC)
        tile = tile.rotate(-g.angle, resample=Image.Resampling.BICUBIC, expand=True)
        mask.paste(255, (round(g.x * scale - tile.width / 2), round(g.y * scale - tile.height / 2)),
                   tile)
    final = size // 2
    alpha = mask.resize((final, final), Image.Resampling.LANCZOS)
    image = Image.new("RGBA", (final, final), (*SEAL_RED, 0))
    image.putalpha(alpha)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=(dpi, dpi))
    return out.getvalue()
