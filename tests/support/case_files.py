"""A 案卷 built from genuinely sealed papers (a form sealed along its route, a 公示 sealed by the township, a
PNG scan), sealed by the county that exports it — and the ways a 案卷 can be wrong, each sealed the same way."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from api.services.authority import SealAuthority
from api.services.documents import DocumentService
from api.services.sealing import SealingService
from api.services.verification import VerificationService
from api.settings import Settings
from signer.case_file import Paper, assemble, manifest
from templates.case_file_index import render_index_pdf
from tests.support.installations import install_demo

VILLAGE, TOWNSHIP, COUNTY = "130634100201", "130634100", "130634"
CASE = {"number": "QY-DB-2026-0012", "kind": "dibao", "kind_label": "最低生活保障", "applicant_name": "张秀兰",
        "village": "东沟南村"}
EXPORTED_AT = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
ROUTE_SEALS = ["东沟南村村民委员会", "燕赵镇人民政府", "曲阳县民政局"]


def scan_png(colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), colour).save(buffer, "PNG")
    return buffer.getvalue()


def tampered(pdf: bytes) -> bytes:
    """A sealed paper with an object added after its seals (an incremental save its certification forbids)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    writer.root["/Lang"] = generic.pdf_string("en")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


class CaseFileWorld:
    def __init__(self, root: Path, documents: DocumentService) -> None:
        self.root = root
        self.settings = Settings(data_dir=root / "var", keys_dir=root / "keys")
        install_demo(self.settings)  # init-demo's installation, copied (tests.support.installations)
        self.authority = SealAuthority(self.settings)
        self.verification = VerificationService(self.settings, self.authority)
        self.sealing = SealingService(self.settings, self.authority, check=self.verification.verify)
        self.documents = documents
        form = documents.render("dibao_application", documents.catalogue.family("dibao_application").sample())
        sealed_form = form.rendered.pdf
        for office in (VILLAGE, TOWNSHIP, COUNTY):
            sealed_form = self.sealing.seal(sealed_form, office).pdf
        notice = documents.render("dibao_notice", documents.catalogue.family("dibao_notice").sample())
        self.papers = (
            Paper("01-最低生活保障申请审批表.pdf", "最低生活保障申请审批表", sealed_form, "application/pdf",
                  dt.date(2026, 10, 8)),
            Paper("02-核对授权书签字页.png", "家庭经济状况核对授权书（签字页）", scan_png(), "image/png",
                  dt.date(2026, 10, 9), "签字页扫描件"),
            Paper("03-最低生活保障公示.pdf", "最低生活保障公示", self.sealing.seal(notice.rendered.pdf, TOWNSHIP).pdf,
                  "application/pdf", dt.date(2026, 10, 20)),
        )
        self.manifest = manifest(CASE, self.papers, exported_by="曲阳县民政局", exported_at=EXPORTED_AT)
        self.index = render_index_pdf(CASE, self.manifest["papers"], issuer="曲阳县民政局",
                                      issued_on=EXPORTED_AT.date(), issuer_id=COUNTY, renderer=documents.renderer)
        self.unsealed = assemble(self.index.pdf, self.papers, self.manifest)
        self.good = self.seal(self.unsealed)

    def seal(self, pdf: bytes) -> bytes:
        return self.sealing.seal(pdf, COUNTY).pdf

    def sealed_with(self, papers: tuple[Paper, ...], listed: dict[str, Any] | None = None) -> bytes:
        """A 案卷 holding ``papers`` under the good manifest (or ``listed``), sealed by the county as usual."""
        return self.seal(assemble(self.index.pdf, papers, self.manifest if listed is None else listed))

    def changed(self) -> bytes:
        notice = self.papers[2]
        return self.sealed_with((*self.papers[:2], replace(notice, data=notice.data + b"\n% appended\n")))

    def missing(self) -> bytes:
        return self.sealed_with(self.papers[:2])

    def unlisted(self) -> bytes:
        extra = Paper("04-补充材料.png", "补充材料", scan_png("grey"), "image/png", None)
        return self.sealed_with((*self.papers, extra))
