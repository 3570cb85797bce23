"""Issue 21 item 5: MinSeal no longer runs pyHanko's difference analysis (it was half of the verification time, run
once per seal over every later revision); our own review (``integrity.revision_findings``) judges what each later
revision changed. These are the changes pyHanko's analysis refused inside a revision that a genuine signature
covers — a county seal or a document timestamp that also carries other changes — each built with the
installation's real keys and its own TSA; every one must still fail, and name the change."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec
from pyhanko.sign.signers import PdfSigner, PdfTimeStamper

from api.services.documents import DocumentService
from signer.report import Verdict
from tests.signer.test_verify import TOWNSHIP, VILLAGE, World, refused, update
from tests.signer.test_verify_round3 import _free as free_object

Change = Callable[[IncrementalPdfFileWriter], None]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("changes"), documents)


def _timestamped(world: World, pdf: bytes, change: Change, *, field: str = "Timestamp2") -> bytes:
    """A genuine document timestamp (our own TSA) in a new, invisible field, whose revision also carries
    ``change``."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    fields.append_signature_field(writer, SigFieldSpec(field))
    change(writer)
    out = BytesIO()
    PdfTimeStamper(world.sealing.local_timestamper(), field_name=field).timestamp_pdf(writer, "sha256", output=out)
    return out.getvalue()


def _sealed(world: World, pdf: bytes, office: str, field: str, change: Change, *,
            docmdp: MDPPerm | None = None) -> bytes:
    """A genuine seal with the office's real key (an insider), whose revision also carries ``change``."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    change(writer)
    out = BytesIO()
    meta = signers.PdfSignatureMetadata(field_name=field, certify=docmdp is not None, docmdp_permissions=docmdp
                                        or MDPPerm.FILL_FORMS)
    signers.sign_pdf(writer, meta, signer=world.signer(office), timestamper=world.sealing.local_timestamper(),
                     output=out)
    return out.getvalue()


def _field(writer: IncrementalPdfFileWriter, name: str) -> generic.DictionaryObject:
    for found, _value, ref in fields.enumerate_sig_fields(writer):
        if found == name:
            obj: generic.DictionaryObject = ref.get_object()
            return obj
    raise AssertionError(name)


def _page_content(writer: IncrementalPdfFileWriter) -> generic.IndirectObject:
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    return contents if isinstance(contents, generic.IndirectObject) else contents[0]


def _repaint(writer: IncrementalPdfFileWriter, holder: generic.DictionaryObject) -> None:
    """Page 1's content stream rewritten in place (a white box over the amount), and reached from ``holder``
    under a key of its own, as if it belonged to the signature's field."""
    ref = _page_content(writer)
    stream = ref.get_object()
    stream.strip_filters()
    stream._data = stream.data + b"\nq 1 1 1 rg 300 500 200 40 re f Q\n"
    stream._encoded_data = None
    writer.update_container(stream)
    holder[pdf_name("/MinSealNote")] = ref
    writer.update_container(holder)


def test_a_timestamp_revision_that_also_repaints_the_page(world: World) -> None:
    def change(w: IncrementalPdfFileWriter) -> None:
        _repaint(w, _field(w, "Timestamp2"))

    report = world.verify(_timestamped(world, world.v3, change))
    refused(report, "UNEXPECTED_OBJECT", "MODIFIED_AFTER_SIGNING")
    assert [s.changes_after for s in report.signatures] == ["other"] * 3


def test_a_township_seal_that_also_repaints_the_page(world: World) -> None:
    def change(w: IncrementalPdfFileWriter) -> None:
        _repaint(w, _field(w, "MinSeal-township"))

    report = world.verify(_sealed(world, world.v1, TOWNSHIP, "MinSeal-township", change))
    refused(report, "UNEXPECTED_OBJECT", "MODIFIED_AFTER_SIGNING")
    assert report.signatures[0].changes_after == "other"


