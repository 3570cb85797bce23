"""The service through its real routes on a real uvicorn server (127.0.0.1), with a real database and real seals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from api.http import schemas
from api.services.batches import ItemView, Progress
from api.services.demo_users import demo_username
from api.services.documents import DocumentService
from api.services.identity import Role
from api.services.publication import CompareResult, NoticeView, ObjectionView, PublicView, SealLine
from api.services.workflow import DocumentView, VersionView
from api.storage.audit import verify_chain
from api.storage.models import AuditRow, DocumentRow, VersionRow
from signer.report import DocumentFacts, Finding, SignatureFacts
from tests.support.cases import Desk, after_notice, decision_for, household, notice
from tests.support.public_world import DAY0
from tests.support.servers import free_port, wait_until_ready
from tests.support.service_world import (
    COUNTY,
    FAR_COUNTY,
    FAR_TOWNSHIP,
    FAR_VILLAGE,
    OTHER_TOWNSHIP,
    OTHER_VILLAGE,
    SAMPLE,
    TOWNSHIP,
    VILLAGE,
    Api,
    World,
    serve_app,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> World:
    return World(tmp_path_factory.mktemp("service"), documents)


@pytest.fixture(scope="module")
def base(world: World) -> Iterator[str]:
    with serve_app(world) as url:
        yield url


_OPEN: list[Api] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def user(world: World, base: str, office: str, role: Role) -> Api:
    name = demo_username(office, role)
    api = Api(base, name, world.passwords[name])
    _OPEN.append(api)
    return api


def created(api: Api, data: dict[str, Any] | None = None) -> dict[str, Any]:
    r = api.post("/api/documents", json={"family": "dibao_application", "data": data or household()})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def at_township(world: World, base: str) -> str:
    clerk = user(world, base, VILLAGE, Role.CLERK)
    doc = created(clerk)
    assert clerk.post(f"/api/documents/{doc['id']}/seal", json={}).status_code == 200
    assert clerk.post(f"/api/documents/{doc['id']}/submit").json()["status"] == "submitted"
    return str(doc["id"])


def state(world: World) -> tuple[int, int, int, set[str]]:
    with world.services.db.session() as s:
        counts = (s.scalar(select(func.count()).select_from(DocumentRow)) or 0,
                  s.scalar(select(func.count()).select_from(VersionRow)) or 0,
                  s.scalar(select(func.count()).select_from(AuditRow)) or 0)
    blobs = {p.name for p in world.settings.blobs_dir.glob("*/*")}
    return (*counts, blobs)


def test_whole_route_village_township_county(world: World, base: str) -> None:
    world.services.clock.set(DAY0)
    doc_id = at_township(world, base)
    reviewer = user(world, base, TOWNSHIP, Role.REVIEWER)
    assert doc_id in [d["id"] for d in reviewer.get("/api/inbox").json()]
    r = reviewer.post(f"/api/documents/{doc_id}/accept", data={"opinion": "经入户调查，情况属实，同意上报。"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["current_version"] == 3
    approver = user(world, base, COUNTY, Role.APPROVER)
    d = Desk(user(world, base, VILLAGE, Role.CLERK), reviewer, approver)
    [posted] = notice(d, [doc_id])  # 57号 art. 19: the 公示 in the village before the report
    after_notice(world, posted)
    assert reviewer.post(f"/api/documents/{doc_id}/submit").json()["holder_office_id"] == COUNTY
    r = approver.post(f"/api/documents/{doc_id}/accept",
                      data={"decision": json.dumps(decision_for(world, d, doc_id))})
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "approved"
    assert [v["kind"] for v in view["versions"]] == ["rendered", "sealed", "countersigned", "approved"]
    pdf = approver.get(f"/api/documents/{doc_id}/pdf").content
    assert hashlib.sha256(pdf).hexdigest() == view["versions"][-1]["sha256"]
    report = approver.post("/api/verify", files={"file": ("f.pdf", pdf, "application/pdf")}).json()
    assert report["verdict"] == "PASSED"
    assert [s["office_id"] for s in report["signatures"]] == [VILLAGE, TOWNSHIP, COUNTY]
    html = approver.post("/api/verify", files={"file": ("f.pdf", pdf)}, headers={"accept": "text/html"})
    assert "通过" in html.text and html.headers["content-type"].startswith("text/html")
    # every earlier version stays downloadable, unchanged
    v2 = approver.get(f"/api/documents/{doc_id}/versions/2/pdf").content
    assert hashlib.sha256(v2).hexdigest() == view["versions"][1]["sha256"]
    # the seal uses are in the audit chain, and the chain holds
    rows = world.services.audit_rows()
    uses = [r for r in rows if r.action == "seal.use" and r.document_id == doc_id]
    assert [u.office_id for u in uses] == [VILLAGE, TOWNSHIP, COUNTY]
    assert verify_chain(rows).ok


#: each response model and the service view it answers with (the JSON a route returns is the view's fields)
MIRRORS = [(schemas.DocumentPublic, DocumentView), (schemas.VersionPublic, VersionView),
           (schemas.NoticePublic, NoticeView), (schemas.ObjectionPublic, ObjectionView),
           (schemas.SealLinePublic, SealLine), (schemas.ComparePublic, CompareResult),
           (schemas.BatchPublic, Progress), (schemas.BatchItemPublic, ItemView),
           (schemas.FindingPublic, Finding), (schemas.SignaturePublic, SignatureFacts),
           (schemas.DocumentFactsPublic, DocumentFacts)]


@pytest.mark.parametrize(("model", "view"), MIRRORS, ids=[m.__name__ for m, _ in MIRRORS])
def test_response_models_mirror_the_views(model: type[schemas.Public], view: type[Any]) -> None:
    """A field added to a view must be added to its model on purpose (or it silently stays out of the JSON)."""
    assert list(model.model_fields) == [f.name for f in dataclasses.fields(view)]


def test_public_page_model_is_the_view_and_its_pdf_link() -> None:
    assert list(schemas.PublicPagePublic.model_fields) == [f.name for f in dataclasses.fields(PublicView)] + [
        "pdf_url"]


def test_json_answers_are_the_views_and_never_a_secret(world: World, base: str) -> None:
    clerk = user(world, base, VILLAGE, Role.CLERK)
    doc = created(clerk)
    name = demo_username(VILLAGE, Role.CLERK)
    with world.services.db.session() as session:
        who = world.services.identity.authenticate(session, name, world.passwords[name])
    assert doc == world.services.workflow.get(who, doc["id"]).to_dict()
    assert clerk.get("/api/auth/me").json() == {
        "username": name, "display_name": who.display_name, "office_id": VILLAGE, "office_name": who.office_name,
        "tier": "village", "role": "clerk", "role_label": "经办人"}
    admin = user(world, base, TOWNSHIP, Role.ADMIN)
    listed = admin.get("/api/users").json()
    assert listed and all(set(u) == {"username", "display_name", "office_id", "role", "disabled"} for u in listed)
    added = admin.post("/api/users", json={"username": "json-check", "office_id": VILLAGE, "role": "clerk",
                                           "password": "a-long-password"})
    assert added.status_code == 201 and added.json() == {"username": "json-check", "office_id": VILLAGE,
                                                         "role": "clerk"}
    entries = admin.get("/api/audit", params={"action": "user.add"}).json()
    assert entries and set(entries[-1]) == {"seq", "at", "actor", "office_id", "action", "document_id", "detail",
                                             "hash"}
    assert entries[-1]["detail"] == {"username": "json-check", "role": "clerk"}
    csv_text = admin.get("/api/audit", params={"action": "user.add", "format": "csv"}).text
    assert csv_text.startswith("\ufeff序号,时间") and "json-check" in csv_text
    token = admin.post("/api/auth/tokens", json={"name": "once"}).json()
    assert set(token) == {"token", "note"} and token["token"].startswith("mst_")


def test_bad_input_names_every_field_and_never_500(world: World, base: str) -> None:
    clerk = user(world, base, VILLAGE, Role.CLERK)
    r = clerk.post("/api/documents", json={"family": "dibao_application", "data": {"applicant": {"id_number": "1"}}})
    assert r.status_code == 422
    paths = {f["path"] for f in r.json()["fields"]}
    assert {"filled_on", "category", "applicant.id_number"} <= paths
    assert clerk.post("/api/documents", json={"family": "nope", "data": {}}).status_code == 404
    assert clerk.post("/api/documents", content=b"{not json", headers={"content-type": "application/json"}
                      ).status_code == 422
    assert clerk.post("/api/documents", json={"family": "dibao_application"}).json()["fields"][0]["path"] == "data"
    assert clerk.post("/api/verify", files={"file": ("x.pdf", b"hello")}).json()["code"] == "NOT_PDF"
    big = b"%PDF-1.7\n" + b"0" * (world.settings.max_upload_bytes + 1)
    assert clerk.post("/api/verify", files={"file": ("x.pdf", big)}).status_code == 413
    anonymous = httpx.post(f"{base}/api/documents", json={"family": "dibao_application", "data": SAMPLE})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "NOT_SIGNED_IN"


def test_csrf_and_tokens(world: World, base: str) -> None:
    clerk = user(world, base, VILLAGE, Role.CLERK)
    with httpx.Client(base_url=base, cookies=clerk.client.cookies) as no_csrf:
        r = no_csrf.post("/api/documents", json={"family": "dibao_application", "data": SAMPLE})
    assert r.status_code == 403 and r.json()["code"] == "CSRF"
    token = clerk.post("/api/auth/tokens", json={"name": "script"}).json()["token"]
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=60) as bearer:
        assert bearer.get("/api/auth/me").json()["office_id"] == VILLAGE
        assert bearer.post("/api/documents", json={"family": "dibao_application", "data": household()}
                           ).status_code == 201
    with world.services.db.session() as s:  # only the hash is stored
        assert token not in str(s.execute(text("SELECT token_hash FROM api_tokens")).all())


# -- the authorisation matrix: office × role × action ---------------------------------------------------------
ACTORS = [(VILLAGE, Role.CLERK), (VILLAGE, Role.ADMIN), (OTHER_VILLAGE, Role.CLERK), (TOWNSHIP, Role.CLERK),
          (TOWNSHIP, Role.REVIEWER), (TOWNSHIP, Role.ADMIN), (OTHER_TOWNSHIP, Role.REVIEWER),
          (COUNTY, Role.APPROVER), (COUNTY, Role.ADMIN), (FAR_COUNTY, Role.APPROVER), (FAR_TOWNSHIP, Role.REVIEWER),
          (FAR_VILLAGE, Role.CLERK)]
#: which actors may read a file that sits in the township's inbox (submitted by the village)
READERS_AT_TOWNSHIP = {(VILLAGE, Role.CLERK), (VILLAGE, Role.ADMIN), (TOWNSHIP, Role.CLERK),
                       (TOWNSHIP, Role.REVIEWER), (TOWNSHIP, Role.ADMIN)}


@pytest.fixture(scope="module")
def matrix_doc(world: World, base: str) -> str:
    return at_township(world, base)


@pytest.mark.parametrize(("office", "role"), ACTORS, ids=[f"{o}-{r.value}" for o, r in ACTORS])
def test_authorisation_matrix(world: World, base: str, matrix_doc: str, office: str, role: Role) -> None:
    api = user(world, base, office, role)
    before = len(world.services.audit_rows())
    read = api.get(f"/api/documents/{matrix_doc}")
    pdf = api.get(f"/api/documents/{matrix_doc}/versions/1/pdf")
    if (office, role) in READERS_AT_TOWNSHIP:
        assert read.status_code == 200 and pdf.status_code == 200
    else:
        assert read.status_code == 403 and read.json()["code"] in ("OTHER_OFFICE",)
        assert pdf.status_code == 403
    # actions on the file in the township's inbox: nobody but its reviewer (tested on the route) may act on it
    actions = [] if (office, role) == (TOWNSHIP, Role.REVIEWER) else [
        ("accept", {}), ("return", {"json": {"reason": "材料不全"}}), ("submit", {}), ("seal", {"json": {}})]
    for action, kwargs in actions:
        r = api.post(f"/api/documents/{matrix_doc}/{action}", **kwargs)  # type: ignore[arg-type]
        assert r.status_code in (403, 409), (action, r.status_code, r.text)
        if r.status_code == 403:
            assert r.json()["code"] in ("ROLE_FORBIDDEN", "OTHER_OFFICE", "NOT_HOLDER")
    # creating a village form: only a village clerk
    r = api.post("/api/documents", json={"family": "dibao_application", "data": household()})
    assert (r.status_code == 201) == (role is Role.CLERK and office in (VILLAGE, OTHER_VILLAGE, FAR_VILLAGE))
    # the audit log: admins only, and only their office and below
    audit = api.get("/api/audit")
    if role is Role.ADMIN:
        offices = {row["office_id"] for row in audit.json()}
        assert audit.status_code == 200 and offices
        assert FAR_VILLAGE not in offices and (office == COUNTY or COUNTY not in offices)
    else:
        assert audit.status_code == 403
    denials = [r for r in world.services.audit_rows()[before:] if r.action == "deny"]
    assert denials, "every denial leaves an audit row"


def test_accept_refuses_tampered_file_and_changes_nothing(world: World, base: str) -> None:
    doc_id = at_township(world, base)
    reviewer = user(world, base, TOWNSHIP, Role.REVIEWER)
    genuine = reviewer.get(f"/api/documents/{doc_id}/pdf").content
    tampered = genuine.replace(b"/Producer", b"/Producex", 1) if b"/Producer" in genuine else genuine[:-20]
    before = state(world)
    r = reviewer.post(f"/api/documents/{doc_id}/accept", files={"file": ("f.pdf", tampered, "application/pdf")})
    assert r.status_code == 422 and r.json()["code"] == "NOT_REGISTERED_VERSION"
    assert r.json()["report"]["verdict"] == "FAILED"
    assert state(world) == before
    # the stored blob changed behind the service's back: refused as well, nothing written
    with world.services.db.session() as s:
        sha = s.execute(select(VersionRow.sha256).where(VersionRow.document_id == doc_id, VersionRow.number == 2)
                        ).scalar_one()
    path = world.settings.blobs_dir / sha[:2] / sha
    original = path.read_bytes()
    try:
        path.write_bytes(original.replace(b"%%EOF", b"%%EOF\n% appended", 1))
        before = state(world)
        r = reviewer.post(f"/api/documents/{doc_id}/accept")
        assert r.status_code == 404 and r.json()["code"] == "BLOB_CORRUPT"
        assert state(world) == before
    finally:
        path.write_bytes(original)


def test_wrongly_sealed_import_is_refused(world: World, base: str, documents: DocumentService) -> None:
    clerk = user(world, base, OTHER_VILLAGE, Role.CLERK)
    # a form of another village sealed by that village (genuine) — imported by the wrong village
    doc = created(user(world, base, VILLAGE, Role.CLERK))
    owner = user(world, base, VILLAGE, Role.CLERK)
    owner.post(f"/api/documents/{doc['id']}/seal", json={})
    sealed = owner.get(f"/api/documents/{doc['id']}/pdf").content
    before = state(world)
    r = clerk.post("/api/documents/import", files={"file": ("f.pdf", sealed, "application/pdf")})
    assert r.status_code == 422 and r.json()["code"] == "IMPORT_NOT_OURS"
    assert state(world)[:2] == before[:2]
    r = owner.post("/api/documents/import", files={"file": ("f.pdf", sealed[:-300] + sealed[-200:])})
    assert r.status_code == 422 and r.json()["report"]["verdict"] != "PASSED"
    r = owner.post("/api/documents/import", files={"file": ("f.pdf", sealed, "application/pdf")})
    assert r.status_code == 201 and r.json()["status"] == "sealed"


def test_return_and_recreate(world: World, base: str) -> None:
    doc_id = at_township(world, base)
    reviewer = user(world, base, TOWNSHIP, Role.REVIEWER)
    assert reviewer.post(f"/api/documents/{doc_id}/return", json={"reason": ""}).status_code == 422
    r = reviewer.post(f"/api/documents/{doc_id}/return", json={"reason": "缺少收入证明，请补充后重新报送。"})
    assert r.json()["status"] == "returned" and r.json()["holder_office_id"] == VILLAGE
    clerk = user(world, base, VILLAGE, Role.CLERK)
    assert clerk.post(f"/api/documents/{doc_id}/seal", json={}).status_code == 409
    new = clerk.post(f"/api/documents/{doc_id}/recreate")
    assert new.status_code == 201
    assert new.json()["replaces_id"] == doc_id and new.json()["data"]["reason"] == SAMPLE["reason"]
    old = clerk.get(f"/api/documents/{doc_id}").json()
    assert old["status"] == "closed" and old["replaced_by_id"] == new.json()["id"]
    assert clerk.post(f"/api/documents/{doc_id}/recreate").status_code == 409


def test_two_concurrent_accepts_give_one_countersign(world: World, base: str) -> None:
    doc_id = at_township(world, base)
    results: list[int] = []

    def accept() -> None:
        results.append(user(world, base, TOWNSHIP, Role.REVIEWER).post(f"/api/documents/{doc_id}/accept").status_code)

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    with world.services.db.session() as s:
        kinds = s.execute(select(VersionRow.kind).where(VersionRow.document_id == doc_id)).scalars().all()
        uses = s.execute(select(AuditRow).where(AuditRow.document_id == doc_id, AuditRow.action == "seal.use")
                         ).scalars().all()
    assert list(kinds).count("countersigned") == 1 and len(uses) == 2


def test_audit_verify_finds_edit_delete_reorder(world: World, base: str, tmp_path: Path) -> None:
    at_township(world, base)
    db = world.services.db
    rows = world.services.audit_rows()
    assert verify_chain(rows).ok and len(rows) > 6
    env = {**os.environ, "MINSEAL_DATA_DIR": str(world.settings.data_dir),
           "MINSEAL_KEYS_DIR": str(world.settings.keys_dir)}
    cli = [sys.executable, "-m", "api.cli", "audit", "verify"]
    assert subprocess.run(cli, env=env, capture_output=True).returncode == 0
    target = rows[3].seq

    def broken(sql: str) -> str:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS audit_backup AS SELECT * FROM audit_log WHERE 0"))
            conn.execute(text("DELETE FROM audit_backup"))
            conn.execute(text("INSERT INTO audit_backup SELECT * FROM audit_log"))
            conn.execute(text(sql))
        done = subprocess.run(cli, env=env, capture_output=True, text=True)
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(text("INSERT INTO audit_log SELECT * FROM audit_backup"))
        assert done.returncode == 7, done
        return done.stderr

    assert f"第 {target} 条内容被改动" in broken(f"UPDATE audit_log SET actor='someone' WHERE seq={target}")
    assert f"第 {target} 条缺失" in broken(f"DELETE FROM audit_log WHERE seq={target}")
    with db.engine.begin() as conn:  # reorder: swap the contents of two rows, keeping their numbers
        a, b = target, target + 1
        conn.execute(text("CREATE TABLE IF NOT EXISTS audit_backup AS SELECT * FROM audit_log WHERE 0"))
        conn.execute(text("DELETE FROM audit_backup"))
        conn.execute(text("INSERT INTO audit_backup SELECT * FROM audit_log"))
        conn.execute(text(f"UPDATE audit_log SET seq=-{a} WHERE seq={a}"))
        conn.execute(text(f"UPDATE audit_log SET seq={a} WHERE seq={b}"))
        conn.execute(text(f"UPDATE audit_log SET seq={b} WHERE seq=-{a}"))
    reordered = subprocess.run(cli, env=env, capture_output=True, text=True)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(text("INSERT INTO audit_log SELECT * FROM audit_backup"))
    assert reordered.returncode == 7 and f"第 {a} 条" in reordered.stderr
    assert verify_chain(world.services.audit_rows()).ok


def test_migrations_run_from_empty(tmp_path: Path) -> None:
    from api.storage.engine import Database
    from api.storage.migrate import upgrade

    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(db.engine)
    upgrade(db.engine)  # idempotent
    with db.engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"documents", "document_versions", "audit_log", "users", "offices", "alembic_version"} <= tables
    db.dispose()


def test_real_serve_process_and_sigkill_mid_accept(world: World, base: str) -> None:
    """``minseal serve`` as a real process; SIGKILL while an accept is under way leaves the old or the new state,
    never a version row without its blob."""
    doc_id = at_township(world, base)
    port = free_port()
    # killed at a named step: the countersigned file's blob is stored, no row points at it yet
    env = {**os.environ, "MINSEAL_DATA_DIR": str(world.settings.data_dir),
           "MINSEAL_KEYS_DIR": str(world.settings.keys_dir), "MINSEAL_TEST_KILL_AT": "version:blob-stored",
           "MINSEAL_FIXED_TODAY": world.services.clock.today().isoformat()}  # the same day as this world's cases
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/healthz", timeout=60)
        assert httpx.get(f"{url}/docs").status_code == 200
        reviewer = user(world, url, TOWNSHIP, Role.REVIEWER)
        box: dict[str, Any] = {}

        def accept() -> None:
            try:
                box["r"] = reviewer.post(f"/api/documents/{doc_id}/accept")
            except httpx.TransportError as exc:
                box["e"] = exc

        t = threading.Thread(target=accept)
        t.start()
        assert proc.wait(timeout=300) == -signal.SIGKILL  # died at the step, mid-accept
        t.join()
        assert "e" in box  # the client saw the connection drop, not an answer
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    with world.services.db.session() as s:
        doc = s.get(DocumentRow, doc_id)
        assert doc is not None
        versions = s.execute(select(VersionRow).where(VersionRow.document_id == doc_id)).scalars().all()
        assert doc.current_version == len(versions)
        assert doc.status == "submitted" and len(versions) == 2  # the old state: the new version never landed
        for v in versions:
            data = world.services.blobs.get(v.sha256)  # present and whole (hash-checked)
            assert len(data) == v.size
    assert verify_chain(world.services.audit_rows()).ok
    # a temp file the killed process left behind is removed by the sweep; referenced blobs are kept
    with world.services.db.session() as s:
        referenced = {v.sha256 for v in s.execute(select(VersionRow)).scalars()}
    world.services.blobs.sweep(referenced, older_than_s=0)
    assert not list(world.settings.blobs_dir.glob("*/.tmp-*"))
    assert {p.name for p in world.settings.blobs_dir.glob("*/*")} == referenced
    # a new server picks up where the old one left off
    r = user(world, base, TOWNSHIP, Role.REVIEWER).post(f"/api/documents/{doc_id}/accept")
    assert r.status_code == 200, r.text  # the file is still where it was: the accept runs again


def test_county_approves_with_the_decision_figures(world: World, base: str, tmp_path: Path) -> None:
    """57号 art. 21: the county's decision (persons, category, standard, amount, start month) is data of its seal
    step: refused whole with every bad field named (nothing stored), else drawn inside the county's signature."""
    world.services.clock.set(DAY0)
    doc_id = at_township(world, base)
    reviewer = user(world, base, TOWNSHIP, Role.REVIEWER)
    approver = user(world, base, COUNTY, Role.APPROVER)
    d = Desk(user(world, base, VILLAGE, Role.CLERK), reviewer, approver)
    assert reviewer.post(f"/api/documents/{doc_id}/accept").status_code == 200
    [posted] = notice(d, [doc_id])
    after_notice(world, posted)
    assert reviewer.post(f"/api/documents/{doc_id}/submit").status_code == 200
    today = world.services.clock.today()
    start = (today.replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m")
    # the household: 城市 (standard 870.00), incomes 320 + 0 + 0 for three people; the amount is the township's
    # 初审 figure (the one rule's), as the case stores it
    decision = dict(decision_for(world, d, doc_id), category="B类", start_month=start)
    assert (decision["persons"], decision["standard"]) == (3, "870.00")
    amount = decision["monthly_amount"]
    before = state(world)
    bad = dict(decision, monthly_amount="3000.00", start_month=today.strftime("%Y-%m"), bonus=1)
    r = approver.post(f"/api/documents/{doc_id}/accept", data={"decision": json.dumps(bad)})
    assert r.status_code == 422, r.text
    paths = {f["path"] for f in r.json()["fields"]}
    assert {"decision.monthly_amount", "decision.start_month", "decision.bonus"} <= paths, paths
    assert approver.post(f"/api/documents/{doc_id}/accept", data={"decision": "[1]"}).status_code == 422
    # the standard of the other 申请类别 (农村) is not this application's
    rural = dict(decision, standard="700.00")
    r = approver.post(f"/api/documents/{doc_id}/accept", data={"decision": json.dumps(rural)})
    assert r.status_code == 422 and "decision.standard" in {f["path"] for f in r.json()["fields"]}, r.text
    assert state(world)[:2] == before[:2], "a refused decision stores nothing"
    r = approver.post(f"/api/documents/{doc_id}/accept", data={"decision": json.dumps(decision)})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    path = tmp_path / "approved.pdf"
    path.write_bytes(approver.get(f"/api/documents/{doc_id}/pdf").content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.replace(" ", "")
    assert amount in text.replace(",", "") and "孙股长" in text, text[text.find("县"):][:1500]
    accepted = [row for row in world.services.audit_rows()
                if row.action == "document.accept" and row.document_id == doc_id][-1]
    assert accepted.detail["decision"]["monthly_amount"] == amount
