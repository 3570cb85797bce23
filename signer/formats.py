"""How dates, times and amounts are written, in one place: PDF and Word documents, seal appearances and the
figures inside them, the desk and the public pages. It lives in the lowest layer because the seal step
(signer) and the documents (templates) both write dates, and templates already depend on signer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def cn_date(value: dt.date | None) -> str:
    """A date as Chinese documents write it (GB/T 9704: 2026年11月22日); ``None`` → empty."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def cn_month(value: dt.date) -> str:
    """A month as decisions write it (起始发放月份：2027年1月)."""
    return f"{value.year}年{value.month}月"


def cn_date_text(value: object) -> str:
    """:func:`cn_date` for what pages hold: a date, a datetime, an ISO string (its date part); else as is."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return cn_date(value) if isinstance(value, dt.date) else str(value)


def when_text(value: object) -> str:
    """A timestamp (datetime or ISO string) as local wall time to the minute, as staff lists show it."""
    stamp: dt.datetime
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, str):
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        return str(value)
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M")


def money(value: Decimal | None) -> str:
    """Yuan with two decimals and thousands separators (1,260.00); ``None`` → empty."""
    return f"{value:,.2f}" if value is not None else ""
