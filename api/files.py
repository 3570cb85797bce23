"""Reading user files and writing outputs without ever leaving a half-written file behind."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from signer.errors import ErrorCategory, InputFileError, MinSealError


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"找不到数据文件：{path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(
            f"无法读取数据文件 {path}（应为 UTF-8 编码的 JSON）：{exc.__class__.__name__}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"数据文件 {path} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}"
        ) from None


class OutputFileError(MinSealError):
    code = "OUTPUT_FILE"
    category = ErrorCategory.INVALID
    default_message = "无法写入输出文件"


def check_output(*paths: Path | None) -> None:
    """Refuse unusable output paths before any work is done, so a command never half-writes its outputs."""
    for path in paths:
        if path is None:
            continue
        if path.is_dir():
            raise OutputFileError(f"输出路径是一个目录：{path}")
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputFileError(f"无法在 {parent} 下创建输出文件（它不是目录）")
        if not os.access(parent, os.W_OK):
            raise OutputFileError(f"没有写入权限：{parent}")


def read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise InputFileError(f"无法读取文件：{path}") from None


def write_atomic(path: Path, content: bytes, *, mode: int = 0o644) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the whole new one.
    ``mode`` is set before the rename, so a private file is never visible with looser permissions."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputFileError(f"无法写入 {path}：{exc.strerror or type(exc).__name__}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputFileError(f"无法写入 {path}：{exc.strerror or type(exc).__name__}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_line(path: Path, line: bytes) -> None:
    """Append-only log: O_APPEND and one write per entry under an exclusive lock, so concurrent writers
    never lose each other's entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.rstrip(b"\n") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
