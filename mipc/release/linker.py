"""Hard-link the current release's files into a staging folder, for the incremental build
(:class:`mipc.release.delta.Prelink`), in processes of their own.

Run as a program: ``python -I -S linker.py BUILD MODE SRC DST [MODE SRC DST ...]``, where
BUILD is the build's process id. ``files``: link each file at the top of folder SRC into the
folder DST; ``folders``: make each folder at the top of SRC anew in DST (mode, owner and
times as SRC's: as ``cp -a`` makes them) and link its files, folder by folder; ``tree``:
the folder SRC itself as DST. Each link is one ``linkat`` between two open folders, without
the ``stat`` and the path lookups ``cp -al`` makes for each name: at 100k phones the top
of ``www/`` links in half the time. It exits 0 when every link and folder was made, else 1
(the build then compiles in full), and dies with the build (Linux's parent-death signal; it
ends at once if the build is gone already).

Takes only folder paths; imports nothing but the standard library (so that it starts in a
hundredth of a second, without the site's packages); writes only under DST.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import stat
import sys

__all__ = ["link_files", "link_tree", "main"]

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def link_files(src: int, dst: int) -> list[str]:
    """Link each entry but the folders at the top of folder ``src`` into folder ``dst``
    (open folders; a symbolic link is linked, not followed); the folders' names."""
    folders: list[str] = []
    with os.scandir(src) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            else:
                os.link(
                    entry.name,
                    entry.name,
                    src_dir_fd=src,
                    dst_dir_fd=dst,
                    follow_symlinks=False,
                )
    return folders


def link_tree(src_parent: int, name: str, dst_parent: int, dst_name: str | None = None) -> None:
    """Make the folder ``name`` of ``src_parent`` anew in ``dst_parent`` (as ``dst_name``)
    and link what it holds, its folders made the same way."""
    made = dst_name or name
    info = os.stat(name, dir_fd=src_parent, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(name)
    os.mkdir(made, 0o700, dir_fd=dst_parent)
    src = os.open(name, _FOLDER, dir_fd=src_parent)
    try:
        dst = os.open(made, _FOLDER, dir_fd=dst_parent)
        try:
            for folder in link_files(src, dst):
                link_tree(src, folder, dst)
            _as_before(dst, info)
        finally:
            os.close(dst)
    finally:
        os.close(src)


def _as_before(folder: int, info: os.stat_result) -> None:
    """Give the open ``folder`` the owner (as far as this user may), mode and times of
    ``info``."""
    if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(PermissionError):
            os.chown(folder, info.st_uid, info.st_gid)
    os.chmod(folder, stat.S_IMODE(info.st_mode))
    os.utime(folder, ns=(info.st_atime_ns, info.st_mtime_ns))


def _link(mode: str, src: str, dst: str) -> None:
    """One MODE SRC DST of the command line."""
    if mode == "tree":
        src_parent = os.open(os.path.dirname(src) or ".", _FOLDER)
        dst_parent = os.open(os.path.dirname(dst) or ".", _FOLDER)
        try:
            link_tree(src_parent, os.path.basename(src), dst_parent, os.path.basename(dst))
        finally:
            os.close(src_parent)
            os.close(dst_parent)
        return
    if mode not in ("files", "folders"):
        raise ValueError(f"unknown mode {mode!r}")
    src_fd, dst_fd = os.open(src, _FOLDER), os.open(dst, _FOLDER)
    try:
        if mode == "files":
            link_files(src_fd, dst_fd)  # its folders: another process's
        else:
            with os.scandir(src_fd) as entries:
                folders = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
            for folder in folders:
                link_tree(src_fd, folder, dst_fd)
    finally:
        os.close(src_fd)
        os.close(dst_fd)


def _die_with(build: int) -> None:
    """Be SIGKILLed when the build ends; end now if it has already."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != build:
        os._exit(1)


def main(argv: list[str]) -> int:
    """Link what ``argv`` (BUILD MODE SRC DST ...) names; 0 when all of it was linked."""
    if len(argv) < 4 or (len(argv) - 1) % 3 or not argv[0].isdigit():
        return 2
    _die_with(int(argv[0]))
    rest = argv[1:]
    try:
        for mode, src, dst in zip(rest[0::3], rest[1::3], rest[2::3], strict=True):
            _link(mode, src, dst)
    except (OSError, ValueError):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
