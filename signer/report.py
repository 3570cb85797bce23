"""The verification report: a verdict, findings with stable codes and Chinese messages, and per-seal facts.

A bad file is a *result* (a report), never an exception; the service, the CLI and the public page all read this.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    INDETERMINATE = "INDETERMINATE"

    @property
    def label(self) -> str:
        return {"PASSED": "通过", "FAILED": "不通过", "INDETERMINATE": "无法确定"}[self.value]


#: stable reason codes and their Chinese explanations
REASONS: dict[str, str] = {
    "TOO_LARGE": "文件过大，拒绝处理",
    "MALFORMED": "文件结构损坏，无法解析",
    "NO_SIGNATURE": "文件中没有电子签章",
    "TOO_MANY": "签章或修订版本过多，拒绝处理",
    "TRAILING_DATA": "文件末尾有未经签章覆盖的多余数据",
    "HIDDEN_REVISION": "文件中含有校验程序未检查的修订版本",
    "SIG_BROKEN": "签章后文件内容被改动（摘要不符）",
    "SIG_INVALID": "签名值无效或签名格式错误",
    "CERT_UNTRUSTED": "签章证书不属于受信任的根证书",
    "CERT_REVOKED": "签章时证书已被吊销",
    "CERT_EXPIRED": "签章时证书已过期",
    "CERT_NOT_YET_VALID": "签章时证书尚未生效",
    "REVOCATION_UNKNOWN": "无法确定证书吊销状态",
    "CERT_PROBLEM": "签章证书校验未通过",
    "TIMESTAMP_INVALID": "时间戳无效或不受信任",
    "MODIFIED_AFTER_SIGNING": "签章后文件被做了不允许的修改",
    "DOCMDP_VIOLATION": "修改超出首个签章（认证签名）允许的范围",
    "COVERAGE": "签章未覆盖其所在修订版本的全部内容",
    "NOT_CERTIFIED": "首个签章不是认证签名",
    "UNEXPECTED_SIGNATURE": "文件中有不属于本文书流转路径的签章",
    "ROUTE_ORDER": "签章顺序不符合村→乡镇→县的流转路径",
    "WRONG_OFFICE": "签章单位与文书指定的单位不符",
    "WRONG_TIER": "签章证书的层级与签章栏不符",
    "ROUTE_MISMATCH": "签章单位不是上一级单位的上级机关",
    "EXPECTED_OFFICE_MISSING": "缺少指定单位的签章",
    "NOT_OUR_SEAL": "签章证书不是民政电子印章证书",
    "BAD_SLOTS": "文书的签章位信息缺失或损坏",
    "FAKE_SEAL": "未签章的签章栏中画有印章图案",
    "NOT_SEAL_CERT": "签章证书不是电子印章证书（例如时间戳服务的证书），不能用于盖章",
    "PARENT_UNKNOWN": "签章证书未载明上级单位，无法仅凭证书核对流转路径",
    "TIME_ORDER": "签章时间与流转顺序矛盾（后盖的印章声称的时间早于此前印章的可信时间戳）",
    "LEVEL_TOO_LOW": "签章级别低于要求",
    "SIG_PADDING": "签名数据之后的填充区不全为零",
    "UNSIGNED_ATTRIBUTE": "签名中含有时间戳以外的未签名属性或数据",
    "INFO_CHANGED": "签章后文档信息（/Info）被改动",
    "XMP_CHANGED": "签章后 XMP 元数据被改动",
    "UNEXPECTED_OBJECT": "签章后新增或改动了不属于后续印章、验证数据或文档时间戳的对象",
    "UNACCOUNTED_BYTES": "签章后的修订版本中含有不属于任何对象的数据",
    "BAD_DSS": "长期验证数据（DSS/VRI）格式错误",
    "SIG_TOO_LARGE": "签名数据过大，拒绝处理",
    "STREAM_TOO_LARGE": "数据流解压后过大，拒绝处理",
    "TOO_DEEP": "对象嵌套过深，拒绝处理",
    "CERT_PROFILE_ISSUER": "签章证书不是由受信任的根证书直接签发的（中间还有其他证书）",
    "CERT_PROFILE_CA": "签章证书是 CA 证书（CA:TRUE），不能用于盖章",
    "CERT_PROFILE_KEY_USAGE": "签章证书的密钥用途不是数字签名",
    "CERT_PROFILE_EKU": "签章证书的扩展密钥用途不包含电子签章用途",
    "TIMESTAMP_ACTIVE": "文档时间戳的签名域带有动作（例如脚本或启动程序）",
    "TIMESTAMP_VISIBLE": "文档时间戳的签名域可见或有外观内容",
    "TIMESTAMP_IN_ROUTE_BOX": "文档时间戳占用了流转路径的签章栏",
    "PLANTED_OBJECT": "签章后的更新定义了此前修订版本中已被引用、当时却不存在的对象（预埋对象被激活）",
    "BAD_VALIDATION_DATA": "长期验证数据中有不是证书、吊销列表、OCSP 响应或时间戳的数据",
}


def _plain_strings(obj: object) -> None:
    """Values read from a PDF (pyHanko's ``TextStringObject`` and the like) are ``str`` subclasses that do not
    copy or serialise as strings: a report holds plain ``str`` only, so it always turns into JSON."""
    for name, value in vars(obj).items():
        if isinstance(value, str) and type(value) is not str:
            object.__setattr__(obj, name, str(value))


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    field: str | None = None
    indeterminate: bool = False

    def __post_init__(self) -> None:
        _plain_strings(self)


@dataclass(frozen=True)
class SignatureFacts:
    field_name: str
    revision: int
    office_name: str | None
    office_id: str | None
    tier: str | None
    #: the certificate's exact common name (what --expect-office matches besides the id)
    common_name: str | None
    #: the parent office id the certificate carries (MinSeal extension), None for a county or a foreign cert
    parent_id: str | None
    #: PAdES level this seal reaches: B-B | B-T | B-LT | B-LTA
    level: str
    cert_serial: str
    cert_sha256: str
    claimed_signing_time: str | None
    timestamp_time: str | None
    intact: bool
    valid: bool
    trusted: bool
    revocation: str  # good | revoked_after_signing | revoked | unknown
    revoked_at: str | None
    certification: bool
    docmdp: str | None
    changes_after: str  # none | ltv_only | later_signatures | other
    coverage: str  # entire_file | entire_revision | partial
    slot: str | None

    def __post_init__(self) -> None:
        _plain_strings(self)


@dataclass(frozen=True)
class DocumentFacts:
    sha256: str
    size: int
    pages: int | None
    revisions: int | None
    ends_at_last_revision: bool
    trailing_bytes: int
    family: str | None


@dataclass(frozen=True)
class VerificationReport:
    verdict: Verdict
    findings: tuple[Finding, ...]
    signatures: tuple[SignatureFacts, ...]
    document: DocumentFacts

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value, "verdict_label": self.verdict.label,
            "findings": [asdict(f) for f in self.findings],
            "signatures": [asdict(s) for s in self.signatures],
            "document": asdict(self.document),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def summary(self) -> str:
        offices = "、".join(s.office_name or "未知单位" for s in self.signatures) or "无"
        reasons = "；".join(dict.fromkeys(f.message for f in self.findings))
        return f"{self.verdict.label}：{len(self.signatures)} 个签章（{offices}）" + (f"。{reasons}" if reasons else "")


def report_from_dict(data: dict[str, Any]) -> VerificationReport:
    """The inverse of ``VerificationReport.to_dict`` (for reports kept in a cache)."""
    return VerificationReport(
        verdict=Verdict(data["verdict"]),
        findings=tuple(Finding(**f) for f in data["findings"]),
        signatures=tuple(SignatureFacts(**s) for s in data["signatures"]),
        document=DocumentFacts(**data["document"]),
    )
