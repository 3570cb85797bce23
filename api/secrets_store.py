"""Passphrases and PINs: from settings, else from a secret file (0600). Never logged, never in errors."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from signer.errors import KeyStoreError


def read_or_create(value: SecretStr | None, path: Path, *, create: bool, length: int = 24) -> str:
    if value is not None:
        return value.get_secret_value()
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not create:
        raise KeyStoreError(f"未配置口令：请设置环境变量或提供口令文件 {path}", code="SECRET_MISSING")
    if not path.parent.exists():  # only a folder we create is ours to restrict
        path.parent.mkdir(parents=True, mode=0o700)
    secret = secrets.token_urlsafe(length)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
