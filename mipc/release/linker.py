"""Hard-link the current release's files into a staging folder, for the incremental build
(:class:`mipc.release.delta.Prelink`), in processes of their own.

Run as a program: ``python -I -S linker.py BUILD MODE SRC DST [MODE SRC DST ...]``, where
BUILD is the build's process id. ``files``: link each file at the top of folder SRC into the
folder DST; ``folders``: make each folder at the top of SRC anew in DST (mode, owner and
times as SRC's: as ``cp -a`` makes them) and link its files, folder by folder; ``tree``:
the folder SRC itself as DST. ``python -I -S linker.py ahead LOCK RELEASE OUT ID`` links
ahead, in the background, for the next build (:mod:`mipc.release.ahead`). Each link is one
``linkat`` between two open folders, without the ``stat`` and the path lookups ``cp -al``
makes for each name: at 100k phones the top of ``www/`` links in half the time. It exits 0
when every link and folder was made, else 1 (the build then compiles in full), and dies with
the build (Linux's parent-death signal; it ends at once if the build is gone already);
linking ahead, it outlives the build.

Takes only folder paths; imports nothing but the standard library (so that it starts in a
hundredth of a second, without the site's packages); writes only under DST (linking ahead:
only OUT's spares and trash).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import stat
import sys
import time

__all__ = ["AHEAD", "TRASH", "folder_stamp", "link_files", "link_tree", "main", "trash_name"]

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: Linking ahead: ``OUT/.next-<id>`` is release ``<id>`` linked (``.part`` while it is made),
#: ``OUT/.next-<id>.stamps`` the stamps of the folders it was linked from, and what
#: ``OUT/.trash-*`` holds (spares set aside) is removed once the lock is let go.
AHEAD, PART, STAMPS, TRASH = ".next-", ".part", ".stamps", ".trash-"
#: Linking ahead yields to everything else on the machine.
AHEAD_NICE = 10

#: The folders a spare was linked from, each with its stamp (see :func:`folder_stamp`).
Stamps = dict[str, list[int]]


def folder_stamp(info: os.stat_result) -> list[int]:
    """What changes when a folder's entries do: its inode, modification and change times."""
    return [info.st_ino, info.st_mtime_ns, info.st_ctime_ns]


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


def link_tree(
    src_parent: int,
    name: str,
    dst_parent: int,
    dst_name: str | None = None,
    stamps: tuple[Stamps, str] | None = None,
) -> None:
    """Make the folder ``name`` of ``src_parent`` anew in ``dst_parent`` (as ``dst_name``)
    and link what it holds, its folders made the same way; ``stamps``: where to record
    each source folder's stamp (before its entries are read), and the folder's path there."""
    made = dst_name or name
    info = os.stat(name, dir_fd=src_parent, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(name)
    os.mkdir(made, 0o700, dir_fd=dst_parent)
    src = os.open(name, _FOLDER, dir_fd=src_parent)
    try:
        dst = os.open(made, _FOLDER, dir_fd=dst_parent)
        try:
            if stamps is not None:
                stamps[0][stamps[1]] = folder_stamp(os.fstat(src))
            for folder in link_files(src, dst):
                below = None if stamps is None else (stamps[0], f"{stamps[1]}/{folder}")
                link_tree(src, folder, dst, stamps=below)
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


def _spare(root: int, release: str, name: str) -> None:
    """Link release folder ``release`` into ``.next-NAME`` of the open folder ``root``, as
    :class:`mipc.release.delta.Prelink` links it into a staging folder, and write the
    stamps of the folders it was linked from."""
    part = f"{AHEAD}{name}{PART}"
    stamps: Stamps = {}
    os.mkdir(part, 0o777, dir_fd=root)
    src, dst = os.open(release, _FOLDER), os.open(part, _FOLDER, dir_fd=root)
    try:
        os.mkdir("www", 0o777, dir_fd=dst)
        www_src, www_dst = os.open("www", _FOLDER, dir_fd=src), os.open("www", _FOLDER, dir_fd=dst)
        try:
            stamps["www"] = folder_stamp(os.fstat(www_src))
            for folder in link_files(www_src, www_dst):
                link_tree(www_src, folder, www_dst, stamps=(stamps, f"www/{folder}"))
        finally:
            os.close(www_src)
            os.close(www_dst)
        link_tree(src, "network", dst, stamps=(stamps, "network"))
    finally:
        os.close(src)
        os.close(dst)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    fd = os.open(f"{AHEAD}{name}{STAMPS}", flags, 0o600, dir_fd=root)
    with open(fd, "w", encoding="ascii") as fh:
        json.dump(stamps, fh, sort_keys=True)
    os.rename(part, f"{AHEAD}{name}", src_dir_fd=root, dst_dir_fd=root)


def _set_aside(root: int, keep: str) -> None:
    """Move every spare of the open folder ``root`` but ``keep`` (a name of it) to the
    trash, and ``keep`` too when its stamps are missing."""
    entries = set(os.listdir(root))
    if keep and f"{keep}{STAMPS}" not in entries:
        keep = ""
    for n, entry in enumerate(sorted(entries)):
        if entry.startswith(AHEAD) and entry not in (keep, f"{keep}{STAMPS}"):
            os.rename(entry, trash_name(n), src_dir_fd=root, dst_dir_fd=root)


def trash_name(n: int | str) -> str:
    """A name in the trash no other process gives (its id and the time), for entry ``n``."""
    return f"{TRASH}{os.getpid()}-{time.monotonic_ns()}-{n}"


def _empty_trash(out: str) -> None:
    """Remove what ``out``'s trash holds."""
    for entry in os.listdir(out):
        if entry.startswith(TRASH):
            path = os.path.join(out, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def ahead(argv: list[str]) -> int:
    """``LOCK RELEASE OUT ID``: holding the flock of the open file LOCK (handed over by the
    build), set aside OUT's spares but release ``ID``'s, link folder RELEASE (release ``ID``
    of OUT) into a spare unless it has one, let go of the lock, and empty the trash. With
    ``ID`` empty, only sets aside and empties; in a child process, the one started
    ending at once. 0 when all of it was done."""
    if len(argv) != 4 or not argv[0].isdigit():
        return 2
    lock, release, out, name = int(argv[0]), argv[1], argv[2], argv[3]
    if os.fork():  # the build waits for this process only: its child outlives it
        os._exit(0)
    with contextlib.suppress(OSError):
        os.nice(AHEAD_NICE)
    try:
        root = os.open(out, _FOLDER)
        try:
            spare = f"{AHEAD}{name}" if name else ""
            _set_aside(root, spare)
            if spare and spare not in os.listdir(root):
                _spare(root, release, name)
        finally:
            os.close(root)
            os.close(lock)
        _empty_trash(out)
    except OSError:
        return 1
    return 0


def main(argv: list[str]) -> int:
    """Link what ``argv`` (BUILD MODE SRC DST ...) names; 0 when all of it was linked."""
    if argv[:1] == ["ahead"]:
        return ahead(argv[1:])
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
