"""Batches: the CLI on SQLite (in-process), and on PostgreSQL the HTTP API plus real `minseal worker` processes, one
of them killed with SIGKILL mid-batch. Certificate items name approved cases (derived, never retyped): the cases are
run through the real routes first, many sharing one 公示 to keep this quick."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from api.cli.main import main
from api.services.batches import BatchService
from api.services.demo_users import demo_username
from api.services.documents import DocumentService
from api.services.identity import Role
from api.storage.audit import CHAIN_LOCK_KEY, verify_chain
from api.storage.models import AuditRow, BatchItemRow, CaseRow, DocumentRow
from signer.decision import next_month
from tests.conftest import database_url_for
from tests.support.cases import after_notice, decision_for, desk, filed, household, notice, ok, preliminary
from tests.support.public_world import DAY0
from tests.support.service_world import COUNTY, TOWNSHIP, Api, World, serve_app
from tests.support.waiting import wait_for

NAMES = ["王秀英", "刘长福", "张桂兰", "陈德胜", "李淑珍", "赵国强", "孙玉梅", "周建华", "吴凤英", "郑志刚", "冯桂芝",
         "杨丽华"]


class Case:
    """One case the batch may name: its id, the applicant's name, and the ID numbers it holds."""

    def __init__(self, case_id: str, name: str, data: dict[str, Any]) -> None:
        self.id, self.name = case_id, name
        self.id_numbers = [m["id_number"] for m in data["members"]]


def cases_for_batch(world: World, base: str, names: list[str], *, not_approved: frozenset[int] = frozenset(),
                    day0: dt.date = DAY0) -> list[Case]:
    """One case per name, those at the indexes in ``not_approved`` only filed (received by the township), the
    others approved by the county — sharing ONE 公示: file all, 初审 each, one notice for all, the clock past it,
    report each, decide each. Leaves the clock on the first day of support (a certificate cannot be dated before
    the month its support starts)."""
    world.services.clock.set(day0)
    d = desk(world, base)
    try:
        filings = [(name, household(name)) for name in names]
        docs = [filed(d, data) for _, data in filings]
        going = [doc for i, doc in enumerate(docs) if i not in not_approved]
        for doc in going:
            preliminary(d, doc)
        [posted] = notice(d, going)
        after_notice(world, posted)
        for doc in going:
            ok(d.township.post(f"/api/documents/{doc}/submit"))
        for doc in going:
            decided = ok(d.county.post(f"/api/documents/{doc}/accept",
                                       data={"decision": json.dumps(decision_for(world, d, doc))}))
            assert decided["case_stage"] == "approved", decided
        world.services.clock.set(next_month(world.services.clock.today()))
        return [Case(str(ok(d.township.get(f"/api/documents/{doc}/case"))["id"]), name, data)
                for doc, (name, data) in zip(docs, filings, strict=True)]
    finally:
        d.close()


def issued_per_item(world: World, batch_id: str) -> dict[int, str]:
    with world.services.db.session() as s:
        rows = s.execute(select(BatchItemRow).where(BatchItemRow.batch_id == batch_id)).scalars().all()
        return {r.number: s.get(DocumentRow, r.document_id).status for r in rows if r.document_id}  # type: ignore[union-attr]


def seal_uses(world: World, document_ids: list[str]) -> dict[str, int]:
    with world.services.db.session() as s:
        rows = s.execute(select(AuditRow.document_id, func.count()).where(
            AuditRow.action == "seal.use", AuditRow.document_id.in_(document_ids)).group_by(AuditRow.document_id))
        return {d: int(n) for d, n in rows}


# -- SQLite: `minseal batch` runs the items itself ----------------------------------------------------------------
@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> Iterator[World]:
    root = tmp_path_factory.mktemp("batch-sqlite")
    world = World(root, documents)
    yield world
    world.services.db.dispose()


def certificates_of(world: World, case_ids: list[str]) -> dict[str, list[str]]:
    """The certificates each case records (the publication register registers them on publishing)."""
    with world.services.db.session() as s:
        return {c: [x["document_id"] for x in (s.get(CaseRow, c).facts.get("certificates") or [])]  # type: ignore[union-attr]
                for c in case_ids}


