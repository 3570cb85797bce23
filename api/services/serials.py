"""文号 serials: the next number of a series at an office, taken in a transaction of its own that locks the series'
counter row (api/storage: serial_counters), so two papers issued at the same moment never share a number. A number
taken for a paper that then fails to be made leaves a gap, never a twin."""

from __future__ import annotations

from collections.abc import Callable

from api.storage import repositories
from api.storage.engine import Database, Session
from signer.errors import ConflictError


def next_serial(db: Database, office_id: str, series: str, *, before: Callable[[Session], int]) -> int:
    """The office's next serial in ``series``; the first time, counted on from ``before`` (how many it gave before
    the counter existed). Two first issues at once: one fails on the counter's key and takes the next number."""
    for _attempt in range(5):
        try:
            with db.session() as session:
                return repositories.next_serial(session, office_id, series, floor=before(session))
        except repositories.DuplicateRow:
            continue
    raise ConflictError("文号编号冲突，请重试", code="CONCURRENT_CHANGE")


def document_number_series(code: str) -> str:
    """The serial series of a 文号 code (民受, 民确, 低证 …): one per code and office, whichever flow issues it —
    the 低保证明 the register publishes and the 低保状态证明 issued as a case paper share 低证, so they can never
    print the same 文号."""
    return f"wenhao:{code}"

