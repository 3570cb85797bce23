"""The staff desk in a real browser (Debian's Chromium via Playwright) against the real service over HTTP: three
users in three browser contexts take one 低保 case from the village form to county approval and a certificate — a
validation error corrected in the form, a return and a re-creation, the 公示 (the township cannot report before it
ended), the county's decision — with a 1366 × 768 screenshot of each page in tests/artifacts/. The service's clock
is moved as the case needs days to pass."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.services.documents import DocumentService
from api.services.identity import Role
from tests.support import cases as run
from tests.support.cases import household, ok
from tests.support.desk_world import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    Served,
    desk_serve,
    open_tab,
    sign_in,
    wait_for_images,
)
from tests.support.public_world import DAY0, OBJECTION, accepted_application, login
from tests.support.service_world import (
    COUNTY,
    FAR_COUNTY,
    FAR_TOWNSHIP,
    OTHER_VILLAGE,
    SAMPLE,
    TOWNSHIP,
    VILLAGE,
    World,
)

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is installed by scripts/setup")

WRONG_ID = "130634196805120021"  # the applicant's number with a wrong check character
RETURN_REASON = "缺少家庭成员收入证明，请补充材料后重新报送"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[Served]:
    world = World(tmp_path_factory.mktemp("desk"), documents)
    with desk_serve(world) as base:
        yield Served(world, base)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Shots:
    def __init__(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.n = 0

    def __call__(self, page: Any, name: str, *, full: bool = False) -> None:
        self.n += 1
        page.screenshot(path=str(ARTIFACTS / f"desk-{self.n:02d}-{name}.png"), full_page=full)


def _user(browser: Any, served: Served, office: str, role: Role) -> Any:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.requests = requests  # type: ignore[attr-defined]
    sign_in(page, served.base, *served.password(office, role))
    return page


def _done(page: Any, word: str) -> str:
    """Wait for the redirect an action ends with; the document id it names."""
    page.wait_for_url(re.compile(rf"done={word}"))
    match = re.search(r"/desk/(?:documents|notices)/([0-9a-f]+)", page.url)
    return match.group(1) if match else ""


def _fill_application(page: Any, applicant_id: str) -> None:
    a, members = SAMPLE["applicant"], SAMPLE["members"]
    page.fill("#f-serial", SAMPLE["serial"])
    page.select_option("#f-category", SAMPLE["category"])
    page.fill("#f-applicant-name", a["name"])
    page.select_option("#f-applicant-gender", a["gender"])
    page.fill("#f-applicant-id_number", applicant_id)
    page.fill("#f-applicant-registered_address", a["registered_address"])
    page.fill("#f-applicant-address", a["address"])
    page.fill("#f-applicant-phone", a["phone"])
    for i, m in enumerate(members):
        if i:
            page.click("button[value='add:members']")
            page.wait_for_selector(f"#f-members-{i}--name")
        page.fill(f"#f-members-{i}--name", m["name"])
        page.select_option(f"#f-members-{i}--relation", m["relation"])
        page.fill(f"#f-members-{i}--id_number", m["id_number"])
        page.select_option(f"#f-members-{i}--identity", m["identity"])
        page.select_option(f"#f-members-{i}--health", m["health"])
        if m.get("disability_grade"):
            page.select_option(f"#f-members-{i}--disability_grade", m["disability_grade"])
        page.fill(f"#f-members-{i}--work", m["work"])
        page.fill(f"#f-members-{i}--monthly_income", m["monthly_income"])
    e = SAMPLE["economy"]
    page.fill("#f-economy-housing", e["housing"])
    page.fill("#f-economy-vehicles", e["vehicles"])
    page.fill("#f-economy-financial_assets_per_capita", e["financial_assets_per_capita"])
    page.fill("#f-reason", SAMPLE["reason"])


def _pdf_text(page: Any, base: str, document_id: str, tmp: Path) -> str:
    response = page.context.request.get(f"{base}/desk/documents/{document_id}/pdf")
    assert response.ok and response.body().startswith(b"%PDF-")
    path = tmp / f"{document_id}.pdf"
    path.write_bytes(response.body())
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _case_id(page: Any) -> str:
    href = page.get_attribute("#case-link a", "href")
    assert href
    return str(href).rsplit("/", 1)[-1]


def _case_facts(served: Served, application: str) -> dict[str, Any]:
    reader = login(served.world, served.base, TOWNSHIP, Role.REVIEWER)
    try:
        return dict(ok(reader.get(f"/api/documents/{application}/case"))["facts"])
    finally:
        reader.close()


def test_one_dibao_application_village_to_county(served: Served, browser: Any, tmp_path: Path) -> None:
    shot, base = Shots(), served.base
    served.world.services.clock.set(DAY0)
    village = _user(browser, served, VILLAGE, Role.CLERK)
    shot(village, "village-home")

    # the village clerk picks the form from the catalogue and fills it, one ID number wrong
    open_tab(village, "新建")
    shot(village, "catalogue")
    village.click("text=最低生活保障申请审批表")
    village.wait_for_selector("#doc-form")
    shot(village, "village-form-empty")
    _fill_application(village, WRONG_ID)
    village.click("#create")
    error = village.locator("#f-applicant-id_number-error")
    error.wait_for()
    assert "校验位错误" in error.inner_text()
    # beside its field, and nothing typed is lost
    assert village.locator(".field.invalid #f-applicant-id_number").count() == 1
    assert village.input_value("#f-applicant-id_number") == WRONG_ID
    assert village.input_value("#f-applicant-name") == "王秀英"
    assert village.input_value("#f-members-2--name") == "李晓梅"
    assert village.input_value("#f-members-1--disability_grade") == "二级"
    assert village.input_value("#f-reason") == SAMPLE["reason"]
    assert village.locator(".error").count() == 1
    village.locator("#f-applicant-id_number").scroll_into_view_if_needed()
    shot(village, "village-form-error")
    shot(village, "village-form-error-full", full=True)
    village.fill("#f-applicant-id_number", SAMPLE["applicant"]["id_number"])
    village.click("#create")
    first = _done(village, "created")
    assert village.inner_text("#doc-status") == "草稿（未盖章）"
    assert "已协助申请人提交申请材料" in village.input_value("#opinion")  # the default opinion, editable
    shot(village, "village-draft-preview")
    village.click("#seal")
    _done(village, "sealed")
    assert village.inner_text("#doc-status") == "已盖章，待报送"
    village.click("#submit")
    _done(village, "submitted")
    shot(village, "village-submitted")

    # the township sees it in its inbox with the seal check, and returns it
    township = _user(browser, served, TOWNSHIP, Role.REVIEWER)
    assert township.inner_text("#inbox-count .n") == "1"
    shot(township, "township-home")
    open_tab(township, "待办")
    row = township.locator(f"#docs tr[data-id='{first}']")
    assert row.locator(".badge.ok").inner_text() == "通过"
    shot(township, "township-inbox")
    row.locator("a").first.click()
    township.wait_for_selector("#return-form")
    assert township.inner_text("#verdict") == "电子签章核验：通过"
    shot(township, "township-document")
    township.fill("#reason", RETURN_REASON)
    township.click("#return")
    _done(township, "returned")
    assert township.inner_text("#doc-status") == "已退回"

    # the village sees the reason and re-creates the file from its data in one click
    village.goto(f"{base}/desk")
    assert RETURN_REASON in village.inner_text(f"#recent tr[data-id='{first}']")
    village.click(f"#recent tr[data-id='{first}'] a")
    assert RETURN_REASON in village.inner_text("#return-reason")
    shot(village, "village-returned")
    village.click("#recreate")
    second = _done(village, "recreated")
    assert second != first and village.inner_text("#doc-status") == "草稿（未盖章）"
    village.click("#seal")
    _done(village, "sealed")
    village.click("#submit")
    _done(village, "submitted")

    # the township's 初审: its form offers no 报送县级 — the 公示 comes first, and the page says so
    township.goto(f"{base}/desk/inbox")
    township.click(f"#docs tr[data-id='{second}'] a")
    township.wait_for_selector("#accept-form")
    assert "按规定在申请人所在村公示" in township.input_value("#accept-opinion")  # a promise, not a claim
    township.click("#accept")
    _done(township, "accepted")
    assert township.inner_text("#doc-status") == "乡镇已审核，待报送县级"
    assert township.locator("#submit").count() == 0
    assert "尚未在申请人所在村（社区）公示" in township.inner_text("#case-blocked [data-step='report']")
    township.click("#case-link a")
    township.wait_for_selector("#next-steps")
    assert township.get_attribute("#case-stage", "data-stage") == "preliminary"
    assert "尚未在申请人所在村（社区）公示" in township.inner_text("#next-steps .step.blocked[data-step='report']")
    shot(township, "township-case-before-notice")
    township.click("#step-notice")
    township.fill("#phone", "0312-4211234")
    township.fill("#address", "燕赵镇政府院内便民服务中心一楼")
    shot(township, "township-notices")
    township.click("#build")
    _done(township, "built")
    township.click("#notices a >> text=拟保障对象公示")
    township.wait_for_selector("#publish")
    township.click("#publish")
    notice = _done(township, "published")
    assert township.inner_text("#notice-status").startswith("即将公示")  # posted today, the period starts tomorrow
    shot(township, "township-notice-published")
    public = township.get_attribute("#public-link", "href")
    township.goto(f"{base}{public}")
    assert "王秀英" in township.inner_text("#list") and "即将公示" in township.inner_text("#status")

    # during the 公示 a report sent anyway (the form posted directly) is refused, and the case stays where it was
    township.goto(f"{base}/desk/documents/{second}")
    assert township.locator("#submit").count() == 0
    assert "公示期未满" in township.inner_text("#case-blocked")
    csrf = township.get_attribute("input[name=csrf_token]", "value")
    for path in (f"/desk/documents/{second}/submit", f"/desk/cases/{_case_id(township)}/report"):
        refused = township.context.request.post(f"{base}{path}", form={"csrf_token": csrf}, max_redirects=0)
        assert refused.status == 409 and "公示期未满" in refused.text(), (path, refused.status)
    township.click("#case-link a")
    township.wait_for_selector("#next-steps")
    assert township.get_attribute("#case-stage", "data-stage") == "notice"
    assert "公示期未满" in township.inner_text("#next-steps .step.blocked[data-step='report']")
    assert township.get_attribute("#notice-public", "href") == public
    shot(township, "township-case-during-notice")

    # the day after the 公示 ended the township reports from the case page
    ended = _case_facts(served, second)["notice"]["end"]
    served.world.services.clock.set(dt.date.fromisoformat(ended) + dt.timedelta(days=1))
    township.reload()
    township.click("#step-report")
    _done(township, "reported")
    assert township.get_attribute("#case-stage", "data-stage") == "reported"

    # the county decides: the figures the township fixed, the standard of 农村, the 保障类别 left to choose, the
    # opinion naming the real 公示; a wrong amount is named beside its field first
    county = _user(browser, served, COUNTY, Role.APPROVER)
    open_tab(county, "待办")
    assert county.locator(f"#docs tr[data-id='{second}'] .badge.ok").inner_text() == "通过"
    assert county.locator("#inbox-cases tr", has_text="王秀英").count() == 1
    shot(county, "county-inbox")
    county.click(f"#docs tr[data-id='{second}'] a")
    county.wait_for_selector("#accept-form")
    assert county.input_value("#d-persons") == "3"
    assert county.input_value("#d-standard") == "700.00" and county.input_value("#d-category") == ""
    assert county.inner_text("#fig-standard").startswith("700.00") and "593.33" in county.inner_text("#fig-gap")
    start, end = (dt.date.fromisoformat(d) for d in (_case_facts(served, second)["notice"][k]
                                                     for k in ("start", "end")))
    assert (f"该户已于{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"
            "在东沟南村村民委员会公示") in county.input_value("#accept-opinion")
    amount = county.input_value("#d-monthly_amount")
    assert amount == "1780.00"
    county.select_option("#d-category", "A类")
    shot(county, "county-decision")
    county.fill("#d-monthly_amount", "100.00")
    county.click("#accept")
    county.wait_for_selector("#action-error")
    assert "户月保障金额应为" in county.inner_text(".field.invalid:has(#d-monthly_amount) .error")
    assert county.input_value("#d-monthly_amount") == "100.00"
    shot(county, "county-decision-error")
    county.fill("#d-monthly_amount", amount)
    county.click("#accept")
    _done(county, "approved")
    assert county.inner_text("#doc-status") == "已审批"
    shot(county, "county-approved")
    text = _pdf_text(county, base, second, tmp_path)
    assert "核定保障人数：3人" in text and amount.replace(".00", "") in text.replace(",", "")

    # the case page shows the decision, and the certificate is issued from it (never typed)
    county.click("#case-link a")
    county.wait_for_selector("#facts-decision")
    assert county.inner_text("#decision-persons") == "3 人" and county.inner_text("#decision-category") == "A类"
    assert county.inner_text("#decision-standard").startswith("700.00")
    assert county.inner_text("#decision-amount").startswith(amount)
    assert county.locator("#timeline .badge.ok").count() >= 3  # village, township and county seals, each checked
    county.fill("#recipient", "曲阳县医疗保障局")
    county.fill("#purpose", "办理医疗救助")
    shot(county, "county-case-approved", full=True)
    county.click("#step-certificate")
    certificate = _done(county, "issued")
    text = _pdf_text(county, base, certificate, tmp_path)
    assert "王秀英" in text and amount in text.replace(",", "")
    shot(county, "county-certificate")

    # no page asked anything of another host (the browser's own PDF viewer is chrome-extension://)
    for page in (village, township, county):
        away = [u for u in page.requests if u.startswith(("http:", "https:")) and not u.startswith(base)]
        assert not away, away
        page.context.close()
    assert notice


class DeskClient:
    """One user signed in to the desk over plain HTTP (cookie + the CSRF token the pages carry)."""

    def __init__(self, served: Served, office: str, role: Role) -> None:
        self.client = httpx.Client(base_url=served.base, timeout=60)
        username, password = served.password(office, role)
        r = self.client.post("/desk/login", data={"username": username, "password": password, "next": "/desk"})
        assert r.status_code == 303, r.text
        assert password not in r.text
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.client.get("/desk").text).group(1)  # type: ignore[union-attr]

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.client.post(path, data={"csrf_token": self.csrf, **data})

    def close(self) -> None:
        self.client.close()


def test_no_other_office_reaches_a_file_by_changing_the_id(served: Served) -> None:
    """Every desk page with an id in its URL, GET and POST, for a village beside it, a township and a county of
    another county: a refusal page, nothing of the file, and the file unchanged."""
    world, base = served.world, served.base
    world.services.clock.set(DAY0)
    data = household("孟凡英")
    application = accepted_application(world, base, VILLAGE, data)
    reviewer = login(world, base, TOWNSHIP, Role.REVIEWER)
    try:
        r = reviewer.post("/api/notices/build", json={"objection": OBJECTION, "application_ids": [application]})
        assert r.status_code == 201, r.text
        notice = r.json()[0]["document_id"]
        before = {d: reviewer.get(f"/api/documents/{d}").json() for d in (application, notice)}
    finally:
        reviewer.close()
    private = {data["applicant"]["name"], data["applicant"]["id_number"], data["applicant"]["phone"]}
    gets = [f"/desk/documents/{application}", f"/desk/documents/{application}/pdf",
            f"/desk/documents/{application}/report", f"/desk/documents/{notice}", f"/desk/notices/{notice}"]
    posts = {f"/desk/documents/{application}/{a}": {"opinion": "同意", "reason": "x"}
             for a in ("seal", "submit", "accept", "return", "recreate")}
    posts |= {f"/desk/notices/{notice}/publish": {}, f"/desk/notices/{notice}/withdraw": {"reason": "x"},
              f"/desk/notices/{notice}/objections": {"received_on": "2026-01-01", "channel": "来访", "summary": "x"},
              f"/desk/certificates/{notice}/revoke": {"reason": "x"}}
    for office, role in ((OTHER_VILLAGE, Role.CLERK), (FAR_TOWNSHIP, Role.REVIEWER), (FAR_COUNTY, Role.APPROVER)):
        intruder = DeskClient(served, office, role)
        try:
            for path in gets:
                r = intruder.client.get(path)
                assert r.status_code in (403, 404), (office, path, r.status_code)
                assert "无法办理" in r.text and not [s for s in private if s in r.text], (office, path)
            for path, data in posts.items():
                r = intruder.post(path, **data)
                assert r.status_code in (403, 404), (office, path, r.status_code)
                assert not [s for s in private if s in r.text], (office, path)
            inbox = intruder.client.get("/desk/inbox").text + intruder.client.get("/desk/documents").text
            assert application not in inbox and notice not in inbox
        finally:
            intruder.close()
    reviewer = login(world, base, TOWNSHIP, Role.REVIEWER)
    try:
        after = {d: reviewer.get(f"/api/documents/{d}").json() for d in (application, notice)}
    finally:
        reviewer.close()
    assert after == before


def test_forms_need_the_sessions_csrf_token_and_a_live_session(served: Served) -> None:
    clerk = DeskClient(served, VILLAGE, Role.CLERK)
    try:
        r = clerk.client.post("/desk/new/dibao_application", data={"_action": "check"})
        assert r.status_code == 403 and "CSRF" in r.text
        r = clerk.client.post("/desk/new/dibao_application", data={"_action": "check", "csrf_token": "forged"})
        assert r.status_code == 403
        assert clerk.post("/desk/new/dibao_application", _action="check").status_code == 422  # the real token
        assert clerk.post("/desk/logout").status_code == 303
        r = clerk.client.get("/desk/inbox")
        assert r.status_code == 303 and r.headers["location"].startswith("/desk/login?next=/desk/inbox")
    finally:
        clerk.close()
    with httpx.Client(base_url=served.base, timeout=30) as anonymous:
        r = anonymous.post("/desk/login", data={"username": "clerk-" + VILLAGE, "password": "not-the-password-1"})
        assert r.status_code == 401 and "用户名或密码错误" in r.text and "not-the-password-1" not in r.text
        r = anonymous.get("/desk/login", params={"next": "https://evil.example/"})
        assert 'value="/desk"' in r.text  # a sign-in never sends the browser to another site
        anonymous.cookies.set("minseal_session", "expired-or-forged")
        r = anonymous.get("/desk/documents")
        assert r.status_code == 303 and "reason=" in r.headers["location"]


def _tab_until(page: Any, focused: str, limit: int = 400) -> None:
    """Press Tab until ``focused`` (a JS expression on the focused element ``e``) holds: keyboard only."""
    for _ in range(limit):
        if page.evaluate(f"(() => {{ const e = document.activeElement; return !!e && ({focused}); }})()"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"no element with {focused} is reachable with the Tab key")


def _tab_to(page: Any, element_id: str) -> None:
    _tab_until(page, f"e.id === {element_id!r}")


def _choose(page: Any, element_id: str, choices: list[str], value: str) -> None:
    _tab_to(page, element_id)
    for _ in range(choices.index(value) + 1):  # the first option is 请选择
        page.keyboard.press("ArrowDown")
    assert page.input_value(f"#{element_id}") == value


def test_village_form_completed_with_the_keyboard_only(served: Served, browser: Any) -> None:
    catalogue = served.world.services.documents.catalogue
    spec = catalogue.family("dibao_application").schema
    choices = {path: list(f.choices) for path, f in spec.flat if f.choices}
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, served.base, *served.password(VILLAGE, Role.CLERK))
        page.goto(f"{served.base}/desk/new/dibao_application")
        data = household("王秀英", incomes=("320.00", "0"))
        a = data["applicant"]

        def type_into(element_id: str, text: str) -> None:
            _tab_to(page, element_id)
            page.keyboard.type(text)

        _choose(page, "f-category", choices["category"], data["category"])
        type_into("f-applicant-name", a["name"])
        _choose(page, "f-applicant-gender", choices["applicant.gender"], a["gender"])
        for name in ("id_number", "registered_address", "address"):
            type_into(f"f-applicant-{name}", a[name])
        for i, m in enumerate(data["members"][:2]):
            if i:  # a second row: the add button, by keyboard (the page comes back with what was typed)
                _tab_until(page, "e.value === 'add:members'")
                page.keyboard.press("Enter")
                page.wait_for_selector(f"#f-members-{i}--name")
            type_into(f"f-members-{i}--name", m["name"])
            _choose(page, f"f-members-{i}--relation", choices["members[].relation"], m["relation"])
            type_into(f"f-members-{i}--id_number", m["id_number"])
            _choose(page, f"f-members-{i}--identity", choices["members[].identity"], m["identity"])
            _choose(page, f"f-members-{i}--health", choices["members[].health"], m["health"])
            if m.get("disability_grade"):
                _choose(page, f"f-members-{i}--disability_grade", choices["members[].disability_grade"],
                        m["disability_grade"])
            type_into(f"f-members-{i}--monthly_income", m["monthly_income"])
        for name in ("housing", "vehicles", "financial_assets_per_capita"):
            type_into(f"f-economy-{name}", SAMPLE["economy"][name])
        type_into("f-reason", SAMPLE["reason"])
        _tab_to(page, "create")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile("done=created"))
        assert page.inner_text("#doc-status") == "草稿（未盖章）"
        assert "王秀英" in page.inner_text("h1")
    finally:
        context.close()


def test_admin_pages_and_verify(served: Served, browser: Any, tmp_path: Path) -> None:
    """The township admin adds and disables a user, sees its seals with their images, filters the audit log,
    checks the chain and exports CSV; a clerk verifies a file."""
    shot = Shots()
    shot.n = 40
    admin = _user(browser, served, TOWNSHIP, Role.ADMIN)
    try:
        open_tab(admin, "用户")
        admin.fill("#username", "desk-new-clerk")
        admin.fill("#display_name", "新经办人")
        admin.select_option("#office_id", VILLAGE)
        admin.select_option("#role", "clerk")
        admin.fill("#password", "short")
        admin.click("#add")
        assert "密码至少" in admin.inner_text("#action-error")
        assert admin.input_value("#password") == "" and admin.input_value("#username") == "desk-new-clerk"
        admin.fill("#password", "a-long-enough-password")
        admin.click("#add")
        admin.wait_for_url(re.compile("done=added"))
        row = admin.locator("#users tr[data-user='desk-new-clerk']")
        row.locator("button", has_text="停用").click()
        admin.wait_for_url(re.compile("done=disabled"))
        assert "已停用" in admin.inner_text("#users tr[data-user='desk-new-clerk']")
        assert OTHER_VILLAGE in admin.inner_text("#users") and FAR_TOWNSHIP not in admin.inner_text("#users")
        shot(admin, "admin-users")
        open_tab(admin, "印章")
        images = admin.locator("#seals img")
        assert images.count() >= 3  # the township and its villages
        assert len(wait_for_images(admin, "#seals img")) == images.count()  # every one loaded, with a width
        assert FAR_TOWNSHIP not in admin.inner_text("#seals")
        shot(admin, "admin-seals")
        open_tab(admin, "审计日志")
        admin.select_option("#action", "user.disable")
        admin.click("#check-chain")
        assert admin.inner_text("#chain").startswith("审计链完整")
        assert admin.locator("#audit tbody tr").count() == 1 and "user.disable" in admin.inner_text("#audit")
        shot(admin, "admin-audit")
        csv = admin.context.request.get(served.base + admin.get_attribute("#csv", "href"))
        assert csv.ok and "user.disable" in csv.text() and "序号" in csv.text()
    finally:
        admin.context.close()
    # any staff member verifies a file: the same HTML report as the API
    world, base = served.world, served.base
    application = accepted_application(world, base, VILLAGE, household())
    reviewer = login(world, base, TOWNSHIP, Role.REVIEWER)
    try:
        pdf = tmp_path / "accepted.pdf"
        pdf.write_bytes(reviewer.get(f"/api/documents/{application}/pdf").content)
    finally:
        reviewer.close()
    clerk = _user(browser, served, OTHER_VILLAGE, Role.CLERK)
    try:
        open_tab(clerk, "核验文件")
        clerk.set_input_files("#file", str(pdf))
        clerk.click("#verify")
        clerk.wait_for_load_state()
        text = clerk.inner_text("body")
        assert "东沟南村村民委员会" in text and "燕赵镇人民政府" in text and "通过" in text
        shot(clerk, "verify-report")
    finally:
        clerk.context.close()


def test_admin_pages_refuse_offices_outside_the_admins_tree(served: Served) -> None:
    intruder = DeskClient(served, FAR_TOWNSHIP, Role.ADMIN)
    try:
        r = intruder.client.get(f"/desk/admin/seals/{TOWNSHIP}/image")
        assert r.status_code == 403 and not r.headers["content-type"].startswith("image")
        for path, data in ((f"/desk/admin/seals/{VILLAGE}/revoke", {"reason": "key-compromise"}),
                           (f"/desk/admin/seals/{VILLAGE}/renew", {}),
                           (f"/desk/admin/users/clerk-{VILLAGE}/disable", {}),
                           (f"/desk/admin/users/clerk-{VILLAGE}/password", {"password": "another-long-password"})):
            r = intruder.post(path, **data)
            assert r.status_code in (403, 422) and "只能管理本单位及下级单位" in r.text, (path, r.status_code)
        assert TOWNSHIP not in intruder.client.get("/desk/admin/seals").text
    finally:
        intruder.close()
    # the village clerk still signs in: nothing was disabled or reset
    DeskClient(served, VILLAGE, Role.CLERK).close()
    clerk = DeskClient(served, VILLAGE, Role.CLERK)
    try:
        assert clerk.client.get("/desk/admin/users").status_code == 403  # not an admin
    finally:
        clerk.close()


def _moved_past(served: Served, day: dt.date, working_days: int) -> dt.date:
    """A day after ``working_days`` working days from ``day`` (by the service's own calendar)."""
    return served.world.services.cases.working_days_after(day, working_days) + dt.timedelta(days=1)


def test_an_overdue_case_stands_out_in_the_inbox(served: Served) -> None:
    """受理 starts the 30 working days; past them the township's inbox marks the case 已超期 (and the case page)."""
    world, base = served.world, served.base
    world.services.clock.set(DAY0)
    d = run.desk(world, base)
    try:
        application = run.filed(d, household("罗晓燕"))
    finally:
        d.close()
    township = DeskClient(served, TOWNSHIP, Role.REVIEWER)
    try:
        row = re.compile(r'<tr data-case="([0-9a-f]+)" class="([^"]*)">\s*<td><a[^>]*>罗晓燕</a>')
        match = row.search(township.client.get("/desk/inbox").text)
        assert match and "overdue" not in match.group(2)
        world.services.clock.set(_moved_past(served, DAY0, 30))
        inbox = township.client.get("/desk/inbox").text
        match = row.search(inbox)
        assert match and match.group(2) == "overdue", inbox
        block = inbox[match.start():inbox.index("</tr>", match.start())]
        assert "已超期" in block
        case = township.client.get(f"/desk/cases/{match.group(1)}").text
        assert 'id="case-overdue"' in case and "审核确认（受理后30个工作日内）" in case
        assert application in case
    finally:
        township.close()
        world.services.clock.set(DAY0)


def test_an_objection_names_its_household_on_a_notice_of_two(served: Served) -> None:
    world, base = served.world, served.base
    world.services.clock.set(DAY0)
    d = run.desk(world, base)
    try:
        first, second = run.filed(d, household("高玉珍")), run.filed(d, household("高建国"))
        run.preliminary(d, first)
        run.preliminary(d, second)
        [posted] = run.notice(d, [first, second])
    finally:
        d.close()
    township = DeskClient(served, TOWNSHIP, Role.REVIEWER)
    try:
        page_text = township.client.get(f"/desk/notices/{posted['document_id']}").text
        assert 'id="application_id"' in page_text and "高玉珍" in page_text and "高建国" in page_text
        r = township.post(f"/desk/notices/{posted['document_id']}/objections", received_on=DAY0.isoformat(),
                          channel="来访", summary="反映其子女有稳定收入", application_id=second)
        assert r.status_code == 303, r.text
    finally:
        township.close()
    stages = {doc: _case_stage(served, doc) for doc in (first, second)}
    assert stages == {first: "notice", second: "objection"}


def _case_stage(served: Served, application: str) -> str:
    reader = login(served.world, served.base, TOWNSHIP, Role.REVIEWER)
    try:
        return str(ok(reader.get(f"/api/documents/{application}/case"))["stage"])
    finally:
        reader.close()


ROLES = ((VILLAGE, Role.CLERK), (VILLAGE, Role.ADMIN), (TOWNSHIP, Role.CLERK), (TOWNSHIP, Role.REVIEWER),
         (TOWNSHIP, Role.ADMIN), (COUNTY, Role.CLERK), (COUNTY, Role.APPROVER), (COUNTY, Role.ADMIN),
         (OTHER_VILLAGE, Role.CLERK), (FAR_COUNTY, Role.APPROVER))


def test_every_case_page_renders_for_every_role(served: Served) -> None:
    """Cases at each stage (filed, 初审, 公示, approved with a certificate, refused) and the pages added for them,
    walked by every role: a page or a refusal, never a server error; hand-typed certificates are sent to the
    cases."""
    world, base = served.world, served.base
    world.services.clock.set(DAY0)
    filed_doc, approved_doc = run.filed(d := run.desk(world, base), household()), None
    try:
        early = run.filed(d, household())
        run.preliminary(d, early)
        noticed = run.filed(d, household())
        run.preliminary(d, noticed)
        run.notice(d, [noticed])
        refused = run.filed(d, household())
        ok(d.township.post(f"/api/documents/{refused}/refuse", json={"reason": "家庭人均收入高于当地低保标准"}))
    finally:
        d.close()
    approved_doc, approved_case = run.approved(world, base, household(), day0=DAY0)
    d = run.desk(world, base)
    try:
        certificate = ok(d.county.post(f"/api/cases/{approved_case}/certificate",
                                       json={"recipient": "曲阳县教育局", "purpose": "助学"}), 201)
    finally:
        d.close()
    reader = login(world, base, TOWNSHIP, Role.REVIEWER)
    try:
        cases = [ok(reader.get(f"/api/documents/{doc}/case"))["id"]
                 for doc in (filed_doc, early, noticed, refused, approved_doc)]
    finally:
        reader.close()
    documents = [filed_doc, early, noticed, refused, approved_doc, certificate["document_id"]]
    pages = ["/desk", "/desk/inbox", "/desk/documents", "/desk/cases", "/desk/new", "/desk/notices",
             *(f"/desk/cases/{c}" for c in cases), *(f"/desk/documents/{doc}" for doc in documents),
             f"/desk/documents/{approved_doc}/versions/1/pdf"]
    for office, role in ROLES:
        user = DeskClient(served, office, role)
        try:
            for path in pages:
                r = user.client.get(path)
                assert r.status_code < 500, (office, role, path, r.status_code, r.text[-2000:])
                assert r.status_code in (200, 403, 404), (office, role, path, r.status_code)
            r = user.client.get("/desk/new/dibao_certificate")
            if role is not Role.ADMIN:
                assert r.status_code == 303 and r.headers["location"].startswith("/desk/cases"), (office, role)
            assert "/desk/new/dibao_certificate" not in user.client.get("/desk/new").text
        finally:
            user.close()
    # the township's reviewer sees each case at its stage; its own steps only
    reviewer = DeskClient(served, TOWNSHIP, Role.REVIEWER)
    try:
        text = reviewer.client.get(f"/desk/cases/{cases[1]}").text
        assert 'id="step-notice"' in text and 'id="step-report"' not in text and "尚未在申请人所在村" in text
        text = reviewer.client.get(f"/desk/cases/{cases[4]}").text
        assert 'id="certificate-form"' in text and 'id="decision-amount"' in text
    finally:
        reviewer.close()
