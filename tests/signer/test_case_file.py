"""The 案卷 as one PDF: every paper kept byte-for-byte as an attachment with a manifest, an index page that lists
them, one seal over the whole; a changed, missing or unlisted attachment and a paper whose own seals fail are
refused, each naming the file."""

from __future__ import annotations

import json
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.embed import EmbeddedFileObject, FileSpec, embed_file
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from api.services.documents import DocumentService
from signer.case_file import FORMAT, MANIFEST_NAME, CaseFileError, Paper, assemble, check, describe, manifest, read
from signer.report import Verdict
from templates.case_file_index import render_index
from tests.support.case_files import CASE, COUNTY, EXPORTED_AT, ROUTE_SEALS, CaseFileWorld, scan_png, tampered


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> CaseFileWorld:
    return CaseFileWorld(tmp_path_factory.mktemp("case_file"), documents)


def codes_for(report: object, name: str) -> list[str]:
    return [f.code for f in report.findings if f.field == name]  # type: ignore[attr-defined]


def test_manifest_describes_each_paper_from_its_own_bytes(world: CaseFileWorld) -> None:
    form, scan, notice = world.manifest["papers"]
    assert world.manifest["format"] == FORMAT and world.manifest["case"] == CASE
    assert world.manifest["exported_at"] == EXPORTED_AT.isoformat()
    assert form["seals"] == ROUTE_SEALS and form["pages"] == 2 and form["issued_on"] == "2026-10-08"
    assert notice["seals"] == ["燕赵镇人民政府"] and notice["media_type"] == "application/pdf"
    assert scan == {**scan, "pages": 1, "seals": [], "note": "签字页扫描件", "media_type": "image/png"}
    assert all(len(p["sha256"]) == 64 and p["size"] > 0 for p in world.manifest["papers"])


def test_genuine_case_file_passes_its_own_seal_and_every_paper(world: CaseFileWorld) -> None:
    report = world.verification.verify_case_file(world.good)
    assert report.verdict is Verdict.PASSED, report.to_json()
    assert report.outer is not None and report.outer.document.family == "case_file"
    assert [s.office_name for s in report.outer.signatures] == ["曲阳县民政局"]
    assert [p.label for p in report.papers] == ["通过", "通过", "通过"]
    assert report.papers[0].report is not None and report.papers[0].report.verdict is Verdict.PASSED
    assert report.papers[1].report is None  # an image has no seals of its own


def test_every_paper_comes_back_byte_for_byte(world: CaseFileWorld, tmp_path: Path) -> None:
    case_file = read(world.good)
    assert case_file is not None and case_file.manifest == world.manifest
    assert case_file.attachments == {p.name: p.data for p in world.papers}
    path = tmp_path / "案卷.pdf"
    path.write_bytes(world.good)
    listing = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    for name in [p.name for p in world.papers] + [MANIFEST_NAME]:
        assert name in listing
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(path)], check=True)
    for paper in world.papers:
        assert (out / paper.name).read_bytes() == paper.data
    assert json.loads((out / MANIFEST_NAME).read_text("utf-8")) == world.manifest


def test_attachments_are_declared_as_archives_expect(world: CaseFileWorld) -> None:
    """/AF on the catalogue, a MIME /Subtype, /Params with the size and MD5 checksum of the file as embedded."""
    import hashlib

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(world.good), strict=False)
    specs = [ref.get_object() for ref in reader.root["/AF"]]
    assert len(specs) == len(world.papers) + 1
    by_name = {str(s["/UF"]): s for s in specs}
    for paper in world.papers:
        spec = by_name[paper.name]
        stream = spec["/EF"]["/F"].get_object()
        assert str(spec["/AFRelationship"]) == "/Source" and str(spec["/Desc"]) == paper.title
        assert str(stream["/Subtype"]) == "/" + paper.media_type
        assert int(stream["/Params"]["/Size"]) == len(paper.data)
        # (a digest that happens to decode as PDFDocEncoding is read as a text string: ~1 in 6 of random digests)
        checksum = stream["/Params"]["/CheckSum"]
        digest = checksum.original_bytes if isinstance(checksum, generic.TextStringObject) else bytes(checksum)
        assert digest == hashlib.md5(paper.data).digest()
    assert str(by_name[MANIFEST_NAME]["/AFRelationship"]) == "/Data"


