"""What no signature covers, accounted for byte by byte; and bounds on the work a file can cause.

Three unsigned areas exist in a sealed PDF, and each may hold only this (anything else is a finding):

- a signature's ``/Contents`` hex string: the DER CMS container, then zeros (padding);
  inside the CMS, unsigned attributes may only be signature-timestamp tokens (id-aa-signatureTimeStampToken);
- revisions after a seal's own revision: the route's later seals (their signature dictionaries, fields, widgets
  and appearances, the AcroForm and the pages' /Annots that list them), DSS/VRI long-term-validation data,
  document timestamps, and the revision's own cross-reference stream and object streams. A changed /Info or XMP
  metadata stream, any other changed object, or a new object nothing of that list reaches is a finding naming
  the object; in revisions no signature covers, the bytes between objects may only be whitespace;
- after the last ``%%EOF``: whitespace and NUL bytes only (checked in ``signer.verify``).

``prescan`` runs before pyHanko parses anything: oversized signature containers, streams that decompress beyond
a bound, and runs of nested arrays/dictionaries are refused unread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from asn1crypto import cms, core
from cryptography import x509
from cryptography.x509 import ocsp
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import write_xref_table

from .report import REASONS, Finding

#: a MinSeal container is ~8-12 KiB of hex (ECDSA/RSA chain + timestamp); 64 KiB of hex leaves room for a long chain
MAX_CONTENTS_HEX = 64 * 1024
#: one stream's decoded size, and all streams together
MAX_STREAM_DECODED = 32 * 2**20
MAX_TOTAL_DECODED = 160 * 2**20
#: consecutive '[' / '<<' openers; pyHanko parses nesting recursively
MAX_NESTING_RUN = 48
#: objects examined per revision
MAX_OBJECTS = 20_000

TIMESTAMP_TOKEN_OID = "1.2.840.113549.1.9.16.2.14"
_CONTENTS = re.compile(rb"/Contents\s*<([^>]*)>")
#: (MAX_NESTING_RUN openers, each with the whitespace after it; written with the first opener outside the repeat,
#: which lets the regex engine skip to candidate bytes: same matches, ~4x faster than ``(?:\[\s*|<<\s*){48}``)
_NESTING = re.compile(rb"(?:\[|<<)\s*(?:(?:\[|<<)\s*){%d}" % (MAX_NESTING_RUN - 1))
#: ("stream" first, then the look-behind: the engine searches for the literal, ~20x faster than ``(?<!end)stream``)
_STREAM = re.compile(rb"stream(?<!endstream)(?:\r\n|\n|\r)")
_WHITESPACE = b" \t\r\n\x00\x0c"
#: keys a later revision may change in the catalog: /DSS always; /AcroForm in a signing revision;
#: /Extensions (pyHanko declares the ESIC extension level with the DSS)
_CATALOG_MUTABLE = {"/DSS"}
_EXTENSION_KEYS = {"/Type", "/BaseVersion", "/ExtensionLevel", "/URL", "/ExtensionRevision"}
_DSS_KEYS = {"/Type", "/Certs", "/CRLs", "/OCSPs", "/VRI"}
_VRI_KEYS = {"/Type", "/Cert", "/CRL", "/OCSP", "/TU", "/TS"}


def prescan(data: bytes) -> list[Finding]:
    """Cheap checks on the raw bytes, before any parser sees them."""
    for match in _CONTENTS.finditer(data):
        if len(match.group(1)) > MAX_CONTENTS_HEX:
            return [Finding("SIG_TOO_LARGE", REASONS["SIG_TOO_LARGE"] + f"（{len(match.group(1))} 个十六进制字符）")]
    if _NESTING.search(data):
        return [Finding("TOO_DEEP", REASONS["TOO_DEEP"])]
    total = 0
    position = 0
    while True:
        found = _STREAM.search(data, position)
        if found is None:
            break
        match = found
        end = data.find(b"endstream", match.end())
        if end < 0:
            break
        position = end + 9
        decoder = zlib.decompressobj()
        try:
            decoded = decoder.decompress(data[match.end():end], MAX_STREAM_DECODED + 1)
        except zlib.error:
            continue  # not Flate (or broken, which the parser reports)
        total += len(decoded)
        if len(decoded) > MAX_STREAM_DECODED or total > MAX_TOTAL_DECODED:
            return [Finding("STREAM_TOO_LARGE", REASONS["STREAM_TOO_LARGE"])]
    return []


def _timestamp_token(sig: Any) -> Any:
    """The seal's signature timestamp token (a CMS ContentInfo), or None."""
    unsigned = sig.signer_info["unsigned_attrs"]
    if isinstance(unsigned, core.Void):  # absent (``.native`` would convert the whole token to find that out)
        return None
    for attribute in unsigned:
        if attribute["type"].dotted == TIMESTAMP_TOKEN_OID:
            return attribute["values"][0]
    return None


def timestamp_signer(sig: Any) -> Any:
    """The certificate that signed the seal's signature timestamp (None: no timestamp)."""
    token = _timestamp_token(sig)
    if token is None:
        return None
    signed = token["content"]
    sid = signed["signer_infos"][0]["sid"].chosen
    for choice in signed["certificates"]:
        cert = choice.chosen
        if cert.issuer == sid["issuer"] and cert.serial_number == sid["serial_number"].native:
            return cert
    return None


