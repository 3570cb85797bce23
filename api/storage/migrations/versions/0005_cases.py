"""cases: every application is a case (案件) with its stage, the facts each tier fixed, its timeline and the ID
numbers it holds (one open case per person, as a partial unique index); objections name their application.

Existing applications migrate into cases: the stage follows from the document's status, the figures from the
accept rows of the audit chain; a person already held by an earlier case is recorded but does not hold (the
later filing is flagged ``duplicate_of`` in its facts, for staff to close). Nothing is deleted.

Revision ID: 0005_cases
Revises: 0004_scale
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005_cases"
down_revision = "0004_scale"
branch_labels = None
depends_on = None

_FAMILIES = {"dibao_application": "dibao", "temp_relief_application": "relief"}


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("village_id", sa.String(length=32), nullable=False),
        sa.Column("township_id", sa.String(length=32), nullable=True),
        sa.Column("county_id", sa.String(length=32), nullable=True),
        sa.Column("applicant_name", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=True),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("last_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["documents.id"]),
        sa.ForeignKeyConstraint(["village_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["township_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["county_id"], ["offices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    for column in ("village_id", "township_id", "county_id", "stage", "outcome"):
        op.create_index(f"ix_cases_{column}", "cases", [column])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.String(length=32), nullable=True),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "seq"),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])
    op.create_table(
        "case_persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_persons_case_id", "case_persons", ["case_id"])
    op.create_index("ix_case_persons_id_number", "case_persons", ["id_number"])
    op.create_index("uq_case_persons_one_open_case", "case_persons", ["id_number"], unique=True,
                    sqlite_where=sa.text("holds"), postgresql_where=sa.text("holds"))
    with op.batch_alter_table("objections") as batch:
        batch.add_column(sa.Column("application_id", sa.String(length=32), nullable=True))
    _migrate_documents()


def downgrade() -> None:
    with op.batch_alter_table("objections") as batch:
        batch.drop_column("application_id")
    op.drop_index("uq_case_persons_one_open_case", table_name="case_persons")
    op.drop_table("case_persons")
    op.drop_table("case_events")
    op.drop_table("cases")


# -- existing applications become cases ----------------------------------------------------------------------------
_documents = sa.table("documents", sa.column("id"), sa.column("family"), sa.column("route"), sa.column("reached"),
                      sa.column("holder_office_id"), sa.column("status"), sa.column("data"),
                      sa.column("replaced_by_id"), sa.column("created_at"), sa.column("updated_at"))
_audit = sa.table("audit_log", sa.column("seq"), sa.column("action"), sa.column("office_id"),
                  sa.column("document_id"), sa.column("detail"), sa.column("at"))
_cases = sa.table("cases", *(sa.column(c) for c in (
    "id", "kind", "application_id", "village_id", "township_id", "county_id", "applicant_name", "category", "stage",
    "outcome", "received_on", "last_on", "opened_at", "closed_at", "lock_version")), sa.column("facts", sa.JSON()))
_events = sa.table("case_events", *(sa.column(c) for c in (
    "case_id", "seq", "stage", "on", "at", "actor", "office_id", "document_id", "version", "note")))
_persons = sa.table("case_persons", *(sa.column(c) for c in ("case_id", "id_number", "name", "role", "holds")))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _day(value: Any) -> dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.date() if isinstance(value, dt.datetime) else dt.date.today()


def _stage(status: str, holder_index: int, kind: str) -> tuple[str, str]:
    """(stage, outcome) of a document migrated in its status (a township-held accepted 低保 file: 初审 done)."""
    if status == "approved":
        return "approved", "approved"
    if status == "closed":
        return "withdrawn", "withdrawn"
    if status == "refused":
        return "refused", "refused"
    if status == "submitted":
        return ("reported" if holder_index >= 2 else "received"), "open"
    return {"draft": "filed", "sealed": "sealed", "returned": "returned", "accepted": "preliminary"}.get(
        status, "filed"), "open"


def _migrate_documents() -> None:
    bind = op.get_bind()
    docs = bind.execute(sa.select(_documents).where(_documents.c.family.in_(list(_FAMILIES)),
                                                    _documents.c.replaced_by_id.is_(None))
                        .order_by(_documents.c.created_at)).all()
    held: set[str] = set()
    for doc in docs:
        route, data = _json(doc.route) or [], _json(doc.data)
        kind = _FAMILIES[doc.family]
        holder_index = route.index(doc.holder_office_id) if doc.holder_office_id in route else 0
        stage, outcome = _stage(doc.status, holder_index, kind)
        facts: dict[str, Any] = {"migrated": True}
        for row in bind.execute(sa.select(_audit).where(_audit.c.document_id == doc.id,
                                                        _audit.c.action == "document.accept")
                                .order_by(_audit.c.seq)).all():
            decision = (_json(row.detail) or {}).get("decision")
            if isinstance(decision, dict):
                key = "township" if len(route) > 1 and row.office_id == route[1] else "decision"
                facts[key] = {**decision, "on": _day(row.at).isoformat(),
                              **({"by": "county"} if key == "decision" else {})}
        case_id = secrets.token_hex(16)
        numbers: list[tuple[str, str, str]] = []
        if isinstance(data, dict):
            applicant = data.get("applicant") or {}
            seen: set[str] = set()
            for number, name, role in [(applicant.get("id_number"), applicant.get("name"), "applicant")] + [
                    (m.get("id_number"), m.get("name"), "member") for m in data.get("members") or []]:
                if number and str(number).upper() not in seen:
                    seen.add(str(number).upper())
                    numbers.append((str(number).upper(), str(name or ""), role))
        holds = outcome in ("open", "approved")
        clash = [n for n, _name, _role in numbers if n in held]
        if clash and holds:
            facts["duplicate_of_person"] = True
        created = _day(doc.created_at)
        last = _day(doc.updated_at)
        bind.execute(_cases.insert().values(
            id=case_id, kind=kind, application_id=doc.id, village_id=route[0] if route else doc.holder_office_id,
            township_id=route[1] if len(route) > 1 else None, county_id=route[2] if len(route) > 2 else None,
            applicant_name=str(((data or {}).get("applicant") or {}).get("name") or "")[:40],
            category=(data or {}).get("category"), stage=stage, outcome=outcome, facts=facts,
            received_on=created if stage not in ("filed", "sealed") else None, last_on=last,
            opened_at=doc.created_at, closed_at=doc.updated_at if outcome != "open" else None, lock_version=0))
        bind.execute(_events.insert().values(case_id=case_id, seq=1, stage=stage, on=last, at=doc.updated_at,
                                             actor="migration", office_id=None, document_id=doc.id, version=None,
                                             note="由已有文书迁移为案件"))
        for number, name, role in numbers:
            keep = holds and not clash
            bind.execute(_persons.insert().values(case_id=case_id, id_number=number, name=name[:40], role=role,
                                                  holds=keep))
            if keep:
                held.add(number)