def test_cli_batch_on_sqlite_reports_failures_and_is_idempotent(
        sqlite_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world = sqlite_world
    with serve_app(world) as base:
        cases = cases_for_batch(world, base, NAMES[:3], not_approved=frozenset({1}))
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))
    monkeypatch.setenv("MINSEAL_FIXED_TODAY", world.services.clock.today().isoformat())
    # a CSV list: by case id (with whom it is for), a case still at the township, and by a member's ID number
    items = tmp_path / "certs.csv"
    with items.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["case_id", "id_number", "recipient", "purpose"])
        writer.writerow([cases[0].id, "", "燕赵县医疗保障局", "办理医疗救助"])
        writer.writerow([cases[1].id, "", "", ""])
        writer.writerow(["", cases[2].id_numbers[1], "", ""])
    clerk = demo_username(TOWNSHIP, Role.CLERK)
    code = main(["batch", "certificates", str(items), "--as", clerk])
    captured = capsys.readouterr()
    assert code == 3, captured  # finished, with a failed item
    assert "完成 2，失败 1，共 3" in captured.out
    assert f"第 2 项（{NAMES[1]}）" in captured.err and "[NOT_APPROVED]" in captured.err
    batch_id = re.search(r"[0-9a-f]{24}", captured.out).group(0)  # type: ignore[union-attr]
    runner = BatchService(world.services)
    progress = runner.progress(batch_id, with_items=True)
    assert (progress.done, progress.failed, progress.total, progress.finished) == (2, 1, 3, True)
    assert progress.failures[0].error_code == "NOT_APPROVED"
    assert [i.label for i in progress.items or []] == NAMES[:3]
    assert sorted(issued_per_item(world, batch_id).values()) == ["issued", "issued"]
    with world.services.db.session() as s:
        ids = [s.execute(select(BatchItemRow.document_id).where(BatchItemRow.batch_id == batch_id,
                                                                BatchItemRow.number == n)).scalar_one()
               for n in (1, 3)]
        made = [s.get(DocumentRow, i) for i in ids]
    # the figures are the case's: the holder is the applicant (also when a member's number named the case)
    assert [m.data["holder"]["name"] for m in made if m and m.data] == [NAMES[0], NAMES[2]]
    assert made[0] is not None and made[0].data and made[0].data["recipient"] == "燕赵县医疗保障局"
    assert certificates_of(world, [cases[0].id, cases[1].id, cases[2].id]) == {
        cases[0].id: [ids[0]], cases[1].id: [], cases[2].id: [ids[1]]}
    # a re-run after a crash: finished items are skipped
    before = len(world.services.audit_rows())
    assert [runner.run_item(batch_id, n) for n in (1, 2, 3)] == ["done", "failed", "done"]
    assert len(world.services.audit_rows()) == before
    # a crash after publishing but before the item was marked done: the re-run finds the published certificate
    with world.services.db.session() as s:
        s.execute(update(BatchItemRow).where(BatchItemRow.batch_id == batch_id, BatchItemRow.number == 1)
                  .values(state="running"))
    assert runner.run_item(batch_id, 1) == "done"
    assert len(issued_per_item(world, batch_id)) == 2
    assert seal_uses(world, [i for i in ids if i]) == {i: 1 for i in ids if i}
    assert certificates_of(world, [cases[0].id])[cases[0].id] == [ids[0]]
    # re-sealing the certificates (e.g. after the township's seal was renewed): from their stored data
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(i for i in ids if i) + "\n", "utf-8")
    assert main(["batch", "reseal", str(ids_file), "--as", clerk]) == 0
    reseal_id = re.search(r"[0-9a-f]{24}", capsys.readouterr().out).group(0)  # type: ignore[union-attr]
    with world.services.db.session() as s:
        for old in ids:
            row = s.get(DocumentRow, old)
            assert row is not None and row.status == "closed" and row.replaced_by_id
            new = s.get(DocumentRow, row.replaced_by_id)
            assert new is not None and new.status == "issued" and new.replaces_id == old
    # a re-seal item re-run with its link lost (crash between creating and recording): no second replacement
    with world.services.db.session() as s:
        s.execute(update(BatchItemRow).where(BatchItemRow.batch_id == reseal_id)
                  .values(state="pending", document_id=None))
        count = s.scalar(select(func.count()).select_from(DocumentRow))
    assert runner.run_item(reseal_id, 1) == "done"
    with world.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(DocumentRow)) == count
    # 公示 are built from the township's cases at the desk: there is no batch of typed notices any more
    notices = tmp_path / "notices.json"
    notices.write_text(json.dumps([{"title": "某村公示"}], ensure_ascii=False), "utf-8")
    assert main(["batch", "notices", str(notices), "--as", clerk]) != 0
    capsys.readouterr()
    assert verify_chain(world.services.audit_rows()).ok


