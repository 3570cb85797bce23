"""Visible seals: the red round seal as PDF vector graphics from glyph outlines, and the box's text (opinion,
decision figures, staff, office, date) as real text in a small Type 3 font built from the same outlines — crisp
at any zoom, no font file embedded per signature, and readable by pdftotext, search and screen readers.

The opinion is fitted to its box (smaller type down to a floor); past the floor the seal step is refused with
the limit named — never cut silently. Characters the text face lacks come from the fallback face. The seal is
drawn at its registry diameter, never scaled to a box, and painted last with the Multiply blend mode, so black
text under it stays readable, as under real seal ink.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

from .errors import NotSealableError
from .seal_image import SealSpec, layout

MM = 72 / 25.4
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
    #: the service seals from several threads at once; fontTools' lazy tables are not thread-safe (under load a
    #: glyph read half-way by another thread raised KeyError and broke the face for the process)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def _tt(self) -> TTFont:
        with self._lock:
            if self._font is None:
                # from bytes, so no file handle stays open for the life of the process
                font = TTFont(io.BytesIO(self.path.read_bytes()), fontNumber=self.index, lazy=True)
                head, hhea = font["head"], font["hhea"]
                self.upem = int(head.unitsPerEm)
                self.middle = (hhea.ascent + hhea.descent) / 2
                self._cmap = font.getBestCmap()
                self._glyphs = font.getGlyphSet()
                self._font = font  # published last: another thread sees a face whole or not at all
            return self._font

    def glyph(self, char: str) -> tuple[bytes, float]:
        """(path operators in font units, advance width); a missing character draws nothing."""
        cached = self._cache.get(char)
        if cached is not None:
            return cached
        with self._lock:
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
    for poly in geo.emblem:
        points = [flip(x, y) for x, y in poly]
        parts.append(b" ".join([b"%.3f %.3f m" % points[0], *(b"%.3f %.3f l" % p for p in points[1:]), b"h"]))
    parts.append(b"f*")  # even-odd: an emblem's holes stay open
    for g in geo.glyphs:
        x, y = flip(g.x, g.y)
        parts.append(_glyph_at(font, g.char, x=x, y=y, size=g.height * MM, angle=g.angle, squeeze=g.squeeze))
    parts.append(b"Q")
    return b"\n".join(parts)


class FaceChain:
    """The text face and its fallbacks: a character the first face lacks is taken from the next."""

    def __init__(self, *faces: OutlineFont) -> None:
        self.faces = faces

    def pick(self, char: str) -> OutlineFont | None:
        for face in self.faces:
            if face.glyph(char)[0]:
                return face
        return None

    def advance(self, char: str, size: float) -> float:
        if char in " \u3000":
            return size if char == "\u3000" else size * 0.3
        face = self.pick(char)
        if face is None:
            return size
        return face.glyph(char)[1] * size / face.metrics()[0]

    def missing(self, text: str) -> list[str]:
        return [c for c in dict.fromkeys(text) if c not in " \u3000\n" and self.pick(c) is None]


@dataclass(frozen=True)
class Type3Font:
    """One Type 3 font of a box: codes 1..255, each drawing one glyph outline, with a ToUnicode map."""

    name: str  # resource name, e.g. "/MinSealText0"
    #: (code, unicode text, glyph procedure, advance in 1/1000 em)
    glyphs: tuple[tuple[int, str, bytes, float], ...]

    def to_pdf(self, writer: Any) -> Any:
        from pyhanko.pdf_utils import generic

        name = generic.NameObject
        procs = generic.DictionaryObject()
        differences: list[Any] = []
        for code, _text, proc, _width in self.glyphs:
            stream = generic.StreamObject(stream_data=proc)
            stream.compress()
            procs[name(f"/g{code}")] = writer.add_object(stream)
            differences += [generic.NumberObject(code), name(f"/g{code}")]
        first, last = self.glyphs[0][0], self.glyphs[-1][0]
        widths = {code: width for code, _t, _p, width in self.glyphs}
        cmap = "\n".join(f"<{code:02X}> <{''.join(_utf16(c) for c in text)}>" for code, text, _p, _w in self.glyphs)
        to_unicode = generic.StreamObject(stream_data=(
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
            "/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
            "1 begincodespacerange <00> <FF> endcodespacerange\n"
            f"{len(self.glyphs)} beginbfchar\n{cmap}\nendbfchar endcmap CMapName currentdict /CMap defineresource "
            "pop end end").encode())
        font = generic.DictionaryObject({
            name("/Type"): name("/Font"), name("/Subtype"): name("/Type3"),
            name("/FontBBox"): generic.ArrayObject([generic.NumberObject(v) for v in (-100, -300, 1100, 1100)]),
            name("/FontMatrix"): generic.ArrayObject([generic.FloatObject(v) for v in (0.001, 0, 0, 0.001, 0, 0)]),
            name("/CharProcs"): procs,
            name("/Encoding"): generic.DictionaryObject({
                name("/Type"): name("/Encoding"), name("/Differences"): generic.ArrayObject(differences)}),
            name("/FirstChar"): generic.NumberObject(first), name("/LastChar"): generic.NumberObject(last),
            name("/Widths"): generic.ArrayObject([generic.FloatObject(round(widths.get(c, 0.0), 1))
                                                 for c in range(first, last + 1)]),
            name("/Resources"): generic.DictionaryObject(),
            name("/ToUnicode"): writer.add_object(to_unicode),
        })
        return writer.add_object(font)


def _utf16(char: str) -> str:
    if ord(char) < 0x10000:
        return f"{ord(char):04X}"
    v = ord(char) - 0x10000
    return f"{0xD800 + (v >> 10):04X}{0xDC00 + (v & 0x3FF):04X}"


class TextSetter:
    """Shows text through Type 3 fonts collected as it goes (255 glyphs per font)."""

    def __init__(self, chain: FaceChain, prefix: str = "/MinSealText") -> None:
        self.chain = chain
        self.prefix = prefix
        self._codes: dict[str, tuple[int, int]] = {}
        self._glyphs: list[list[tuple[int, str, bytes, float]]] = []

    def _code(self, char: str) -> tuple[int, int]:
        if char not in self._codes:
            if not self._glyphs or len(self._glyphs[-1]) >= 255:
                self._glyphs.append([])
            font_index, code = len(self._glyphs) - 1, len(self._glyphs[-1]) + 1
            face = self.chain.pick(char)
            if face is None:
                path, width, k = b"", 1000.0, 1.0
            else:
                path, advance = face.glyph(char)
                k = 1000 / face.metrics()[0]
                width = advance * k
            proc = b"%.1f 0 d0" % width + (b" q %.5f 0 0 %.5f 0 0 cm %s f Q" % (k, k, path) if path else b"")
            if char in " \u3000":
                width = 1000.0 if char == "\u3000" else 300.0
                proc = b"%.1f 0 d0" % width
            self._glyphs[-1].append((code, char, proc, width))
            self._codes[char] = (font_index, code)
        return self._codes[char]

    def show(self, text: str, *, x: float, baseline: float, size: float, align: str = "left") -> bytes:
        width = sum(self.chain.advance(c, size) for c in text)
        start = {"left": x, "right": x - width, "center": x - width / 2}[align]
        runs: list[tuple[int, list[int]]] = []
        for char in text:
            font_index, code = self._code(char)
            if not runs or runs[-1][0] != font_index:
                runs.append((font_index, []))
            runs[-1][1].append(code)
        parts = [b"BT 0 g %.3f %.3f Td" % (start, baseline)]
        for font_index, codes in runs:
            parts.append(b"%s%d %.2f Tf <%s> Tj" % (self.prefix.encode(), font_index, size,
                                                     "".join(f"{c:02X}" for c in codes).encode()))
        parts.append(b"ET")
        return b" ".join(parts)

    def fonts(self) -> tuple[Type3Font, ...]:
        return tuple(Type3Font(f"{self.prefix}{i}", tuple(glyphs)) for i, glyphs in enumerate(self._glyphs))


def wrap(chain: FaceChain, text: str, *, size: float, width: float, indent: float = 0.0) -> list[str]:
    """Lines of at most ``width`` points; the first line indented; closing punctuation never starts a line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used, limit = "", 0.0, width - (indent if not lines else 0.0)
        for char in paragraph:
            advance = chain.advance(char, size)
            if line and used + advance > limit and char not in "，。、；：！？）》”":
                lines.append(line)
                line, used, limit = "", 0.0, width
            line += char
            used += advance
        lines.append(line)
    return lines