def timestamp_gen_time(sig: Any) -> dt.datetime | None:
    """When the seal's signature timestamp says it was made, read without trusting it (that comes later)."""
    token = _timestamp_token(sig)
    if token is None:
        return None
    value: dt.datetime = token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    return value


def der_length(raw: bytes) -> int | None:
    """The length a DER SEQUENCE at the start of ``raw`` declares (header included), which may exceed ``raw``;
    None if ``raw`` does not start with one (a signature's /Contents: CMS, or a GB/T 38540 SES_Signature)."""
    if len(raw) < 2 or raw[0] != 0x30:
        return None
    first = raw[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(raw) < 2 + count:
        return None
    return 2 + count + int.from_bytes(raw[2:2 + count], "big")


def contents_findings(data: bytes, byte_range: Iterable[int], field: str) -> list[Finding]:
    """The signature's unsigned gap: exactly ``<hex>``, the DER container, then zero padding; the container's
    unsigned attributes only timestamp tokens."""
    try:
        a, b, c, _d = (int(v) for v in byte_range)
    except (TypeError, ValueError):
        return [Finding("SIG_INVALID", REASONS["SIG_INVALID"], field=field)]
    gap = data[a + b:c]
    if not re.fullmatch(rb"<[0-9A-Fa-f]*>", gap) or len(gap) % 2:
        return [Finding("SIG_PADDING", REASONS["SIG_PADDING"] + "（签名值不是完整的十六进制串）", field=field)]
    raw = bytes.fromhex(gap[1:-1].decode())
    length = der_length(raw)
    if length is None or length > len(raw):
        return [Finding("SIG_INVALID", REASONS["SIG_INVALID"], field=field)]
    out = []
    if raw[length:].strip(b"\x00"):
        out.append(Finding("SIG_PADDING", REASONS["SIG_PADDING"], field=field))
    try:
        info = cms.ContentInfo.load(raw[:length])
        for signer_info in info["content"]["signer_infos"]:
            unsigned = signer_info["unsigned_attrs"]
            if isinstance(unsigned, core.Void):
                continue
            for attribute in unsigned:
                if attribute["type"].dotted != TIMESTAMP_TOKEN_OID:
                    out.append(Finding("UNSIGNED_ATTRIBUTE", REASONS["UNSIGNED_ATTRIBUTE"]
                                       + f"（{attribute['type'].dotted}）", field=field))
    except Exception:  # asn1crypto raises several kinds on broken DER
        out.append(Finding("SIG_INVALID", REASONS["SIG_INVALID"], field=field))
    return out


def _key(ref: Any) -> tuple[int, int]:
    return int(ref.idnum), int(ref.generation)


def _name(key: tuple[int, int]) -> str:
    return f"{key[0]} {key[1]} R"


def _raw_children(obj: Any) -> Iterable[Any]:
    if isinstance(obj, generic.DictionaryObject):  # (a stream is a dictionary too)
        return dict.values(obj)
    if isinstance(obj, generic.ArrayObject):
        return list.__iter__(obj)
    return ()


def _reach(resolver: Any, start: Iterable[Any], written: set[tuple[int, int]] | None, *,
           skip_keys: frozenset[str] = frozenset()) -> set[tuple[int, int]]:
    """Objects written in this revision (``written``; None: any object) reachable from ``start`` (objects or
    references), never following ``skip_keys`` (e.g. /P and /Parent, which lead back to the page and the whole
    tree)."""
    found: set[tuple[int, int]] = set()
    stack = list(start)
    steps = 0
    while stack and steps < MAX_OBJECTS:
        steps += 1
        item = stack.pop()
        if isinstance(item, generic.IndirectObject | generic.Reference):
            key = _key(item.reference if isinstance(item, generic.IndirectObject) else item)
            if (written is not None and key not in written) or key in found:
                continue
            found.add(key)
            item = resolver(generic.Reference(*key))
        if isinstance(item, generic.DictionaryObject):
            stack.extend(v for k, v in dict.items(item) if k not in skip_keys)
        else:
            stack.extend(_raw_children(item))
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, generic.IndirectObject) and isinstance(b, generic.IndirectObject):
        return _key(a.reference) == _key(b.reference)
    try:
        return bool(a == b)
    except Exception:
        return False


def _changed_keys(new: Any, old: Any) -> set[str]:
    if not isinstance(new, generic.DictionaryObject) or not isinstance(old, generic.DictionaryObject):
        return {"*"}
    keys = set(dict.keys(new)) | set(dict.keys(old))
    return {str(k) for k in keys if not _same(dict.get(new, k), dict.get(old, k))}


def revision_findings(reader: PdfFileReader, data: bytes, *, after: int,
                      signing_revisions: Mapping[int, list[str]],
                      revision_ends: list[int]) -> dict[int, list[Finding]]:
    """Classify every object written in each revision after ``after`` (the first seal's revision): the findings
    of each revision that has any, by revision — a seal is "modified after signing" exactly when a later revision
    has findings (this review replaces pyHanko's difference analysis, see ``signer.verify``).
    ``signing_revisions``: revision → field names of the signatures / document timestamps signed in it."""
    out: dict[int, list[Finding]] = {}
    xrefs = reader.xrefs
    last_signed = max(signing_revisions, default=after)
    for revision in range(after + 1, xrefs.total_revisions):
        found = _classify(reader, revision, signing_revisions.get(revision, []))
        if revision > last_signed:
            found += _account_bytes(reader, data, revision, revision_ends)
        if found:
            out[revision] = found
    for revision, finding in _planted_objects(reader, data, after=after, revision_ends=revision_ends):
        out.setdefault(revision, []).append(finding)
    return out


