"""The seal ledger as the authority sees it: typed records (:mod:`records`) over the database rows of
``api/storage/ledger.py``. The database is opened on first use (``minseal verify`` without an installation opens
none); a ``pki/ledger.json`` left by an earlier version is imported the first time."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from api.services.authority.paths import AuthorityPaths
from api.services.authority.records import LedgerState

if TYPE_CHECKING:  # SQLAlchemy is loaded only when the ledger is read
    from api.storage.engine import Database
    from api.storage.ledger import DatabaseLedger


class Ledger:
    def __init__(self, paths: AuthorityPaths, database: Callable[[], Database]) -> None:
        self.paths = paths
        self._database = database
        self._store: DatabaseLedger | None = None

    def store(self) -> DatabaseLedger:
        if self._store is None:
            from api.storage.ledger import DatabaseLedger

            store = DatabaseLedger(self._database())
            store.import_file(self.paths.legacy_ledger)
            self._store = store
        return self._store

    def recorded(self) -> bool:
        """Has anything ever been recorded (a certificate or a CRL number)?"""
        return self.store().load() is not None

    def state(self) -> LedgerState:
        row = self.store().load()
        return LedgerState.from_row(row) if row is not None else LedgerState()

    def save(self, state: LedgerState) -> None:
        """One transaction; records are never deleted."""
        self.store().save(state.to_row())
