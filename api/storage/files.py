"""Reading user files and writing outputs without ever leaving a half-written file behind."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from api import faults
from signer.errors import InputFileError
from signer.errors import OutputFileError as OutputFileError  # re-exported: moved to the one error tree

#: input files larger than this are refused unread (the largest real notice data is a few MB)
MAX_INPUT_BYTES = 50 * 1024 * 1024


def read_json(path: Path) -> Any:
    raw = read_input(path, what="数据文件")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"无法读取数据文件 {path}（应为 UTF-8 编码的 JSON）：{exc.__class__.__name__}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"数据文件 {path} 不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}"
        ) from None
    except ValueError:  # e.g. an integer of more than 4,300 digits
        raise InputFileError(f"数据文件 {path} 含有过长的数字，不是有效的文书数据") from None
    except RecursionError:
        raise InputFileError(f"数据文件 {path} 嵌套层数过多，不是有效的文书数据") from None


def check_output(*paths: Path | None, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse unusable output paths before any work is done, so a command never half-writes its outputs: a
    target must be a regular file or a new path (never a device, FIFO, socket or directory), each output
    path is used once, and no output may be one of the command's inputs."""
    seen: dict[Path, Path] = {}
    for source in inputs:
        seen[_identity(source)] = source
    for path in paths:
        if path is None:
            continue
        key = _identity(path)
        if key in seen:
            other = seen[key]
            if other in inputs:
                raise OutputFileError(f"输出文件不能与输入文件相同：{path}", code="OUTPUT_IS_INPUT")
            raise OutputFileError(f"同一路径不能用作两个输出：{path}", code="OUTPUT_TWICE")
        seen[key] = path
        try:
            info = path.stat()
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise OutputFileError(f"无法使用输出路径 {path}：{exc.strerror or type(exc).__name__}") from None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise OutputFileError(f"输出路径是一个目录：{path}")
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise OutputFileError(f"输出路径不是普通文件（设备、管道或套接字）：{path}", code="OUTPUT_NOT_REGULAR")
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputFileError(f"无法在 {parent} 下创建输出文件（它不是目录）")
        if not os.access(parent, os.W_OK):
            raise OutputFileError(f"没有写入权限：{parent}")


def _identity(path: Path) -> Path:
    """One key per file: symlinks and ``..`` resolved (hard links of an existing file share its inode)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        resolved = path.absolute()
    try:
        info = resolved.stat()
        return Path(f"/inode/{info.st_dev}/{info.st_ino}")
    except OSError:
        return resolved


def read_input(path: Path, *, what: str = "文件") -> bytes:
    """A regular file's bytes (never blocks on a FIFO or reads a device), at most ``MAX_INPUT_BYTES``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise InputFileError(f"找不到{what}，无法读取{what}：{path}") from None
    except OSError as exc:
        raise InputFileError(f"无法读取{what}：{path}（{exc.strerror or type(exc).__name__}）") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(f"无法读取{what}：{path} 是一个目录")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"无法读取{what}：{path} 不是普通文件（设备、管道或套接字）")
        if info.st_size > MAX_INPUT_BYTES:
            raise InputFileError(f"{what}过大：{path}（最多 {MAX_INPUT_BYTES // 1024 // 1024} MB）")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputFileError(f"无法读取{what}：{path}（{exc.strerror or type(exc).__name__}）") from None
    finally:
        os.close(fd)


_TMP_SUFFIX = ".tmp"


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}."


def clean_stale_temps(path: Path) -> None:
    """Remove temp files of ``path`` left by a writer that was killed (its pid, in the name, is gone)."""
    try:
        candidates = list(path.parent.glob(f"{glob.escape(_tmp_prefix(path))}*{_TMP_SUFFIX}"))
    except OSError:
        return
    for tmp in candidates:
        pid_text = tmp.name[len(_tmp_prefix(path)):].split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_atomic(path: Path, content: bytes, *, mode: int = 0o644) -> None:
    """Temp file in the same folder (named with our pid), fsync, rename, fsync the folder: readers see the old
    file or the whole new one, concurrent writers of one path never mix (the last rename wins), and temp files
    of killed writers are removed by the next write. ``mode`` is set before the rename, so a private file is
    never visible with looser permissions."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{_tmp_prefix(path)}{os.getpid()}.",
                                   suffix=_TMP_SUFFIX)
    except OSError as exc:
        raise OutputFileError(f"无法写入 {path}：{exc.strerror or type(exc).__name__}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        faults.point("write:before-rename")
        os.replace(tmp, path)
        _sync_dir(path.parent)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputFileError(f"无法写入 {path}：{exc.strerror or type(exc).__name__}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