#: an indirect reference as any parser reads it: a superset of the PDF grammar and of pyHanko's reader, which
#: takes a vertical tab as whitespace, a generation with leading zeros ("999 000000 R") and an R followed by any
#: non-letter; comments between the tokens too. Over-matches inside strings and stream data, which only makes
#: the check stricter. (Digit runs are bounded — pyHanko reads a reference from a 20-byte window — and
#: possessive: giving digits back can never let a separator follow, so the matches are the same, found faster.)
_REFERENCE = re.compile(rb"(\d{1,20}+)(?:[\x00\t\n\x0b\x0c\r ]|%[^\r\n]*)+\d{1,20}+"
                        rb"(?:[\x00\t\n\x0b\x0c\r ]|%[^\r\n]*)+R(?![A-Za-z])")


def _freed_numbers(reader: PdfFileReader, revision: int) -> set[int]:
    """Object numbers a revision's xref marks free, "dead" entries (next generation 0) included — pyHanko's
    ``refs_freed_in_revision`` leaves those out, other readers do not."""
    section = reader.xrefs._xref_sections[revision]
    return {int(number) for number in section.xref_data.freed} - {0}


def _written(xrefs: Any, revision: int, freed: set[int]) -> set[tuple[int, int]]:
    """Objects a revision defines (pyHanko lists a classic table's free entries among them too)."""
    return {(int(r.idnum), int(r.generation)) for r in xrefs.explicit_refs_in_revision(revision)
            if int(r.idnum) not in freed}


def _planted_objects(reader: PdfFileReader, data: bytes, *, after: int,
                     revision_ends: list[int]) -> list[tuple[int, Finding]]:
    """No revision after the first seal may define an object (number and generation) that was not live just
    before it while an earlier revision already references its number: a dangling reference then — planted in a
    small object nobody rewrites, or left behind by an object the form freed — which the new object would
    activate: another name on the page, JavaScript, an attachment … Earlier references are read from the raw
    bytes of the earlier revisions and their decoded object streams — a superset of what any parser reads."""
    xrefs = reader.xrefs
    live: set[tuple[int, int]] = set()
    referenced: set[int] = set()
    scanned = 0
    out: list[tuple[int, Finding]] = []
    for revision in range(xrefs.total_revisions):
        freed = _freed_numbers(reader, revision)
        written = _written(xrefs, revision, freed)
        if revision > after:
            for number, generation in sorted(key for key in written - live if key[0] in referenced):
                out.append((revision, Finding("PLANTED_OBJECT", REASONS["PLANTED_OBJECT"]
                                              + f"（修订版本 {revision}：对象 {number} {generation} R）")))
                if len(out) > 10:
                    return out
        live = {key for key in live if key[0] not in freed} | written
        end = revision_ends[revision] if revision < len(revision_ends) else len(data)
        referenced.update(map(int, _REFERENCE.findall(data, scanned, end)))
        scanned = max(scanned, end)
        for stream_ref in xrefs.object_streams_used_in(revision):
            stream = reader.get_object(stream_ref, revision=revision)
            referenced.update(map(int, _REFERENCE.findall(stream.data)))
    return out


def unaccounted_input(reader: PdfFileReader) -> str | None:
    """Why a file may not receive a first seal (None: it may): the first seal certifies what MinSeal made, so an
    input where any revision references an object that does not exist then (which a later update could define,
    see ``_planted_objects``) is refused — the verifier could not tell planted content from sealed content.
    (Incremental updates as such are MinSeal's own too: a 案卷 adds its papers that way.)"""
    xrefs = reader.xrefs
    defined: set[tuple[int, int]] = set()
    referenced: dict[tuple[int, int], int] = {}  # every reference, with the revision that first wrote it
    steps = 0
    for revision in range(xrefs.total_revisions):
        freed = _freed_numbers(reader, revision)
        written = _written(xrefs, revision, freed)
        defined = {key for key in defined if key[0] not in freed} | written
        stack: list[Any] = [reader.get_historical_resolver(revision).trailer_view]
        stack += [reader.get_object(generic.Reference(*key), revision=revision) for key in sorted(written)]
        while stack and steps < 50 * MAX_OBJECTS:
            steps += 1
            item = stack.pop()
            if isinstance(item, generic.IndirectObject | generic.Reference):
                key = _key(item.reference if isinstance(item, generic.IndirectObject) else item)
                if key not in defined:
                    return f"文件引用了不存在的对象 {_name(key)}（修订版本 {revision}）"
                referenced.setdefault(key, revision)
                continue
            stack.extend(_raw_children(item))
    # an object freed after something referenced it: that reference now dangles, waiting for the number's reuse
    for key, revision in sorted(referenced.items()):
        if key not in defined:
            return f"文件引用了已释放的对象 {_name(key)}（修订版本 {revision}）"
    return None


