"""Where domain errors become HTTP statuses and CLI exit codes: the one mapping for each."""

from __future__ import annotations

from signer.errors import ErrorCategory, MinSealError

HTTP_STATUS: dict[ErrorCategory, int] = {
    ErrorCategory.INVALID: 422,
    ErrorCategory.UNAUTHENTICATED: 401,
    ErrorCategory.TOO_LARGE: 413,
    ErrorCategory.TOO_MANY: 429,
    ErrorCategory.NOT_FOUND: 404,
    ErrorCategory.FORBIDDEN: 403,
    ErrorCategory.CONFLICT: 409,
    ErrorCategory.REFUSED: 422,
    ErrorCategory.UNAVAILABLE: 503,
    ErrorCategory.INDETERMINATE: 422,
}

#: 0 success, 1 unexpected failure, 2 command-line usage (typer/click's own)
EXIT_CODE: dict[ErrorCategory, int] = {
    ErrorCategory.INVALID: 3,
    ErrorCategory.NOT_FOUND: 4,
    ErrorCategory.FORBIDDEN: 5,
    ErrorCategory.CONFLICT: 6,
    ErrorCategory.REFUSED: 7,
    ErrorCategory.UNAVAILABLE: 8,
    ErrorCategory.INDETERMINATE: 9,
    ErrorCategory.UNAUTHENTICATED: 10,
    ErrorCategory.TOO_LARGE: 11,
    ErrorCategory.TOO_MANY: 12,
}


def http_status(error: MinSealError) -> int:
    return HTTP_STATUS[error.category]


def http_headers(error: MinSealError) -> dict[str, str]:
    """Headers an error's answer carries: ``Retry-After`` when the caller is told to wait."""
    retry_after = getattr(error, "retry_after", None)
    return {"Retry-After": str(retry_after)} if retry_after else {}


def exit_code(error: MinSealError) -> int:
    return EXIT_CODE[error.category]
