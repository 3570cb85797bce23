"""Faster, result-identical replacements for two pyHanko parsing hot spots the verifier hits on every file.

- Hex strings: pyHanko reads ``<...>`` one byte at a time through a generator (a seal's ``/Contents`` is ~20,000
  hex digits: ~10 ms per seal, a sixth of a plain pyHanko validation). :func:`read_hex_string` reads a clean
  run (hex digits and PDF whitespace up to ``>``) in one step and hands anything else — comments, bad bytes, an
  unterminated string, a stream that is not a ``BytesIO`` — to pyHanko's own reader, so every value and every
  error stays pyHanko's. Installed process-wide by :func:`install` (the sealer's parses gain too);
  :func:`original_hex_strings` restores pyHanko's function for a while (the benchmarks' "plain pyHanko" column).
- Historical views: pyHanko's diff analysis copies every object it reads into each revision's view
  (``HistoricalResolver._subsume_object``) with one recursive call per array element — the font width arrays
  alone are thousands of numbers, copied once per seal's base revision. :class:`VerifyReader` gives its views
  the same copy without a call per primitive element.
"""

from __future__ import annotations

import binascii
import contextlib
import io
import re
import threading
from collections.abc import Iterator
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

#: pyHanko's own reader; None on a pyHanko without it (then nothing is replaced and pyHanko reads as it always did)
_ORIGINAL_HEX = getattr(generic, "read_hex_string_from_stream", None)
#: hex digits and PDF whitespace (pyHanko's PDF_WHITESPACE: space, LF, CR, TAB, FF, NUL), then the closing '>'
_CLEAN_HEX = re.compile(rb"[0-9A-Fa-f \n\r\t\x0c\x00]*>")
_WHITESPACE = b" \n\r\t\x0c\x00"
_LOCK = threading.Lock()
_restored = 0


def read_hex_string(stream: Any) -> generic.ByteStringObject | generic.TextStringObject:
    """pyHanko's ``read_hex_string_from_stream``, with the common case done in one regex match."""
    if type(stream) is io.BytesIO:
        start = stream.tell()
        view = stream.getbuffer()
        try:
            match = _CLEAN_HEX.match(view, start + 1)
            digits = bytes(view[start + 1:match.end() - 1]) if match is not None else None
        finally:
            view.release()
        if match is not None and digits is not None:
            digits = digits.translate(None, _WHITESPACE)
            stream.seek(match.end())
            return generic.pdf_string(binascii.unhexlify(digits + (b"0" if len(digits) % 2 else b"")))
    assert _ORIGINAL_HEX is not None  # (never installed without it)
    return _ORIGINAL_HEX(stream)


def install() -> None:
    """Use :func:`read_hex_string` wherever pyHanko parses a hex string (idempotent; a no-op on a pyHanko whose
    reader is not where this module expects it, so an upgrade can only lose the speed, never break reading)."""
    with _LOCK:
        if _restored == 0 and _ORIGINAL_HEX is not None:
            generic.read_hex_string_from_stream = read_hex_string


@contextlib.contextmanager
def original_hex_strings() -> Iterator[None]:
    """pyHanko's own hex-string reader while the block runs (to measure plain pyHanko beside the verifier)."""
    global _restored
    with _LOCK:
        _restored += 1
        if _ORIGINAL_HEX is not None:
            generic.read_hex_string_from_stream = _ORIGINAL_HEX
    try:
        yield
    finally:
        with _LOCK:
            _restored -= 1
            if _restored == 0 and _ORIGINAL_HEX is not None:
                generic.read_hex_string_from_stream = read_hex_string


#: objects pyHanko's ``_subsume_object`` returns as they are (it copies only containers and references)
_CONTAINERS = (generic.DecryptedObjectProxy, generic.IndirectObject, generic.DictionaryObject,
               generic.ArrayObject)


class _Resolver(HistoricalResolver):  # type: ignore[misc]
    def _subsume_object(self, obj: Any) -> Any:
        """``HistoricalResolver._subsume_object``: the same copy, and for a primitive element of an array or a
        dictionary the same check (it must come from a file), done inline."""
        if isinstance(obj, generic.DictionaryObject) and not isinstance(obj, generic.StreamObject):
            container = obj.get_container_ref()
            ref = generic.Reference(idnum=container.idnum, generation=container.generation, pdf=self)
            result: Any = generic.DictionaryObject({k: self._child(v) for k, v in obj.items()})
        elif isinstance(obj, generic.ArrayObject):
            container = obj.get_container_ref()
            ref = generic.Reference(idnum=container.idnum, generation=container.generation, pdf=self)
            result = generic.ArrayObject([self._child(v) for v in obj])
        else:
            return super()._subsume_object(obj)
        result.container_ref = ref
        return result

    def _child(self, value: Any) -> Any:
        if isinstance(value, _CONTAINERS):
            return self._subsume_object(value)
        value.get_container_ref()  # raises as pyHanko's does for an object not read from a file
        return value


class VerifyReader(PdfFileReader):  # type: ignore[misc]
    """A ``PdfFileReader`` whose historical views copy objects faster (same objects, same errors)."""

    def get_historical_resolver(self, revision: int) -> HistoricalResolver:
        cache = self._historical_resolver_cache
        try:
            return cache[revision]
        except KeyError:
            resolver = cache[revision] = _Resolver(self, revision)
            return resolver
