"""Faster, result-identical replacements for pyHanko (and asn1crypto) hot spots the verifier hits on every file.

- Hex strings: pyHanko reads ``<...>`` one byte at a time through a generator (a seal's ``/Contents`` is ~20,000
  hex digits: ~10 ms per seal, a sixth of a plain pyHanko validation). :func:`read_hex_string` reads a clean
  run (hex digits and PDF whitespace up to ``>``) in one step and hands anything else — comments, bad bytes, an
  unterminated string, a stream that is not a ``BytesIO`` — to pyHanko's own reader, so every value and every
  error stays pyHanko's.
- Names and numbers: pyHanko's ``read_until_delimiter`` also reads one byte at a time through a generator (every
  name and number token: a tenth of a verification). :func:`read_until_delimiter` takes the run in one regex
  match on a ``BytesIO`` and leaves the stream where pyHanko's leaves it.
- Certificate names: asn1crypto compares two ``Name`` values by string-prepping every attribute, on each
  comparison (pyHanko compares issuer names for every certificate of every seal and timestamp: another tenth).
  :func:`names_equal` answers "equal" at once when the two encodings are the same bytes and asks asn1crypto
  otherwise, once per pair of encodings.
- Text strings: pyHanko decodes PDFDocEncoding one byte at a time in Python; :func:`decode_pdfdocencoding` uses
  one ``str.translate`` with pyHanko's own table.

- Historical views: pyHanko's historical views copy every object they read
  (``HistoricalResolver._subsume_object``) with one recursive call per array element — the font width arrays
  alone are thousands of numbers. :class:`VerifyReader` gives its views the same copy without a call per
  primitive element.

:func:`install` puts them in place process-wide (the sealer's parses gain too); :func:`originals` restores the
originals for a while (the benchmarks' "plain pyHanko" column). On a library version without the replaced
function nothing is replaced, so an upgrade can only lose the speed, never break reading.
"""

from __future__ import annotations

import binascii
import contextlib
import io
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

#: pyHanko's own reader; None on a pyHanko without it (then nothing is replaced and pyHanko reads as it always did)
_ORIGINAL_HEX = getattr(generic, "read_hex_string_from_stream", None)
_ORIGINAL_DELIMITED = getattr(generic, "read_until_delimiter", None)
_ORIGINAL_NAME_EQ: Callable[[Any, Any], Any] = asn1_x509.Name.__eq__
_ORIGINAL_PDFDOC = getattr(generic, "decode_pdfdocencoding", None)
_ORIGINAL_NAME = getattr(generic, "_decode_name", None)
#: byte → character of PDFDocEncoding (pyHanko's table; an undefined byte maps to NUL, as there)
_PDF_DOC_TABLE = dict(enumerate(getattr(generic, "_pdfDocEncoding", ())))
#: hex digits and PDF whitespace (pyHanko's PDF_WHITESPACE: space, LF, CR, TAB, FF, NUL), then the closing '>'
_CLEAN_HEX = re.compile(rb"[0-9A-Fa-f \n\r\t\x0c\x00]*>")
_WHITESPACE = b" \n\r\t\x0c\x00"
#: a token's bytes: anything but PDF whitespace and delimiters (pyHanko's PDF_WHITESPACE + PDF_DELIMITERS)
_TOKEN = re.compile(b"[^" + re.escape(getattr(misc, "PDF_WHITESPACE", _WHITESPACE)
                                    + getattr(misc, "PDF_DELIMITERS", b"()<>[]{}/%")) + b"]*")
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


def read_until_delimiter(stream: Any) -> bytes:
    """pyHanko's ``read_until_delimiter``: the bytes up to the next whitespace or delimiter, the stream left just
    before it (or at the end), in one regex match."""
    if type(stream) is io.BytesIO:
        start = stream.tell()
        view = stream.getbuffer()
        try:
            match = _TOKEN.match(view, start)
            token = bytes(view[start:match.end()]) if match is not None else b""
        finally:
            view.release()
        stream.seek(start + len(token))
        return token
    assert _ORIGINAL_DELIMITED is not None
    result: bytes = _ORIGINAL_DELIMITED(stream)
    return result