@dataclass(frozen=True)
class BoxAppearance:
    """What a seal box shows: the opinion and the decision's figures (top left), 经办人 / 负责人 (bottom left),
    the office and date (lower right, below the seal's centre) and the seal over them at its own diameter."""

    width: float
    height: float
    opinion: str | None
    office: str | None
    date_text: str | None
    seal: SealSpec
    #: lines of figures (the county's decision, the township's 初审 and 公示 period) under the opinion
    figures: tuple[str, ...] = ()
    #: (经办人, 负责人) names; "" leaves a line for a hand signature; None: no staff line
    staff: tuple[str, str] | None = None


@dataclass(frozen=True)
class Appearance:
    ops: bytes
    fonts: tuple[Type3Font, ...] = ()
    #: the type size the opinion was fitted to
    size: float = 0.0


#: opinion type: starts at 12 pt (小四), shrinks in half points down to this floor, 五号 (10.5 pt): an opinion is
#: never set smaller; one that does not fit at 五号 is refused with the box's capacity named. The boxes are sized
#: so typical opinions fit (templates/assets/form.css: ~200 characters in the village's 48 mm box, ~170 beside
#: the township's or the county's figures in their 56 and 64 mm boxes)
TEXT_SIZE, TEXT_FLOOR = 12.0, 10.5
LEADING = 1.4
PAD = 6.0