def test_batch_refusals(sqlite_world: World) -> None:
    runner = BatchService(sqlite_world.services)
    with sqlite_world.services.db.session() as s:
        village_clerk = runner.principal_of(s, sqlite_world.services.identity.user(
            s, demo_username("130634100201", Role.CLERK)).id)
        township = runner.principal_of(s, sqlite_world.services.identity.user(
            s, demo_username(TOWNSHIP, Role.CLERK)).id)
    from signer.errors import ConflictError, ForbiddenError, TemplateDataError, UnknownFamilyError

    with pytest.raises(ForbiddenError):
        runner.create(village_clerk, "certificates", [{"case_id": "c1"}])
    with pytest.raises(TemplateDataError):
        runner.create(township, "certificates", [])
    for kind in ("nonsense", "notices"):  # typed 公示 are no batch: they are built from cases
        with pytest.raises(TemplateDataError):
            runner.create(township, kind, [1])
    with pytest.raises(UnknownFamilyError):
        runner.create(township, "certificates", [{"case_id": "c1"}], family="nope")
    with pytest.raises(TemplateDataError):  # the family is the case's certificate: no other template
        runner.create(township, "certificates", [{"case_id": "c1"}], family="dibao_notice")
    # items name a case: typed certificate data, both or neither key, unknown fields are refused up front
    with pytest.raises(TemplateDataError) as typed:
        runner.create(township, "certificates", [{"case_id": "c1"}, {"holder": {"name": "王秀英"}, "persons": 2},
                                                 {"case_id": "c2", "id_number": "130634196805120026"}, {}, "c3"])
    assert {p.path for p in typed.value.problems} == {"items[1].holder", "items[1].persons", "items[2]",
                                                      "items[3]", "items[4]"}
    # an ID number or a case id no case of this office's area holds: the item fails with the reason when it runs
    unknown = runner.create(township, "certificates", [{"id_number": "130634196805120026"}, {"case_id": "nope"}])
    assert [runner.run_item(unknown, n) for n in (1, 2)] == ["failed", "failed"]
    assert [f.error_code for f in runner.progress(unknown).failures] == ["UNKNOWN_CASE", "UNKNOWN_CASE"]
    assert [f.label for f in runner.progress(unknown).failures] == ["第 1 项", "第 2 项"]
    # the user who asked is disabled before the item runs: the item fails with the reason, it does not hang
    identity = sqlite_world.services.identity
    with sqlite_world.services.db.session() as s:
        temp = identity.add_user(s, username="batch-temp", office_id=TOWNSHIP, role="clerk",
                                 password="correct horse battery")
    with sqlite_world.services.db.session() as s:
        temp_who = runner.principal_of(s, temp.id)
    batch_id = runner.create(temp_who, "certificates", [{"case_id": "c1"}])
    with sqlite_world.services.db.session() as s:
        identity.set_disabled(s, "batch-temp", True, actor="test")
    assert runner.run_item(batch_id, 1) == "failed"
    assert runner.progress(batch_id).failures[0].error_code == "USER_DISABLED"
    # POST /api/batches needs the queue, which needs PostgreSQL: a clear refusal on SQLite
    from api.services.queue import require_postgres

    with pytest.raises(ConflictError) as refused:
        require_postgres(sqlite_world.services.db.url)
    assert refused.value.code == "QUEUE_NEEDS_POSTGRESQL"


# -- PostgreSQL: HTTP API + real worker processes, one killed mid-batch ---------------------------------------------
@pytest.fixture(scope="module")
def pg_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             documents: DocumentService) -> Iterator[World]:
    root = tmp_path_factory.mktemp("batch-pg")
    world = World(root, documents, database_url=database_url_for("postgresql", request, root))
    yield world
    world.services.db.dispose()


def _worker(world: World, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MINSEAL_DATA_DIR": str(world.settings.data_dir),
           "MINSEAL_KEYS_DIR": str(world.settings.keys_dir), "MINSEAL_DATABASE_URL": world.services.db.url,
           "MINSEAL_WORKER_HEARTBEAT_S": "0.5", "MINSEAL_WORKER_STALLED_AFTER_S": "2",
           "MINSEAL_FIXED_TODAY": world.services.clock.today().isoformat()}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _chain_lock_waiters(world: World) -> int:
    """Backends of this database waiting for an advisory lock (here: the audit chain's, which the test holds)."""
    with world.services.db.engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                                  "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
                   .scalar_one())


def _jobs(world: World, status: str) -> int:
    with world.services.db.engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = :s"), {"s": status})
                   .scalar_one())


