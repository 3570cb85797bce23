"""How dates and amounts are written on Chinese documents, in PDF, Word and seal appearances alike."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal


def cn_date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def cn_date_text(value: object) -> str:
    """``cn_date`` for what pages hold: a date, a datetime, an ISO string (its date part); anything else as is."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        value = value.date()
    return cn_date(value) if isinstance(value, date) else str(value)


def money(value: Decimal | None) -> str:
    return f"{value:,.2f}" if value is not None else ""
