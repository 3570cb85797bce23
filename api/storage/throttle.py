"""The throttle's counters in the database: one atomic statement per hit, so two workers never count apart."""

from __future__ import annotations

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.storage.models import ThrottleRow


def hit(session: Session, scope: str, key: str, *, now: float, window_s: float) -> tuple[int, float]:
    """Count one hit; (hits in the current window, the window's start). A window older than ``window_s`` restarts."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stale = ThrottleRow.started_at <= now - window_s
    values = insert(ThrottleRow).values(scope=scope, key=key[:128], started_at=now, hits=1)
    statement = values.on_conflict_do_update(
        index_elements=[ThrottleRow.scope, ThrottleRow.key],
        set_={"hits": case((stale, 1), else_=ThrottleRow.hits + 1),
              "started_at": case((stale, now), else_=ThrottleRow.started_at)},
    ).returning(ThrottleRow.hits, ThrottleRow.started_at)
    hits, started = session.execute(statement).one()
    return int(hits), float(started)


def current(session: Session, scope: str, key: str, *, now: float, window_s: float) -> tuple[int, float | None]:
    """(hits in the current window, its start) without counting one; (0, None) when the window has passed."""
    row = session.get(ThrottleRow, (scope, key[:128]))
    if row is None or row.started_at <= now - window_s:
        return 0, None
    return row.hits, row.started_at


def clear(session: Session, scope: str, key: str) -> bool:
    """Forget a counter (a successful sign-in, an admin lifting a lockout); whether there was one."""
    result = session.execute(delete(ThrottleRow).where(ThrottleRow.scope == scope, ThrottleRow.key == key[:128]))
    return bool(getattr(result, "rowcount", 0))


def prune(session: Session, *, before: float) -> int:
    """Drop counters whose window started before ``before`` (kept small; run now and then)."""
    result = session.execute(delete(ThrottleRow).where(ThrottleRow.started_at < before))
    return int(getattr(result, "rowcount", 0))
