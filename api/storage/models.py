"""The database tables (SQLAlchemy 2.0). Nothing SQLite-only: the same models and migrations run on PostgreSQL.

Blobs (PDFs) are not stored here: a version row holds the SHA-256 that addresses its bytes in the blob store.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, list[Any]: JSON, dt.datetime: DateTime(timezone=True)}


class OfficeRow(Base):
    """The office registry (imported once from registry.toml)."""

    __tablename__ = "offices"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"), default=None)
    credit_code: Mapped[str | None] = mapped_column(String(18), default=None)
    seal_diameter_mm: Mapped[float] = mapped_column(Float)
    seal_bottom_text: Mapped[str | None] = mapped_column(String(40), default=None)
    key_store: Mapped[str] = mapped_column(String(64))
    #: 防伪编码 along the seal's lower arc (where the office's seal carries one)
    seal_security_code: Mapped[str | None] = mapped_column(String(16), default=None)
    #: the centre emblem's polygons (unit box) where the seal carries another emblem than the star
    seal_emblem: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    #: where the office's seal comes from (signer.providers.spec_to_json; NULL: MinSeal's own CA)
    seal_provider: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: may this office's clerks seal (village stations usually do; a township may reserve it to reviewers)
    clerks_may_seal: Mapped[bool] = mapped_column(Boolean, default=True)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiTokenRow(Base):
    """Stored as SHA-256 of the token (tokens are 256-bit random; a slow hash adds nothing)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSessionRow(Base):
    """A signed-in browser: in the database, so any worker can serve it."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column()


class DocumentRow(Base):
    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: what the QR code carries: random, ≥ 96 bits, never derived from the internal id
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    family: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(120))
    owner_office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    #: office ids along the route, from the registry at creation (village, township, county)
    route: Mapped[list[Any]] = mapped_column(JSON)
    #: the route as ",id,id,id," so any database can find an office's documents (LIKE '%,id,%')
    route_key: Mapped[str] = mapped_column(String(200), index=True)
    #: how far up the route the file has been sent (index into route); who may see it follows from this
    reached: Mapped[int] = mapped_column(Integer, default=0)
    #: whose inbox it is in
    holder_office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    return_reason: Mapped[str | None] = mapped_column(Text, default=None)
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), default=None)
    replaced_by_id: Mapped[str | None] = mapped_column(String(32), default=None)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: optimistic lock: every transition is UPDATE … WHERE lock_version = the one read
    lock_version: Mapped[int] = mapped_column(Integer, default=0)


class VersionRow(Base):
    """Every state of a document's file; never updated, never deleted."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # rendered | sealed | countersigned | approved | imported
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditRow(Base):
    """The 用印日志 and audit trail: append-only, each row carrying the hash of the previous one."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(64))
    office_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    action: Mapped[str] = mapped_column(String(32), index=True)
    document_id: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ReportCacheRow(Base):
    """Verification reports by (file SHA-256, trust configuration): shared by every worker."""

    __tablename__ = "report_cache"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    trust_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SealCertificateRow(Base):
    """The seal ledger: every certificate ever issued (imported once from pki/ledger.json), in issue order."""

    __tablename__ = "seal_certificates"
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: issue order (a record's position in the ledger); "the latest certificate of an office" is the highest
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    office_id: Mapped[str] = mapped_column(String(32), index=True)
    algorithm: Mapped[str] = mapped_column(String(32))
    key_store: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[str] = mapped_column(String(40))
    not_after: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[str | None] = mapped_column(String(40), default=None)
    reason: Mapped[str | None] = mapped_column(String(40), default=None)


class PkiStateRow(Base):
    """The CA's small state beside the ledger: the last CRL number, and a key switch in progress (pending)."""

    __tablename__ = "pki_state"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class PublicationRow(Base):
    """A notice's or certificate's public life: 公示 period, state, versions, revocation. The ``public``
    column holds exactly what its public page may show, computed when the notice was built."""

    __tablename__ = "publications"
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    #: notice (公示) | result (结果公布) | certificate
    kind: Mapped[str] = mapped_column(String(16))
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    #: the versions of one village's 公示 share the first version's document id
    series_id: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    village: Mapped[str | None] = mapped_column(String(60), default=None)
    #: draft | published | withdrawn | superseded | revoked (expiry follows from the dates and the clock)
    state: Mapped[str] = mapped_column(String(16), index=True)
    start_on: Mapped[dt.date | None] = mapped_column(default=None)
    end_on: Mapped[dt.date | None] = mapped_column(default=None)
    days: Mapped[int | None] = mapped_column(Integer, default=None)
    working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_until: Mapped[dt.date | None] = mapped_column(default=None)
    public: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the applications the list was built from (staff only)
    application_ids: Mapped[list[Any]] = mapped_column(JSON)
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: why it was withdrawn or revoked (staff only; never on a public page)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    superseded_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ObjectionRow(Base):
    """异议 raised during a 公示. The objector's name and contact are for staff only, never shown publicly."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("publications.document_id"), index=True)
    received_on: Mapped[dt.date] = mapped_column()
    channel: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    objector_name: Mapped[str | None] = mapped_column(String(40), default=None)
    objector_contact: Mapped[str | None] = mapped_column(String(60), default=None)
    #: the application the objection is about (its case goes back to the township for re-investigation)
    application_id: Mapped[str | None] = mapped_column(String(32), default=None)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- scale (batches; constraints the domain has) ---------------------------------------------------------------
#: one seal per box: an office seals a document once (its box); imported and rendered versions carry no new seal
_SEALING = "kind IN ('sealed', 'countersigned', 'approved')"
sa.Index("uq_versions_one_seal_per_box", VersionRow.document_id, VersionRow.office_id, unique=True,
         sqlite_where=sa.text(_SEALING), postgresql_where=sa.text(_SEALING))
#: one current version of a re-issued file: a document is replaced by at most one other
sa.Index("uq_documents_replaces_once", DocumentRow.replaces_id, unique=True,
         sqlite_where=sa.text("replaces_id IS NOT NULL"), postgresql_where=sa.text("replaces_id IS NOT NULL"))


class BatchRow(Base):
    """A batch (a county-wide round of certificates, every village's 公示, a re-seal): who asked, what, how many."""

    __tablename__ = "batches"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # certificates | notices | reseal
    family: Mapped[str | None] = mapped_column(String(64), default=None)
    #: the items run as this user (authorisation and the audit chain as if they had acted themselves)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BatchItemRow(Base):
    """One item of a batch: its input, its state, the document it made (the link that makes re-runs idempotent)."""

    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: what a person recognises the item by (applicant name, village, document id)
    label: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True, default="pending")  # pending|running|done|failed
    document_id: Mapped[str | None] = mapped_column(String(32), default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


# -- the case (案件): one application and everything that follows from it -------------------------------------------
class CaseRow(Base):
    """A 低保 or 临时救助 case: its stage, and the facts each tier fixed when it sealed (stored once, read by every
    later document and page). Its application is the document the village filed; a re-filed application (after a
    return) takes its place in the same case."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: dibao | relief
    kind: Mapped[str] = mapped_column(String(16))
    application_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), unique=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), index=True)
    township_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"), index=True, default=None)
    county_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"), index=True, default=None)
    applicant_name: Mapped[str] = mapped_column(String(40))
    #: 申请类别 (城市 / 农村) as the application states it
    category: Mapped[str | None] = mapped_column(String(8), default=None)
    #: see api.services.states.CaseStage
    stage: Mapped[str] = mapped_column(String(24), index=True)
    #: open | approved | refused | withdrawn
    outcome: Mapped[str] = mapped_column(String(16), index=True, default="open")
    #: the facts each tier fixed: {"township": {...}, "notice": {...}, "county": {...}, "certificates": [...]}
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: 受理: the day the township received the file (the 57号 deadlines run from here)
    received_on: Mapped[dt.date | None] = mapped_column(default=None)
    #: the day of the last stage (every next stage is on or after it)
    last_on: Mapped[dt.date] = mapped_column()
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    lock_version: Mapped[int] = mapped_column(Integer, default=0)


class CaseEventRow(Base):
    """One stage of a case: what happened, on which day, by whom, and the sealed version it produced."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(24))
    on: Mapped[dt.date] = mapped_column()
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    office_id: Mapped[str | None] = mapped_column(String(32), default=None)
    document_id: Mapped[str | None] = mapped_column(String(32), default=None)
    version: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)


