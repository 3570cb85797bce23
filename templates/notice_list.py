"""What the 公示 and 公布 notices share: totals of the household list and the default heading."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def derive_list(view: dict[str, Any], *, default_heading: str) -> dict[str, Any]:
    households = view["households"]
    view["total_households"] = len(households)
    view["total_persons"] = sum(h["persons"] for h in households)
    view["total_amount"] = sum((h["monthly_amount"] for h in households), Decimal("0.00"))
    view["heading"] = view.get("title") or f"{view['issuer']}{default_heading}"
    # the masked ID column appears only when the input carried ID numbers
    view["show_id"] = any(h.get("id_number") for h in households)
    return view
