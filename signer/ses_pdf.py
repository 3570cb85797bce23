"""A GB/T 38540 seal signature (SES_Signature v4) carried in a PDF, and read back.

GB/T 38540 defines the seal and signature data, not how a PDF carries them (its own carriage is OFD, GB/T 33190).
No public convention for PDF was found, so MinSeal writes an ordinary ISO 32000 signature dictionary whose
``/Contents`` holds the SES_Signature DER (zero-padded, as PAdES pads CMS) under a handler of its own:

- ``/Filter /MinSeal.GBT38540`` and ``/SubFilter /GBT38540.SES_Signature.v4`` — deliberately not
  ``/Adobe.PPKLite`` with a PAdES subfilter, so no PDF tool mistakes the contents for CMS (they show "unknown
  signature format" rather than "signature invalid");
- ``/ByteRange`` covers the whole file but ``/Contents``; TBS_Sign.dataHash is SM3 over those ranges, and
  TBS_Sign.propertyInfo names them (``PDF;ByteRange=0 a b c``): the "signature protection range" the standard
  asks propertyInfo to state;
- the field's widget shows the seal's own picture (PNG, or an SVG of filled paths and circles) at the size the
  seal states, centred in the box, never scaled (as ``appearance.py`` draws MinSeal's own seals).

The reader recognises MinSeal's subfilter and any other signature whose ``/Contents`` parses as an SES_Signature
v4 (a vendor's own names), checks the byte ranges as the PAdES verifier does (start at 0, no gap but exactly the
``/Contents`` string, no overlap or wrap, ending at the end of the file or of a revision) and verifies with
``ses.verify``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from asn1crypto import crl, x509
from pyhanko.pdf_utils import content, generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.fields import SigFieldSpec
from pyhanko.sign.signers.cms_embedder import PdfCMSEmbedder, SigAppearanceSetup, SigIOSetup, SigObjSetup
from pyhanko.sign.signers.pdf_byterange import PdfByteRangeDigest
from pyhanko.stamp.base import BaseStamp, BaseStampStyle

from . import ses, sm2
from .errors import MinSealError, NotSealableError, SealingError
from .integrity import der_length
from .report import Finding, Verdict

FILTER: Final = "/MinSeal.GBT38540"
SUBFILTER: Final = "/GBT38540.SES_Signature.v4"
MM: Final = 72 / 25.4
#: the largest /Contents the reader decodes (a seal picture is tens of KB; this bounds a hostile file)
MAX_CONTENTS: Final = 4 * 1024 * 1024

Box = tuple[float, float, float, float]


# ---------------------------------------------------------------------------------------------------------------
# the seal picture as PDF content


def _png_xobject(writer: Any, data: bytes) -> generic.IndirectObject:
    """An image XObject (RGB, alpha as /SMask) from PNG (or any image Pillow reads)."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        raise NotSealableError("电子印章中的印章图片无法读取", code="SES_PICTURE_UNREADABLE") from None
    rgba = image.convert("RGBA")
    width, height = rgba.size

    def stream(mode_bytes: bytes, colour_space: str) -> generic.StreamObject:
        obj = generic.StreamObject({
            pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(width), pdf_name("/Height"): generic.NumberObject(height),
            pdf_name("/ColorSpace"): pdf_name(colour_space), pdf_name("/BitsPerComponent"): generic.NumberObject(8),
        }, stream_data=mode_bytes)
        obj.compress()
        return obj

    smask = writer.add_object(stream(rgba.getchannel("A").tobytes(), "/DeviceGray"))
    image_obj = stream(rgba.convert("RGB").tobytes(), "/DeviceRGB")
    image_obj[pdf_name("/SMask")] = smask
    ref: generic.IndirectObject = writer.add_object(image_obj)
    return ref


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _svg_transform(text: str) -> tuple[float, float, float, float, float, float]:
    """SVG ``transform`` (translate, rotate, scale, matrix) as one affine matrix."""
    from fontTools.misc.transform import Transform

    result = Transform()
    for name, args in re.findall(r"(\w+)\s*\(([^)]*)\)", text):
        values = [float(v) for v in re.findall(_NUMBER, args)]
        if name == "translate":
            step = Transform().translate(values[0], values[1] if len(values) > 1 else 0.0)
        elif name == "scale":
            step = Transform().scale(values[0], values[1] if len(values) > 1 else values[0])
        elif name == "rotate" and len(values) == 1:
            step = Transform().rotate(math.radians(values[0]))
        elif name == "matrix" and len(values) == 6:
            step = Transform(*values)
        else:
            raise ValueError(f"unsupported SVG transform {name}")
        result = result.transform(step)
    a, b, c, d, e, f = result
    return a, b, c, d, e, f


