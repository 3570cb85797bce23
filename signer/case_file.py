"""The 案卷 (case file) as one PDF: an index page (卷内目录) with every paper of the case kept byte-for-byte as an
embedded file, and a JSON manifest (``manifest.json``) recording each paper's name, digest, pages and seals.

Why attachments and not merged pages: a paper's signatures cover its own bytes, so only the unchanged file keeps
them verifiable; an archivist's reader still lists and opens each one. The exporting office then seals the 案卷
itself (its index page carries an issuer slot, family ``case_file``): that outer seal covers the index, the
manifest and every attachment, so changing anything after it breaks the seal; :func:`check` additionally ties
each attachment to the manifest (digest) and verifies each sealed paper's own seals.

Build: :func:`describe` each :class:`Paper`, :func:`manifest`, render the index from ``manifest["papers"]``
(``templates.case_file_index``), :func:`assemble`, seal. Read: :func:`read`, :func:`check`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.embed import EmbeddedFileObject, EmbeddedFileParams, FileSpec, embed_file
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from .errors import MinSealError
from .integrity import prescan
from .report import Finding, Verdict, VerificationReport
from .verify import MAX_BYTES, _office_of

MANIFEST_NAME = "manifest.json"
FORMAT = "minseal-case-file/1"
#: the index page's PDF keywords and slot-table family (templates/case_file_index.py writes both)
CASE_FILE_KEYWORD = "case_file"
MEDIA_TYPES = ("application/pdf", "image/jpeg", "image/png")
_MAGIC = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
#: a case has tens of papers; a name tree deeper or longer than this is not one we wrote
MAX_ATTACHMENTS = 500
_MAX_TREE_DEPTH = 8
MAX_NAME = 120

#: stable codes of what :func:`check` refuses, and their Chinese explanations
REASONS: dict[str, str] = {
    "CASE_FILE_MANIFEST": "案卷目录清单（manifest.json）缺失或无法解析",
    "CASE_FILE_CHANGED": "附件与目录记载的摘要不一致",
    "CASE_FILE_MISSING": "目录记载的附件缺失",
    "CASE_FILE_UNLISTED": "附件未在目录中记载",
    "CASE_FILE_SEAL": "附件自身的电子签章未通过校验",
}


class CaseFileError(MinSealError):
    """A paper or manifest that cannot go into a 案卷 (the caller's input, not a verification result)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="CASE_FILE_INPUT")


@dataclass(frozen=True)
class Paper:
    """One file of the case, as stored."""

    #: attachment file name, unique in the 案卷, e.g. "03-最低生活保障审核确认决定书.pdf"
    name: str
    #: 文件名称 on the index page
    title: str
    #: the stored bytes, embedded unchanged
    data: bytes
    #: application/pdf, image/jpeg or image/png
    media_type: str
    #: the paper's date (成文日期), shown on the index
    issued_on: date | None
    #: 备注, e.g. "签字页扫描件"
    note: str = ""


@dataclass(frozen=True)
class CaseFile:
    """What a 案卷 PDF carries: its manifest and its attachments (manifest.json excluded), by file name."""

    manifest: dict[str, Any]
    attachments: dict[str, bytes]
    #: why the manifest cannot be used (absent, not JSON, wrong format); None when it parsed
    manifest_problem: str | None = None


@dataclass(frozen=True)
class PaperCheck:
    """One paper listed in the manifest, as :func:`check` found it."""

    name: str
    title: str
    ok: bool
    findings: tuple[Finding, ...]
    #: the paper's own seal report (sealed PDFs whose bytes match the manifest)
    report: VerificationReport | None = None

    @property
    def label(self) -> str:
        if self.ok and self.report is not None and self.report.verdict is not Verdict.PASSED:
            return "通过（未盖电子印章）"
        return "通过" if self.ok else "不通过"


def _verdict(findings: Sequence[Finding]) -> Verdict:
    if any(not f.indeterminate for f in findings):
        return Verdict.FAILED
    return Verdict.INDETERMINATE if findings else Verdict.PASSED


@dataclass(frozen=True)
class CaseFileReport:
    """A 案卷 checked as a whole: the papers against the manifest, each paper's seals, and (when the service
    adds it) the report on the 案卷's own seal."""

    findings: tuple[Finding, ...]
    papers: tuple[PaperCheck, ...]
    manifest: dict[str, Any] = field(default_factory=dict)
    #: the 案卷's own seal(s), verified as any sealed PDF
    outer: VerificationReport | None = None

    @property
    def verdict(self) -> Verdict:
        own = _verdict(self.findings)
        outer = self.outer.verdict if self.outer is not None else Verdict.PASSED
        for level in (Verdict.FAILED, Verdict.INDETERMINATE):
            if level in (own, outer):
                return level
        return Verdict.PASSED

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value, "verdict_label": self.verdict.label,
            "findings": [_finding(f) for f in self.findings],
            "papers": [{"name": p.name, "title": p.title, "ok": p.ok, "label": p.label,
                        "findings": [_finding(f) for f in p.findings],
                        "report": p.report.to_dict() if p.report is not None else None} for p in self.papers],
            "case": self.manifest.get("case"), "exported_by": self.manifest.get("exported_by"),
            "exported_at": self.manifest.get("exported_at"),
            "outer": self.outer.to_dict() if self.outer is not None else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def summary(self) -> str:
        bad = sum(not p.ok for p in self.papers)
        own = self.outer.findings if self.outer is not None else ()
        reasons = "；".join(dict.fromkeys(f.message for f in (*self.findings, *own)))
        return (f"案卷{self.verdict.label}：共 {len(self.papers)} 件" + (f"，{bad} 件不通过" if bad else "")
                + (f"。{reasons}" if reasons else ""))


def _finding(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "message": f.message, "field": f.field, "indeterminate": f.indeterminate}


# -- building ----------------------------------------------------------------------------------------------------


def _check_paper(paper: Paper) -> None:
    name = paper.name
    if not name or len(name) > MAX_NAME or name == MANIFEST_NAME or any(c in name for c in "/\\")\
            or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise CaseFileError(f"附件名「{name[:MAX_NAME]}」不可用（不能为空、超过 {MAX_NAME} 个字符、含路径分隔符或"
                            f"控制字符，也不能是 {MANIFEST_NAME}）")
    if paper.media_type not in MEDIA_TYPES:
        raise CaseFileError(f"「{name}」的类型 {paper.media_type} 不能归入案卷（只收 PDF、JPEG、PNG）")
    if not paper.data.startswith(_MAGIC[paper.media_type]):
        raise CaseFileError(f"「{name}」的内容不是 {paper.media_type}")


def _pdf_facts(data: bytes) -> tuple[int, list[str]]:
    """Page count and the offices whose seals the PDF carries, in signing order (read from the signatures'
    certificates, not validated: :func:`check` and the verifier judge them)."""
    reader = PdfFileReader(BytesIO(data), strict=False)
    pages = int(reader.root["/Pages"]["/Count"])
    seals = []
    for sig in reader.embedded_signatures:
        if sig.sig_object_type == "/DocTimeStamp":
            continue
        seals.append(_office_of(sig.signer_cert).name or "未知单位")
    return pages, seals


def describe(paper: Paper) -> dict[str, Any]:
    """The manifest entry of one paper: what the index page shows and what :func:`check` holds the bytes to."""
    _check_paper(paper)
    if paper.media_type == "application/pdf":
        try:
            pages, seals = _pdf_facts(paper.data)
        except Exception:  # pyHanko raises many kinds for a broken file
            raise CaseFileError(f"「{paper.name}」不是可读的 PDF，不能归入案卷") from None
    else:
        pages, seals = 1, []
    return {"name": paper.name, "title": paper.title, "media_type": paper.media_type,
            "sha256": hashlib.sha256(paper.data).hexdigest(), "size": len(paper.data), "pages": pages,
            "seals": seals, "issued_on": paper.issued_on.isoformat() if paper.issued_on else None,
            "note": paper.note}


#: the case fields a manifest keeps (never the case's persons or ID numbers: the papers hold what they must)
CASE_KEYS = ("number", "kind", "kind_label", "applicant_name", "village", "township", "county")


def manifest(case: Mapping[str, Any], papers: Sequence[Paper], *, exported_by: str,
             exported_at: datetime) -> dict[str, Any]:
    """The manifest: format, the case's heading, who exported it and when, one entry per paper in order."""
    names = [p.name for p in papers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CaseFileError(f"附件名重复：{'、'.join(duplicates)}")
    return {"format": FORMAT,
            "case": {k: str(case[k]) for k in CASE_KEYS if case.get(k) is not None},
            "exported_by": exported_by, "exported_at": exported_at.isoformat(timespec="seconds"),
            "papers": [describe(p) for p in papers]}


def _tree_key(name: str) -> bytes:
    """A name tree's keys are sorted by their bytes as written (PDFDocEncoding or UTF-16BE with BOM)."""
    try:
        return name.encode("ascii")
    except UnicodeEncodeError:
        return b"\xfe\xff" + name.encode("utf-16-be")


def assemble(index_pdf: bytes, papers: Sequence[Paper], manifest: Mapping[str, Any]) -> bytes:
    """The index page with every paper and ``manifest.json`` embedded (EmbeddedFiles name tree, sorted; each file
    associated with the document via /AF, with /Params /Size /CheckSum /ModDate and its MIME /Subtype), written as
    one incremental update — not sealed yet. Papers go in as given: the manifest is not recomputed here."""
    names = [p.name for p in papers]
    if len(set(names)) != len(names) or MANIFEST_NAME in names:
        raise CaseFileError("附件名重复或与目录清单同名")
    for paper in papers:
        _check_paper(paper)
    try:
        moment = datetime.fromisoformat(str(manifest.get("exported_at")))
    except ValueError:
        moment = None
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    files = [(p.name, p.title, p.data, p.media_type, "/Source") for p in papers]
    files.append((MANIFEST_NAME, "案卷目录清单", manifest_bytes, "application/json", "/Data"))
    writer = IncrementalPdfFileWriter(BytesIO(index_pdf))
    params = EmbeddedFileParams(creation_date=moment, modification_date=moment)
    specs = []
    for name, title, data, media_type, relation in sorted(files, key=lambda f: _tree_key(f[0])):
        stream = EmbeddedFileObject.from_file_data(writer, data, compress=True, params=params,
                                                   mime_type=media_type)
        embed_file(writer, FileSpec(file_spec_string=name, file_name=name, embedded_data=stream,
                                    description=title))
        # pyHanko's af_relationship also marks the file PDF 2.0; the index is PDF/A-3 (PDF 1.7), which has /AF too
        spec_ref = writer.root["/Names"]["/EmbeddedFiles"]["/Names"][-1]
        spec_ref.get_object()["/AFRelationship"] = pdf_name(relation)
        specs.append(spec_ref)
    writer.root["/AF"] = writer.add_object(generic.ArrayObject(specs))
    writer.root["/PageMode"] = pdf_name("/UseAttachments")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


# -- reading -----------------------------------------------------------------------------------------------------


def _tree_entries(node: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    node = node.get_object()
    if depth > _MAX_TREE_DEPTH:
        raise ValueError("name tree too deep")
    pairs = node.get("/Names")
    if pairs is not None:
        pairs = pairs.get_object()
        for i in range(0, len(pairs) - 1, 2):
            yield str(pairs[i]), pairs[i + 1].get_object()
    for kid in node.get("/Kids", generic.ArrayObject()).get_object():
        yield from _tree_entries(kid, depth + 1)


def _attachments(reader: PdfFileReader) -> dict[str, bytes]:
    names = reader.root.get("/Names")
    tree = names.get_object().get("/EmbeddedFiles") if names is not None else None
    out: dict[str, bytes] = {}
    if tree is None:
        return out
    for key, spec in _tree_entries(tree):
        if len(out) >= MAX_ATTACHMENTS:
            raise ValueError("too many attachments")
        name = str(spec.get("/UF") or spec.get("/F") or key)
        files = spec["/EF"].get_object()
        stream = (files.get("/UF") or files["/F"]).get_object()
        if name in out:
            raise ValueError(f"duplicate attachment {name}")
        out[name] = stream.data
    return out


def _keywords(reader: PdfFileReader) -> str:
    info = reader.trailer["/Info"].get_object() if "/Info" in reader.trailer else None
    return str(info.get("/Keywords") or "") if info is not None else ""


def _manifest_problem(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f"不是 {FORMAT} 格式"
    papers = data.get("papers")
    if not isinstance(papers, list):
        return "缺少文件列表"
    seen = set()
    for entry in papers:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("sha256"), str)
                and len(entry["sha256"]) == 64):
            return "文件条目缺少文件名或摘要"
        if entry["name"] in seen or entry["name"] == MANIFEST_NAME:
            return f"文件名重复：{entry['name']}"
        seen.add(entry["name"])
    return None


def read(pdf: bytes) -> CaseFile | None:
    """The manifest and attachments of a 案卷; None when the PDF is not one (no ``manifest.json`` attachment and
    not marked ``case_file``) or cannot be read at all."""
    if len(pdf) > MAX_BYTES or prescan(pdf):
        return None
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        attachments = _attachments(reader)
        marked = CASE_FILE_KEYWORD in _keywords(reader).split()
    except (Exception, RecursionError):
        return None
    raw = attachments.pop(MANIFEST_NAME, None)
    if raw is None:
        return CaseFile({}, attachments, f"缺少 {MANIFEST_NAME}") if marked else None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return CaseFile({}, attachments, f"{MANIFEST_NAME} 不是有效的 JSON")
    problem = _manifest_problem(data)
    return CaseFile(data if problem is None else {}, attachments, problem)


def is_case_file(pdf: bytes) -> bool:
    return read(pdf) is not None


def _only_unsealed(report: VerificationReport) -> bool:
    return report.codes == ["NO_SIGNATURE"]


def check(pdf: bytes, verify_paper: Callable[[bytes], VerificationReport]) -> CaseFileReport:
    """Every listed paper present with the digest the manifest records, nothing unlisted, and every sealed paper's
    own seals passing ``verify_paper`` (the installation's verifier, route-aware). The 案卷's own seal is not
    judged here (the caller verifies it as any sealed PDF and sets ``outer``)."""
    if len(pdf) > MAX_BYTES or prescan(pdf):
        return CaseFileReport((Finding("CASE_FILE_MANIFEST", "文件过大或结构损坏，无法读取案卷附件"),), ())
    case_file = read(pdf)
    if case_file is None:
        return CaseFileReport((Finding("CASE_FILE_MANIFEST", f"{REASONS['CASE_FILE_MANIFEST']}：该文件不是案卷"),), ())
    if case_file.manifest_problem is not None:
        return CaseFileReport((Finding("CASE_FILE_MANIFEST",
                                       f"{REASONS['CASE_FILE_MANIFEST']}：{case_file.manifest_problem}"),), ())
    findings: list[Finding] = []
    papers: list[PaperCheck] = []
    listed = case_file.manifest["papers"]
    for entry in listed:
        name, title = entry["name"], str(entry.get("title") or entry["name"])
        problems, report = _check_entry(entry, case_file.attachments.get(name), verify_paper)
        findings += problems
        papers.append(PaperCheck(name, title, not any(not f.indeterminate for f in problems), tuple(problems),
                                 report))
    names = {e["name"] for e in listed}
    for name in case_file.attachments:
        if name not in names:
            findings.append(Finding("CASE_FILE_UNLISTED", f"「{name}」{REASONS['CASE_FILE_UNLISTED']}", field=name))
    return CaseFileReport(tuple(findings), tuple(papers), case_file.manifest)


def _check_entry(entry: Mapping[str, Any], data: bytes | None, verify_paper: Callable[[bytes], VerificationReport],
                 ) -> tuple[list[Finding], VerificationReport | None]:
    name = entry["name"]
    if data is None:
        return [Finding("CASE_FILE_MISSING", f"「{name}」{REASONS['CASE_FILE_MISSING']}", field=name)], None
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        return [Finding("CASE_FILE_CHANGED", f"「{name}」与目录记载的摘要不一致", field=name)], None
    media_type = str(entry.get("media_type") or "")
    problems: list[Finding] = []
    try:
        actual = describe(Paper(name, str(entry.get("title") or ""), data, media_type, None))
    except CaseFileError as error:
        return [Finding("CASE_FILE_MANIFEST", f"「{name}」：{error.message}", field=name)], None
    if (actual["pages"], actual["seals"]) != (entry.get("pages"), entry.get("seals")):
        problems.append(Finding("CASE_FILE_MANIFEST", f"「{name}」的页数或印章与目录记载不符", field=name))
    if media_type != "application/pdf":
        return problems, None
    report = verify_paper(data)
    if report.verdict is not Verdict.PASSED and not (_only_unsealed(report) and not actual["seals"]):
        reasons = "；".join(dict.fromkeys(f.message for f in report.findings))
        problems.append(Finding("CASE_FILE_SEAL", f"「{name}」{REASONS['CASE_FILE_SEAL']}：{reasons}", field=name,
                                indeterminate=report.verdict is Verdict.INDETERMINATE))
    return problems, report