def test_a_township_seal_that_rewrites_an_earlier_seals_dictionary(world: World) -> None:
    def change(w: IncrementalPdfFileWriter) -> None:
        village = _field(w, "MinSeal-village")["/V"]
        village[pdf_name("/Reason")] = generic.TextStringObject("同意")
        village[pdf_name("/M")] = generic.TextStringObject("D:20260101000000Z")
        w.update_container(village)

    refused(world.verify(_sealed(world, world.v1, TOWNSHIP, "MinSeal-township", change)), "UNEXPECTED_OBJECT")


@pytest.mark.parametrize("key", ["/OpenAction", "/Names"])
def test_a_timestamp_revision_that_adds_to_the_catalog(world: World, key: str) -> None:
    def change(w: IncrementalPdfFileWriter) -> None:
        script = generic.DictionaryObject({pdf_name("/S"): pdf_name("/JavaScript"),
                                           pdf_name("/JS"): generic.TextStringObject("app.alert('已批准')")})
        w.root[pdf_name(key)] = w.add_object(script)
        w.update_root()

    refused(world.verify(_timestamped(world, world.v3, change)), "UNEXPECTED_OBJECT", "MODIFIED_AFTER_SIGNING")


def test_a_timestamp_revision_that_adds_another_field(world: World) -> None:
    def change(w: IncrementalPdfFileWriter) -> None:
        fields.append_signature_field(w, SigFieldSpec("Extra", box=(300, 300, 400, 400)))

    refused(world.verify(_timestamped(world, world.v3, change)), "UNEXPECTED_OBJECT")


def test_a_seal_after_a_certification_that_allows_no_changes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def nothing(w: IncrementalPdfFileWriter) -> None:
        return None

    # (pyHanko's signer refuses to sign after such a certification; a forger's tool does not)
    monkeypatch.setattr(PdfSigner, "_enforce_certification_constraints", lambda self, reader: None)

    locked = _sealed(world, world.form, VILLAGE, "MinSeal-village", nothing, docmdp=MDPPerm.NO_CHANGES)
    assert world.verify(locked).verdict is Verdict.PASSED, world.verify(locked).summary()
    refused(world.verify(_sealed(world, locked, TOWNSHIP, "MinSeal-township", nothing)), "DOCMDP_VIOLATION")
    # validation data and a document timestamp stay allowed after it
    stamped = world.verify(_timestamped(world, locked, nothing))
    assert stamped.verdict is Verdict.PASSED, stamped.summary()


@pytest.mark.parametrize(("added", "label"), [
    (generic.ArrayObject([generic.NumberObject(1)]), "数组"), (generic.TextStringObject("王秀英"), "字符串"),
    (generic.NameObject("/JavaScript"), "名称"), (generic.NumberObject(7), "数值")])
def test_an_unexpected_object_is_named_in_chinese(world: World, added: generic.PdfObject, label: str) -> None:
    """A finding names the object's kind in words a clerk reads (the report page once said "ArrayObject")."""
    report = world.verify(update(world.v3, lambda w: w.add_object(added) and None))
    messages = [f.message for f in report.findings if f.code == "UNEXPECTED_OBJECT"]
    assert messages and all(label in m and "Object" not in m for m in messages), messages


def test_validation_data_that_rewrites_the_page_as_a_certificate(world: World) -> None:
    """An unsigned update after the last seal lists page 1's content stream among the DSS certificates and rewrites
    it as one (the root's DER, which verifies): the page goes blank while every seal still verifies. Validation
    data may rewrite only what was validation data before."""
    root_der = world.authority.root_cert_path.read_bytes()
    der = x509.load_pem_x509_certificate(root_der).public_bytes(serialization.Encoding.DER)

    def change(w: IncrementalPdfFileWriter) -> None:
        ref = _page_content(w)
        stream = ref.get_object()
        stream.strip_filters()
        stream._data = der
        stream._encoded_data = None
        w.update_container(stream)
        dss = w.root["/DSS"]
        dss["/Certs"].append(ref)
        w.update_container(dss["/Certs"] if isinstance(dss.raw_get("/Certs"), generic.IndirectObject) else dss)

    refused(world.verify(update(world.v3, change)), "UNEXPECTED_OBJECT")


