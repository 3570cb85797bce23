"""GB/T 9704-2012 §7.3.5.1: when the space left under the body cannot hold the issuing office's seal and the date,
the line spacing may be adjusted so that they stay with the body.

The closing block (seal, office, date and QR code) never leaves its body behind, so a 公示 whose list runs a few
rows over used to carry its last row, the total and the seal onto a second page and leave ~50 mm empty on the
first. Only in that case — a second page that begins with the list's tail or the closing block — the document is
laid out again with a closer line pitch, and the closer layout is kept only when it saves the page (the least
change that does). Everything else keeps the standard grid (22 lines of 28.94 pt).
"""

from __future__ import annotations

from typing import Any

#: line pitch of the body (pt), tried in turn; the standard grid's is 28.94 pt, and 26 pt is the closest allowed
#: (about 10 % closer: 24 lines in the type area instead of 22)
LINE_PITCHES_PT: tuple[float, ...] = (27.0, 26.0)
#: the household list's line height (pt) and cell padding at a closer pitch (17 pt and 2.5 pt on the grid)
LIST_LINE_PT = 15.0
LIST_PADDING_PT = 2.0

#: elements whose appearance at the top of the last page means body text is there: nothing was pushed
_BODY_TAGS = frozenset({"p", "h1", "h2", "h3", "div", "li", "ol", "ul"})


def closer_css(pitch_pt: float) -> str:
    """The stylesheet for one closer pitch (added after the family's own)."""
    return (f"html {{ line-height: {pitch_pt}pt; }}\n"
            f"h1 {{ line-height: {pitch_pt}pt; margin-bottom: {pitch_pt}pt; }}\n"
            f"table.list {{ line-height: {LIST_LINE_PT}pt; }}\n"
            f"table.list th, table.list td {{ padding-top: {LIST_PADDING_PT}pt;"
            f" padding-bottom: {LIST_PADDING_PT}pt; }}\n")


def closing_pushed(document: Any) -> bool:
    """True when a WeasyPrint document's last page begins with the list's tail (``tbody.tail``: the last row and
    the total, kept with the closing block) or with the closing block itself, i.e. the page exists only because
    they did not fit under the body. A repeated table header before them does not count."""
    if len(document.pages) != 2:  # (a longer list's pages are full: only a one-page text gets a second page)
        return False
    for box in document.pages[-1]._page_box.descendants():
        element = getattr(box, "element", None)
        tag = getattr(box, "element_tag", None)
        if element is None or not isinstance(tag, str):
            continue
        classes = (element.get("class") or "").split()
        if "closing" in classes:
            return True
        if tag == "tbody":
            return "tail" in classes
        if tag in _BODY_TAGS:
            return False
    return False