def _classify(reader: PdfFileReader, revision: int, signed_fields: list[str]) -> list[Finding]:
    xrefs = reader.xrefs
    written = {_key(r) for r in xrefs.explicit_refs_in_revision(revision)}
    if not written:
        return []
    now, before = reader.get_historical_resolver(revision), reader.get_historical_resolver(revision - 1)
    trailer, old_trailer = now.trailer_view, before.trailer_view
    out: list[Finding] = []
    allowed: set[tuple[int, int]] = set()
    meta = xrefs.get_xref_container_info(revision)
    if meta.stream_ref is not None:
        allowed.add(_key(meta.stream_ref))
    allowed |= {_key(r) for r in xrefs.object_streams_used_in(revision)}

    old_info = old_trailer.raw_get("/Info") if "/Info" in old_trailer else None
    info = trailer.raw_get("/Info") if "/Info" in trailer else None
    if not _same(info, old_info):
        out.append(Finding("INFO_CHANGED", REASONS["INFO_CHANGED"] + f"（修订版本 {revision}：/Info 指向了新对象）"))
    if not _same(trailer.raw_get("/Root"), old_trailer.raw_get("/Root")):
        out.append(Finding("UNEXPECTED_OBJECT",
                           REASONS["UNEXPECTED_OBJECT"] + f"（修订版本 {revision}：/Root 被替换）"))
        return out
    out += _trailer_shape(reader, revision, trailer, old_trailer)
    info_key = _key(info.reference) if isinstance(info, generic.IndirectObject) else None
    root_ref = trailer.raw_get("/Root")
    root_key = _key(root_ref.reference)
    catalog, old_catalog = now(root_ref.reference), before(root_ref.reference)
    metadata = dict.get(catalog, "/Metadata") if isinstance(catalog, generic.DictionaryObject) else None
    metadata_key = _key(metadata.reference) if isinstance(metadata, generic.IndirectObject) else None
    if root_key in written:
        allowed.add(root_key)
        mutable = _CATALOG_MUTABLE | ({"/AcroForm"} if signed_fields and _inline_form_only_gains_fields(
            dict.get(catalog, "/AcroForm"), dict.get(old_catalog, "/AcroForm")) else set())
        changes = _changed_keys(catalog, old_catalog)
        if "/Extensions" in changes and _extensions_only_added(catalog, old_catalog):
            changes.discard("/Extensions")
        for changed in sorted(changes - mutable):
            code = "XMP_CHANGED" if changed == "/Metadata" else "UNEXPECTED_OBJECT"
            out.append(Finding(code, REASONS[code] + f"（修订版本 {revision}：文档目录的 {changed} 被改动）"))

    def existed(key: tuple[int, int]) -> bool:
        return xrefs.get_historical_ref(generic.Reference(*key), revision - 1) is not None

    dss = dict.get(catalog, "/DSS") if isinstance(catalog, generic.DictionaryObject) else None
    if dss is not None:
        out += _dss_shape(now, dss, revision, _vri_keys(reader))
        # of the objects that existed before, validation data may rewrite only the earlier validation data's own
        # (the DSS, its arrays, the VRI): a page's content stream rewritten as a "certificate" it lists would
        # blank the page while every seal still verified
        old_dss = dict.get(old_catalog, "/DSS") if isinstance(old_catalog, generic.DictionaryObject) else None
        was_dss = _reach(before, [old_dss], None) if old_dss is not None else set()
        allowed |= {key for key in _reach(now, [dss], written) if key in was_dss or not existed(key)}
    if signed_fields:
        allowed |= _signing_objects(now, before, catalog, signed_fields, written, existed)
    # what an earlier seal signed stays as it was: its signature dictionary and its (filled) field
    allowed = {key for key in allowed if not (existed(key) and _was_signed(before, key))}
    for key in sorted(written - allowed):
        if key == info_key:
            out.append(Finding("INFO_CHANGED", REASONS["INFO_CHANGED"] + f"（修订版本 {revision}：对象 {_name(key)}）"))
        elif key == metadata_key and _same_xmp(now, before, key):
            continue  # pyHanko's writer restamps the producer and dates on every update; nothing else changed
        elif key == metadata_key:
            out.append(Finding("XMP_CHANGED", REASONS["XMP_CHANGED"] + f"（修订版本 {revision}：对象 {_name(key)}）"))
        else:
            out.append(Finding("UNEXPECTED_OBJECT", REASONS["UNEXPECTED_OBJECT"]
                               + f"（修订版本 {revision}：对象 {_name(key)}{_kind(now, key)}）"))
        if len(out) > 20:
            break
    return out


def _was_signed(before: Any, key: tuple[int, int]) -> bool:
    """The object was, in the previous revision, a signature dictionary or a signature field holding one: a
    later update that rewrites it changes what a verifier reads of that seal (its /M, /Name, /Reason, or the
    dictionary itself), which no seal allows."""
    try:
        old = before(generic.Reference(*key))
    except Exception:  # (not defined before: a new object)
        return False
    if not isinstance(old, generic.DictionaryObject):
        return False
    return "/ByteRange" in old or (dict.get(old, "/FT") == "/Sig" and "/V" in old)


