"""The seal-slot contract shared by the renderer, the sealer and the verifier: one typed class, written and read
here only.

Dependency-free on purpose: ``templates`` imports it without pulling in cryptography or pyHanko.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: key in the PDF's document information dictionary holding the seal slots as JSON (without the PDF '/')
SLOTS_INFO_KEY = "MinSealSlots"
#: signature fields MinSeal creates are named FIELD_PREFIX + slot name ("MinSeal-village", "MinSeal-issuer")
FIELD_PREFIX = "MinSeal-"
#: a slot table is small; anything longer is refused before it is parsed
MAX_SLOTS_JSON = 16 * 1024


@dataclass(frozen=True)
class SealSlot:
    """Where a seal (or the QR code) goes: ``page_index`` is 0-based, ``rect`` is (x1, y1, x2, y2) in PDF
    points with the origin at the page's lower left, as pyHanko's field boxes are."""

    name: str
    purpose: str  # "tier" (a form's opinion box) | "issuer" (notice/certificate seal) | "qr"
    page_index: int
    rect: tuple[float, float, float, float]
    #: the office whose seal belongs here, as the document names it (display only; None for the QR slot)
    office: str | None = None
    #: that office's registry id — what sealing and verification match against, never the name
    office_id: str | None = None

    @property
    def field_name(self) -> str:
        return FIELD_PREFIX + self.name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "purpose": self.purpose, "page_index": self.page_index,
                "rect": [round(v, 2) for v in self.rect], "office": self.office, "office_id": self.office_id}


@dataclass(frozen=True)
class SlotTable:
    """All slots of one document, and its family."""

    family: str | None
    slots: tuple[SealSlot, ...]

    @property
    def by_name(self) -> dict[str, SealSlot]:
        return {s.name: s for s in self.slots}

    def get(self, name: str) -> SealSlot | None:
        return self.by_name.get(name)

    def to_json(self) -> str:
        return json.dumps({"family": self.family, "slots": [s.to_dict() for s in self.slots]},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def parse(cls, raw: object) -> SlotTable | None:
        """The table from its JSON text; None when absent, oversized or malformed (callers decide what that means)."""
        if raw is None:
            return None
        text = str(raw)
        if len(text) > MAX_SLOTS_JSON:
            return None
        try:
            parsed = json.loads(text)
            slots = tuple(_slot(s) for s in parsed["slots"])
            family = parsed.get("family")
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        if not slots or len({s.name for s in slots}) != len(slots):
            return None
        if family is not None and not isinstance(family, str):
            return None
        return cls(family, slots)


def _slot(raw: Any) -> SealSlot:
    if not isinstance(raw, dict):
        raise TypeError("slot")
    rect = tuple(float(v) for v in raw["rect"])
    if len(rect) != 4:
        raise ValueError("rect")
    name, purpose, page = raw["name"], raw["purpose"], raw["page_index"]
    office, office_id = raw.get("office"), raw.get("office_id")
    if not (isinstance(name, str) and isinstance(purpose, str) and isinstance(page, int) and not isinstance(page, bool)
            and page >= 0):
        raise TypeError("slot fields")
    for value in (office, office_id):
        if value is not None and not isinstance(value, str):
            raise TypeError("office")
    return SealSlot(name=name, purpose=purpose, page_index=page, rect=(rect[0], rect[1], rect[2], rect[3]),
                    office=office, office_id=office_id)