def _colour(value: str | None) -> bytes | None:
    if value is None or value == "none":
        return None
    match = re.fullmatch(r"#([0-9a-fA-F]{6})", value.strip())
    if not match:
        raise ValueError(f"unsupported SVG colour {value}")
    r, g, b = (int(match.group(1)[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return b"%.3f %.3f %.3f" % (r, g, b)


def _circle_ops(cx: float, cy: float, r: float) -> bytes:
    k = 0.5523 * r
    return (b"%.3f %.3f m %.3f %.3f %.3f %.3f %.3f %.3f c %.3f %.3f %.3f %.3f %.3f %.3f c "
            b"%.3f %.3f %.3f %.3f %.3f %.3f c %.3f %.3f %.3f %.3f %.3f %.3f c h" % (
                cx + r, cy, cx + r, cy + k, cx + k, cy + r, cx, cy + r, cx - k, cy + r, cx - r, cy + k, cx - r, cy,
                cx - r, cy - k, cx - k, cy - r, cx, cy - r, cx + k, cy - r, cx + r, cy - k, cx + r, cy))


def svg_ops(svg: bytes) -> tuple[bytes, float, float]:
    """PDF operators drawing an SVG of filled paths and circles (what ``seal_image.seal_svg`` writes and what a
    seal needs), in the SVG's own user space with y up; and the viewBox's width and height. Raises ValueError
    for anything else (gradients, text, images, CSS)."""
    from fontTools.pens.basePen import BasePen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.svgLib.path import parse_path

    class _Pen(BasePen):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(None)
            self.ops: list[bytes] = []

        def _moveTo(self, pt: tuple[float, float]) -> None:
            self.ops.append(b"%.3f %.3f m" % pt)

        def _lineTo(self, pt: tuple[float, float]) -> None:
            self.ops.append(b"%.3f %.3f l" % pt)

        def _curveToOne(self, p1: Any, p2: Any, p3: Any) -> None:
            self.ops.append(b"%.3f %.3f %.3f %.3f %.3f %.3f c" % (*p1, *p2, *p3))

        def _closePath(self) -> None:
            self.ops.append(b"h")

    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise ValueError(f"not SVG: {exc}") from None
    box = [float(v) for v in re.findall(_NUMBER, root.get("viewBox") or "")]
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise ValueError("SVG without a viewBox")
    x0, y0, width, height = box
    out = [b"1 0 0 -1 %.3f %.3f cm" % (-x0, y0 + height)]  # y down (SVG) to y up (PDF)

    def walk(element: ET.Element, fill: str | None, stroke: str | None) -> None:
        tag = element.tag.rsplit("}", 1)[-1]
        fill = element.get("fill", fill)
        stroke = element.get("stroke", stroke)
        if tag in ("svg", "g"):
            if element.get("transform"):
                raise ValueError("transform on a group")
            for child in element:
                walk(child, fill, stroke)
            return
        if tag in ("title", "desc", "metadata"):
            return
        if tag == "circle":
            cx, cy, r = (float(element.get(a, "0")) for a in ("cx", "cy", "r"))
            stroke_colour = _colour(stroke)
            fill_colour = _colour(fill if fill is not None else "#000000")
            if fill_colour is not None:
                out.append(b"%s rg %s f" % (fill_colour, _circle_ops(cx, cy, r)))
            if stroke_colour is not None:
                w = float(element.get("stroke-width", "1"))
                out.append(b"%s rg %s %s f*" % (stroke_colour, _circle_ops(cx, cy, r + w / 2),
                                                _circle_ops(cx, cy, max(r - w / 2, 0.0))))
            return
        if tag != "path":
            raise ValueError(f"unsupported SVG element <{tag}>")
        colour = _colour(fill if fill is not None else "#000000")
        if colour is None:
            return
        pen = _Pen()
        transform = element.get("transform")
        parse_path(element.get("d", ""), TransformPen(pen, _svg_transform(transform)) if transform else pen)
        rule = b"f*" if element.get("fill-rule", "nonzero") == "evenodd" else b"f"
        out.append(b"%s rg %s %s" % (colour, b" ".join(pen.ops), rule))

    walk(root, None, None)
    return b"\n".join(out), width, height


@dataclass(frozen=True)
class _SealStampStyle(BaseStampStyle):  # type: ignore[misc]
    border_width: int = 0
    picture: ses.SealPicture | None = None

    def create_stamp(self, writer: Any, box: BoxConstraints, text_params: dict[str, Any]) -> BaseStamp:
        return _SealStamp(writer, self, box)


class _SealStamp(BaseStamp):  # type: ignore[misc]
    def _render_inner_content(self) -> list[bytes]:
        picture = self.style.picture
        assert picture is not None
        w, h = picture.width_mm * MM, picture.height_mm * MM
        x, y = (self.box.width - w) / 2, (self.box.height - h) / 2
        kind = picture.type.strip().upper()
        if kind == "SVG":
            try:
                ops, vw, vh = svg_ops(picture.data)
            except ValueError as exc:
                raise NotSealableError(f"电子印章中的 SVG 印章图片无法绘制（{exc}）",
                                       code="SES_PICTURE_UNSUPPORTED") from None
            return [b"q 1 0 0 1 %.3f %.3f cm %.5f 0 0 %.5f 0 0 cm %s Q" % (x, y, w / vw, h / vh, ops)]
        self.set_resource(category=content.ResourceType.XOBJECT, name=pdf_name("/MinSealSeal"),
                          value=_png_xobject(self.writer, picture.data))
        return [b"q %.3f 0 0 %.3f %.3f %.3f cm /MinSealSeal Do Q" % (w, h, x, y)]


# ---------------------------------------------------------------------------------------------------------------
# sealing


def _reserve(seal: bytes, signer_cert: bytes) -> int:
    """Hex characters for /Contents: the seal and the certificate are carried whole; TBS_Sign's own fields, the
    signature and the DER headers are well under 1 KB."""
    return 2 * (len(seal) + len(signer_cert) + 1024)


def seal_pdf(pdf: bytes, *, seal: bytes, signer_key: sm2.Sm2PrivateKey, signer_cert: bytes, page: int, box: Box,
             field_name: str, when: dt.datetime) -> bytes:
    """``pdf`` with one more revision: a signature field ``field_name`` (created on ``page``, 0-based, at
    ``box`` in PDF points, unless an empty one of that name exists) showing the seal's picture, whose value is
    an SES_Signature v4 made with ``signer_key`` over SM3 of the byte ranges, signed at ``when``."""
    try:
        parsed_seal = ses.read_seal(seal)
    except ValueError:
        raise SealingError("电子印章数据格式错误", code="SES_SEAL_MALFORMED") from None
    picture = ses.seal_picture(parsed_seal)
    if picture.width_mm * MM > box[2] - box[0] + 0.5 or picture.height_mm * MM > box[3] - box[1] + 0.5:
        raise NotSealableError(f"签章位放不下 {picture.width_mm}×{picture.height_mm} mm 的印章图片；"
                               "印章按其声明的尺寸使用，不缩放", code="SEAL_TOO_LARGE")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except Exception as exc:  # pyHanko raises many kinds for broken files
        raise NotSealableError(f"无法读取待用印的 PDF：{type(exc).__name__}", code="PDF_UNREADABLE") from None
    try:
        embedder = PdfCMSEmbedder(new_field_spec=SigFieldSpec(field_name, on_page=page, box=box))
        steps = embedder.write_cms(field_name, writer)
        next(steps)
        sig_obj = PdfByteRangeDigest(bytes_reserved=_reserve(seal, signer_cert))
        sig_obj.update({
            pdf_name("/Type"): pdf_name("/Sig"), pdf_name("/Filter"): pdf_name(FILTER),
            pdf_name("/SubFilter"): pdf_name(SUBFILTER), pdf_name("/M"): generic.pdf_date(when),
            pdf_name("/Name"): generic.pdf_string(ses_name(parsed_seal)),
        })
        steps.send(SigObjSetup(sig_placeholder=sig_obj, appearance_setup=SigAppearanceSetup(
            style=_SealStampStyle(picture=picture), timestamp=when, name=None)))
        prepared, output = steps.send(SigIOSetup(md_algorithm="sha256"))  # pyHanko's digest is not used
        data = output.getvalue()
        start, end = prepared.reserved_region_start, prepared.reserved_region_end
        digest = sm2.sm3(data[:start] + data[end:])
        property_info = f"{ses.PDF_PROPERTY_PREFIX}0 {start} {end} {len(data) - end}"
        der = ses.sign(seal=seal, signer_key=signer_key, signer_cert=signer_cert, when=when,
                       property_info=property_info, data_hash=digest)
        steps.send(der)
        out: bytes = output.getvalue()
        return out
    except MinSealError:
        raise
    except Exception as exc:  # damaged input, a field that is not a signature field …
        raise SealingError(f"用印失败：写入电子签章时出错（{type(exc).__name__}），文件未写出",
                           code="SIGNING_FAILED") from None


def ses_name(seal: ses.SESeal) -> str:
    return str(seal["eSealInfo"]["property"]["name"].native)


# ---------------------------------------------------------------------------------------------------------------
# reading and verifying


@dataclass(frozen=True)
class FoundSes:
    """An SES signature found in a PDF: where it is and what it carries (not yet verified)."""

    field_name: str
    page: int | None
    box: Box | None
    byte_range: tuple[int, ...]
    filter: str | None
    subfilter: str | None
    contents: bytes


@dataclass(frozen=True)
class SesSignatureResult:
    """One SES signature's verdict in a PDF: the byte-range findings plus ``ses.verify``'s."""

    field_name: str
    page: int | None
    box: Box | None
    #: entire_file | entire_revision | partial
    coverage: str
    verdict: Verdict
    findings: tuple[Finding, ...]
    ses: ses.SesResult | None

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]


def _is_ses(contents: bytes) -> bool:
    length = _der_length(contents)
    if length is None:
        return False
    try:
        ses.parse_signature(contents[:length])
    except ValueError:
        return False
    return True


def _der_length(raw: bytes) -> int | None:
    """``integrity.der_length``, and only if ``raw`` holds all of it."""
    total = der_length(raw)
    return total if total is not None and total <= len(raw) else None


def _widget_place(reader: PdfFileReader, field_ref: Any) -> tuple[int | None, Box | None]:
    try:
        field_obj = field_ref.get_object()
        widget = field_obj["/Kids"][0].get_object() if "/Kids" in field_obj else field_obj
        rect = tuple(float(v) for v in widget["/Rect"])
        box: Box | None = (min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]), max(rect[1], rect[3]))
        page: int | None = None
        if "/P" in widget:
            target = widget.raw_get("/P")
            for index in range(int(reader.root["/Pages"]["/Count"])):
                page_ref = reader.find_page_for_modification(index)[0]
                if isinstance(target, generic.IndirectObject) and page_ref.idnum == target.idnum:
                    page = index
                    break
        return page, box
    except Exception:
        return None, None


