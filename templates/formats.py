"""How dates and amounts are written on Chinese documents, in PDF, Word and seal appearances alike."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def cn_date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def money(value: Decimal | None) -> str:
    return f"{value:,.2f}" if value is not None else ""
