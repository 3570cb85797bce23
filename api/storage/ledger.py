"""The seal ledger (every certificate ever issued, its status and revocation) and the CA's CRL number, in the
database. ``SealAuthority`` reads and writes it as one document; each write is one transaction. A
``pki/ledger.json`` left by an earlier version is imported once, then renamed ``ledger.json.imported``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from api.storage.engine import Database
from api.storage.models import PkiStateRow, SealCertificateRow
from signer.errors import ErrorCategory, SealStateError

_RECORD_FIELDS = ("serial", "office_id", "algorithm", "key_store", "not_before", "not_after", "status",
                  "revoked_at", "reason")


class DatabaseLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self) -> dict[str, Any] | None:
        """``{"crl_number", "certificates": [...], "pending"?}``, or None when nothing was ever recorded."""
        with self.db.session() as session:
            rows = session.execute(select(SealCertificateRow).order_by(SealCertificateRow.seq)).scalars().all()
            state = {r.name: r.value for r in session.execute(select(PkiStateRow)).scalars()}
        if not rows and not state:
            return None
        ledger: dict[str, Any] = {"crl_number": int(state.get("crl_number", 0)),
                                  "certificates": [{f: getattr(r, f) for f in _RECORD_FIELDS} for r in rows]}
        if state.get("pending") is not None:
            ledger["pending"] = state["pending"]
        return ledger

    def save(self, ledger: dict[str, Any]) -> None:
        """Records are never deleted: each one is inserted or updated in place (by serial, in ledger order)."""
        with self.db.session() as session:
            known = {r.serial: r for r in session.execute(select(SealCertificateRow)).scalars()}
            for seq, record in enumerate(ledger["certificates"], start=1):
                row = known.get(record["serial"])
                if row is None:
                    session.add(SealCertificateRow(seq=seq, **{f: record.get(f) for f in _RECORD_FIELDS}))
                else:
                    for f in _RECORD_FIELDS:
                        setattr(row, f, record.get(f))
            session.merge(PkiStateRow(name="crl_number", value=int(ledger.get("crl_number", 0))))
            if ledger.get("pending") is not None:
                session.merge(PkiStateRow(name="pending", value=ledger["pending"]))
            else:
                session.execute(delete(PkiStateRow).where(PkiStateRow.name == "pending"))

    def import_file(self, path: Path) -> bool:
        """Import a file ledger once (when the database holds none); the file is then renamed, never deleted."""
        if not path.exists():
            return False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if self.load() is None:
                self.save(data)
            path.rename(path.with_name(path.name + ".imported"))
        except FileNotFoundError:  # another process imported it a moment ago
            return False
        except (ValueError, KeyError, TypeError, OSError):
            raise SealStateError(f"无法导入证书台账 {path}（文件已损坏）", code="LEDGER_DAMAGED",
                                 category=ErrorCategory.UNAVAILABLE) from None
        return True
