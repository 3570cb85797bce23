"""Column widths (per cent of the text block) the PDF's form tables and the Word copy share, so the two never
drift apart: the HTML templates read them (``widths`` in the Jinja environment), the DOCX kit lays its tables
out with them (``w:tblGrid``, fixed layout)."""

from __future__ import annotations

#: 申请审批表 (form_parts.html.j2 and the families' own tables)
FORM_WIDTHS: dict[str, tuple[float, ...]] = {
    "applicant": (12.22, 15.56, 7.78, 8.89, 11.11, 16.67, 12.22, 15.56),
    "members": (10.5, 8, 9, 18, 6, 10.5, 9, 9, 11, 9),
    "dibao_facts": (12.22, 8.89, 14.44, 12.22, 12.22, 12.22, 14.44, 13.33),
    "relief_facts": (12.22, 13.89, 11.11, 13.89, 10.00, 13.89, 11.11, 13.89),
    "tiers": (12.22, 87.78),
    #: a paper's label–value rows and its hand-signature rows (paper.html.j2, signatures.html.j2)
    "rows": (22, 78),
    "signatures": (30, 40, 30),
}

#: each tier box's height in mm: room for a 42–45 mm seal, and in the upper tiers for the decision's figures
#: (form.css .seal-slot)
TIER_HEIGHTS_MM: dict[str, float] = {"village": 48, "township": 56, "county": 64}