def find_ses_signatures(pdf: bytes) -> list[FoundSes]:
    """The SES signatures in ``pdf``: MinSeal's subfilter, or any signed field whose /Contents is an
    SES_Signature v4. Raises ValueError if the file cannot be read as a PDF."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except Exception as exc:
        raise ValueError(f"unreadable PDF: {type(exc).__name__}") from None
    return found_in(reader)


def is_ses_signature(sig: Any) -> bool:
    """Whether a signature dictionary carries an SES_Signature (MinSeal's subfilter, or /Contents that parse
    as one under a vendor's own names)."""
    subfilter = str(sig["/SubFilter"]) if "/SubFilter" in sig else None
    contents = bytes(sig.get("/Contents", b""))
    return subfilter == SUBFILTER or (len(contents) <= MAX_CONTENTS and _is_ses(contents))


def found_in(reader: PdfFileReader) -> list[FoundSes]:
    """``find_ses_signatures`` on a reader already open (the main verifier's). Raises ValueError if the form
    cannot be read."""
    try:
        found = list(fields.enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:
        raise ValueError(f"unreadable PDF: {type(exc).__name__}") from None
    out = []
    for name, value, field_ref in found:
        try:
            sig = value.get_object()
            if not is_ses_signature(sig):
                continue
            contents = bytes(sig.get("/Contents", b""))
            if len(contents) > MAX_CONTENTS:
                continue
            subfilter = str(sig["/SubFilter"]) if "/SubFilter" in sig else None
            byte_range = tuple(int(v) for v in sig.get("/ByteRange", ()))
            page, box = _widget_place(reader, field_ref)
            out.append(FoundSes(str(name), page, box, byte_range,
                                str(sig["/Filter"]) if "/Filter" in sig else None, subfilter, contents))
        except Exception:
            continue
    return out


_EOF = re.compile(rb"%%EOF(\r\n|\r|\n)?$")


def byte_range_findings(pdf: bytes, found: FoundSes) -> tuple[str, list[Finding], bytes | None]:
    """Coverage, problems, and the covered bytes: ``[0, a, b, c]`` with the gap ``a..b`` exactly this
    signature's ``<hex>`` /Contents, and ``b + c`` the end of the file or of a revision (later revisions are
    the later tiers' business, checked by the main verifier)."""
    bad = Finding("COVERAGE", ses.reason("COVERAGE"), field=found.field_name)
    if len(found.byte_range) != 4:
        return "partial", [bad], None
    a0, a, b, c = found.byte_range
    if a0 != 0 or a <= 0 or b <= a or c < 0 or b + c > len(pdf):
        return "partial", [bad], None
    gap = pdf[a:b]
    if not re.fullmatch(rb"<[0-9A-Fa-f]*>", gap) or bytes.fromhex(gap[1:-1].decode()) != found.contents:
        return "partial", [bad], None
    length = _der_length(found.contents)
    problems = []
    if length is not None and found.contents[length:].strip(b"\x00"):
        problems.append(Finding("SIG_PADDING", ses.reason("SIG_PADDING"), field=found.field_name))
    end = b + c
    if end == len(pdf):
        coverage = "entire_file"
    elif _EOF.search(pdf[:end]):
        coverage = "entire_revision"
    else:
        return "partial", [bad], None
    return coverage, problems, pdf[:a] + pdf[b:end]


def verify_ses_signatures(pdf: bytes, *, trust_roots: Sequence[x509.Certificate],
                          intermediates: Sequence[x509.Certificate] = (),
                          crls: Iterable[crl.CertificateList] = ()) -> list[SesSignatureResult]:
    """Every SES signature in ``pdf``, verified: byte ranges, then ``ses.verify`` over the covered bytes (with the
    propertyInfo MinSeal writes checked against the actual /ByteRange). Raises ValueError only for a file that
    is not a readable PDF."""
    crl_list = list(crls)
    return [verify_found(pdf, found, trust_roots=trust_roots, intermediates=intermediates, crls=crl_list)
            for found in find_ses_signatures(pdf)]


def verify_found(pdf: bytes, found: FoundSes, *, trust_roots: Sequence[x509.Certificate],
                 intermediates: Sequence[x509.Certificate] = (),
                 crls: Sequence[crl.CertificateList] = (),
                 current_crls: Sequence[crl.CertificateList] = ()) -> SesSignatureResult:
    """One SES signature found in ``pdf``, verified (see ``verify_ses_signatures``; ``current_crls``: the
    verifier's own current CRLs, ``ses.revocation_status``)."""
    coverage, findings, covered = byte_range_findings(pdf, found)
    outcome = None
    if covered is not None:
        length = _der_length(found.contents) or 0
        der = found.contents[:length]
        expected = None
        if _property_info(der).startswith(ses.PDF_PROPERTY_PREFIX):
            expected = ses.PDF_PROPERTY_PREFIX + " ".join(str(v) for v in found.byte_range)
        outcome = ses.verify(der, data=covered, trust_roots=trust_roots, intermediates=intermediates,
                             crls=crls, expected_property=expected, current_crls=current_crls)
        findings += [Finding(f.code, f.message, field=found.field_name, indeterminate=f.indeterminate)
                     for f in outcome.findings]
    if any(not f.indeterminate for f in findings):
        verdict = Verdict.FAILED
    elif findings:
        verdict = Verdict.INDETERMINATE
    else:
        verdict = Verdict.PASSED
    return SesSignatureResult(found.field_name, found.page, found.box, coverage, verdict, tuple(findings), outcome)


def signer_certificate(found: FoundSes) -> x509.Certificate | None:
    """The signer's certificate an SES signature carries (None if it does not parse)."""
    try:
        length = _der_length(found.contents) or 0
        cert = x509.Certificate.load(bytes(ses.parse_signature(found.contents[:length])["cert"].native))
        cert.native  # noqa: B018 - parse it all now
    except Exception:
        return None
    return cert


def _property_info(der: bytes) -> str:
    try:
        return str(ses.parse_signature(der)["toSign"]["propertyInfo"].native)
    except (ValueError, KeyError):
        return ""


__all__ = ["FILTER", "SUBFILTER", "FoundSes", "SesSignatureResult", "byte_range_findings", "find_ses_signatures",
           "found_in", "is_ses_signature", "seal_pdf", "signer_certificate", "svg_ops", "verify_found",
           "verify_ses_signatures"]
