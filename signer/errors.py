"""The one MinSeal error tree.

Every domain error carries a stable ``code`` (for scripts and logs) and a Chinese ``message`` (for users).
``category`` says what kind of failure it is; the HTTP status and the CLI exit code are derived from it in
exactly one place each (``api.errors``). It lives here, in the lowest layer, because ``templates`` and
``signer`` both raise these errors and neither may import ``api``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BlobMissingError",
    "ConflictError",
    "ErrorCategory",
    "FieldProblem",
    "ForbiddenError",
    "InputFileError",
    "KeyStoreError",
    "MinSealError",
    "NotFoundError",
    "NotSealableError",
    "NotSignedInError",
    "OutputFileError",
    "PublicTokenError",
    "RegistryError",
    "RendererUnavailableError",
    "SealNotIssuedError",
    "SealRevokedError",
    "SealStateError",
    "SealingError",
    "TemplateDataError",
    "ThrottledError",
    "UnknownFamilyError",
    "UnknownOfficeError",
    "UploadTooLargeError",
    "UserError",
    "VerificationRefusedError",
    "WrongOfficeError",
]


class ErrorCategory(StrEnum):
    INVALID = "invalid"          # the caller's input is wrong
    UNAUTHENTICATED = "unauthenticated"  # no (valid) sign-in
    TOO_LARGE = "too_large"      # an upload over the configured limits
    TOO_MANY = "too_many"        # too many requests or failed sign-ins: wait (or, for a locked account, ask an admin)
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    REFUSED = "refused"          # a check (seal, route, policy) said no
    UNAVAILABLE = "unavailable"  # a dependency of this machine is missing or down
    INDETERMINATE = "indeterminate"  # a check could not decide (e.g. no revocation data)


@dataclass(frozen=True)
class FieldProblem:
    """One bad input field: where it is (``members[1].id_number``) and what is wrong, in Chinese."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}：{self.message}"


class MinSealError(Exception):
    """Root of all domain errors."""

    code: str = "MINSEAL_ERROR"
    category: ErrorCategory = ErrorCategory.INVALID
    default_message: str = "操作失败"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 category: ErrorCategory | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        if category is not None:
            self.category = category
        super().__init__(self.message)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class UnknownFamilyError(MinSealError):
    code = "UNKNOWN_FAMILY"
    category = ErrorCategory.NOT_FOUND
    default_message = "没有这种文书模板"


class TemplateDataError(MinSealError):
    """Input data refused by a family's schema; names every bad field, never only the first."""

    code = "INVALID_DATA"
    category = ErrorCategory.INVALID
    default_message = "文书数据有误"

    def __init__(self, problems: list[FieldProblem], message: str | None = None) -> None:
        self.problems = list(problems)
        summary = message or f"文书数据有误（共 {len(self.problems)} 处）"
        super().__init__(summary)

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "fields": [{"path": p.path, "message": p.message} for p in self.problems],
        }

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  - {p}" for p in self.problems)])


class RendererUnavailableError(MinSealError):
    code = "RENDERER_UNAVAILABLE"
    category = ErrorCategory.UNAVAILABLE
    default_message = "文书排版组件不可用"


class InputFileError(MinSealError):
    """A file the user pointed us at cannot be read or parsed."""

    code = "INPUT_FILE"
    category = ErrorCategory.INVALID
    default_message = "无法读取输入文件"


class OutputFileError(MinSealError):
    """An output path cannot be used or written (refused before any work is done)."""

    code = "OUTPUT_FILE"
    category = ErrorCategory.INVALID
    default_message = "无法写入输出文件"


class RegistryError(MinSealError):
    """The office registry (单位名录) is missing or inconsistent."""

    code = "REGISTRY_INVALID"
    category = ErrorCategory.INVALID
    default_message = "单位名录有误"


class UnknownOfficeError(MinSealError):
    code = "UNKNOWN_OFFICE"
    category = ErrorCategory.NOT_FOUND
    default_message = "名录中没有该单位"


