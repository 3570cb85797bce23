"""The verification report page as a clerk reads it in the desk (a real browser under the desk's CSP): styled,
in Chinese words with Beijing times, a way back, and saying one thing — on a file changed after its seal no seal
line says the file is fine."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from api.http.report_page import local_time, report_html
from api.services.documents import DocumentService
from api.services.identity import Role
from tests.support.cases import household
from tests.support.desk_world import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, Served, desk_serve, sign_in
from tests.support.service_world import VILLAGE, Api, World

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is installed by scripts/setup")

CODE = re.compile(r"\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b")  # UNEXPECTED_OBJECT, FILL_FORMS …
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[Served]:
    world = World(tmp_path_factory.mktemp("report"), documents)
    with desk_serve(world) as base:
        yield Served(world, base)


def sealed_and_tampered(served: Served) -> tuple[bytes, bytes]:
    clerk = Api(served.base, *served.password(VILLAGE, Role.CLERK))
    r = clerk.post("/api/documents", json={"family": "dibao_application", "data": household()})
    doc = r.json()["id"]
    assert clerk.post(f"/api/documents/{doc}/seal", json={}).status_code == 200
    sealed = clerk.get(f"/api/documents/{doc}/pdf").content
    clerk.close()
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)  # a change no later seal or validation data may make
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return sealed, out.getvalue()


def check(browser_page: Any, base: str, pdf: bytes, tmp: Path) -> str:
    path = tmp / "file.pdf"
    path.write_bytes(pdf)
    browser_page.goto(f"{base}/desk/verify")
    browser_page.set_input_files("#file", str(path))
    browser_page.click("#verify")
    browser_page.wait_for_selector("#verdict")
    return str(browser_page.inner_text("body"))


def test_report_page_is_styled_chinese_local_and_consistent(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    sealed, tampered = sealed_and_tampered(served)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        sign_in(page, served.base, *served.password(VILLAGE, Role.CLERK))

        text = check(page, served.base, tampered, tmp_path)
        assert "不通过" in page.inner_text("#verdict")
        # styled: the verdict has its coloured box (the stylesheet loaded under the CSP)
        background = page.eval_on_selector("#verdict", "e => getComputedStyle(e).backgroundColor")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
        assert blocked == []
        assert not CODE.findall(text), CODE.findall(text)  # words, not codes
        assert not ISO_TIME.search(text) and "北京时间" in text
        assert "内容未被篡改；签名有效" not in text  # no seal line contradicts the verdict
        assert "此文件不可采信" in text
        page.click("#back")
        assert page.url.endswith("/desk/verify")

        text = check(page, served.base, sealed, tmp_path)
        assert "通过" in page.inner_text("#verdict") and "内容未被篡改；签名有效" in text
        browser.close()


def test_a_report_written_to_a_file_carries_its_style() -> None:
    """``minseal verify --html`` writes a page that is read alone, from a disk: the stylesheet inline."""
    from signer.report import DocumentFacts, Verdict, VerificationReport

    report = VerificationReport(verdict=Verdict.FAILED, signatures=(), findings=(),
                                document=DocumentFacts(sha256="0" * 64, size=1, pages=1, revisions=1,
                                                       ends_at_last_revision=True, trailing_bytes=0, family=None))
    assert "<style>" in report_html(report, standalone=True) and "<link" not in report_html(report, standalone=True)
    assert local_time("2026-12-05T08:03:48+00:00") == "2026年12月5日 16:03:48"


def test_downloads_are_named_in_chinese_with_the_word_copy_beside(served: Served) -> None:
    from urllib.parse import quote

    import docx

    clerk = Api(served.base, *served.password(VILLAGE, Role.CLERK))
    data = household()
    doc = clerk.post("/api/documents", json={"family": "dibao_application", "data": data}).json()
    name = data["applicant"]["name"]
    r = clerk.get(f"/api/documents/{doc['id']}/pdf")
    expected = f"{name}-{doc['title']}-第1版.pdf"
    assert f"filename*=UTF-8''{quote(expected, safe='')}" in r.headers["content-disposition"]
    assert 'filename="dibao_application-' in r.headers["content-disposition"]  # the ASCII fallback
    r = clerk.get(f"/api/documents/{doc['id']}/docx")
    assert r.status_code == 200 and r.headers["content-type"].endswith("wordprocessingml.document")
    assert quote(f"{name}-{doc['title']}.docx", safe="") in r.headers["content-disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    tables = " ".join(c.text for t in docx.Document(io.BytesIO(r.content)).tables for row in t.rows for c in row.cells)
    assert name in text + tables
    page = clerk.get(f"/desk/documents/{doc['id']}")
    assert f"/desk/documents/{doc['id']}/docx" in page.text and "下载 Word 版" in page.text
    desk_docx = clerk.get(f"/desk/documents/{doc['id']}/docx")
    assert desk_docx.status_code == 200 and desk_docx.content[:2] == b"PK"
    clerk.close()


def test_the_user_badge_names_the_office_once(served: Served) -> None:
    from tests.support.service_world import TOWNSHIP

    reviewer = Api(served.base, *served.password(TOWNSHIP, Role.REVIEWER))
    badge = re.search(r'<span id="badge">([^<]+)</span>', reviewer.get("/desk").text)
    reviewer.close()
    assert badge is not None
    office = "燕赵镇人民政府"
    assert badge.group(1).count(office) == 1 and badge.group(1).count("审核人") == 1, badge.group(1)


def test_a_county_told_it_is_too_late_hears_its_own_step() -> None:
    from api.services.states import Action, next_status
    from signer.errors import ConflictError

    with pytest.raises(ConflictError, match="不能审批签章"):
        next_status("approved", Action.ACCEPT, last_tier=True)
    with pytest.raises(ConflictError, match="不能审核签章"):
        next_status("approved", Action.ACCEPT)


def test_lists_search_filter_and_page(served: Served) -> None:
    """待办 finds a household by the applicant's name, filters by status and date, and pages."""
    import datetime as dt

    from api.services.demo_users import demo_username
    from api.services.workflow import DocumentQuery

    clerk = Api(served.base, *served.password(VILLAGE, Role.CLERK))
    made = []
    for name in ("检索甲", "检索乙", "检索丙"):
        r = clerk.post("/api/documents", json={"family": "dibao_application", "data": household(name)})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    page = clerk.get("/desk/inbox", params={"q": "检索乙"}).text
    assert made[1] in page and made[0] not in page and made[2] not in page
    assert 'value="检索乙"' in page  # the filter stays filled in
    assert made[0] in clerk.get("/desk/inbox", params={"q": "检索", "status": "draft"}).text
    assert made[0] not in clerk.get("/desk/inbox", params={"q": "检索", "status": "sealed"}).text
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert made[0] not in clerk.get("/desk/inbox", params={"q": "检索", "since": tomorrow}).text
    assert clerk.get("/desk/inbox", params={"since": "not-a-date", "status": "nonsense"}).status_code == 200
    clerk.close()

    workflow, identity = served.world.services.workflow, served.world.services.identity
    with served.world.services.db.session() as session:
        from api.services.identity import active_principal

        user = identity.user(session, demo_username(VILLAGE, Role.CLERK))
        who = active_principal(session, user.id)
    assert who is not None
    query = DocumentQuery(search="检索")
    first, more = workflow.page(who, query, inbox=True, page=1, size=2)
    second, last = workflow.page(who, query, inbox=True, page=2, size=2)
    assert more and not last and len(first) == 2 and len(second) == 1
    assert {v.id for v in first + second} == set(made)  # newest first, each once


