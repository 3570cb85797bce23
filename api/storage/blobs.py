"""Content-addressed blob store: a file's name is its SHA-256. Written atomically (temp file in the same
directory, fsync, rename, fsync of the directory) *before* the row that points at it commits; never overwritten.
A sweep removes blobs no row references (left by a transaction that rolled back or a process that died).

The interface is what callers use; a directory shared by every worker is the one implementation here. An
S3-compatible store would implement the same four methods.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from signer.errors import BlobMissingError


class BlobStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def sweep(self, referenced: Iterable[str], *, older_than_s: float = 3600) -> list[str]: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DirectoryBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise BlobMissingError(f"文件摘要格式错误：{sha256[:80]}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        path = self._path(digest)
        if path.exists():  # same bytes, same name: nothing to write, nothing overwritten
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return digest

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissingError(f"文件内容不存在：{sha256}") from None
        if sha256_hex(data) != sha256:
            raise BlobMissingError(f"文件内容已损坏：{sha256}", code="BLOB_CORRUPT")
        return data

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def sweep(self, referenced: Iterable[str], *, older_than_s: float = 3600) -> list[str]:
        """Remove unreferenced blobs and stale temp files older than ``older_than_s`` (younger ones may belong to
        a transaction still under way). Returns the removed blob names."""
        keep = set(referenced)
        cutoff = time.time() - older_than_s
        removed: list[str] = []
        if not self.root.exists():
            return removed
        for path in self.root.glob("*/*"):
            try:
                if path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            if path.name.startswith(".tmp-"):
                path.unlink(missing_ok=True)
            elif path.name not in keep:
                path.unlink(missing_ok=True)
                removed.append(path.name)
        return removed