#: what pyHanko's incremental writer rewrites in the XMP packet of every update
_XMP_VOLATILE = re.compile(rb'\s(?:pdf:Producer|xmp:ModifyDate|xmp:MetadataDate|x:xmptk)="[^"]*"')


def _same_xmp(now: Any, before: Any, key: tuple[int, int]) -> bool:
    try:
        new, old = now(generic.Reference(*key)), before(generic.Reference(*key))
        if not isinstance(new, generic.StreamObject) or not isinstance(old, generic.StreamObject):
            return False
        if _changed_keys(new, old) - {"/Length", "/Filter", "/DecodeParms"}:
            return False
        return bool(_XMP_VOLATILE.sub(b"", new.data) == _XMP_VOLATILE.sub(b"", old.data))
    except Exception:
        return False


def _extensions_only_added(catalog: Any, old_catalog: Any) -> bool:
    """pyHanko declares developer extensions (ESIC, ISO_) when it adds LTV data: existing declarations stay as
    they were; new ones are developer-extension dictionaries and nothing else."""
    try:
        new = catalog["/Extensions"]
        old = old_catalog["/Extensions"] if "/Extensions" in old_catalog else generic.DictionaryObject()
        for key in dict.keys(old):
            if key not in new or not _same(dict.get(new, key), dict.get(old, key)):
                return False
        for key in dict.keys(new):
            if key in old:
                continue
            value = new[key]
            entries = list(value) if isinstance(value, generic.ArrayObject) else [value]
            for entry in entries:
                entry = entry.get_object() if isinstance(entry, generic.IndirectObject) else entry
                if not isinstance(entry, generic.DictionaryObject) or set(map(str, dict.keys(entry))) - _EXTENSION_KEYS:
                    return False
                if any(isinstance(v, generic.IndirectObject) for v in dict.values(entry)):
                    return False
        return True
    except Exception:
        return False


_TRAILER_KEYS = {"/Size", "/Root", "/Info", "/ID", "/Prev", "/Type", "/W", "/Index", "/Filter", "/DecodeParms",
                 "/Length"}


def _trailer_shape(reader: PdfFileReader, revision: int, trailer: Any, old_trailer: Any) -> list[Finding]:
    """A later trailer (or cross-reference stream dictionary) holds only its own keys, and keeps the first /ID
    element (the second one changes with every update, by definition)."""
    own = reader.trailer._trailer_revisions[reader.xrefs.total_revisions - 1 - revision]
    extra = sorted(set(map(str, dict.keys(own))) - _TRAILER_KEYS)
    out = []
    if extra:
        out.append(Finding("UNEXPECTED_OBJECT", REASONS["UNEXPECTED_OBJECT"]
                           + f"（修订版本 {revision}：文件尾字典含有 {'、'.join(extra)}）"))
    new_id, old_id = dict.get(trailer, "/ID"), dict.get(old_trailer, "/ID")
    if old_id is not None and (new_id is None or not _same(new_id.get_object()[0], old_id.get_object()[0])):
        out.append(Finding("UNEXPECTED_OBJECT",
                           REASONS["UNEXPECTED_OBJECT"] + f"（修订版本 {revision}：文件标识 /ID 被改动）"))
    return out


#: what a finding calls an object that is not a dictionary or a stream (in Chinese, as every message)
_KIND_LABELS: tuple[tuple[Any, str], ...] = (
    (generic.ArrayObject, "数组"), (generic.NameObject, "名称"),
    ((generic.TextStringObject, generic.ByteStringObject), "字符串"), (generic.BooleanObject, "布尔值"),
    (generic.NullObject, "空对象"), ((generic.NumberObject, generic.FloatObject), "数值"))


def _kind(resolver: Any, key: tuple[int, int]) -> str:
    try:
        obj = resolver(generic.Reference(*key))
    except Exception:
        return "，无法解析"
    if isinstance(obj, generic.DictionaryObject):
        kind = dict.get(obj, "/Type") or dict.get(obj, "/Subtype")
        return f"，{'数据流' if isinstance(obj, generic.StreamObject) else '字典'}" + (f" {kind}" if kind else "")
    for kinds, label in _KIND_LABELS:
        if isinstance(obj, kinds):
            return f"，{label}"
    return "，其他对象"


def _vri_keys(reader: PdfFileReader) -> set[str]:
    """A VRI entry is keyed by the SHA-1 of the signature it applies to (PAdES): of the CMS container, with or
    without the /Contents padding."""
    keys = set()
    for sig in reader.embedded_signatures:
        raw = bytes(sig.sig_object["/Contents"])
        keys.add("/" + hashlib.sha1(raw).hexdigest().upper())
        if (length := der_length(raw)) is not None:
            keys.add("/" + hashlib.sha1(raw[:length]).hexdigest().upper())
    return keys


