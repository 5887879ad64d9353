"""Durable file operations on OUT: atomic replacement, folder fsync, syncfs, file hashes.

Takes paths and bytes; gives files that survive a crash whole or not at all. Imports only the
standard library (never render, never incremental).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (a rename, a new link) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def syncfs(path: Path) -> None:
    """Make everything written under ``path``'s file system durable (one call, not one per file)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syncfs(fd) == 0:
                return
        except (OSError, AttributeError):
            pass
        os.sync()
    finally:
        os.close(fd)


#: sync_file_range(2)'s flag that starts the writeback of dirty pages without waiting.
_SYNC_FILE_RANGE_WRITE = 2


def start_writeback(path: Path) -> None:
    """Start writing a file's data to disk, without waiting (Linux's ``sync_file_range``), so
    that the release's one syncfs has less left to wait for; a no-op where it cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
        call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
        call(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)
    except (OSError, AttributeError):
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by a file holding ``data``, written and fsynced beside it first."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def file_sha(path: Path) -> str:
    """The sha256 of a file's contents, in hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
