"""Sealing PDF bytes: certify at the first tier, countersign above, with the seal as the visible signature.

- the first seal is a PAdES *certification* signature; its DocMDP level allows what later tiers need
  (forms: FILL_FORMS, i.e. signing the fields reserved for them; notices and certificates: NO_CHANGES);
- the signature fields for the later tiers are created, empty, in the same revision, so a countersignature
  only fills an existing field — which every validator accepts under FILL_FORMS;
- 骑缝章 (the seal split across the right edge of every page) is drawn in that same revision, so the
  certification signature covers it;
- levels: B-B (signature only), B-T (+ RFC 3161 timestamp), B-LT (+ chain and revocation data in the DSS,
  verifiable offline), B-LTA (+ document timestamp).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import content, generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.signers.pdf_byterange import DERPlaceholder
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp.base import BaseStamp, BaseStampStyle
from pyhanko_certvalidator import ValidationContext

from .errors import MinSealError, NotSealableError, SealingError
from .integrity import timestamp_gen_time, timestamp_signer, unaccounted_input
from .pki import to_asn1
from .signers import KeySigner, Revocation, Timestamper
from .sm2_cms import SM2_DIGEST, is_sm2_signer


class SealLevel(StrEnum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


class DocMdp(StrEnum):
    """What a certification signature allows after it."""

    #: nothing (notices and certificates)
    NO_CHANGES = "no_changes"
    #: filling form fields, i.e. signing the fields reserved for the later tiers (forms)
    FILL_FORMS = "fill_forms"


_MDP = {DocMdp.NO_CHANGES: MDPPerm.NO_CHANGES, DocMdp.FILL_FORMS: MDPPerm.FILL_FORMS}


@dataclass(frozen=True)
class SealTarget:
    """A signature field: its name, page (0-based) and rectangle in PDF points."""

    field_name: str
    page_index: int
    rect: tuple[float, float, float, float]


@dataclass(frozen=True)
class SealPlan:
    """Everything about one seal except the key."""

    target: SealTarget
    #: PDF operators drawing the box's content (text and seal) in its own coordinate space
    appearance: bytes
    level: SealLevel = SealLevel.B_LT
    #: certification (first seal of the document) or approval (countersignature)
    certify: bool = False
    docmdp: DocMdp = DocMdp.FILL_FORMS
    #: empty fields to create with the certification, for the tiers that countersign later
    reserve: tuple[SealTarget, ...] = ()
    #: the seal's own operators and size (points) for the 骑缝章 across the pages' right edges, if wanted
    riding_seal: tuple[bytes, float] | None = None
    #: Type 3 fonts the appearance's text uses (objects with ``name`` and ``to_pdf(writer)``, see appearance.py)
    fonts: tuple[Any, ...] = ()
    reason: str | None = None
    location: str | None = None
    signer_name: str | None = None


_INK = generic.DictionaryObject({pdf_name("/Type"): pdf_name("/ExtGState"), pdf_name("/BM"): pdf_name("/Multiply")})


@dataclass(frozen=True)
class _OpsStampStyle(BaseStampStyle):  # type: ignore[misc]
    """A stamp whose whole content is given as operators (no border, no background)."""

    border_width: int = 0
    ops: bytes = b""
    fonts: tuple[Any, ...] = ()

    def create_stamp(self, writer: Any, box: BoxConstraints, text_params: dict[str, Any]) -> BaseStamp:
        return _OpsStamp(writer, self, box)


class _OpsStamp(BaseStamp):  # type: ignore[misc]
    def as_form_xobject(self) -> generic.StreamObject:
        xobject = super().as_form_xobject()
        xobject.compress()  # glyph outlines compress ~4:1
        return xobject

    def _render_inner_content(self) -> list[bytes]:
        self.set_resource(category=content.ResourceType.EXT_G_STATE, name=pdf_name("/MinSealInk"), value=_INK)
        for font in self.style.fonts:
            self.set_resource(category=content.ResourceType.FONT, name=pdf_name(font.name),
                              value=font.to_pdf(self.writer))
        return [self.style.ops]


#: a 骑缝章 slice starts this far inside the page edge (inside the printable area) …
RIDING_INSET = 5 * 72 / 25.4
#: … and is at least this wide; more pages than the seal has slices: the seal is repeated per group of pages
RIDING_MIN_SLICE = 10 * 72 / 25.4


def riding_groups(pages: int, diameter: float) -> list[list[int]]:
    """Pages split into balanced groups, each showing one whole seal in slices at least 10 mm wide (as offices
    stamp a thick file in several runs)."""
    per_group = max(int(diameter // RIDING_MIN_SLICE), 1)
    count = -(-pages // per_group)
    base, extra = divmod(pages, count)
    groups, start = [], 0
    for g in range(count):
        size = base + (1 if g < extra else 0)
        groups.append(list(range(start, start + size)))
        start += size
    return groups


def _add_riding_seal(writer: IncrementalPdfFileWriter, seal: bytes, diameter: float) -> None:
    """Each page shows its slice of a seal near its right edge: in a group of N pages, page j shows the j-th of N
    vertical strips, 5 mm inside the edge."""
    pages = int(writer.root["/Pages"]["/Count"])
    if pages < 2:
        return
    art = generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject([generic.FloatObject(v) for v in (0, 0, diameter, diameter)]),
    }, stream_data=seal)
    art.compress()
    art_ref = writer.add_object(art)  # one copy of the seal, shown in slices on every page
    for group in riding_groups(pages, diameter):
        strip = diameter / len(group)
        for position, index in enumerate(group):
            page_ref, _ = writer.find_page_for_modification(index)
            box = [float(v) for v in page_ref.get_object()["/MediaBox"]]
            edge, middle = box[2] - RIDING_INSET, (box[1] + box[3]) / 2
            y = middle - diameter / 2
            x = edge - strip - position * strip
            # pages may share one resource dictionary: a name per page avoids clashes when merging
            ink, name = b"/MinSealRiding%d" % index, b"/MinSealArt%d" % index
            ops = b"q %.3f %.3f %.3f %.3f re W n %s gs 1 0 0 1 %.3f %.3f cm %s Do Q" % (
                edge - strip, y, strip, diameter, ink, x, y, name)
            stream = writer.add_object(generic.StreamObject(stream_data=ops))
            resources = generic.DictionaryObject({
                pdf_name("/ExtGState"): generic.DictionaryObject({pdf_name(ink.decode()): _INK}),
                pdf_name("/XObject"): generic.DictionaryObject({pdf_name(name.decode()): art_ref}),
            })
            writer.add_stream_to_page(index, stream, resources)


class PdfToSeal:
    """One parse of the file being sealed. Its layout, its form facts and the pre-countersign check read
    ``reader`` (the file as it stands) before anything is added; then the same writer signs it. The writer's
    additions change objects the reader holds, so a ``PdfToSeal`` is read first, then sealed once."""

    def __init__(self, pdf: bytes) -> None:
        try:
            self.writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        except Exception as exc:  # pyHanko raises many kinds for broken files
            raise NotSealableError(f"无法读取待用印的 PDF：{type(exc).__name__}", code="PDF_UNREADABLE") from None
        self.pdf = pdf
        self.sealed = False

    @property
    def reader(self) -> PdfFileReader:
        reader: PdfFileReader = self.writer.prev
        return reader

    def writer_for_signing(self) -> IncrementalPdfFileWriter:
        """The writer, once all reading is done. The reader keeps each object as first read; the writer restamps
        the XMP packet in place only if it gets the catalog's /Metadata as an XMP stream, but a check that read
        it as a plain stream left that in the cache, and the writer would then add a second packet (which the
        next tier's check refuses: XMP_CHANGED). So that one object is read again, as the writer reads it."""
        root = self.writer.root
        raw = root.raw_get("/Metadata") if "/Metadata" in root else None
        if isinstance(raw, generic.IndirectObject):
            self.reader.resolved_objects.pop((raw.reference.generation, raw.reference.idnum), None)
        return self.writer


@dataclass(frozen=True)
class Sealed:
    pdf: bytes
    #: hex length of the signature container (the unit of pyHanko's ``bytes_reserved``), read from where the
    #: signing wrote it: what sizes the next reservation of the same key and level, without a dry run
    container_hex: int


@dataclass
class Sealer:
    """Signs with a given key; holds the timestamper and where long-term levels get revocation data."""

    timestamper: Timestamper | None = None
    #: the revocation source for B-LT/B-LTA
    revocation: Revocation | None = None

    def _context(self, plan: SealPlan) -> ValidationContext | None:
        if plan.level in (SealLevel.B_LT, SealLevel.B_LTA) and self.revocation is not None:
            return self.revocation.context()
        return None

    def _pdf_signer(self, plan: SealPlan, signer: KeySigner, writer: IncrementalPdfFileWriter,
                    context: ValidationContext | None) -> signers.PdfSigner:
        level = plan.level
        if level is not SealLevel.B_B and self.timestamper is None:
            raise SealingError(f"{level.value} 级别需要时间戳服务，但未配置", code="TSA_MISSING")
        long_term = level in (SealLevel.B_LT, SealLevel.B_LTA)
        if long_term and context is None:
            raise SealingError(f"{level.value} 级别需要吊销信息来源，但未配置", code="REVOCATION_MISSING")
        meta = signers.PdfSignatureMetadata(
            field_name=plan.target.field_name,
            md_algorithm=_digest_for(signer),
            subfilter=SigSeedSubFilter.PADES,
            certify=plan.certify,
            docmdp_permissions=_MDP[plan.docmdp],
            reason=plan.reason,
            location=plan.location,
            name=plan.signer_name,
            # the context checks the key before signing (hard-fail); the validation data is added after the
            # signature, once its timestamp exists (see ``_add_validation_data``)
            embed_validation_info=False,
            validation_context=context,
        )
        existing = {name for name, _value, _ref in fields.enumerate_sig_fields(writer.prev)}
        spec = None
        if plan.target.field_name not in existing:
            spec = SigFieldSpec(plan.target.field_name, on_page=plan.target.page_index, box=plan.target.rect)
        return signers.PdfSigner(
            meta, signer=signer, timestamper=self.timestamper if level is not SealLevel.B_B else None,
            stamp_style=_OpsStampStyle(ops=plan.appearance, fonts=plan.fonts), new_field_spec=spec,
        )

    @staticmethod
    def _add_certified_content(writer: IncrementalPdfFileWriter, plan: SealPlan) -> None:
        if plan.certify:
            for reserved in plan.reserve:
                fields.append_signature_field(writer, SigFieldSpec(
                    reserved.field_name, on_page=reserved.page_index, box=reserved.rect))
            if plan.riding_seal is not None:
                _add_riding_seal(writer, *plan.riding_seal)

    def seal(self, doc: PdfToSeal, plan: SealPlan, signer: KeySigner, *, reserve: int | None = None) -> Sealed:
        """The one signing path (blocking: the service runs it in its worker threads). ``reserve``: hex
        characters for the signature container, known from an earlier seal by the same key at the same level;
        without it pyHanko signs twice (a dry run to measure, then for real)."""
        if doc.sealed:
            raise SealingError("同一份待用印文件只能用印一次", code="ALREADY_USED")
        doc.sealed = True
        if plan.certify:
            try:
                reason = unaccounted_input(doc.reader)
            except Exception:  # pyHanko raises many kinds for broken files
                reason = "文件结构无法完整读取"
            if reason is not None:
                raise NotSealableError(f"拒绝首次用印：{reason}。首个印章只能盖在本系统生成的文书原件上，"
                                       "请重新生成文书后再用印", code="INPUT_NOT_CLEAN")
        out = BytesIO()
        try:
            writer = doc.writer_for_signing()
            self._add_certified_content(writer, plan)
            # pyHanko's blocking entry point releases the context's HTTP sessions itself
            context = self._context(plan)
            self._pdf_signer(plan, signer, writer, context).sign_pdf(writer, output=out, bytes_reserved=reserve)
            pdf = out.getvalue()
            hex_length = _container_hex(writer, plan.target.field_name, pdf)
            if context is not None:
                pdf = self._add_validation_data(pdf, plan, context)
            return Sealed(pdf, hex_length)
        except MinSealError:
            raise
        except Exception as exc:  # damaged input, a certificate revoked meanwhile, a TSA down …
            raise _signing_failed(exc) from None


    def _add_validation_data(self, pdf: bytes, plan: SealPlan, context: ValidationContext) -> bytes:
        """B-LT: the chain, the CRL and OCSP responses made *after* the seal's timestamp (for the seal's and the
        TSA's certificates) in the DSS, so the seal verifies at any site with the root alone; B-LTA: then a
        document timestamp. Revocation data older than the timestamp cannot vouch for the seal."""
        assert self.revocation is not None and self.timestamper is not None
        out = BytesIO(pdf)
        reader = PdfFileReader(out, strict=False)
        sig = next(s for s in reader.embedded_signatures if s.field_name == plan.target.field_name)
        root = to_asn1(self.revocation.root())
        certs = [sig.signer_cert]
        stamped = None
        tsa = timestamp_signer(sig)
        if tsa is not None:
            certs.append(tsa)
            stamped = timestamp_gen_time(sig)
        if stamped is not None:  # revocation data carries whole seconds: issued in the timestamp's second at least
            wait = (stamped.replace(microsecond=0) - dt.datetime.now(dt.UTC)).total_seconds()
            if 0 < wait <= 3:
                time.sleep(wait)
        ocsps = [r for cert in certs if cert.issuer == root.subject
                 and (r := self.revocation.fresh_ocsp(cert, root)) is not None]
        contents = bytes(sig.sig_object["/Contents"])
        dss = {"certs": [*certs, root], "ocsps": ocsps, "crls": list(context.crls)}
        if plan.level is not SealLevel.B_LTA:
            DocumentSecurityStore.add_dss(out, contents, force_write=True, **dss)
            return out.getvalue()
        writer = IncrementalPdfFileWriter(out, strict=False)
        DocumentSecurityStore.supply_dss_in_writer(writer, contents, **dss)
        PdfTimeStamper(self.timestamper).timestamp_pdf(writer, sig.md_algorithm, validation_context=context,
                                                      in_place=True)
        return out.getvalue()


def _digest_for(signer: KeySigner) -> str:
    """SM3 for an SM2 key (GB/T 35276 allows nothing else), SHA-256 for every other key."""
    return SM2_DIGEST if is_sm2_signer(signer) else "sha256"


def _signing_failed(exc: Exception) -> SealingError:
    """pyHanko's many failure types as one domain error (never a traceback); the type name helps support."""
    return SealingError(f"用印失败：签名时出错（{type(exc).__name__}），文件未写出", code="SIGNING_FAILED")


def _container_hex(writer: IncrementalPdfFileWriter, field_name: str, pdf: bytes) -> int:
    """The signature container's hex length, read from the DER header at the offset where the signing wrote
    it (its /Contents placeholder remembers that offset in the output) — no parse of the output."""
    for name, value, _ref in fields.enumerate_sig_fields(writer, filled_status=True):
        if name != field_name:
            continue
        placeholder = value.get_object().get("/Contents") if value is not None else None
        if not isinstance(placeholder, DERPlaceholder):
            break
        start, _end = placeholder.offsets
        if pdf[start:start + 3] != b"<30":  # '<', then a DER SEQUENCE (the ContentInfo)
            break
        first = int(pdf[start + 3:start + 5], 16)
        if first < 0x80:
            return 2 * (2 + first)
        width = first & 0x7F
        length = int(pdf[start + 5:start + 5 + 2 * width], 16)
        return 2 * (2 + width + length)
    raise SealingError("签名域未找到", code="FIELD_MISSING")
