"""Logging for the composition roots: warnings to stderr, minus the ones our design makes expected."""

from __future__ import annotations

import logging

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


def configure(level: int = logging.WARNING) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_minseal", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.addFilter(_DropExpected())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler._minseal = True  # type: ignore[attr-defined]
    root.addHandler(handler)
