"""What the seal ledger holds, as typed values: the one home of seal states, revocation reasons and their Chinese
labels. ``api/storage/ledger.py`` persists these as plain rows; :mod:`api.services.authority.ledger` converts."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from cryptography import x509

from api.services.offices import Office


class SealState(StrEnum):
    """A certificate's state in the ledger; ``NONE`` is an office that has never had one."""

    ACTIVE = "active"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    NONE = "none"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[str, str] = {SealState.ACTIVE: "有效", SealState.REVOKED: "已吊销",
                                 SealState.SUPERSEDED: "已更换", SealState.NONE: "未签发"}


class Reason(StrEnum):
    """Why a certificate stopped being valid (the codes the CLI and the desk accept)."""

    KEY_COMPROMISE = "key-compromise"
    AFFILIATION_CHANGED = "affiliation-changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation-of-operation"

    @property
    def flag(self) -> x509.ReasonFlags:
        return REASONS[self][0]

    @property
    def label(self) -> str:
        return REASONS[self][1]

    @property
    def state(self) -> SealState:
        """What the certificate becomes: a renewal supersedes it, every other reason revokes it."""
        return SealState.SUPERSEDED if self is Reason.SUPERSEDED else SealState.REVOKED


#: code → (the CRL's reason flag, the Chinese wording); keyed by plain strings for forms and templates
REASONS: dict[str, tuple[x509.ReasonFlags, str]] = {
    Reason.KEY_COMPROMISE: (x509.ReasonFlags.key_compromise, "密钥泄露或印章遗失"),
    Reason.AFFILIATION_CHANGED: (x509.ReasonFlags.affiliation_changed, "单位名称或隶属关系变更"),
    Reason.SUPERSEDED: (x509.ReasonFlags.superseded, "已更换新印章"),
    Reason.CESSATION_OF_OPERATION: (x509.ReasonFlags.cessation_of_operation, "单位撤销"),
}


def reason_label(reason: str | None) -> str:
    """The Chinese wording of a revocation reason (never the raw English code)."""
    if reason is None:
        return "未说明"
    return REASONS[reason][1] if reason in REASONS else "其他"


def iso(value: dt.datetime) -> str:
    """Ledger times: UTC, to the second, ISO 8601."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class CertRecord:
    """One certificate ever issued to an office."""

    #: the certificate's serial number, lower-case hex
    serial: str
    office_id: str
    #: ``signer.pki.KeyAlgorithm`` value
    algorithm: str
    #: ``p12`` or ``pkcs11:<token label>``
    key_store: str
    not_before: str
    not_after: str
    status: SealState
    #: set once revoked or superseded (ISO 8601, UTC)
    revoked_at: str | None = None
    #: a :class:`Reason` code, set with ``revoked_at``
    reason: str | None = None

    @property
    def revoked(self) -> bool:
        """Listed on the CRL: it has a revocation time and a reason."""
        return self.revoked_at is not None and self.reason is not None

    def ended(self, reason: Reason, at: str) -> CertRecord:
        """This record revoked (or superseded) at ``at`` for ``reason``."""
        return CertRecord(**{**asdict(self), "status": reason.state, "revoked_at": at, "reason": reason.value})

    def to_row(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CertRecord:
        return cls(**{**row, "status": SealState(row["status"])})


@dataclass(frozen=True)
class PendingSwitch:
    """A key switch recorded before it is carried out, so a crash half-way is finished by the next start."""

    office_id: str
    #: the key id the new key was made under
    staged: str
    #: where the office's previous key goes (kept, never deleted)
    archive: str
    record: CertRecord
    old_serial: str | None
    #: what happens to the old certificate (None: it stays as it is)
    reason: Reason | None
    at: str

    def to_row(self) -> dict[str, Any]:
        return {"office_id": self.office_id, "staged": self.staged, "archive": self.archive,
                "record": self.record.to_row(), "old_serial": self.old_serial,
                "reason": self.reason.value if self.reason else None, "at": self.at}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PendingSwitch:
        return cls(office_id=row["office_id"], staged=row["staged"], archive=row["archive"],
                   record=CertRecord.from_row(row["record"]), old_serial=row.get("old_serial"),
                   reason=Reason(row["reason"]) if row.get("reason") else None, at=row["at"])


@dataclass(frozen=True)
class LedgerState:
    """The whole ledger: every certificate (oldest first), the last CRL number, a switch under way."""

    crl_number: int = 0
    certificates: tuple[CertRecord, ...] = ()
    pending: PendingSwitch | None = None

    def latest(self, office_id: str) -> CertRecord | None:
        mine = [r for r in self.certificates if r.office_id == office_id]
        return mine[-1] if mine else None

    def revoked_serials(self) -> set[int]:
        return {int(r.serial, 16) for r in self.certificates if r.revoked}

    def with_record(self, record: CertRecord) -> LedgerState:
        """``record`` replacing the one with its serial, or appended."""
        if any(r.serial == record.serial for r in self.certificates):
            certs = tuple(record if r.serial == record.serial else r for r in self.certificates)
        else:
            certs = (*self.certificates, record)
        return LedgerState(self.crl_number, certs, self.pending)

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"crl_number": self.crl_number,
                               "certificates": [r.to_row() for r in self.certificates]}
        if self.pending is not None:
            row["pending"] = self.pending.to_row()
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LedgerState:
        pending = row.get("pending")
        return cls(crl_number=int(row.get("crl_number", 0)),
                   certificates=tuple(CertRecord.from_row(r) for r in row["certificates"]),
                   pending=PendingSwitch.from_row(pending) if pending else None)


@dataclass(frozen=True)
class SealStatus:
    """One office and the state of its latest certificate (``minseal seals list``, the desk's seal page)."""

    office: Office
    status: SealState
    record: CertRecord | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.office.id, "name": self.office.name, "tier": self.office.tier.value,
                "key_store": self.office.key_store, "status": self.status.value,
                "serial": self.record.serial if self.record else None,
                "not_after": self.record.not_after if self.record else None}
