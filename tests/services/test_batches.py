"""Batches (issue 12): the CLI on SQLite (in-process), and on PostgreSQL the HTTP API plus real `minseal worker`
processes, one of them killed with SIGKILL mid-batch."""

from __future__ import annotations

import copy
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
from api.storage.models import AuditRow, BatchItemRow, DocumentRow
from templates import Catalogue
from tests.conftest import database_url_for
from tests.support.service_world import COUNTY, TOWNSHIP, Api, World, serve_app
from tests.support.waiting import wait_for

NAMES = ["王秀英", "刘长福", "张桂兰", "陈德胜", "李淑珍", "赵国强", "孙玉梅", "周建华", "吴凤英", "郑志刚", "冯桂芝"]


def certificates(catalogue: Catalogue, n: int, *, bad_at: int | None = None) -> list[dict[str, Any]]:
    sample = catalogue.family("dibao_certificate").sample()
    items = []
    for i in range(n):
        data = copy.deepcopy(sample)
        data["holder"]["name"] = NAMES[i % len(NAMES)]
        data["serial"] = f"燕赵低证〔2026〕{1000 + i:04d}号"
        if i == bad_at:
            data["holder"]["id_number"] = "130634196805120021"  # wrong check character
        items.append(data)
    return items


def village_notices(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Per-village data lists: one 公示 per village (the notice family; the per-village split is another issue's)."""
    sample = catalogue.family("dibao_notice").sample()
    out = []
    for village in sorted({h["village"] for h in sample["households"]}):
        data = copy.deepcopy(sample)
        data["households"] = [h for h in sample["households"] if h["village"] == village]
        data["title"] = f"燕赵镇{village}2026年第11批最低生活保障拟保障对象公示"
        out.append(data)
    return out


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


def test_cli_batch_on_sqlite_reports_failures_and_is_idempotent(
        sqlite_world: World, catalogue: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world = sqlite_world
    monkeypatch.setenv("MINSEAL_DATA_DIR", str(world.settings.data_dir))
    monkeypatch.setenv("MINSEAL_KEYS_DIR", str(world.settings.keys_dir))
    items = tmp_path / "certs.json"
    items.write_text(json.dumps(certificates(catalogue, 3, bad_at=1), ensure_ascii=False), "utf-8")
    clerk = demo_username(TOWNSHIP, Role.CLERK)
    code = main(["batch", "certificates", str(items), "--as", clerk])
    out = capsys.readouterr()
    assert code == 3, out  # finished, with a failed item
    assert "完成 2，失败 1，共 3" in out.out
    assert "第 2 项（刘长福）" in out.err and "holder.id_number" in out.err
    batch_id = re.search(r"[0-9a-f]{24}", out.out).group(0)  # type: ignore[union-attr]
    runner = BatchService(world.services)
    progress = runner.progress(batch_id)
    assert (progress.done, progress.failed, progress.total, progress.finished) == (2, 1, 3, True)
    assert progress.failures[0].error_code == "INVALID_DATA"
    assert sorted(issued_per_item(world, batch_id).values()) == ["issued", "issued"]
    # a re-run after a crash: finished items are skipped
    before = len(world.services.audit_rows())
    assert [runner.run_item(batch_id, n) for n in (1, 2, 3)] == ["done", "failed", "done"]
    assert len(world.services.audit_rows()) == before
    # a crash after sealing but before the item was marked done: the re-run finds the issued document
    with world.services.db.session() as s:
        s.execute(update(BatchItemRow).where(BatchItemRow.batch_id == batch_id, BatchItemRow.number == 1)
                  .values(state="running"))
    assert runner.run_item(batch_id, 1) == "done"
    docs = list(issued_per_item(world, batch_id))
    assert len(docs) == 2
    with world.services.db.session() as s:
        ids = [s.execute(select(BatchItemRow.document_id).where(BatchItemRow.batch_id == batch_id,
                                                                BatchItemRow.number == n)).scalar_one()
               for n in (1, 3)]
    assert seal_uses(world, [i for i in ids if i]) == {i: 1 for i in ids if i}
    # every village's 公示, then re-sealing the certificates (e.g. after the township's seal was renewed)
    notices = tmp_path / "notices.json"
    notices.write_text(json.dumps(village_notices(catalogue), ensure_ascii=False), "utf-8")
    assert main(["batch", "notices", str(notices), "--as", clerk]) == 0
    assert "失败 0" in capsys.readouterr().out
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
    assert verify_chain(world.services.audit_rows()).ok


def test_batch_refusals(sqlite_world: World, catalogue: Catalogue) -> None:
    runner = BatchService(sqlite_world.services)
    with sqlite_world.services.db.session() as s:
        village_clerk = runner.principal_of(s, sqlite_world.services.identity.user(
            s, demo_username("130634100201", Role.CLERK)).id)
        township = runner.principal_of(s, sqlite_world.services.identity.user(
            s, demo_username(TOWNSHIP, Role.CLERK)).id)
    from signer.errors import ConflictError, ForbiddenError, TemplateDataError, UnknownFamilyError

    with pytest.raises(ForbiddenError):
        runner.create(village_clerk, "certificates", certificates(catalogue, 1))
    with pytest.raises(TemplateDataError):
        runner.create(township, "certificates", [])
    with pytest.raises(TemplateDataError):
        runner.create(township, "nonsense", [1])
    with pytest.raises(UnknownFamilyError):
        runner.create(township, "certificates", [{}], family="nope")
    # the user who asked is disabled before the item runs: the item fails with the reason, it does not hang
    identity = sqlite_world.services.identity
    with sqlite_world.services.db.session() as s:
        temp = identity.add_user(s, username="batch-temp", office_id=TOWNSHIP, role="clerk",
                                 password="correct horse battery")
    with sqlite_world.services.db.session() as s:
        temp_who = runner.principal_of(s, temp.id)
    batch_id = runner.create(temp_who, "certificates", certificates(catalogue, 1))
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
           "MINSEAL_WORKER_HEARTBEAT_S": "0.5", "MINSEAL_WORKER_STALLED_AFTER_S": "2"}
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


def test_workers_survive_sigkill_mid_batch(pg_world: World, catalogue: Catalogue, tmp_path: Path) -> None:
    """A worker is killed while it holds an item, whatever the machine's speed: the test holds the audit chain's
    lock, so each worker stops inside its first item (rendered, about to record the document); the kill lands
    only once the database shows both jobs taken and both workers waiting. Then every item is done exactly once."""
    world = pg_world
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with serve_app(world) as base:
            name = demo_username(TOWNSHIP, Role.CLERK)
            api = Api(base, name, world.passwords[name])
            try:
                r = api.post("/api/batches", json={"kind": "certificates", "items": certificates(catalogue, 12,
                                                                                                   bad_at=4)})
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
                assert view["failures"][0]["number"] == 5 and "holder.id_number" in view["failures"][0]["error"]
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