class PublicTokenError(MinSealError):
    """The signed token of a QR code is malformed, or its signature does not verify."""

    code = "BAD_PUBLIC_TOKEN"
    category = ErrorCategory.REFUSED
    default_message = "二维码中的签名数据无效"


class KeyStoreError(MinSealError):
    """A key store cannot be opened or used; never carries a PIN, passphrase or key."""

    code = "KEYSTORE_ERROR"
    category = ErrorCategory.UNAVAILABLE
    default_message = "密钥库不可用"


class SealNotIssuedError(MinSealError):
    code = "SEAL_NOT_ISSUED"
    category = ErrorCategory.NOT_FOUND
    default_message = "该单位尚未签发印章证书"


class SealStateError(MinSealError):
    """The requested lifecycle step does not fit the seal's current state (issue twice, revoke twice …)."""

    code = "SEAL_STATE"
    category = ErrorCategory.CONFLICT
    default_message = "印章当前状态不允许此操作"


class SealRevokedError(MinSealError):
    code = "SEAL_REVOKED"
    category = ErrorCategory.REFUSED
    default_message = "该单位的印章证书已吊销，不能用印"


class WrongOfficeError(MinSealError):
    code = "WRONG_OFFICE"
    category = ErrorCategory.FORBIDDEN
    default_message = "该单位无权在此文书上用印"


class NotSealableError(MinSealError):
    code = "NOT_SEALABLE"
    category = ErrorCategory.INVALID
    default_message = "该文件不能用印"


class SealingError(MinSealError):
    """Signing itself failed (a TSA down, a certificate revoked meanwhile, a level without what it needs)."""

    code = "SEALING_FAILED"
    category = ErrorCategory.REFUSED
    default_message = "用印失败"


# -- the service's errors (they live here too: one tree, one file) ------------------------------------------------


class NotSignedInError(MinSealError):
    code = "NOT_SIGNED_IN"
    category = ErrorCategory.UNAUTHENTICATED
    default_message = "请先登录"


class ForbiddenError(MinSealError):
    code = "FORBIDDEN"
    category = ErrorCategory.FORBIDDEN
    default_message = "无权进行此操作"


class NotFoundError(MinSealError):
    """Also what a caller gets for a document of another office: existence is never revealed."""

    code = "NOT_FOUND"
    category = ErrorCategory.NOT_FOUND
    default_message = "没有找到该文书"


class ConflictError(MinSealError):
    code = "CONFLICT"
    category = ErrorCategory.CONFLICT
    default_message = "文书状态已变化，请刷新后重试"


class UserError(MinSealError):
    code = "USER_INVALID"
    category = ErrorCategory.INVALID
    default_message = "用户信息有误"


class UploadTooLargeError(MinSealError):
    code = "UPLOAD_TOO_LARGE"
    category = ErrorCategory.TOO_LARGE
    default_message = "上传的文件超过大小或页数限制"


class ThrottledError(MinSealError):
    """Too many requests from one address, or too many failed sign-ins for one account; ``retry_after`` seconds
    until the window passes (an admin may lift an account's lockout sooner)."""

    code = "THROTTLED"
    category = ErrorCategory.TOO_MANY
    default_message = "请求过于频繁，请稍后再试"

    def __init__(self, message: str | None = None, *, code: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after))

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class BlobMissingError(MinSealError):
    code = "BLOB_MISSING"
    category = ErrorCategory.NOT_FOUND
    default_message = "文件内容不存在"


class VerificationRefusedError(MinSealError):
    """A file failed the seal check at a gate (accept, import); carries the report so the caller sees why."""

    code = "VERIFICATION_FAILED"
    category = ErrorCategory.REFUSED
    default_message = "文件未通过电子签章校验，拒绝接收"

    def __init__(self, message: str | None = None, *, report: dict[str, object] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.report = report

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), **({"report": self.report} if self.report is not None else {})}