def _dss_shape(resolver: Any, dss: Any, revision: int, vri_keys: set[str]) -> list[Finding]:
    """DSS and VRI: only their own keys, arrays of streams, VRI entries keyed by the SHA-1 of one of the file's
    signatures."""
    bad = Finding("BAD_DSS", REASONS["BAD_DSS"] + f"（修订版本 {revision}）")
    try:
        dss = dss.get_object()
        if not isinstance(dss, generic.DictionaryObject) or set(map(str, dict.keys(dss))) - _DSS_KEYS:
            return [bad]
        if dict.get(dss, "/Type") not in (None, "/DSS"):
            return [bad]
        members: dict[str, set[tuple[int, int]]] = {"/Certs": set(), "/CRLs": set(), "/OCSPs": set()}
        for key in ("/Certs", "/CRLs", "/OCSPs"):
            if key in dss and not all(isinstance(v.get_object(), generic.StreamObject) for v in dss[key]):
                return [bad]
            for value in dss.get(key, ()) if key in dss else ():
                if not isinstance(value, generic.IndirectObject) or not _parses_as(key, value.get_object()):
                    return [Finding("BAD_VALIDATION_DATA", REASONS["BAD_VALIDATION_DATA"]
                                    + f"（修订版本 {revision}：{key}）")]
                members[key].add(_key(value.reference))
        vri = dss.get("/VRI")
        if vri is not None:
            for name, entry in dss["/VRI"].items():
                entry = entry.get_object() if entry is not None else None
                if str(name) not in vri_keys:  # validation data for no signature of this file (as documented)
                    return [Finding("BAD_VALIDATION_DATA", REASONS["BAD_VALIDATION_DATA"]
                                    + f"（修订版本 {revision}：VRI 键 {name} 不是本文件任一签名的摘要）")]
                if not isinstance(entry, generic.DictionaryObject):
                    return [bad]
                if set(map(str, dict.keys(entry))) - _VRI_KEYS:
                    return [bad]
                if dict.get(entry, "/Type") not in (None, "/VRI"):
                    return [bad]
                for key in ("/Cert", "/CRL", "/OCSP"):
                    if key in entry and not all(isinstance(v.get_object(), generic.StreamObject)
                                                for v in entry[key]):
                        return [bad]
                    # a VRI entry points at what the DSS array of the same kind holds (checked there), nothing
                    # else: its /Cert at certificates, never at an OCSP response one changed digit away
                    if key in entry and not all(isinstance(v, generic.IndirectObject)
                                                and _key(v.reference) in members[key + "s"] for v in entry[key]):
                        return [Finding("BAD_VALIDATION_DATA", REASONS["BAD_VALIDATION_DATA"]
                                        + f"（修订版本 {revision}：VRI {key}）")]
                if "/TU" in entry and not isinstance(dict.get(entry, "/TU"), generic.TextStringObject
                                                     | generic.ByteStringObject):
                    return [Finding("BAD_VALIDATION_DATA", REASONS["BAD_VALIDATION_DATA"]
                                    + f"（修订版本 {revision}：VRI /TU）")]
                if "/TS" in entry and not _parses_as("/TS", entry["/TS"]):
                    return [Finding("BAD_VALIDATION_DATA", REASONS["BAD_VALIDATION_DATA"]
                                    + f"（修订版本 {revision}：VRI /TS）")]
    except Exception:
        return [bad]
    return []


_VALIDATION_STREAM_KEYS = {"/Length", "/Filter", "/DecodeParms"}


def _parses_as(key: str, obj: Any) -> bool:
    """A DSS stream is exactly one DER object of its kind (certificate, CRL, OCSP response, timestamp token) and
    its dictionary holds only what a stream needs: no /Type, /Subtype or resources that would let it serve as a
    page's content, an image or an attachment."""
    if not isinstance(obj, generic.StreamObject) or set(map(str, dict.keys(obj))) - _VALIDATION_STREAM_KEYS:
        return False
    # its decoding is stated in the stream itself, as pyHanko writes it: a direct /FlateDecode or nothing — never
    # an indirect /Filter or /DecodeParms whose object a later update could redefine under the same bytes
    filters = dict.get(obj, "/Filter")
    if filters is not None and filters != "/FlateDecode" and not (
            isinstance(filters, generic.ArrayObject) and all(f == "/FlateDecode" for f in list.__iter__(filters))):
        return False
    if any(isinstance(v, generic.IndirectObject) for v in dict.values(obj) if v is not dict.get(obj, "/Length")):
        return False
    try:
        raw = obj.data
        if key == "/Certs":
            x509.load_der_x509_certificate(raw)
        elif key == "/CRLs":
            x509.load_der_x509_crl(raw)
        elif key == "/OCSPs":
            ocsp.load_der_ocsp_response(raw)
        else:  # /TS: a timestamp token
            token = cms.ContentInfo.load(raw, strict=True)
            if token["content_type"].native != "signed_data" \
                    or token["content"]["encap_content_info"]["content_type"].native != "tst_info":
                return False
            _ = token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
        return True
    except Exception:  # every parser raises its own kinds on broken DER
        return False


