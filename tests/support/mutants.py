"""Damaged copies of a sealed PDF, for the verifier's mutation run (tests/signer) and its timing (bench/)."""

from __future__ import annotations

import random
import re
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader

#: PDF whitespace: a flip from one to another may be harmless to a parser
WHITESPACE = b" \t\r\n\x00\x0c"


def free_bytes(pdf: bytes) -> range:
    """The one unsigned area whose content the rules leave free: the hex digits of the last trailer's second /ID
    element (a writer picks it at random on every update)."""
    last = list(re.finditer(rb"/ID \[ <[0-9a-f]+> <([0-9a-f]+)> \]", pdf))[-1]
    return range(last.start(1), last.end(1))


def mutants(pdf: bytes, rng: random.Random, count: int) -> list[tuple[str, bytes]]:
    """``count`` damaged copies of a sealed ``pdf`` (label, bytes): flipped, inserted, deleted or appended bytes and
    changed signature padding; none leaves the file acceptable."""
    out = []
    unsigned_start = pdf.rfind(b"%%EOF", 0, len(pdf) - 10)
    free = free_bytes(pdf)
    for _ in range(count):
        kind = rng.choice(["flip", "flip_tail", "insert", "delete", "append", "padding"])
        if kind in ("flip", "flip_tail"):
            lo = unsigned_start if kind == "flip_tail" else 0
            at = rng.randrange(lo, len(pdf))
            while at in free:
                at = rng.randrange(lo, len(pdf))
            new = rng.randrange(256)
            if new == pdf[at] or (pdf[at] in WHITESPACE and new in WHITESPACE):
                new = (pdf[at] + 1) % 256 if pdf[at] not in WHITESPACE else ord("A")
            out.append((f"{kind}@{at}", pdf[:at] + bytes([new]) + pdf[at + 1:]))
        elif kind == "insert":
            at = rng.randrange(0, len(pdf))
            out.append((f"insert@{at}", pdf[:at] + rng.randbytes(rng.randint(1, 16)) + pdf[at:]))
        elif kind == "delete":
            at = rng.randrange(0, len(pdf) - 1)
            out.append((f"delete@{at}", pdf[:at] + pdf[at + rng.randint(1, 8):]))
        elif kind == "append":
            out.append(("append", pdf + rng.randbytes(rng.randint(1, 64)).replace(b"\0", b"\1") + b"x"))
        else:
            _start, end = last_contents(pdf)
            at = rng.randrange(end - 200, end - 1)
            out.append((f"padding@{at}", pdf[:at] + b"7" + pdf[at + 1:]))
    return out


def last_contents(pdf: bytes) -> tuple[int, int]:
    """Offsets of the last signature's /Contents hex string (from its /ByteRange): start, end."""
    reader = PdfFileReader(BytesIO(pdf))
    sig = list(reader.embedded_signatures)[-1]
    a, b, c, _d = (int(v) for v in sig.byte_range)
    return a + b, c
