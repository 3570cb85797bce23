"""The CJK faces our documents use, where they live, and which characters they can draw.

CSS names fall back silently to whatever fontconfig finds, so we locate each face ourselves, refuse to start
without it, and check every character of the input against the faces before rendering.
TrueType faces are chosen on purpose: they subset to a few KB and embed in ~25 ms; Noto CJK (CFF) costs
~50-110 ms and 115-177 KB per face here.
"""

from __future__ import annotations

import ctypes.util
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

from signer.errors import RendererUnavailableError


@dataclass(frozen=True)
class Face:
    role: str
    family: str
    debian_package: str
    #: fontconfig pattern when the family alone does not select the face (a weight)
    pattern: str = ""


FACES: tuple[Face, ...] = (
    Face("song", "AR PL SungtiL GB", "fonts-arphic-gbsn00lp"),
    Face("hei", "WenQuanYi Zen Hei", "fonts-wqy-zenhei"),
    Face("kai", "AR PL KaitiM GB", "fonts-arphic-gkai00mp"),
    Face("fallback", "AR PL UMing CN", "fonts-arphic-uming"),
    # residents' names outside the BMP (CJK Extension B: 𠮷 U+20BB7 …): 花園明朝B, the Debian face that has them
    Face("fallback_ext", "HanaMinB", "fonts-hanazono"),
    # GB/T 9704 faces: 仿宋 body and a 小标宋-like title. Debian ships them only inside texlive-lang-chinese
    # (262 MB installed with --no-install-recommends); scripts/setup takes the two files from that package.
    Face("fangsong", "FandolFang", "texlive-lang-chinese（scripts/setup 只取其中的 FandolFang 字体）"),
    Face("title", "FandolSong", "texlive-lang-chinese（scripts/setup 只取其中的 FandolSong-Bold 字体）",
         pattern="FandolSong:bold"),
)

#: Characters layout may need that never come from user data (page furniture and punctuation are checked
#: through the rendered PDF's font list in the tests instead).
_ALWAYS_OK = frozenset(" \n\t")


def check_subsetter() -> None:
    """WeasyPrint silently falls back to fontTools without libharfbuzz-subset: 14-25 s per CJK page."""
    if ctypes.util.find_library("harfbuzz-subset") is None:
        raise RendererUnavailableError(
            "缺少 libharfbuzz-subset0（字体子集化库），中文文书排版会极慢；请运行 scripts/setup 安装",
            code="HARFBUZZ_SUBSET_MISSING",
        )


def _locate(face: Face) -> tuple[Path, int]:
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}|%{family}", face.pattern or face.family],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RendererUnavailableError("无法调用 fontconfig（fc-match）查找字体", code="FONTCONFIG_MISSING") from exc
    file, index, families = out.split("|", 2)
    if face.family not in families.split(","):
        raise RendererUnavailableError(
            f"缺少字体「{face.family}」，请安装 Debian 软件包 {face.debian_package}", code="FONT_MISSING"
        )
    return Path(file), int(index or 0)


@dataclass(frozen=True)
class FontSet:
    """The located faces; built once per process by the renderer."""

    files: tuple[tuple[Face, Path, int], ...]

    @classmethod
    def locate(cls) -> FontSet:
        return cls(files=tuple((face, *_locate(face)) for face in FACES))

    @cached_property
    def coverage(self) -> frozenset[int]:
        """Union of the code points of all our faces (every CSS stack ends in the same fallbacks)."""
        points: set[int] = set()
        for _face, path, index in self.files:
            if path.suffix.lower() == ".ttc":
                with TTCollection(str(path), lazy=True) as collection:
                    points.update(collection.fonts[index].getBestCmap() or {})
            else:
                with TTFont(str(path), lazy=True) as font:
                    points.update(font.getBestCmap() or {})
        return frozenset(points)

    def missing(self, texts: Iterable[str]) -> list[str]:
        cover = self.coverage
        seen: list[str] = []
        for text in texts:
            for ch in text:
                if ch not in _ALWAYS_OK and ord(ch) not in cover and ch not in seen:
                    seen.append(ch)
        return seen

    @property
    def families(self) -> dict[str, str]:
        return {face.role: face.family for face, _p, _i in self.files}
