"""What the concurrency tests run in separate processes (multiprocessing, spawn): real workers, own engines."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol


class Gate(Protocol):
    """A ``multiprocessing.Manager().Barrier(n)``: every process waits there until all ``n`` are warm."""

    def wait(self, timeout: float | None = None) -> int: ...


def _wait(start: float | Gate) -> None:
    """The start of the race: a barrier passes once every process is warm (a state: prefer it); a wall-clock
    instant only hopes they are (kept for callers not yet moved to a barrier)."""
    if isinstance(start, (int, float)):
        time.sleep(max(0.0, start - time.time()))
    else:
        start.wait(timeout=180)


def accept(settings: dict[str, Any], username: str, password: str, document_id: str, start_at: float | Gate) -> str:
    """One township reviewer accepting the file in its own process; 'ok' or the error code."""
    from api.services.container import Services
    from api.settings import Settings
    from signer.errors import MinSealError

    services = Services.build(Settings(**settings))
    with services.db.session() as session:
        who = services.identity.authenticate(session, username, password)
    services.checks.verify(services.blobs.get(_current_sha(services, document_id)))  # warm: the race is the write
    _wait(start_at)
    try:
        services.workflow.accept(who, document_id, opinion="情况属实，同意上报。")
        return "ok"
    except MinSealError as error:
        return error.code
    finally:
        services.db.dispose()


def _current_sha(services: Any, document_id: str) -> str:
    from api.storage import repositories

    with services.db.session() as session:
        doc = repositories.document(session, document_id)
        return repositories.version(session, document_id, doc.current_version).sha256


def append_audit(url: str, writer: int, count: int, start_at: float | Gate) -> tuple[int, float, float]:
    """``count`` appends, one transaction each, as fast as they go; (count, first start, last end)."""
    from api.storage import audit
    from api.storage.engine import Database

    db = Database(url)
    _wait(start_at)
    began = time.time()
    for i in range(count):
        with db.session() as session:
            audit.append(session, actor=f"writer{writer}", action="test.append", detail={"i": i})
    ended = time.time()
    db.dispose()
    return count, began, ended


def settings_dict(root: Path, database_url: str) -> dict[str, Any]:
    return {"data_dir": root / "var", "keys_dir": root / "keys", "database_url": database_url}
