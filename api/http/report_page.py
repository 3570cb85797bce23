"""The verification report as a Chinese HTML page (autoescaped; no scripts, no external resources): words, not
codes; Beijing times; and each seal's line agreeing with the verdict (a seal whose own bytes are intact, on a file
changed after it, says the file cannot be relied on).

Served pages link the stylesheet (the desk's CSP allows no inline style); a report written to a file
(``minseal verify --html``) carries it inline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from api.http.pages import render
from signer.report import SignatureFacts, VerificationReport
from signer.route import TIER_ORDER

CSS = Path(__file__).resolve().parent / "pages" / "desk" / "report.css"
CSS_URL = "/desk/static/report.css"
BEIJING = ZoneInfo("Asia/Shanghai")

#: a seal's tier as the report names it (the label's home is ``Tier.label``)
TIERS = {t.value: t.label for t in TIER_ORDER}
REVOCATION = {"good": "未吊销", "revoked_after_signing": "签章后才吊销（签章仍有效）", "revoked": "已吊销",
              "unknown": "无法确定"}
CHANGES = {"none": "无", "ltv_only": "仅补充了长期验证信息", "later_signatures": "仅有后续单位的签章",
           "other": "有不允许的修改"}
COVERAGE = {"entire_file": "整个文件", "entire_revision": "所在修订版本全部内容", "partial": "不完整"}
DOCMDP = {"NO_CHANGES": "签章后不允许任何修改", "FILL_FORMS": "签章后只允许后续单位签章",
          "ANNOTATE": "签章后允许签章和批注"}
#: where a seal sits: the slot's own name (a tier's opinion box, the issuer's seal)
SLOTS = {**{t.value: f"{t.label}签章栏" for t in TIER_ORDER}, "issuer": "发文机关印章", "qr": "二维码",
         "timestamp": "文档时间戳"}


def slot_name(slot: str | None) -> str:
    if not slot:
        return "—"
    name = slot.removeprefix("MinSeal-")
    return "、".join(SLOTS.get(part, "其他签名域") for part in name.split("/"))


def local_time(value: str | None) -> str:
    """ISO time (UTC) → 2026年12月5日 16:03:48 in Beijing time; unreadable values as they are."""
    if not value:
        return "无"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    t = moment.astimezone(BEIJING)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M:%S}"


def seal_sound(s: SignatureFacts) -> bool:
    return s.intact and s.valid and s.changes_after != "other"


def seal_word(s: SignatureFacts) -> str:
    if not s.intact:
        return "签章所覆盖的内容已被篡改"
    if not s.valid:
        return "签名无效"
    if s.changes_after == "other":
        return "签章本身完好，但签章后文件被做了不允许的修改，此文件不可采信"
    return "内容未被篡改；签名有效"


def report_html(report: VerificationReport, *, standalone: bool = False, back: str | None = None,
                case_file: dict[str, Any] | None = None) -> str:
    return render("report.html.j2", r=report, tiers=TIERS, revocation=REVOCATION, changes=CHANGES,
                  coverage=COVERAGE, docmdp=DOCMDP, slot_name=slot_name, local_time=local_time,
                  seal_sound=seal_sound, seal_word=seal_word, back=back, css_url=CSS_URL, case_file=case_file,
                  inline_css=CSS.read_text("utf-8") if standalone else None)