def _signing_objects(now: Any, before: Any, catalog: Any, signed_fields: list[str], written: set[tuple[int, int]],
                     existed: Callable[[tuple[int, int]], bool]) -> set[tuple[int, int]]:
    """What a seal (or document timestamp) legitimately writes: its field, widget, /V and appearances, the
    AcroForm's field list, and the pages' /Annots that show its widget (a page may change nothing else). Of the
    objects that existed before, only the field and the widgets that were already its own may be rewritten: a
    field that points at a page's content stream (under any key) must not carry a rewrite of it."""
    allowed: set[tuple[int, int]] = set()
    skip = frozenset({"/P", "/Parent"})
    acroform = dict.get(catalog, "/AcroForm")
    form = acroform.get_object() if acroform is not None else None
    fields = dict.get(form, "/Fields") if isinstance(form, generic.DictionaryObject) else None
    # the form's field list may only gain the fields signed here, and lose none
    fields_kept = _field_list_grows_by(fields, before, signed_fields)
    if isinstance(acroform, generic.IndirectObject):
        key = _key(acroform.reference)
        if key in written and fields_kept:
            changed = _changed_keys(now(acroform.reference), before(acroform.reference))
            if not changed - {"/Fields", "/SigFlags"}:
                allowed.add(key)
    if isinstance(fields, generic.IndirectObject) and _key(fields.reference) in written and fields_kept:
        allowed.add(_key(fields.reference))
    widgets: set[tuple[int, int]] = set()
    for field in list.__iter__(fields.get_object()) if fields is not None else ():
        if not isinstance(field, generic.IndirectObject):
            continue
        obj = field.get_object()
        if isinstance(obj, generic.DictionaryObject) and str(obj.get("/T", "")) in signed_fields:
            kids = {_key(kid.reference) for kid in list.__iter__(obj.get("/Kids", generic.ArrayObject()))
                    if isinstance(kid, generic.IndirectObject)}
            # a kid that existed before is the field's own only if it was its kid then (never another field's box)
            kids_before = _kids(before, field) if existed(_key(field.reference)) else set()
            own = {kid for kid in kids if not existed(kid) or kid in kids_before} | {_key(field.reference)}
            found = {key for key in _reach(now, [field], written, skip_keys=skip) if key in own or not existed(key)}
            allowed |= found
            widgets |= found | own
    for key in list(written):
        try:
            obj = now(generic.Reference(*key))
            # (only a page may change, and only its /Annots: no need to read the earlier version of anything else)
            if not isinstance(obj, generic.DictionaryObject) or dict.get(obj, "/Type") != "/Page":
                continue
            old = before(generic.Reference(*key))
        except Exception:
            continue
        if not (_changed_keys(obj, old) - {"/Annots"}):
            annots = dict.get(obj, "/Annots")
            old_annots = dict.get(old, "/Annots") if isinstance(old, generic.DictionaryObject) else None
            annots_key = _key(annots.reference) if isinstance(annots, generic.IndirectObject) else None
            items = list(list.__iter__(annots.get_object() if annots is not None else []))
            new = {_key(a.reference) for a in items if isinstance(a, generic.IndirectObject)}
            old_set = {_key(a.reference) for a in list.__iter__(old_annots.get_object() if old_annots is not None
                                                                else []) if isinstance(a, generic.IndirectObject)}
            # (an annotation written inline in /Annots is no widget of anyone's: a cover box, a link with a script)
            inline = len(new) != len(items)
            if not inline and (new - old_set) <= widgets and old_set <= new:
                allowed |= {key, *([annots_key] if annots_key is not None else [])}
    return allowed


def _inline_form_only_gains_fields(form: Any, old_form: Any) -> bool:
    """The catalog's /AcroForm changed: allowed only for a form written inline in the catalog both times whose
    other entries stayed (/Fields is judged with the signing objects). A form moved to another object, or inlined,
    is not a seal's to make: it could bring /NeedAppearances, /XFA or new default resources."""
    inline = (generic.DictionaryObject,)
    if isinstance(form, generic.IndirectObject) or isinstance(old_form, generic.IndirectObject):
        return False
    return isinstance(form, inline) and isinstance(old_form, inline) and not (
        _changed_keys(form, old_form) - {"/Fields", "/SigFlags"})


def _kids(resolver: Any, field: Any) -> set[tuple[int, int]]:
    try:
        obj = resolver(field.reference)
        return {_key(kid.reference) for kid in list.__iter__(obj.get_object().get("/Kids", generic.ArrayObject()))
                if isinstance(kid, generic.IndirectObject)}
    except Exception:
        return set()


def _field_list_grows_by(fields: Any, before: Any, signed_fields: list[str]) -> bool:
    """The AcroForm's /Fields now holds every field it held before, and anything new in it is a field signed in
    this revision (by its /T)."""
    try:
        old_form = before.root.get("/AcroForm")  # (dict.get: the raw value, a reference or not)
        old_form = old_form.get_object() if old_form is not None else None
        old = dict.get(old_form, "/Fields") if isinstance(old_form, generic.DictionaryObject) else None
        old_keys = {_key(f.reference) for f in list.__iter__(old.get_object())
                    if isinstance(f, generic.IndirectObject)} if old is not None else set()
        items = list(list.__iter__(fields.get_object())) if fields is not None else []
        if not all(isinstance(f, generic.IndirectObject) for f in items):
            return False  # (a field written inline in the list: no writer does that, a viewer would show it)
        new = {_key(f.reference): f for f in items}
        added = [new[key].get_object() for key in new.keys() - old_keys]
        return old_keys <= new.keys() and all(isinstance(f, generic.DictionaryObject)
                                              and str(f.get("/T", "")) in signed_fields for f in added)
    except Exception:
        return False


