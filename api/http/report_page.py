"""The verification report as a Chinese HTML page (autoescaped; no scripts, no external resources)."""

from __future__ import annotations

from api.http.pages import render
from signer.report import VerificationReport
from signer.route import TIER_ORDER

#: a seal's tier as the report names it (the label's home is ``Tier.label``)
TIERS = {t.value: t.label for t in TIER_ORDER}
REVOCATION = {"good": "未吊销", "revoked_after_signing": "签章后才吊销（签章仍有效）", "revoked": "已吊销",
              "unknown": "无法确定"}
CHANGES = {"none": "无", "ltv_only": "仅补充了长期验证信息", "later_signatures": "仅有后续单位的签章",
           "other": "有不允许的修改"}
COVERAGE = {"entire_file": "整个文件", "entire_revision": "所在修订版本全部内容", "partial": "不完整"}


def report_html(report: VerificationReport) -> str:
    return render("report.html.j2", r=report, tiers=TIERS, revocation=REVOCATION, changes=CHANGES, coverage=COVERAGE)
