"""What the OpenAPI document says each route answers, beyond its 200: the error statuses it can give (one error
body for all of them, the one ``signer.errors`` and the app's handlers write) and the media types of the routes
that answer with files. Kept in one place so the routes stay short and the document stays true (a bounded
schemathesis run in the tests holds the service to it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class FieldProblemPublic(BaseModel):
    path: str
    message: str


class ErrorPublic(BaseModel):
    """Every refusal: a stable ``code`` and a Chinese ``message``; bad fields named; ``retry_after`` on 429."""

    code: str
    message: str
    fields: list[FieldProblemPublic] | None = None
    retry_after: int | None = None


class DetailPublic(BaseModel):
    """A refusal made before the route runs (a public page's rate limit, a bad PKI request)."""

    detail: str


WHY = {400: "请求格式有误", 401: "未登录、登录已失效或缺少令牌", 403: "无权进行此操作（角色或单位）",
       404: "没有这项内容（或无权知道它存在）", 409: "与当前状态冲突（办理顺序、并发修改）",
       413: "上传内容超过大小或页数限制", 422: "输入有误（逐项列出）或未通过校验",
       429: "请求或登录失败过于频繁（见 Retry-After）", 503: "本机依赖的服务不可用（密钥、字体、数据库）"}

STAFF = (400, 401, 403, 404, 409, 413, 422, 429, 503)
SIGN_IN = (400, 401, 413, 422, 429)
PUBLIC = (404, 413, 422, 429)
PKI = (400, 401, 413, 429)

BINARY = {"application/pdf", "application/zip", "image/png", "image/jpeg", "application/pkix-cert",
          "application/pkix-crl", "application/ocsp-response", "application/timestamp-reply", "text/csv"}

#: the media types of routes whose 200 is a file (routes that declare their own are left as they are)
FILES: dict[str, tuple[str, ...]] = {
    "/api/documents/{document_id}/pdf": ("application/pdf",),
    "/api/documents/{document_id}/versions/{number}/pdf": ("application/pdf",),
    "/api/scans/{scan_id}/file": ("application/pdf", "image/png", "image/jpeg"),
    "/api/audit": ("application/json", "text/csv"),
    "/v/{public_id}/pdf": ("application/pdf",),
    "/pki/root.crt": ("application/pkix-cert",),
    "/pki/crl/root.crl": ("application/pkix-crl",),
    "/pki/ocsp": ("application/ocsp-response",),
    "/pki/tsa": ("application/timestamp-reply",),
}


def _content(media_type: str) -> dict[str, Any]:
    if media_type in BINARY:
        return {"schema": {"type": "string", "format": "binary"}}
    return {}


def _statuses(path: str) -> tuple[int, ...]:
    if path.startswith("/pki/"):
        return PKI
    if path in ("/api/auth/login",):
        return SIGN_IN
    if path.startswith(("/api/public/", "/v/", "/V/")):
        return PUBLIC
    if path.startswith("/api/"):
        return STAFF
    return ()


def _error(path: str, status: int, html: bool) -> dict[str, Any]:
    """The error body: the JSON error; an HTML page's own error page; ``{"detail"}`` where a refusal is made
    before the route runs (a body that is not JSON, the public rate limit, the PKI endpoints' bad requests)."""
    public = path.startswith(("/api/public/", "/v/", "/V/"))
    if html and status != 429:
        return {"description": WHY[status], "content": {"text/html": {"schema": {"type": "string"}}}}
    early = (public and status == 429) or status == 400 or (path.startswith("/pki/") and status == 401)
    name = "DetailPublic" if early else "ErrorPublic"
    return {"description": WHY[status],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """The generated document with each operation's error statuses and file media types added."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorPublic, DetailPublic):
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(generated.pop("$defs", {}))
        components[model.__name__] = generated
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            # the pages a QR code opens answer every refusal but the rate limit with a page
            html = path.startswith(("/v/", "/V/"))
            for status in _statuses(path):
                if str(status) == "422" and "application/json" in responses.get("422", {}).get("content", {}):
                    responses["422"] = _error(path, 422, html)  # our handler's body, not FastAPI's default
                responses.setdefault(str(status), _error(path, status, html))
            if path in FILES:
                responses["200"] = {"description": "文件", "content": {m: _content(m) for m in FILES[path]}}
    return schema


def document_responses(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request, as FastAPI does)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
