"""Issue 21 item 5: the verifier's faster parsing must give exactly what pyHanko's own gives — every value, every
stream position, every error — and the faster regexes the same matches as the ones they replace."""

from __future__ import annotations

import io
import random
import re
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from signer import fastpdf, integrity

HEX_CASES = [
    b"<>", b"<41>", b"<414>", b"< 4 1\n4\r2\t>", b"<\x00\x0c41>", b"<feff004100420043>", b"<FEFF0041>",
    b"<fffe4100>", b"<c3a9>", b"<%comment\n41>", b"<41 %c\n 42>", b"<4G>", b"<41", b"<41 42", b"<>>", b"<4x1>",
    b"<" + b"0123456789abcdefABCDEF" * 900 + b">", b"<30820a>trailing", b"<e4b8ad>",
]


def _read(reader: Any, raw: bytes) -> tuple[str, Any, int]:
    stream = io.BytesIO(b"junk " + raw)
    stream.seek(5)
    try:
        value = reader(stream)
    except Exception as exc:  # the error is part of what must match
        return "error", (type(exc), str(exc)), stream.tell()
    return type(value).__name__, (value.original_bytes if hasattr(value, "original_bytes") else value,
                                  str(value)), stream.tell()


@pytest.mark.parametrize("raw", HEX_CASES)
def test_hex_strings_read_exactly_as_pyhanko_reads_them(raw: bytes) -> None:
    assert _read(fastpdf.read_hex_string, raw) == _read(fastpdf._ORIGINAL_HEX, raw)


def test_hex_strings_random() -> None:
    rng = random.Random(21)
    for _ in range(2000):
        body = bytes(rng.choice(b"0123456789abcdefABCDEF \n\r\t\x00\x0c%>xG") for _ in range(rng.randint(0, 40)))
        raw = b"<" + body + rng.choice([b">", b"", b"\n>"])
        assert _read(fastpdf.read_hex_string, raw) == _read(fastpdf._ORIGINAL_HEX, raw), raw


TOKEN_CASES = [b"", b"abc", b"/Name", b"Name/Next", b"12 0 R", b"3.14]", b"true>>", b"x(y", b"a%b", b"a\x00b",
               b"#20a b", b"\xe4\xb8\xad<", b"end", b"a" * 5000, b"a\x0cb", b"{a}", b"ab\r\n"]


@pytest.mark.parametrize("raw", TOKEN_CASES)
def test_tokens_read_exactly_as_pyhanko_reads_them(raw: bytes) -> None:
    assert _read(fastpdf.read_until_delimiter, raw) == _read(fastpdf._ORIGINAL_DELIMITED, raw)


def test_tokens_random() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        raw = bytes(rng.choice(b"aZ09.-+#/()<>[]{}% \n\r\t\x00\x0c\xff") for _ in range(rng.randint(0, 20)))
        assert _read(fastpdf.read_until_delimiter, raw) == _read(fastpdf._ORIGINAL_DELIMITED, raw), raw


def _name(**attributes: str) -> asn1_x509.Name:
    return asn1_x509.Name.build(attributes)


def test_certificate_names_compare_exactly_as_asn1crypto_compares_them() -> None:
    """Equal bytes are equal at once; anything else is asn1crypto's answer (case and spaces folded by its
    string preparation, a different attribute not equal, a non-name not equal)."""
    plain = _name(common_name="东沟南村村民委员会", organization_name="MinSeal")
    cases = [plain, _name(common_name="东沟南村村民委员会", organization_name="MinSeal"),
             _name(common_name="Township  A"), _name(common_name="township a"), _name(common_name="Township B"),
             _name(common_name="东沟南村村民委员会"),
             _name(organization_name="MinSeal", common_name="东沟南村村民委员会")]
    # a Name inside a GeneralName carries an explicit tag (an ESS certificate id's issuer): the same name
    tagged = asn1_x509.GeneralName(name="directory_name", value=plain).chosen
    cases.append(tagged)
    for _ in range(2):  # (the second round answers from the remembered pairs)
        for a in cases:
            for b in [*cases, "not a name"]:
                assert fastpdf.names_equal(a, b) == fastpdf._ORIGINAL_NAME_EQ(a, b), (a.native, b)
    assert fastpdf.names_equal(tagged, plain) and tagged.dump() != plain.dump()


