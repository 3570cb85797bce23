"""Titles broken between words, in balanced lines (GB/T 9704 §7.3.1: "回行时要做到词意完整、排列对称").

No segmenter is needed for our titles: they are built from a small vocabulary of the trade, so a break is
allowed only at the edges of those words (and after dates and place names); the lines are then balanced."""

from __future__ import annotations

import itertools
import re

from markupsafe import Markup, escape

#: words a title never breaks inside
WORDS = ("最低生活保障", "拟保障对象", "审核确认", "结果公布", "公示", "临时救助", "特困人员", "证明", "对象",
         "人民政府", "民政局", "申请", "材料补正", "一次性告知书", "受理通知书", "决定书", "告知书", "通知书",
         "授权书", "家庭经济状况", "核对", "入户调查表", "民主评议", "记录", "不予确认", "审批决定", "发放记录",
         "临时救助金", "限定用途", "家庭")
#: numbered words: 第11批, 2026年, 11月
PATTERNS = (re.compile(r"第[0-9一二三四五六七八九十]+[批期号]"), re.compile(r"[0-9]{4}年"), re.compile(r"[0-9]{1,2}月"))
#: characters after which a line may end (dates, numbers, place names)
BREAK_AFTER = frozenset("年月日批镇乡县区村局府）的")
#: 2号 (22 pt) characters per 156 mm line
LINE_CHARS = 20


def break_points(title: str) -> list[int]:
    """Positions where a line may end: word edges that cut no word of :data:`WORDS`."""
    inside: set[int] = set()
    for pattern in PATTERNS:
        for match in pattern.finditer(title):
            inside.update(range(match.start() + 1, match.end()))
    for word in WORDS:
        start = title.find(word)
        while start >= 0:
            inside.update(range(start + 1, start + len(word)))
            start = title.find(word, start + 1)
    points: set[int] = set()
    for word in WORDS:
        start = title.find(word)
        while start >= 0:
            points.update((start, start + len(word)))
            start = title.find(word, start + 1)
    points.update(i + 1 for i, c in enumerate(title) if c in BREAK_AFTER)
    return sorted(p for p in points if 0 < p < len(title) and p not in inside)


def balanced_lines(title: str, *, width: int = LINE_CHARS) -> list[str]:
    """The fewest lines of at most ``width`` characters, as even as the allowed breaks let them be."""
    if len(title) <= width:
        return [title]
    points = break_points(title)
    for count in range(2, 5):
        best: tuple[int, list[str]] | None = None
        for cuts in itertools.combinations(points, count - 1):
            edges = [0, *cuts, len(title)]
            lines = [title[a:b] for a, b in itertools.pairwise(edges)]
            if max(len(x) for x in lines) > width:
                continue
            spread = max(len(x) for x in lines) - min(len(x) for x in lines)
            if best is None or spread < best[0]:
                best = (spread, lines)
        if best is not None:
            return best[1]
    # no allowed break fits: fall back to even cuts (a title of one endless word)
    count = -(-len(title) // width)
    size = -(-len(title) // count)
    return [title[i:i + size] for i in range(0, len(title), size)]


def title_lines(title: str) -> Markup:
    """For the HTML templates: the lines joined by <br>, each escaped."""
    return Markup("<br>").join(escape(line) for line in balanced_lines(title))

