"""What a form tells its seal step beyond the slots: household size, total and per-capita income, staff names,
the amount asked for. Written by the renderer into the document information dictionary as JSON; read here as it
stood in the revision the first seal certified, like the slot table, so a later edit cannot move the figures a
decision is checked against. Dependency-free for ``templates``; the reader imports pyHanko lazily."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader

#: key in the PDF's document information dictionary (without the PDF '/')
FORM_FACTS_KEY = "MinSealForm"
MAX_FACTS_JSON = 8 * 1024


@dataclass(frozen=True)
class FormFacts:
    kind: str  # "dibao" | "relief"
    household_size: int
    per_capita_income: str
    applicant: str
    serial: str
    staff: dict[str, dict[str, str]]
    requested: str | None = None
    #: family monthly total income, so the amount is computed from total ÷ size exactly (None: a form written
    #: before the facts carried it; the per-capita income it showed is used instead)
    total_income: str | None = None

    @classmethod
    def parse(cls, raw: object) -> FormFacts | None:
        if raw is None or len(str(raw)) > MAX_FACTS_JSON:
            return None
        try:
            data: Any = json.loads(str(raw))
            total = data.get("total_income")
            if not all(Decimal(str(v)).is_finite() for v in (data["per_capita_income"], total) if v is not None):
                return None
            return cls(kind=str(data["kind"]), household_size=int(data["household_size"]),
                       per_capita_income=str(data["per_capita_income"]), applicant=str(data.get("applicant") or ""),
                       serial=str(data.get("serial") or ""),
                       staff={str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.get("staff", {}).items()},
                       requested=str(data["requested"]) if data.get("requested") is not None else None,
                       total_income=str(total) if total is not None else None)
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
            return None


def read_form_facts(reader: PdfFileReader) -> FormFacts | None:
    """The facts as of the first seal's revision (or the latest when unsealed); None when absent or broken.
    ``reader``: the parse the seal signs with, read before anything is added."""
    from pyhanko.sign import fields

    from .layout import info_value_at

    try:
        filled = [reader.xrefs.get_last_change(ref.get_object().raw_get("/V").reference)
                  for _n, _v, ref in fields.enumerate_sig_fields(reader, filled_status=True)]
        revision = min(filled) if filled else reader.xrefs.total_revisions - 1
        return FormFacts.parse(info_value_at(reader, revision, FORM_FACTS_KEY))
    except Exception:  # a broken file: the sealer has already refused it through read_layout
        return None
