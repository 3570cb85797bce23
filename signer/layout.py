"""What a sealer or verifier reads of a MinSeal PDF's layout: its slot table as of a revision, and its filled
signature fields. The slot table is trusted only as of the first seal's revision (the one its certification
covers); a later revision that changes it is a finding for the verifier and a refusal for the sealer."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields

from .errors import NotSealableError
from .slots import SLOTS_INFO_KEY, SlotTable


def slots_at(reader: PdfFileReader, revision: int) -> str | None:
    """The /MinSealSlots text as it stood in ``revision`` (resolved in that revision, not the latest)."""
    return info_value_at(reader, revision, SLOTS_INFO_KEY)


def info_value_at(reader: PdfFileReader, revision: int, key: str) -> str | None:
    """A document information entry as it stood in ``revision``."""
    history = reader.get_historical_resolver(revision)
    info_ref = history.trailer_view.raw_get("/Info") if "/Info" in history.trailer_view else None
    if info_ref is None:
        return None
    info = history(info_ref.reference) if isinstance(info_ref, generic.IndirectObject) else info_ref
    if not isinstance(info, generic.DictionaryObject):
        return None
    value = info.get("/" + key)
    return str(value) if value is not None else None


@dataclass(frozen=True)
class Layout:
    table: SlotTable
    #: names of filled signature fields
    signed: frozenset[str]
    pages: int


def read_layout(reader: PdfFileReader) -> Layout:
    """For the sealer: the certified slot table, the filled fields and the page count — or a clear refusal.
    ``reader``: the parse the seal signs with (``PdfToSeal.reader``), read before anything is added."""
    try:
        # filled signature fields and the revision each value was written in — what pyHanko's
        # embedded_signatures would tell, without parsing every signature container (~10 ms each)
        filled = {name: reader.xrefs.get_last_change(ref.get_object().raw_get("/V").reference)
                  for name, _value, ref in fields.enumerate_sig_fields(reader, filled_status=True)}
        pages = int(reader.root["/Pages"]["/Count"])
        latest = slots_at(reader, reader.xrefs.total_revisions - 1)
        # once sealed, the slots that count are those the first seal certified
        raw = slots_at(reader, min(filled.values())) if filled else latest
    except Exception as exc:  # pyHanko raises many kinds for broken files
        raise NotSealableError(f"无法读取待用印的 PDF：{type(exc).__name__}", code="PDF_UNREADABLE") from None
    if raw is None:
        raise NotSealableError("该 PDF 没有签章位信息：只能对 MinSeal 生成的文书用印", code="NO_SLOTS")
    if latest != raw:
        raise NotSealableError("该 PDF 的签章位信息在盖章后被改动，拒绝用印", code="SLOTS_TAMPERED")
    table = SlotTable.parse(raw)
    if table is None:
        raise NotSealableError("该 PDF 的签章位信息已损坏", code="NO_SLOTS")
    return Layout(table, frozenset(filled), pages)


def page_count(pdf: bytes, *, stop_after: int | None = None) -> int | None:
    """The pages a PDF really has — its page tree's leaves, never the ``/Count`` it declares (a file can declare 1
    and hold 10,000) — or None when it cannot be read (the verifier then says why). With ``stop_after``, counting
    stops once past it (a limit check need not walk a huge tree)."""
    try:
        todo: list[generic.PdfObject] = [PdfFileReader(BytesIO(pdf), strict=False).root.raw_get("/Pages")]
        count, seen = 0, set()
        while todo:
            item = todo.pop()
            if isinstance(item, generic.IndirectObject):
                if (item.idnum, item.generation) in seen:  # a cycle or a shared kid: counted once
                    continue
                seen.add((item.idnum, item.generation))
                item = item.get_object()
            if not isinstance(item, generic.DictionaryObject):
                continue
            kids = item.get("/Kids") if item.get("/Type") != "/Page" else None
            if isinstance(kids, generic.ArrayObject):
                todo.extend(reversed(list(kids)))  # the raw entries: references keep their numbers
            else:
                count += 1
                if stop_after is not None and count > stop_after:
                    return count
        return count
    except Exception:
        return None