class CasePersonRow(Base):
    """An ID number a case holds (the applicant and each member). ``holds`` is true while the case is open or its
    household receives support: the partial unique index makes "one open case per person" a database constraint,
    so two simultaneous filings cannot both pass a check."""

    __tablename__ = "case_persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(40))
    #: applicant | member
    role: Mapped[str] = mapped_column(String(16))
    holds: Mapped[bool] = mapped_column(Boolean, default=True)


sa.Index("uq_case_persons_one_open_case", CasePersonRow.id_number, unique=True,
         sqlite_where=sa.text("holds"), postgresql_where=sa.text("holds"))


class ScanRow(Base):
    """A scan of a page signed by hand (授权书, 入户调查表, 评议记录, 发放记录 …), kept with its case. Like a version,
    the row holds the SHA-256 that addresses its bytes in the blob store; never updated, never deleted."""

    __tablename__ = "case_scans"
    #: the same bytes twice in one case is a double submission, refused by the database too
    __table_args__ = (UniqueConstraint("case_id", "sha256"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    #: the paper this page is the signed copy of (a document of the same case), if known
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), default=None)
    #: what the page is, as staff name it (授权书签字页 …)
    label: Mapped[str] = mapped_column(String(40))
    #: the uploaded file's own name, sanitised (shown and offered on download; never used as a path)
    filename: Mapped[str] = mapped_column(String(120))
    #: sniffed from the bytes: application/pdf, image/png or image/jpeg
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ThrottleRow(Base):
    """One counter of the request throttle (failed sign-ins per account and per address, public page hits per
    address), shared by every worker process through the database. A counter's window opens at its first hit and
    the count starts again once the window has passed."""

    __tablename__ = "throttle_counts"
    #: what is counted: signin-account, signin-address, public-page, public-upload
    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: whom: a user name (lower case) or a client address
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: the window's start, seconds since the epoch (a float compares the same way on SQLite and PostgreSQL)
    started_at: Mapped[float] = mapped_column(Float)
    hits: Mapped[int] = mapped_column(Integer)


class SerialRow(Base):
    """The last 文号 serial an office gave in one series (a case paper's family, its certificates). Taken by
    :func:`api.storage.repositories.next_serial` in its own transaction: the UPDATE locks the row (PostgreSQL) or
    the database (SQLite's BEGIN IMMEDIATE), so two simultaneous issues get two numbers."""

    __tablename__ = "serial_counters"
    office_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    series: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
