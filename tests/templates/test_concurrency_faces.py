"""The service seals and renders from several threads at once: the shared font faces must hand every thread the
same glyphs (fontTools' lazy tables are not thread-safe: under load a half-read glyph raised KeyError and broke
the face for the process — 98 failed seals in a 20-second load run)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from signer.appearance import OutlineFont
from templates.fonts import FontSet

#: 1,500 common characters (CJK Unified Ideographs from 一), each loaded once, by whichever thread comes first
CHARS = [chr(0x4E00 + i * 7) for i in range(1500)]


def _face() -> OutlineFont:
    path, index = next((p, i) for face, p, i in FontSet.locate().files if face.role == "kai")
    return OutlineFont(path, index)


def test_one_face_from_many_threads_gives_every_thread_the_same_glyphs() -> None:
    reference = _face()
    expected = [reference.glyph(c) for c in CHARS]
    for _ in range(3):
        shared = _face()  # fresh: nothing loaded yet, so the threads race on the lazy tables
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda k, face=shared: [face.glyph(c) for c in CHARS[k::8] + CHARS], range(8)))
        for k, got in enumerate(results):
            assert got == [expected[CHARS.index(c)] for c in CHARS[k::8] + CHARS]
