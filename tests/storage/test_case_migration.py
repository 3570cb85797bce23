"""Migration 0005 on a database that already holds applications (SQLite and PostgreSQL): every application becomes a
case with its stage and the figures its accept rows recorded, a shared ID number is held by one case only, and
nothing is lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from api.storage.engine import Database
from api.storage.migrate import alembic_config, upgrade
from tests.conftest import BACKENDS, database_url_for
from tests.support.cases import household
from tests.support.service_world import COUNTY, TOWNSHIP, VILLAGE

ROUTE = [VILLAGE, TOWNSHIP, COUNTY]
T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=BACKENDS)
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database at revision 0004 (before cases)."""
    db = Database(database_url_for(request.param, request, tmp_path))
    config = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_scale")
    yield db
    db.dispose()


def _col(name: str) -> sa.ColumnClause[Any]:
    """A column typed as the models type it (JSON and dates must be bound as such on both databases)."""
    if name in ("route", "data", "detail"):
        return sa.column(name, sa.JSON())
    if name in ("created_at", "updated_at", "at"):
        return sa.column(name, sa.DateTime(timezone=True))
    return sa.column(name)


def _tables() -> dict[str, sa.TableClause]:
    return {
        "offices": sa.table("offices", *(_col(c) for c in (
            "id", "name", "tier", "parent_id", "seal_diameter_mm", "key_store", "clerks_may_seal"))),
        "documents": sa.table("documents", *(_col(c) for c in (
            "id", "public_id", "family", "title", "owner_office_id", "route", "route_key", "reached",
            "holder_office_id", "status", "data", "current_version", "created_at", "updated_at", "lock_version")),
                              ),
        "audit_log": sa.table("audit_log", *(_col(c) for c in (
            "seq", "at", "actor", "office_id", "action", "document_id", "detail", "prev_hash", "hash"))),
    }


def _document(doc_id: str, data: dict[str, Any], *, status: str, holder: str, reached: int, day: int) -> dict[str, Any]:
    at = T0 + dt.timedelta(days=day)
    return {"id": doc_id, "public_id": f"p-{doc_id}", "family": "dibao_application", "title": "最低生活保障申请审批表",
            "owner_office_id": VILLAGE, "route": ROUTE, "route_key": "," + ",".join(ROUTE) + ",", "reached": reached,
            "holder_office_id": holder, "status": status, "data": data, "current_version": 1, "created_at": at,
            "updated_at": at, "lock_version": 0}


def test_existing_applications_become_cases(old_db: Database) -> None:
    t = _tables()
    first, second, third = household("老案一"), household("老案二"), household("老案三")
    shared = first["members"][1]["id_number"]  # a member of the approved household applies again
    second["applicant"]["id_number"] = second["members"][0]["id_number"] = shared
    decision = {"persons": 3, "category": "A类", "standard": "870.00", "monthly_amount": "2290.00",
                "start_month": "2026-11"}
    township = {"persons": 3, "monthly_amount": "2290.00"}
    with old_db.engine.begin() as conn:
        for office, name, tier, parent in ((COUNTY, "曲阳县民政局", "county", None),
                                            (TOWNSHIP, "燕赵镇人民政府", "township", COUNTY),
                                            (VILLAGE, "东沟南村村民委员会", "village", TOWNSHIP)):
            conn.execute(t["offices"].insert().values(id=office, name=name, tier=tier, parent_id=parent,
                                                      seal_diameter_mm=42.0, key_store="p12", clerks_may_seal=True))
        conn.execute(t["documents"].insert().values(**_document("a1", first, status="approved", holder=COUNTY,
                                                                reached=2, day=0)))
        conn.execute(t["documents"].insert().values(**_document("a2", second, status="sealed", holder=VILLAGE,
                                                                reached=0, day=20)))
        conn.execute(t["documents"].insert().values(**_document("a3", third, status="accepted", holder=TOWNSHIP,
                                                                reached=1, day=21)))
        rows = [(TOWNSHIP, "a1", {"version": 3, "decision": township}, 3),
                (COUNTY, "a1", {"version": 4, "decision": decision}, 15),
                (TOWNSHIP, "a3", {"version": 3, "decision": township}, 22)]
        for seq, (office, doc, detail, day) in enumerate(rows, start=1):
            conn.execute(t["audit_log"].insert().values(
                seq=seq, at=T0 + dt.timedelta(days=day), actor="u", office_id=office, action="document.accept",
                document_id=doc, detail=detail, prev_hash=f"{seq - 1:064d}", hash=f"{seq:064d}"))
        documents = conn.execute(sa.text("SELECT count(*) FROM documents")).scalar()

    upgrade(old_db.engine)

    with old_db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0009_serials"
        assert conn.execute(sa.text("SELECT count(*) FROM documents")).scalar() == documents  # nothing lost
        cases = {r.application_id: r for r in conn.execute(sa.text(
            "SELECT id, application_id, stage, outcome, facts, village_id, township_id, county_id, applicant_name, "
            "category FROM cases"))}
        assert set(cases) == {"a1", "a2", "a3"}  # every application has its case
        assert {k: (c.stage, c.outcome) for k, c in cases.items()} == {
            "a1": ("approved", "approved"), "a2": ("sealed", "open"), "a3": ("preliminary", "open")}
        facts = {k: _json(c.facts) for k, c in cases.items()}
        assert {k: v for k, v in facts["a1"]["decision"].items() if k in decision} == decision
        assert facts["a1"]["decision"]["by"] == "county"
        assert facts["a1"]["township"]["monthly_amount"] == "2290.00"
        assert facts["a3"]["township"]["persons"] == 3 and "decision" not in facts["a3"]
        assert (cases["a1"].village_id, cases["a1"].township_id, cases["a1"].county_id) == tuple(ROUTE)
        assert cases["a1"].applicant_name == "老案一" and cases["a1"].category == "城市"
        holders = conn.execute(sa.text("SELECT case_id FROM case_persons WHERE id_number = :n AND holds"),
                               {"n": shared}).scalars().all()
        assert holders == [cases["a1"].id]  # the shared ID number: held by one case only
        recorded = conn.execute(sa.text("SELECT count(*) FROM case_persons WHERE id_number = :n"),
                                {"n": shared}).scalar()
        assert recorded == 2  # still recorded on the later filing
        assert facts["a2"].get("duplicate_of_person") is True
        events = conn.execute(sa.text("SELECT count(*) FROM case_events")).scalar()
        assert events == 3


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