def test_workers_survive_sigkill_mid_batch(pg_world: World, tmp_path: Path) -> None:
    """A worker is killed while it holds an item, whatever the machine's speed: the test holds the audit chain's
    lock, so each worker stops inside its first item (rendered, about to record the document); the kill lands
    only once the database shows both jobs taken and both workers waiting. Then every item is done exactly once."""
    world = pg_world
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with serve_app(world) as base:
            cases = cases_for_batch(world, base, NAMES, not_approved=frozenset({4}))
            name = demo_username(TOWNSHIP, Role.CLERK)
            api = Api(base, name, world.passwords[name])
            try:
                # by case id, every other one by an ID number the case holds; the fifth case is not approved
                items = [{"case_id": c.id} if n % 2 else {"id_number": c.id_numbers[-1], "purpose": "办理助学金"}
                         for n, c in enumerate(cases)]
                r = api.post("/api/batches", json={"kind": "certificates", "items": items})
                assert r.status_code == 202, r.text
                batch_id = r.json()["id"]
                assert r.json()["total"] == 12
                assert _jobs(world, "todo") == 12
                with world.services.db.engine.connect() as holder:
                    holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": CHAIN_LOCK_KEY})
                    holder.commit()
                    try:
                        workers += [_worker(world, log) for log in logs]
                        wait_for(lambda: _jobs(world, "doing") == 2 and _chain_lock_waiters(world) == 2,
                                 "both workers inside an item, waiting for the audit chain")
                        with world.services.db.session() as s:
                            held = sorted(s.execute(select(BatchItemRow.number).where(
                                BatchItemRow.batch_id == batch_id, BatchItemRow.state == "running")).scalars())
                        assert len(held) == 2, held
                        workers[0].send_signal(signal.SIGKILL)  # mid-item: its job stays 'doing' until re-queued
                        workers[0].wait()
                    finally:
                        holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": CHAIN_LOCK_KEY})
                        holder.commit()
                wait_for(lambda: api.get(f"/api/batches/{batch_id}").json()["finished"], "the batch")
                view = api.get(f"/api/batches/{batch_id}", params={"items": "true"}).json()
                assert (view["done"], view["failed"], view["total"]) == (11, 1, 12), view
                assert view["failures"][0]["number"] == 5 and view["failures"][0]["error_code"] == "NOT_APPROVED"
                assert [i["label"] for i in view["items"]] == NAMES
                assert view["items_per_second"] > 0 and view["eta_seconds"] == 0
                # the killed worker's item was taken again (a second attempt) and finished
                attempts = {i["number"]: i["attempts"] for i in view["items"]}
                assert max(attempts[n] for n in held) >= 2, (held, attempts)
                # another office cannot see the batch
                other = Api(base, demo_username(COUNTY, Role.APPROVER),
                            world.passwords[demo_username(COUNTY, Role.APPROVER)])
                try:
                    assert other.get(f"/api/batches/{batch_id}").status_code == 200  # the county is above
                finally:
                    other.close()
                far = Api(base, demo_username("130635100", Role.CLERK),
                          world.passwords[demo_username("130635100", Role.CLERK)])
                try:
                    assert far.get(f"/api/batches/{batch_id}").status_code == 404
                finally:
                    far.close()
            finally:
                api.close()
        assert "已启动" in logs[1].read_text("utf-8", "replace")
        # the killed worker's job went back on the queue and was run by the survivor
        with world.services.db.engine.connect() as c:
            retried = c.execute(text("SELECT count(*) FROM procrastinate_events WHERE type='deferred_for_retry'")
                                ).scalar_one()
        assert retried >= 1
        assert _jobs(world, "doing") == 0 and _jobs(world, "todo") == 0
        # no item lost or doubled: one issued document per good item, each sealed exactly once
        statuses = issued_per_item(world, batch_id)
        assert sorted(statuses) == [n for n in range(1, 13) if n != 5]
        assert set(statuses.values()) == {"issued"}
        with world.services.db.session() as s:
            ids = [d for d in s.execute(select(BatchItemRow.document_id).where(BatchItemRow.batch_id == batch_id)
                                        ).scalars() if d]
            issued = s.scalar(select(func.count()).select_from(DocumentRow).where(
                DocumentRow.family == "dibao_certificate", DocumentRow.status == "issued"))
        assert issued == 11
        assert seal_uses(world, ids) == {i: 1 for i in ids}
        assert verify_chain(world.services.audit_rows()).ok
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
