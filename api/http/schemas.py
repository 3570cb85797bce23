"""What the JSON routes accept (…Create and other bodies) and what they answer (…Public).

Every JSON answer goes through a …Public model: a field that is not declared here never reaches a client, so a new
column or a new field of a service's view (a password hash, a token hash, a staff-only note) cannot leak by
accident. The models mirror the services' views field for field (``tests/http/test_service.py`` checks that they
still do); building one from a view is ``Model.model_validate(view)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.services.batch_inputs import MAX_ITEMS
from api.services.identity import Principal

#: a version number in a path: beyond it no document goes (and the database's integer never overflows)
VERSION_MAX = 100_000

class Public(BaseModel):
    """A response model: built from a service's view (a dataclass) or a dict; undeclared input is dropped."""

    model_config = ConfigDict(from_attributes=True)


# -- sign-in -------------------------------------------------------------------------------------------------------
class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=200)


class TokenCreate(BaseModel):
    name: str = Field(default="api", max_length=64)


class MePublic(Public):
    """The signed-in caller."""

    username: str
    display_name: str
    office_id: str
    office_name: str
    tier: str
    role: str
    role_label: str

    @classmethod
    def of(cls, principal: Principal) -> MePublic:
        return cls(username=principal.username, display_name=principal.display_name,
                   office_id=principal.office_id, office_name=principal.office_name, tier=principal.tier.value,
                   role=principal.role.value, role_label=principal.role.label)


class LoginPublic(Public):
    user: MePublic
    #: the session's CSRF token: sent back in the x-csrf-token header of every change
    csrf_token: str


class StatusPublic(Public):
    status: str


class TokenPublic(Public):
    """A new API token: the only time it is shown (only its hash is stored)."""

    token: str
    note: str


# -- users and the audit log ---------------------------------------------------------------------------------------
class UserCreate(BaseModel):
    username: str = Field(max_length=64)
    office_id: str = Field(max_length=32)
    role: str = Field(max_length=16)
    password: str = Field(min_length=10, max_length=200)
    display_name: str | None = Field(default=None, max_length=64)


class UserPublic(Public):
    """A user as an admin sees it (never the password hash)."""

    username: str
    display_name: str
    office_id: str
    role: str
    disabled: bool


class NewUserPublic(Public):
    username: str
    office_id: str
    role: str


class AuditEntryPublic(Public):
    seq: int
    #: ISO 8601, to the second
    at: str
    actor: str
    office_id: str | None
    action: str
    document_id: str | None
    detail: dict[str, Any]
    hash: str


# -- documents -----------------------------------------------------------------------------------------------------
class DocumentCreate(BaseModel):
    family: str = Field(max_length=64)
    data: dict[str, Any]


class DocumentEdit(BaseModel):
    """A draft's new data (the whole of it, as at creation); the family and the route stay the draft's."""

    data: dict[str, Any]


class SealBody(BaseModel):
    opinion: str | None = Field(default=None, max_length=300)


class ReturnBody(BaseModel):
    reason: str = Field(max_length=500)


class FamilyPublic(Public):
    """A document family of the catalogue."""

    id: str
    title: str
    kind: str
    tiers: list[str]


class VersionPublic(Public):
    number: int
    sha256: str
    size: int
    kind: str
    office_id: str
    note: str | None
    created_at: str


class DocumentPublic(Public):
    """A document as the offices of its route see it (``data`` holds the applicant's details)."""

    id: str
    public_id: str
    family: str
    title: str
    owner_office_id: str
    route: list[str]
    holder_office_id: str
    status: str
    status_label: str
    return_reason: str | None
    replaces_id: str | None
    replaced_by_id: str | None
    current_version: int
    created_at: str
    updated_at: str
    versions: list[VersionPublic]
    data: dict[str, Any] | None
    case_id: str | None = None
    case_stage: str | None = None
    case_stage_label: str | None = None


# -- cases -----------------------------------------------------------------------------------------------------------
class NextStepPublic(Public):
    step: str
    label: str
    office_id: str
    allowed: bool
    blocked: str | None


class DeadlinePublic(Public):
    name: str
    due: str
    done: bool
    overdue: bool


class CaseEventPublic(Public):
    seq: int
    stage: str
    stage_label: str
    on: str
    at: str
    actor: str
    office_id: str | None
    document_id: str | None
    version: int | None
    note: str | None


class CasePersonPublic(Public):
    name: str
    role: str
    id_masked: str
    holds: bool


class CasePublic(Public):
    """A case as the offices of its route see it (ID numbers masked; the full ones stay in the application)."""

    id: str
    kind: str
    kind_label: str
    application_id: str
    village_id: str
    township_id: str | None
    county_id: str | None
    applicant_name: str
    category: str | None
    stage: str
    stage_label: str
    outcome: str
    outcome_label: str
    received_on: str | None
    last_on: str
    facts: dict[str, Any]
    persons: list[CasePersonPublic]
    events: list[CaseEventPublic]
    deadlines: list[DeadlinePublic]
    next_steps: list[NextStepPublic]
    overdue: bool


class CertificateCreate(BaseModel):
    recipient: str | None = Field(default=None, max_length=40)
    purpose: str | None = Field(default=None, max_length=60)


class PaperCreate(BaseModel):
    """A paper of the case: its family and only the fields the clerk supplies (the rest comes from the case)."""

    family: str = Field(max_length=64, description="e.g. dibao_acceptance_notice, dibao_decision, dibao_card")
    data: dict[str, Any] = Field(default_factory=dict, description="the family's clerk-supplied fields only")


class PaperOptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    family: str
    title: str
    kind: str
    allowed: bool
    why_not: str | None
    inputs: list[str]
    issued: list[dict[str, Any]]


# -- batches -------------------------------------------------------------------------------------------------------
class BatchCreate(BaseModel):
    kind: str = Field(max_length=16, description="certificates | reseal | case_files")
    family: str | None = Field(default=None, max_length=64)
    #: certificates: {case_id | id_number, recipient?, purpose?} per item; reseal: document ids
    items: list[Any] = Field(min_length=1, max_length=MAX_ITEMS)


class BatchItemPublic(Public):
    number: int
    label: str
    state: str
    document_id: str | None
    error_code: str | None
    error: str | None
    attempts: int


class BatchPublic(Public):
    """How far a batch has got."""

    id: str
    kind: str
    family: str | None
    office_id: str
    total: int
    done: int
    failed: int
    running: int
    pending: int
    finished: bool
    eta_seconds: float | None
    items_per_second: float | None
    failures: list[BatchItemPublic]
    items: list[BatchItemPublic] | None


# -- notices, results, certificates --------------------------------------------------------------------------------
class Contact(BaseModel):
    office: str | None = Field(default=None, max_length=40)
    phone: str = Field(max_length=20)
    address: str = Field(max_length=60)


class Proposal(BaseModel):
    persons: int | None = Field(default=None, ge=1, le=20)
    monthly_amount: str | None = Field(default=None, max_length=12)
    category: str | None = Field(default=None, max_length=4)


class BuildNotices(BaseModel):
    objection: Contact
    start: dt.date | None = None
    days: int | None = Field(default=None, ge=1, le=30)
    overrides: dict[str, Proposal] = {}
    application_ids: list[str] | None = None


class Republish(BaseModel):
    objection: Contact
    start: dt.date | None = None
    days: int | None = Field(default=None, ge=1, le=30)
    remove: list[str] = []
    overrides: dict[str, Proposal] = {}


class BuildResult(BaseModel):
    benefit_from: dt.date
    supervision: Contact
    decisions: dict[str, Proposal] = {}


class Reason(BaseModel):
    reason: str = Field(max_length=500)


class ObjectionCreate(BaseModel):
    received_on: dt.date
    channel: str = Field(max_length=16)
    summary: str = Field(max_length=1000)
    objector_name: str | None = Field(default=None, max_length=40)
    objector_contact: str | None = Field(default=None, max_length=60)
    #: the application objected to (implied when the 公示 lists one household)
    application_id: str | None = Field(default=None, max_length=32)


class NoticePublic(Public):
    """A publication as staff see it (application ids and reasons stay on the staff side)."""

    document_id: str
    public_id: str
    kind: str
    office_id: str
    village: str | None
    series_id: str
    version: int
    state: str
    status: str
    start_on: str | None
    end_on: str | None
    days: int | None
    working_days: bool
    valid_until: str | None
    households: int
    application_ids: list[str]
    reason: str | None
    superseded_by: str | None
    objections: int


class ObjectionPublic(Public):
    """An objection as staff see it (the objector's name and contact: staff only)."""

    id: int
    document_id: str
    received_on: str
    channel: str
    summary: str
    objector_name: str | None
    objector_contact: str | None


# -- public verification (no sign-in) ------------------------------------------------------------------------------
class SealLinePublic(Public):
    office: str
    intact: bool
    trusted: bool
    time: str | None


class PublicPagePublic(Public):
    """The JSON twin of a public page: exactly what the page shows."""

    public_id: str
    kind: str
    title: str
    state: str
    status: str
    issuer: str
    issued_on: str | None
    period: dict[str, Any] | None
    rows: list[dict[str, Any]]
    serial: str | None
    valid_until: str | None
    ended_on: str | None
    sha256: str
    pdf_available: bool
    verdict: str
    verdict_label: str
    seals: list[SealLinePublic]
    superseded_by: str | None
    token: dict[str, Any] | None
    content_sha256: str | None
    holder: str | None = None
    objection: dict[str, str] | None = None
    #: where the sealed file can be fetched (notices), else None
    pdf_url: str | None


class ComparePublic(Public):
    """Is the uploaded file the registered one."""

    same: bool
    word: str
    uploaded_sha256: str
    registered_sha256: str
    verdict: str
    verdict_label: str
    seals: list[SealLinePublic]
    findings: list[str]
    holder: dict[str, Any] | None


# -- verification reports ------------------------------------------------------------------------------------------
class FindingPublic(Public):
    code: str
    message: str
    field: str | None
    indeterminate: bool


class SignaturePublic(Public):
    field_name: str
    revision: int
    office_name: str | None
    office_id: str | None
    tier: str | None
    common_name: str | None
    parent_id: str | None
    level: str
    cert_serial: str
    cert_sha256: str
    claimed_signing_time: str | None
    timestamp_time: str | None
    intact: bool
    valid: bool
    trusted: bool
    revocation: str
    revoked_at: str | None
    certification: bool
    docmdp: str | None
    changes_after: str
    coverage: str
    slot: str | None


class DocumentFactsPublic(Public):
    sha256: str
    size: int
    pages: int | None
    revisions: int | None
    ends_at_last_revision: bool
    trailing_bytes: int
    family: str | None


class ReportPublic(Public):
    """A verification report (``VerificationReport.to_dict``)."""

    verdict: str
    verdict_label: str
    findings: list[FindingPublic]
    signatures: list[SignaturePublic]
    document: DocumentFactsPublic
    #: a 案卷 checked whole: a summary and each paper (title, file name, ok, label, reasons); None for any other PDF
    case_file: dict[str, Any] | None = None
