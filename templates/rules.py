"""The local rules a document is checked against: what a setting may change, with the floor the national rule
sets. Built from the settings by ``api/services/local_rules.py`` (the one place that reads them); the defaults
are those of 民发〔2021〕57号. The 公示 period itself is :class:`signer.decision.NoticeRule`, shared with the seal
step."""

from __future__ import annotations

from dataclasses import dataclass, field

from signer.decision import NATIONAL_NOTICE_DAYS, RULE, NoticeRule

__all__ = ["CITED_RULE", "DEFAULT_RULES", "NATIONAL_NOTICE_DAYS", "RULE", "DocumentRules", "NoticeRule"]

#: the rule as a notice's first sentence cites it, with its issuers: "根据" and this fill the first line of 28
#: exactly, so its 文号, which never breaks (templates/unbreakable.py), starts the second line whole
CITED_RULE = "民政部、财政部印发的" + RULE


@dataclass(frozen=True)
class DocumentRules:
    #: the 公示 period (art. 19: 7 days; a local rule may set more, and count working days), exactly
    notice: NoticeRule = field(default_factory=NoticeRule)
    #: public lists show 保障类别 only where a local rule requires it (art. 24: "不得公开无关信息")
    show_category: bool = False

    @property
    def notice_days(self) -> int:
        return self.notice.days


DEFAULT_RULES = DocumentRules()