def test_a_name_outside_the_bmp_is_filed_end_to_end_and_an_emoji_is_refused_alike(served: Served,
                                                                                  tmp_path: Path) -> None:
    """𠮷 (U+20BB7, CJK Extension B) is a real resident's character: the check, the sealed PDF (with an embedded
    face that has the glyph) and the Word copy all carry it; an emoji is refused by the check and by 生成 alike."""
    import subprocess

    import docx

    from signer.errors import TemplateDataError

    rare, emoji = "𠮷野", "😀野"
    documents = served.world.services.documents
    documents.check("dibao_application", household(rare))  # 检查填写 says yes …
    with pytest.raises(TemplateDataError):
        documents.check("dibao_application", household(emoji))  # … and no, as 生成 will
    clerk = Api(served.base, *served.password(VILLAGE, Role.CLERK))
    refused = clerk.post("/api/documents", json={"family": "dibao_application", "data": household(emoji)})
    assert refused.status_code == 422 and "U+1F600" in refused.text
    doc = clerk.post("/api/documents", json={"family": "dibao_application", "data": household(rare)}).json()
    assert clerk.post(f"/api/documents/{doc['id']}/seal", json={}).status_code == 200
    pdf = tmp_path / "rare.pdf"
    pdf.write_bytes(clerk.get(f"/api/documents/{doc['id']}/pdf").content)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "HanaMinB" in fonts
    assert rare in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    copy = docx.Document(io.BytesIO(clerk.get(f"/api/documents/{doc['id']}/docx").content))
    assert rare in " ".join(c.text for t in copy.tables for row in t.rows for c in row.cells) + \
        " ".join(p.text for p in copy.paragraphs)
    clerk.close()
