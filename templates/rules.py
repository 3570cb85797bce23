"""The local rules a document is checked against: what a setting may change, with the floor the national rule
sets. Built by the composition root from ``api/settings.py``; the defaults are those of 民发〔2021〕57号."""

from __future__ import annotations

from dataclasses import dataclass

#: 《最低生活保障审核确认办法》（民发〔2021〕57号）
RULE = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
#: 57号 art. 19: the 公示 runs 7 days in the applicant's village
NATIONAL_NOTICE_DAYS = 7


@dataclass(frozen=True)
class DocumentRules:
    #: shortest 公示 period in days (art. 19: 7); a local rule may set more, less only when a setting says so
    notice_days: int = NATIONAL_NOTICE_DAYS
    #: public lists show 保障类别 only where a local rule requires it (art. 24: "不得公开无关信息")
    show_category: bool = False


DEFAULT_RULES = DocumentRules()
