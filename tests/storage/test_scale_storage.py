"""Storage and workflow on both databases (SQLite, and PostgreSQL from a throwaway cluster): the route, constraints
the domain has, and correctness under real concurrent processes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.services.demo_users import demo_username
from api.services.documents import DocumentService
from api.services.identity import Principal, Role
from api.storage import audit
from api.storage.audit import verify_chain
from api.storage.engine import Database
from api.storage.migrate import upgrade
from api.storage.models import AuditRow, DocumentRow, VersionRow
from signer.errors import ConflictError
from tests.conftest import BACKENDS, database_url_for
from tests.support import concurrency
from tests.support.cases import county_figures, household, posted_by, staff
from tests.support.public_world import DAY0
from tests.support.service_world import TOWNSHIP, VILLAGE, World


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          documents: DocumentService) -> Iterator[World]:
    root = tmp_path_factory.mktemp(f"scale-{request.param}")
    built = World(root, documents, database_url=database_url_for(request.param, request, root))
    yield built
    built.services.db.dispose()


def who(world: World, office: str, role: Role) -> Principal:
    name = demo_username(office, role)
    with world.services.db.session() as session:
        return world.services.identity.authenticate(session, name, world.passwords[name])


def at_township(world: World) -> str:
    flow, clerk = world.services.workflow, who(world, VILLAGE, Role.CLERK)
    doc = flow.create(clerk, "dibao_application", household())
    flow.seal(clerk, doc.id, opinion="经入户了解，情况属实。")
    assert flow.submit(clerk, doc.id).status == "submitted"
    return doc.id


def test_whole_route(world: World) -> None:
    flow = world.services.workflow
    world.services.clock.set(DAY0)
    doc_id = at_township(world)
    s = staff(world)
    assert flow.accept(s.township, doc_id).status == "accepted"
    [posted] = posted_by(world, s, [doc_id])  # the 公示 in the village, then the report once it ended
    world.services.clock.set(dt.date.fromisoformat(posted.end_on) + dt.timedelta(days=1))
    flow.submit(s.township, doc_id)
    view = flow.accept(s.county, doc_id, decision=county_figures(world, doc_id))
    assert view.status == "approved"
    assert [v.kind for v in view.versions] == ["rendered", "sealed", "countersigned", "approved"]
    assert world.services.db.url.split(":")[0] in ("sqlite", "postgresql+psycopg")
    assert verify_chain(world.services.audit_rows()).ok


def test_one_seal_per_box_and_one_replacement(world: World) -> None:
    doc_id = at_township(world)
    with pytest.raises(IntegrityError), world.services.db.session() as s:  # the village's box sealed twice
        s.add(VersionRow(document_id=doc_id, number=99, sha256="0" * 64, size=1, kind="sealed", office_id=VILLAGE))
        s.flush()
    first = world.services.workflow.create(who(world, VILLAGE, Role.CLERK), "dibao_application", household())
    with pytest.raises(IntegrityError), world.services.db.session() as s:  # a file re-issued twice
        for n in range(2):
            s.add(DocumentRow(id=f"dup{n}{first.id[:20]}", public_id=f"p{n}{first.id}", family=first.family,
                              title="x", owner_office_id=VILLAGE, route=[VILLAGE], route_key=f",{VILLAGE},",
                              holder_office_id=VILLAGE, status="draft", replaces_id=first.id))
            s.flush()


def test_migrations_from_empty_are_idempotent(world: World, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    backend = "postgresql" if world.services.db.url.startswith("postgresql") else "sqlite"
    db = Database(database_url_for(backend, request, tmp_path))
    upgrade(db.engine)
    upgrade(db.engine)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0009_serials"
        assert conn.exec_driver_sql("SELECT count(*) FROM batch_items").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM cases").scalar() == 0
    db.dispose()


def _spawn() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


def test_two_processes_accepting_one_file_give_one_countersign(world: World, tmp_path: Path) -> None:
    """Two workers (separate processes, own engines) accept the same file at the same moment."""
    doc_id = at_township(world)
    name = demo_username(TOWNSHIP, Role.REVIEWER)
    settings = concurrency.settings_dict(world.settings.data_dir.parent, world.services.db.url)
    with _spawn().Manager() as manager, _spawn().Pool(2) as pool:
        warm = manager.Barrier(2)  # both processes warm (imports, keys, verification) before the race
        results = pool.starmap(concurrency.accept, [(settings, name, world.passwords[name], doc_id, warm)] * 2)
    # the loser learns it either inside the write (the version moved under it) or at its check (already accepted)
    assert results.count("ok") == 1 and set(results) - {"ok"} <= {"CONCURRENT_CHANGE", "BAD_TRANSITION"}, results
    with world.services.db.session() as s:
        kinds = list(s.execute(select(VersionRow.kind).where(VersionRow.document_id == doc_id)).scalars())
        uses = s.scalar(select(func.count()).select_from(AuditRow)
                        .where(AuditRow.document_id == doc_id, AuditRow.action == "seal.use"))
    assert kinds.count("countersigned") == 1 and uses == 2
    assert verify_chain(world.services.audit_rows()).ok
    with pytest.raises(ConflictError):  # and the file moved on: a late third accept is refused too
        world.services.workflow.accept(who(world, TOWNSHIP, Role.REVIEWER), doc_id)


def test_parallel_audit_writers_keep_the_chain(world: World) -> None:
    before = len(world.services.audit_rows())
    writers, each = 4, 25
    with _spawn().Manager() as manager, _spawn().Pool(writers) as pool:
        connected = manager.Barrier(writers)  # every process started and connected before the race
        done = pool.starmap(concurrency.append_audit,
                            [(world.services.db.url, w, each, connected) for w in range(writers)])
    assert sum(n for n, _, _ in done) == writers * each
    rows = world.services.audit_rows()
    assert len(rows) == before + writers * each
    check = verify_chain(rows)
    assert check.ok, check


def test_audit_append_is_one_chain_in_one_process(world: World) -> None:
    """The lock is transaction-scoped: appends in one transaction and the next ones chain on."""
    with world.services.db.session() as s:
        a = audit.append(s, actor="t", action="test.one")
        b = audit.append(s, actor="t", action="test.two")
    assert b.prev_hash == a.hash and b.seq == a.seq + 1