def _decoded(decode: Any, raw: bytes) -> tuple[str, Any]:
    try:
        return "text", decode(raw)
    except UnicodeDecodeError as exc:
        return "error", (exc.encoding, exc.object, exc.reason)


def test_pdfdoc_text_decodes_exactly_as_pyhanko_decodes_it() -> None:
    for byte in range(256):  # every byte alone: defined ones give pyHanko's character, the others its error
        raw = bytes([byte])
        assert _decoded(fastpdf.decode_pdfdocencoding, raw) == _decoded(fastpdf._ORIGINAL_PDFDOC, raw), raw
    rng = random.Random(7)
    for _ in range(2000):
        raw = bytes(rng.choice([rng.randrange(32, 127), rng.randrange(256)]) for _ in range(rng.randint(0, 30)))
        assert _decoded(fastpdf.decode_pdfdocencoding, raw) == _decoded(fastpdf._ORIGINAL_PDFDOC, raw), raw
    assert fastpdf.decode_pdfdocencoding(bytearray(b"MinSeal \x18\x95")) == "MinSeal \u02d8\u0141"


def _name_read(decode: Any, raw: bytes) -> tuple[str, Any]:
    try:
        name = decode(raw)
    except misc.PdfReadError as exc:
        return "error", str(exc)
    return type(name).__name__, str(name)


NAME_CASES = [b"", b"Type", b"A#20B", b"#E4#B8#AD", b"\xe4\xb8\xad", b"a b", b"a#2", b"a#zz", b"a/b", b"a(b", b"~!$&'*",
              b"a\x7fb", b"\x00", b"Lang#"]


def test_names_decode_exactly_as_pyhanko_decodes_them() -> None:
    for raw in NAME_CASES:
        assert _name_read(fastpdf.decode_name, raw) == _name_read(fastpdf._ORIGINAL_NAME, raw), raw
    for byte in range(256):  # every byte alone and inside a name
        for raw in (bytes([byte]), b"Ab" + bytes([byte]) + b"c"):
            assert _name_read(fastpdf.decode_name, raw) == _name_read(fastpdf._ORIGINAL_NAME, raw), raw
    rng = random.Random(9)
    for _ in range(2000):
        raw = bytes(rng.choice(b"aZ09.-+#/()<>[]{}%~!\x7f\x80\xe4 \n\x00") for _ in range(rng.randint(0, 12)))
        assert _name_read(fastpdf.decode_name, raw) == _name_read(fastpdf._ORIGINAL_NAME, raw), raw


def test_the_fast_readers_are_installed_and_the_originals_can_be_restored() -> None:
    fastpdf.install()
    installed = (fastpdf.read_hex_string, fastpdf.read_until_delimiter, fastpdf.names_equal,
                 fastpdf.decode_pdfdocencoding, fastpdf.decode_name)

    def current() -> tuple[Any, ...]:
        return (generic.read_hex_string_from_stream, generic.read_until_delimiter, asn1_x509.Name.__eq__,
                generic.decode_pdfdocencoding, generic._decode_name)

    assert current() == installed
    with fastpdf.originals():
        originals = (fastpdf._ORIGINAL_HEX, fastpdf._ORIGINAL_DELIMITED, fastpdf._ORIGINAL_NAME_EQ,
                     fastpdf._ORIGINAL_PDFDOC, fastpdf._ORIGINAL_NAME)
        assert current() == originals
        fastpdf.install()  # (a verification meanwhile does not undo the restore)
        assert current() == originals
    assert current() == installed