def box_ops(appearance: BoxAppearance, *, text_font: OutlineFont | FaceChain, seal_font: OutlineFont,
            seal_content: bytes | None = None) -> Appearance:
    a = appearance
    chain = text_font if isinstance(text_font, FaceChain) else FaceChain(text_font)
    diameter = a.seal.diameter_mm * MM
    if diameter > a.height + 0.5 or diameter > a.width + 0.5:
        raise NotSealableError(
            f"签章位（{a.width / MM:.0f}×{a.height / MM:.0f} mm）放不下直径 {a.seal.diameter_mm:g} mm 的印章；"
            "印章按名录中的直径使用，不缩放", code="SEAL_TOO_LARGE")
    setter = TextSetter(chain)
    parts: list[bytes] = []
    plain = not (a.opinion or a.office or a.date_text or a.figures or a.staff)
    if not plain:  # an opaque box: it covers the placeholders printed for a hand-signed copy
        parts.append(b"1 g 0 0 %.3f %.3f re f" % (a.width, a.height))
    seal_cx = a.width / 2 if plain else a.width - PAD - diameter / 2
    seal_cy = a.height / 2 if plain else min(a.height - diameter / 2 - 1, 1.5 * MM + diameter / 2)
    size = TEXT_SIZE
    if a.opinion or a.figures:
        missing = chain.missing((a.opinion or "") + "".join(a.figures))
        if missing:
            chars = "、".join(f"「{c}」(U+{ord(c):04X})" for c in missing)
            raise NotSealableError(f"意见中有字体无法显示的字符：{chars}", code="OPINION_GLYPHS")
        text_width = a.width - diameter - 3 * PAD
        staff_room = TEXT_SIZE * 2.0 if a.staff is not None else 0.0
        room = a.height - 2 * PAD - staff_room
        size, lines = _fit(chain, a.opinion or "", a.figures, width=text_width, height=room)
        if lines is None:
            capacity = _capacity(chain, a.opinion or "", a.figures, width=text_width, height=room)
            raise NotSealableError(
                f"意见过长：本栏在最小字号 {TEXT_FLOOR:g} 磅时最多容纳约 {capacity} 字，"
                f"实际 {len(a.opinion or '')} 字；请精简意见（内容不会被截断）", code="OPINION_TOO_LONG")
        y = a.height - PAD - size
        for line, indent in lines:
            parts.append(setter.show(line, x=PAD + indent, baseline=y, size=size))
            y -= size * LEADING
    if a.staff is not None:
        handler, head = a.staff
        small = min(size, 10.5)
        baseline = PAD
        parts.append(setter.show("经办人：", x=PAD, baseline=baseline, size=small))
        x = PAD + 4 * small
        for name, label in ((handler, "负责人："), (head, None)):
            if name:
                parts.append(setter.show(name, x=x + small * 0.5, baseline=baseline, size=small))
            parts.append(b"0 G 0.5 w %.3f %.3f m %.3f %.3f l S" % (x, baseline - 2, x + small * 5, baseline - 2))
            x += small * 6
            if label:
                parts.append(setter.show(label, x=x, baseline=baseline, size=small))
                x += 4 * small
    if a.office:  # office and date below the seal's centre (GB/T 9704 §7.3.5.1, as on paper)
        parts.append(setter.show(a.office, x=seal_cx, baseline=seal_cy - 6 - TEXT_SIZE * 0.8, size=TEXT_SIZE,
                                 align="center"))
    if a.date_text:
        parts.append(setter.show(a.date_text, x=seal_cx, baseline=seal_cy - 6 - TEXT_SIZE * 2.3, size=TEXT_SIZE,
                                 align="center"))
    content = seal_content if seal_content is not None else seal_ops(a.seal, seal_font)
    parts.append(b"q /MinSealInk gs 1 0 0 1 %.3f %.3f cm %s Q" % (
        seal_cx - diameter / 2, seal_cy - diameter / 2, content))
    return Appearance(b"\n".join(parts), setter.fonts(), size)


