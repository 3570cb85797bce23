"""Words an official reads as one never break across lines: amounts and numbers with their units (1,260.00元,
870.00元/人·月, 3人), ID numbers, phone numbers, 文号 (民发〔2021〕57号) and short names (王秀英, 东沟南村); and no
line ends a paragraph or a cell with a single character (孝墓镇中 / 学).

Applied once to the rendered HTML, to its text only (never inside a tag, an entity, <style> or <title>): each
such run becomes ``<span class="nobr">`` (``white-space: nowrap`` in common.css), so every template, every
family and every later template gets the rule without marking its fields one by one."""

from __future__ import annotations

import re

#: the runs kept whole, longest first: a 文号 with up to four characters of its 机关代字; an ID number; a number
#: (digits with , . - : /) with the unit that follows it
_RUN = re.compile(
    r"[\u4e00-\u9fff]{0,4}〔\d{4}〕\d+号"
    r"|\d{17}[\dXx]"
    r"|\d(?:[\d,.:/\-]*\d)?(?:元/人·月|元/户·月|元/月|元/年|平方米|个月|周岁|[%‰元人户岁月年日天号页亩辆次份项㎡])?"
)
#: a short name standing alone as a cell's or a line's whole text
_NAME = re.compile(r"\s*[\u4e00-\u9fff·]{2,4}\s*")
#: the last two characters of a text, with the closing punctuation that may not start a line
_TAIL = re.compile(r"[\u4e00-\u9fff]{2}[）」』】》〕。，、；：！？”’]*\s*$")
_MARKUP = re.compile(r"(<style\b.*?</style>|<title\b.*?</title>|<script\b.*?</script>|<[^>]*>)", re.S | re.I)
_ENTITY = re.compile(r"(&#?\w+;)")
#: a text before one of these closes its paragraph, cell or item: only there is its last line's tail kept
_ENDS = re.compile(r"</(p|td|th|div|li|span)>", re.I)

OPEN, CLOSE = '<span class="nobr">', "</span>"


def keep_whole(html: str) -> str:
    """``html`` with every unbreakable run of its text wrapped in a nowrap span."""
    parts = _MARKUP.split(html)
    body = False
    for i, part in enumerate(parts):
        if i % 2:  # a tag (or a whole style/title/script element)
            if part[:5].lower() == "<body":
                body = True
            continue
        if body and part.strip():
            parts[i] = _text(part, ends=_ENDS.match(parts[i + 1]) is not None if i + 1 < len(parts) else True)
    return "".join(parts)


def whole(text: str) -> bool:
    """True when ``text`` as a whole is one run a line never breaks (a number with its unit, an ID number, a 文号,
    a short name): the Word copy keeps such a table cell on one line (``w:noWrap``, a column wide enough)."""
    stripped = text.strip()
    return bool(stripped) and any(p.fullmatch(stripped) is not None for p in (_NAME, _RUN, _DATE))


#: a date as a form cell shows it (the PDF's ``td.num`` cells never wrap)
_DATE = re.compile(r"\d{4}年\d{1,2}月(\d{1,2}日)?")


def _text(text: str, *, ends: bool) -> str:
    if "&" in text:  # entities stay as they are: their digits are no number
        pieces = _ENTITY.split(text)
        return "".join(p if k % 2 else _plain(p, ends=ends and k == len(pieces) - 1) for k, p in enumerate(pieces))
    return _plain(text, ends=ends)


def _plain(text: str, *, ends: bool) -> str:
    if _NAME.fullmatch(text):
        return f"{OPEN}{text}{CLOSE}" if text.strip() else text
    spans = [m.span() for m in _RUN.finditer(text) if m.end() - m.start() > 1]
    tail = _TAIL.search(text)
    if ends and tail and len(text.strip()) > 4 and not any(a < tail.end() and tail.start() < b for a, b in spans):
        spans.append(tail.span())
    if not spans:
        return text
    out, at = [], 0
    for a, b in sorted(spans):
        out += [text[at:a], OPEN, text[a:b], CLOSE]
        at = b
    out.append(text[at:])
    return "".join(out)