@pytest.mark.parametrize("inline", [False, True])
def test_a_timestamp_revision_that_lists_another_object_as_a_field(world: World, inline: bool) -> None:
    """The form's field list may only gain the fields signed in that revision: here the timestamp's revision also
    lists page 1 as a form field — by reference, or copied inline into the list."""
    def change(w: IncrementalPdfFileWriter) -> None:
        form = w.root["/AcroForm"]
        page = list.__getitem__(w.root["/Pages"]["/Kids"], 0)  # (the reference itself; indexing resolves it)
        form["/Fields"].append(page.get_object() if inline else page)
        w.update_container(form["/Fields"] if isinstance(form.raw_get("/Fields"), generic.IndirectObject) else form)

    refused(world.verify(_timestamped(world, world.v3, change)), "UNEXPECTED_OBJECT")


def test_an_update_that_frees_the_page_content(world: World) -> None:
    """An unsigned update after the last seal marks page 1's content stream free: every reader then resolves it to
    null and shows a blank page under three valid seals."""
    reader = PdfFileReader(BytesIO(world.v3))
    number = _page_content(IncrementalPdfFileWriter(BytesIO(world.v3))).idnum
    assert reader.xrefs.total_revisions > 1
    refused(world.verify(free_object(world.v3, number, next_generation=1)))


def test_a_timestamp_revision_that_adds_an_inline_annotation(world: World) -> None:
    """The page gains, beside the timestamp's widget, an annotation written inline in its /Annots: a white box
    over the amount, or a link that runs a script."""
    def change(w: IncrementalPdfFileWriter) -> None:
        page = w.root["/Pages"]["/Kids"][0]
        cover = generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Square"),
            pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(v) for v in (300, 500, 500, 540)]),
            pdf_name("/IC"): generic.ArrayObject([generic.FloatObject(1)] * 3)})
        annots = page.raw_get("/Annots") if "/Annots" in page else None
        if isinstance(annots, generic.IndirectObject):
            annots.get_object().append(cover)
            w.update_container(annots.get_object())
        else:
            page[pdf_name("/Annots")] = generic.ArrayObject([*(annots or []), cover])
            w.update_container(page)

    refused(world.verify(_timestamped(world, world.v3, change)), "UNEXPECTED_OBJECT")


def test_a_timestamp_field_that_adopts_the_county_box(world: World) -> None:
    """Before the county seals, a document timestamp's new field takes the county's empty box as its widget and
    paints it: a seal picture in the county's place that no county key made."""
    def change(w: IncrementalPdfFileWriter) -> None:
        stamp, county = _field(w, "Timestamp2"), _field(w, "MinSeal-county")
        county_ref = next(ref for name, _v, ref in fields.enumerate_sig_fields(w) if name == "MinSeal-county")
        stamp[pdf_name("/Kids")] = generic.ArrayObject([county_ref])
        county[pdf_name("/Parent")] = next(ref for name, _v, ref in fields.enumerate_sig_fields(w)
                                           if name == "Timestamp2")
        w.update_container(stamp)
        w.update_container(county)

    refused(world.verify(_timestamped(world, world.v2, change)), "UNEXPECTED_OBJECT")


def test_a_timestamp_revision_that_replaces_the_form(world: World) -> None:
    """The timestamp's revision points the catalog at a copy of the form written inline, with
    /NeedAppearances true: viewers then redraw every field's appearance from its value."""
    def change(w: IncrementalPdfFileWriter) -> None:
        form = generic.DictionaryObject(dict(dict.items(w.root["/AcroForm"])))  # (raw entries: fields by reference)
        form[pdf_name("/NeedAppearances")] = generic.BooleanObject(True)
        w.root[pdf_name("/AcroForm")] = form
        w.update_root()

    refused(world.verify(_timestamped(world, world.v3, change)), "UNEXPECTED_OBJECT")
