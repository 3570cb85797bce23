"""Waiting for a state, never for a time: a test polls what it needs to be true (a row, a lock, the clock's next
second) and goes on as soon as it is. The timeout is a guard against a hang, not a measure: no test asserts how
long anything took (timings are in bench/)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

#: long enough for a loaded two-core machine running other suites; reaching it means "stuck", not "slow"
HANG = 180.0


def wait_for(condition: Callable[[], object], what: str, *, timeout: float = HANG) -> None:
    """Until ``condition()`` is true; an AssertionError naming ``what`` if it never becomes so."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout:.0f} s")
        time.sleep(0.05)


def past_the_second(instant: dt.datetime) -> None:
    """Until the clock's whole second is later than ``instant``. A CRL dates a revocation to the second, so a
    revocation made after this is dated strictly after anything signed or timestamped before ``instant``."""
    wait_for(lambda: dt.datetime.now(dt.UTC).replace(microsecond=0) > instant, f"the clock to pass {instant}",
             timeout=10)
