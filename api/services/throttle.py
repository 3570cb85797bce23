"""The request throttle: counters in the database, so every worker process counts the same requests once.

A window opens at a counter's first hit and lasts its length; the count starts again after it (a fixed window per
key). Used by the public pages (hits per client address) and by sign-in (failures per account and per address,
:mod:`api.services.sign_in`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from limits import parse

from api.storage import throttle as counters
from api.storage.engine import Database, Session
from signer.errors import ThrottledError


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` hits per ``seconds``."""

    limit: int
    seconds: int

    @staticmethod
    @lru_cache(maxsize=32)
    def parse(text: str) -> Rate:
        """``"120/minute"``, ``"10 per 2 minutes"`` (the ``limits`` library's notation, as in the settings)."""
        item = parse(text)
        return Rate(int(item.amount), int(item.get_expiry()))


class Throttle:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db, self.clock = db, clock

    def hit(self, scope: str, key: str, rate: Rate, *, message: str | None = None) -> None:
        """Count one request; over the rate, :class:`ThrottledError` with the seconds left in the window."""
        with self.db.session() as session:
            hits, retry_after = self.count(session, scope, key, rate.seconds)
        if hits > rate.limit:
            raise ThrottledError(message, retry_after=retry_after)

    def count(self, session: Session, scope: str, key: str, window_s: int) -> tuple[int, int]:
        """Count one hit inside the caller's transaction: (hits in the window, seconds until it ends)."""
        now = self.clock()
        hits, started = counters.hit(session, scope, key, now=now, window_s=window_s)
        return hits, self._left(started, window_s, now)

    def current(self, session: Session, scope: str, key: str, window_s: int) -> tuple[int, int]:
        """(hits in the window, seconds until it ends) without counting."""
        now = self.clock()
        hits, started = counters.current(session, scope, key, now=now, window_s=window_s)
        return hits, self._left(started, window_s, now) if started is not None else 0

    def clear(self, session: Session, scope: str, key: str) -> bool:
        return counters.clear(session, scope, key)

    @staticmethod
    def _left(started: float, window_s: int, now: float) -> int:
        return max(1, math.ceil(started + window_s - now))
