"""Passphrases and PINs: from settings, else from a secret file (0600). Never logged, never in errors.

Reading never creates anything: only ``init-demo`` (``create=True``) writes a new secret, and only where no file
exists yet. A secret file that is missing, not a regular file, empty or not UTF-8 is refused, each with its own
code, so a typo in a path can never silently become a new secret.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from pydantic import SecretStr

from signer.errors import KeyStoreError


def read_secret(value: SecretStr | None, path: Path, *, what: str = "口令") -> str:
    """The secret from settings, else from ``path``; refuses anything but a non-empty UTF-8 regular file."""
    if value is not None:
        text = value.get_secret_value().strip()
        if not text:
            raise KeyStoreError(f"{what}为空：请检查环境变量中的设置", code="SECRET_EMPTY")
        return text
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyStoreError(f"未配置{what}：请设置环境变量或提供{what}文件 {path}（新安装请先运行 minseal init-demo）",
                            code="SECRET_MISSING") from None
    except OSError as exc:
        raise KeyStoreError(f"无法读取{what}文件 {path}：{exc.strerror or type(exc).__name__}",
                            code="SECRET_UNREADABLE") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "目录" if stat.S_ISDIR(info.st_mode) else "特殊文件（设备、管道或套接字）"
        raise KeyStoreError(f"{what}文件 {path} 是一个{kind}，不是普通文件", code="SECRET_UNREADABLE")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyStoreError(f"无法读取{what}文件 {path}：{exc.strerror or type(exc).__name__}",
                            code="SECRET_UNREADABLE") from None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyStoreError(f"{what}文件 {path} 不是 UTF-8 文本", code="SECRET_UNREADABLE") from None
    if not text:
        raise KeyStoreError(f"{what}文件 {path} 是空的", code="SECRET_EMPTY")
    return text


def read_or_create(value: SecretStr | None, path: Path, *, create: bool, length: int = 24,
                   what: str = "口令") -> str:
    """``read_secret``; with ``create`` (``init-demo`` only) a missing file is first made with a random secret."""
    if value is None and create and not os.path.lexists(path):
        if not path.parent.exists():  # only a folder we create is ours to restrict
            path.parent.mkdir(parents=True, mode=0o700)
        secret = secrets.token_urlsafe(length)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return read_secret(value, path, what=what)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return secret
    return read_secret(value, path, what=what)