def _layout_lines(chain: FaceChain, opinion: str, figures: tuple[str, ...], *, size: float,
                  width: float) -> list[tuple[str, float]]:
    lines = [(line, size * 2 if i == 0 else 0.0)
             for i, line in enumerate(wrap(chain, opinion, size=size, width=width, indent=size * 2))] if opinion else []
    for figure in figures:
        lines += [(line, 0.0) for line in wrap(chain, figure, size=size, width=width)]
    return lines


def _fit(chain: FaceChain, opinion: str, figures: tuple[str, ...], *, width: float,
         height: float) -> tuple[float, list[tuple[str, float]] | None]:
    size = TEXT_SIZE
    while size >= TEXT_FLOOR - 1e-9:
        lines = _layout_lines(chain, opinion, figures, size=size, width=width)
        if size + (len(lines) - 1) * size * LEADING <= height:
            return size, lines
        size -= 0.5
    return TEXT_FLOOR, None


def _capacity(chain: FaceChain, opinion: str, figures: tuple[str, ...], *, width: float, height: float) -> int:
    """How many opinion characters fit at the floor size beside these figures (for the refusal message)."""
    low, high = 0, len(opinion)
    while low < high:
        mid = (low + high + 1) // 2
        lines = _layout_lines(chain, opinion[:mid], figures, size=TEXT_FLOOR, width=width)
        if TEXT_FLOOR + (len(lines) - 1) * TEXT_FLOOR * LEADING <= height:
            low = mid
        else:
            high = mid - 1
    return low