def _three_revisions() -> bytes:
    """Nested arrays and dictionaries (as a font's width array), rewritten and extended over three revisions."""
    writer = PdfFileWriter()
    widths = generic.ArrayObject([generic.NumberObject(i) for i in range(300)]
                                 + [generic.ArrayObject([generic.FloatObject(1.5), generic.NameObject("/X")])])
    inner = writer.add_object(generic.DictionaryObject({generic.NameObject("/W"): widths,
                                                        generic.NameObject("/S"): generic.TextStringObject("中文")}))
    writer.root["/Extra"] = generic.DictionaryObject({
        generic.NameObject("/Inner"): inner, generic.NameObject("/Hex"): generic.ByteStringObject(b"\x00\xff" * 40),
        generic.NameObject("/Null"): generic.NullObject(), generic.NameObject("/B"): generic.BooleanObject(True)})
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    for step in range(2):
        incremental = IncrementalPdfFileWriter(io.BytesIO(data))
        extra = incremental.root["/Extra"]
        extra[generic.NameObject(f"/Step{step}")] = generic.ArrayObject(
            [incremental.add_object(generic.DictionaryObject({generic.NameObject("/N"): generic.NumberObject(step)}))])
        incremental.update_container(extra)
        incremental.update_root()
        out = io.BytesIO()
        incremental.write(out)
        data = out.getvalue()
    return data


def _dump(obj: Any) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out, None)
    return out.getvalue()


def _shape(resolver: Any, obj: Any) -> Any:
    """Types, values and where each indirect reference resolves, all the way down."""
    if isinstance(obj, generic.IndirectObject):
        assert obj.get_pdf_handler() is resolver
        return ("ref", obj.idnum, obj.generation)
    if isinstance(obj, generic.DictionaryObject):
        assert obj.container_ref.pdf is resolver
        return (type(obj).__name__, {k: _shape(resolver, dict.__getitem__(obj, k)) for k in obj})
    if isinstance(obj, generic.ArrayObject):
        assert obj.container_ref.pdf is resolver
        return (type(obj).__name__, [_shape(resolver, v) for v in list.__iter__(obj)])
    return (type(obj).__name__, _dump(obj))


def test_historical_views_copy_objects_exactly_as_pyhanko_does() -> None:
    data = _three_revisions()
    theirs, ours = PdfFileReader(io.BytesIO(data)), fastpdf.VerifyReader(io.BytesIO(data))
    assert theirs.xrefs.total_revisions == 3
    for revision in range(3):
        old, new = theirs.get_historical_resolver(revision), ours.get_historical_resolver(revision)
        assert type(new) is not type(old)  # (the faster view is in use)
        for ref in theirs.xrefs.explicit_refs_in_revision(revision):
            assert _shape(new, new(ref)) == _shape(old, old(ref))
        old._load_reverse_xref_cache()
        new._load_reverse_xref_cache()
        assert new._indirect_object_access_cache == old._indirect_object_access_cache


def test_faster_regexes_match_what_the_old_ones_matched() -> None:
    old_nesting = re.compile(rb"(?:\[\s*|<<\s*){%d}" % integrity.MAX_NESTING_RUN)
    old_stream = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
    old_reference = re.compile(rb"(\d{1,20})(?:[\x00\t\n\x0b\x0c\r ]|%[^\r\n]*)+\d{1,20}"
                               rb"(?:[\x00\t\n\x0b\x0c\r ]|%[^\r\n]*)+R(?![A-Za-z])")
    rng = random.Random(5)
    deep = 0
    for _ in range(3000):
        text = b"".join(rng.choices([b"[", b"<<", b" ", b"\n", b"<", b"x", b"]"], [20, 20, 4, 2, 1, 0.5, 0.2],
                                    k=rng.randint(0, 160)))
        found, expected = integrity._NESTING.search(text), old_nesting.search(text)
        deep += expected is not None
        assert (found and found.span()) == (expected and expected.span()), text
        text = b"".join(rng.choices([b"stream", b"endstream", b"\r\n", b"\n", b"\r", b"end", b"x", b" "],
                                    k=rng.randint(0, 30)))
        assert [m.span() for m in integrity._STREAM.finditer(text)] == [m.span() for m in old_stream.finditer(text)]
        text = b"".join(rng.choices([b"1", b"23", b"4567890123", b" ", b"\n", b"%c ", b"%1 0 R\n", b"R", b"0", b"/",
                                     b"Rx", b"(", b"\x0b", b"000000", b"123456789012345678901234"],
                                    k=rng.randint(0, 40)))
        assert [m.span() for m in integrity._REFERENCE.finditer(text)] == \
            [m.span() for m in old_reference.finditer(text)], text
    assert deep > 100  # (the openers case is exercised, not only the short strings)
    data = _three_revisions()
    assert [m.span() for m in integrity._REFERENCE.finditer(data)] == \
        [m.span() for m in old_reference.finditer(data)]
