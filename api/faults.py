"""Fault injection for the crash tests: ``MINSEAL_TEST_KILL_AT=<step>`` kills the process at that named step.

Composition roots call ``configure(settings)`` once; code marks its steps with ``point("renew:staged")``. With
the setting unset (always, in production) ``point`` does nothing.
"""

from __future__ import annotations

import os
import signal

from api.settings import Settings

_kill_at: str | None = None


def configure(settings: Settings) -> None:
    global _kill_at
    _kill_at = settings.test_kill_at or None


def point(step: str) -> None:
    """SIGKILL this process if the tests asked for a crash at ``step`` (no cleanup, no finally blocks)."""
    if _kill_at is not None and _kill_at == step:
        os.kill(os.getpid(), signal.SIGKILL)