def _account_bytes(reader: PdfFileReader, data: bytes, revision: int, ends: list[int]) -> list[Finding]:
    """A revision no signature covers must be, byte for byte, what a PDF writer writes for the objects it lists
    (pyHanko's form, which MinSeal's sealer uses): each object as ``N G obj`` + its serialisation + ``endobj`` in
    ascending order from the revision's first byte, then its cross-reference section and
    ``startxref`` / the exact offset / ``%%EOF``. Parsers tolerate damaged keywords, wrong offsets, stray
    bytes and rewritten values there; nothing signs them, so only the canonical form is accepted. The second
    /ID element stays free (a writer picks it at random)."""
    def unaccounted(position: int, what: str = "") -> list[Finding]:
        return [Finding("UNACCOUNTED_BYTES", REASONS["UNACCOUNTED_BYTES"]
                        + f"（修订版本 {revision}，偏移 {position}{what}）")]

    xrefs = reader.xrefs
    if xrefs.object_streams_used_in(revision):
        return unaccounted(ends[revision - 1], "：未签名修订版本中有对象流")
    resolver = reader.get_historical_resolver(revision)
    meta = xrefs.get_xref_container_info(revision)
    stream_key = _key(meta.stream_ref) if meta.stream_ref is not None else None
    positions: dict[tuple[int, int], int] = {}
    for ref in xrefs.explicit_refs_in_revision(revision):
        offset = xrefs.get_historical_ref(ref, revision)
        if not isinstance(offset, int):
            return unaccounted(ends[revision - 1], f"：对象 {_name(_key(ref))} 的位置无效")
        if _key(ref) != stream_key:
            positions[_key(ref)] = offset
    position = ends[revision - 1]
    try:
        for key, offset in sorted(positions.items(), key=lambda item: item[1]):
            length = _is_canonical(data, offset, key, resolver(generic.Reference(*key)))
            if offset != position or length is None:
                return unaccounted(min(offset, position), f"：对象 {_name(key)} 不是规范写法")
            position += length
        if position != meta.start_location:
            return unaccounted(position, "：交叉引用表位置不符")
        size = resolver.trailer_view.raw_get("/Size")
        highest = max((k[0] for k in positions), default=0)
        if stream_key is not None:
            highest = max(highest, stream_key[0])
            length = _is_canonical(data, position, stream_key, resolver(generic.Reference(*stream_key)))
            if length is None:
                return unaccounted(position, "：交叉引用流不是规范写法")
            xref_bytes = data[position:position + length]
        else:
            table = io.BytesIO()
            write_xref_table(table, {(g, i): o for (i, g), o in positions.items()})
            own = reader.trailer._trailer_revisions[xrefs.total_revisions - 1 - revision]
            trailer = io.BytesIO()
            own.write_to_stream(trailer, None)
            xref_bytes = table.getvalue() + b"trailer\n" + trailer.getvalue()
        if data[position:position + len(xref_bytes)] != xref_bytes:
            return unaccounted(position, "：交叉引用部分不是规范写法")
        if int(size) != max(highest + 1, _previous_size(reader, revision)):
            return unaccounted(position, f"：文件尾 /Size {size} 与对象编号不符")
        position += len(xref_bytes)
    except Exception:  # an object that does not even parse or serialise back is not accounted for either
        return unaccounted(position, "：无法按规范写法重建")
    tail = f"\nstartxref\n{meta.start_location}\n%%EOF".encode()
    if data[position:position + len(tail)] != tail or data[position + len(tail):ends[revision]].strip(b"\r\n"):
        return unaccounted(position, "：文件尾不是规范写法")
    return []


def _previous_size(reader: PdfFileReader, revision: int) -> int:
    return int(reader.get_historical_resolver(revision - 1).trailer_view.raw_get("/Size"))


def _serialised(key: tuple[int, int], obj: Any, *, hex_strings: bool = False) -> bytes:
    out = io.BytesIO()
    out.write(f"{key[0]} {key[1]} obj\n".encode())
    (_with_hex_strings(obj) if hex_strings else obj).write_to_stream(out, None, generic.Reference(*key))
    out.write(b"\nendobj\n")
    return out.getvalue()


def _is_canonical(data: bytes, offset: int, key: tuple[int, int], obj: Any) -> int | None:
    """The length of the object's canonical form at ``offset``, or None. A parsed string does not remember
    whether it was written as (literal) or <hex>: both of the writer's forms are accepted."""
    for hex_strings in (False, True):
        expected = _serialised(key, obj, hex_strings=hex_strings)
        if data[offset:offset + len(expected)] == expected:
            return len(expected)
    return None


def _with_hex_strings(obj: Any) -> Any:
    if isinstance(obj, (generic.TextStringObject, generic.ByteStringObject)):
        return generic.ByteStringObject(obj.original_bytes)
    if isinstance(obj, generic.StreamObject):
        return generic.StreamObject({k: _with_hex_strings(v) for k, v in dict.items(obj)},
                                    encoded_data=obj.encoded_data)
    if isinstance(obj, generic.DictionaryObject):
        return generic.DictionaryObject({k: _with_hex_strings(v) for k, v in dict.items(obj)})
    if isinstance(obj, generic.ArrayObject):
        return generic.ArrayObject([_with_hex_strings(v) for v in obj])
    return obj
