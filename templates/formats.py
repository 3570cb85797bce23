"""How dates and amounts are written on documents: the one formatter is :mod:`signer.formats` (the seal step
writes dates too, and templates already depend on signer); re-exported here for the renderer and the families."""

from __future__ import annotations

from signer.formats import cn_date, cn_date_text, cn_month, money, when_text

__all__ = ["cn_date", "cn_date_text", "cn_month", "money", "when_text"]
