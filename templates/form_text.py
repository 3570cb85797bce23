"""The wording of the 申请审批表 families, shared by the PDF, the DOCX and the seal step: box labels, the
applicant's promise, and each tier's default opinion in the terms 民发〔2021〕57号 gives that tier.

The village assists and reports what it found (it does not approve); the township investigates and gives its
初审 opinion before the 公示 (its box never claims a 公示 that has not happened; the case records the 公示,
and the county's opinion states its dates); 民主评议 only follows an objection to the 公示 (art. 19); the county
decides (审核确认, art. 21) and fixes the amount."""

from __future__ import annotations

from collections.abc import Mapping

DIBAO_LABELS = (("village", "村(居)委会<br>意见"), ("township", "乡镇(街道)<br>审核意见"),
                ("county", "县级民政<br>部门审核<br>确认意见"))
RELIEF_LABELS = (("village", "村(居)委会<br>意见"), ("township", "乡镇(街道)<br>审核(审批)<br>意见"),
                 ("county", "县级民政<br>部门审批<br>意见"))

DIBAO_PROMISE = ("以上情况及所附材料真实有效，同意民政部门核对家庭经济状况；如有虚报、隐瞒，愿承担相应责任。")
RELIEF_PROMISE = "以上情况真实有效，如有虚报、隐瞒，愿退回救助金并承担相应责任。"



def dibao_foot(offices: Mapping[str, str]) -> str:
    """The form's footnote, naming the offices that keep it (issued text names real offices, never 乡镇（街道）)."""
    return f"注：本表一式两份，{offices['county']}、{offices['township']}各存一份；各级意见栏以电子签章为准。"


def relief_foot(offices: Mapping[str, str]) -> str:
    """The relief form's footnote: who approves up to the township's limit and above it, by name."""
    return (f"注：急难型救助可先行救助、事后补齐手续；审批金额在{offices['township']}审批权限以内的由"
            f"{offices['township']}审批，超过的报{offices['county']}审批；各级意见栏以电子签章为准。")


#: stands in a default opinion for the office the village reports to; ``default_opinion`` names it
REPORTS_TO = "{reports_to}"

#: default opinions per tier and family kind ("dibao" | "relief"); the village's reports to its township by name
DEFAULT_OPINIONS: dict[str, dict[str, str]] = {
    "dibao": {
        "village": "已协助申请人提交申请材料，经入户了解，申请人家庭共同生活成员、收入和财产情况与申请所述基本一致，"
                   "报{reports_to}审核。",
        "township": "经入户调查和家庭经济状况核对，该家庭符合最低生活保障条件，初审拟同意纳入保障，"
                    "按规定在申请人所在村（社区）公示。",
        "county": "经审核确认，该家庭符合最低生活保障条件，同意纳入最低生活保障，自次月起发放保障金。",
    },
    "relief": {
        "village": "已协助申请人提交申请材料，经入户了解，所述困难情况属实，报{reports_to}审核。",
        "township": "经调查核实，申请人家庭符合临时救助条件。",
        "county": "经审批，同意给予临时救助。",
    },
}


def default_opinion(kind: str, tier: str, *, reports_to: str) -> str:
    """A tier's default opinion with the office it reports to named (``reports_to``: the village's township)."""
    return DEFAULT_OPINIONS[kind][tier].replace(REPORTS_TO, reports_to)
