"""Logging for the composition roots: warnings to stderr, minus the ones our design makes expected."""

from __future__ import annotations

import logging
import sys

#: pyHanko warns on every LTV seal when revocation data comes from our local CRL instead of the network;
#: that is MinSeal's embedded default, not a problem.
_EXPECTED = ("but fetching is not allowed",)
#: pyHanko logs a traceback for each suspicious modification it finds; the verification report already
#: states it (MODIFIED_AFTER_SIGNING), in Chinese, as a finding.
_REPORTED_ELSEWHERE = ("pyhanko.sign.diff_analysis",)


class _DropExpected(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(_REPORTED_ELSEWHERE):
            return False
        message = record.getMessage()
        return not any(text in message for text in _EXPECTED)


class _OneLine(logging.Formatter):
    """A warning is one line for the user: a library's traceback attached to it (pyHanko logs path-building
    failures with ``exc_info``) is dropped — the report or the error message already says what happened."""

    def format(self, record: logging.LogRecord) -> str:
        plain = logging.makeLogRecord(record.__dict__)
        plain.exc_info, plain.exc_text, plain.stack_info = None, None, None
        return super().format(plain)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the *current* ``sys.stderr`` (which a test harness or a host application may replace)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(level: int = logging.WARNING) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_minseal", False) for h in root.handlers):
        return
    handler = _StderrHandler()
    handler.setLevel(level)
    handler.addFilter(_DropExpected())
    handler.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    handler._minseal = True  # type: ignore[attr-defined]
    root.addHandler(handler)