def test_index_page_lists_every_paper_with_pages_and_seals(world: CaseFileWorld, tmp_path: Path) -> None:
    assert world.index.warnings == () and world.index.page_count == 1
    assert {s.name: s.office_id for s in world.index.slots}["issuer"] == COUNTY
    path = tmp_path / "index.pdf"
    path.write_bytes(world.good)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = "".join(text.split())
    for needle in ("卷内目录", "最低生活保障", "张秀兰", "东沟南村", CASE["number"], "最低生活保障申请审批表",
                   "家庭经济状况核对授权书（签字页）", "签字页扫描件", "最低生活保障公示", "2026年10月8日",
                   "、".join(ROUTE_SEALS), "本卷共3件，4页", "曲阳县民政局2026年11月22日"):
        assert needle in flat, needle
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "case_file" in info


def test_changed_attachment_is_refused_naming_it(world: CaseFileWorld) -> None:
    report = world.verification.verify_case_file(world.changed())
    assert report.verdict is Verdict.FAILED and report.outer is not None
    assert report.outer.verdict is Verdict.PASSED  # sealed after the change: only the manifest can tell
    name = world.papers[2].name
    assert codes_for(report, name) == ["CASE_FILE_CHANGED"]
    assert f"「{name}」与目录记载的摘要不一致" in report.summary()
    assert [p.ok for p in report.papers] == [True, True, False]


def test_missing_and_unlisted_attachments_are_refused_naming_them(world: CaseFileWorld) -> None:
    missing = world.verification.verify_case_file(world.missing())
    assert missing.verdict is Verdict.FAILED and codes_for(missing, world.papers[2].name) == ["CASE_FILE_MISSING"]
    unlisted = world.verification.verify_case_file(world.unlisted())
    assert unlisted.verdict is Verdict.FAILED and codes_for(unlisted, "04-补充材料.png") == ["CASE_FILE_UNLISTED"]
    assert "「04-补充材料.png」附件未在目录中记载" in unlisted.summary()


def test_paper_whose_own_seals_fail_is_refused_with_its_report(world: CaseFileWorld) -> None:
    bad = Paper(world.papers[0].name, world.papers[0].title, tampered(world.papers[0].data), "application/pdf", None)
    papers = (bad, *world.papers[1:])
    report = world.verification.verify_case_file(
        world.sealed_with(papers, manifest(CASE, papers, exported_by="曲阳县民政局", exported_at=EXPORTED_AT)))
    assert report.verdict is Verdict.FAILED and codes_for(report, bad.name) == ["CASE_FILE_SEAL"]
    paper = report.papers[0]
    assert not paper.ok and paper.report is not None and paper.report.verdict is Verdict.FAILED
    assert paper.report.findings[0].message in paper.findings[0].message


def test_manifest_that_does_not_parse_is_refused(world: CaseFileWorld) -> None:
    broken = dict(world.manifest, format="something-else/1")
    report = check(world.seal(assemble(world.index.pdf, world.papers, broken)), world.verification.verify)
    assert report.verdict is Verdict.FAILED and report.codes == ["CASE_FILE_MANIFEST"]


def test_changing_manifest_and_attachment_together_breaks_the_case_file_seal(world: CaseFileWorld) -> None:
    """Rewriting both the manifest and a paper after the seal is an incremental update the seal forbids."""
    writer = IncrementalPdfFileWriter(BytesIO(world.good))
    stream = EmbeddedFileObject.from_file_data(writer, scan_png("black"), mime_type="image/png")
    embed_file(writer, FileSpec(file_spec_string="05-late.png", embedded_data=stream))
    out = BytesIO()
    writer.write(out)
    report = world.verification.verify_case_file(out.getvalue())
    assert report.verdict is Verdict.FAILED
    assert report.outer is not None and report.outer.verdict is Verdict.FAILED
    assert "CASE_FILE_UNLISTED" in report.codes


def test_an_ordinary_sealed_pdf_is_no_case_file(world: CaseFileWorld) -> None:
    assert read(world.papers[0].data) is None and not world.verification.is_case_file(world.papers[2].data)
    assert world.verification.is_case_file(world.unsealed)


def test_bad_papers_are_refused_before_anything_is_built() -> None:
    with pytest.raises(CaseFileError):
        describe(Paper("x.png", "x", b"%PDF-1.7 not a png", "image/png", None))
    with pytest.raises(CaseFileError):
        describe(Paper("../x.pdf", "x", b"%PDF-", "application/pdf", None))
    with pytest.raises(CaseFileError):
        manifest(CASE, [Paper("a.png", "a", scan_png(), "image/png", None)] * 2, exported_by="x",
                 exported_at=EXPORTED_AT)


def test_render_index_returns_pdf_bytes(documents: DocumentService) -> None:
    pdf = render_index(CASE, [], issuer="曲阳县民政局", issued_on=EXPORTED_AT.date(), renderer=documents.renderer)
    assert pdf.startswith(b"%PDF-")