def names_equal(self: Any, other: Any) -> Any:
    """asn1crypto's ``Name.__eq__`` (which compares the chosen RDN sequences), answering at once for two identical
    encodings and remembering its answer for two different ones (it depends on the two encodings alone)."""
    if not isinstance(other, asn1_x509.Name):
        return _ORIGINAL_NAME_EQ(self, other)
    mine, theirs = self.chosen.dump(), other.chosen.dump()  # (without any tagging the Name carries)
    if mine == theirs:
        return True
    key = (mine, theirs)
    answer = _NAME_ANSWERS.get(key)
    if answer is None:
        answer = _ORIGINAL_NAME_EQ(self, other)
        if len(_NAME_ANSWERS) < 4096:
            _NAME_ANSWERS[key] = answer
    return answer


_NAME_ANSWERS: dict[tuple[bytes, bytes], Any] = {}


def decode_pdfdocencoding(byte_array: bytes | bytearray) -> str:
    """pyHanko's ``decode_pdfdocencoding`` (one Python step per byte) as one table lookup; a byte the encoding
    does not define goes to pyHanko's, which raises its own error."""
    text = bytes(byte_array).decode("latin-1").translate(_PDF_DOC_TABLE)
    if "\x00" in text:
        assert _ORIGINAL_PDFDOC is not None
        result: str = _ORIGINAL_PDFDOC(byte_array)
        return result
    return text


#: a name's bytes with no ``#`` escape and nothing pyHanko requires escaped (whitespace, delimiters, bytes outside
#: 0x21–0x7E): its decoder would give them back unchanged
_PLAIN_NAME = re.compile(b"[" + re.escape(bytes(c for c in range(0x21, 0x7F) if c not in b"#" + misc.PDF_DELIMITERS))
                         + b"]*")


def decode_name(name_bytes: bytes) -> Any:
    """pyHanko's ``_decode_name`` (one Python step per byte, for every name in the file) with the common case — a
    plain ASCII name — done in one regex match; an escape or a byte that must be escaped goes to pyHanko's."""
    if _PLAIN_NAME.fullmatch(name_bytes):
        return generic.NameObject("/" + name_bytes.decode("ascii"))
    assert _ORIGINAL_NAME is not None
    return _ORIGINAL_NAME(name_bytes)


#: (holder, attribute, replacement, original) — a replacement whose original is missing is never installed
_REPLACED: tuple[tuple[Any, str, Any, Any], ...] = tuple(
    (holder, name, fast, original) for holder, name, fast, original in (
        (generic, "read_hex_string_from_stream", read_hex_string, _ORIGINAL_HEX),
        (generic, "read_until_delimiter", read_until_delimiter, _ORIGINAL_DELIMITED),
        (asn1_x509.Name, "__eq__", names_equal, _ORIGINAL_NAME_EQ),
        (generic, "_decode_name", decode_name, _ORIGINAL_NAME),
        (generic, "decode_pdfdocencoding", decode_pdfdocencoding,
         _ORIGINAL_PDFDOC if len(_PDF_DOC_TABLE) == 256 else None),
    ) if original is not None)


def _put(fast: bool) -> None:
    for holder, name, replacement, original in _REPLACED:
        setattr(holder, name, replacement if fast else original)


def install() -> None:
    """Use the replacements (idempotent; not while :func:`originals` is in force)."""
    with _LOCK:
        if _restored == 0:
            _put(True)


@contextlib.contextmanager
def originals() -> Iterator[None]:
    """pyHanko's and asn1crypto's own functions while the block runs (to measure plain pyHanko beside the
    verifier)."""
    global _restored
    with _LOCK:
        _restored += 1
        _put(False)
    try:
        yield
    finally:
        with _LOCK:
            _restored -= 1
            if _restored == 0:
                _put(True)


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
