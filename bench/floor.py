"""The floor: a mipc release's files and bytes written from memory with mipc's own calls.

:func:`load_release` reads, once and untimed, what a cold build left in OUT: every file of the
release (``www/``, ``network/``, ``manifest.json``) and the files beside it (``inputs.json``,
``state.bin``, ``releases.json``). :func:`write_floor` then writes them the way a release is
written (``mipc/release/staging.py``, ``emit.py``, ``store.py``, ``durable.py``):

* the release into a staging folder: ``os.makedirs`` once per new folder, each file
  ``os.open(O_WRONLY | O_CREAT | O_EXCL, 0o644)``, ``os.write`` until done, ``os.close``;
* one ``syncfs`` on a descriptor of the staging folder (``libc.syncfs`` through ctypes);
* the staging folder renamed into ``releases/<id>``, ``releases/`` fsynced;
* the files beside it written to a temporary name and renamed over (fsynced first), and the
  ``current`` symlink made by renaming a new one over it.

``syncfs``, ``fsync_dir`` and ``write_atomic`` are mipc's own (``mipc.release.durable``).

With ``writers=2`` the release's files are split between two forked processes (every other
file, so both write into the same folders, as mipc's two render workers do); the parent
waits for both, then makes the one ``syncfs`` and the rest. The floor does no hashing, no
rendering and no checks: it is what the kernel and the interpreter cost for these files.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mipc.release.durable import fsync_dir, syncfs, write_atomic

#: The files beside the releases that a build writes (tmp + rename, as mipc does).
BESIDE = ("inputs.json", "state.bin", "releases.json")


@dataclass(frozen=True)
class Release:
    """A release's files in memory: (path relative to the release, bytes), in path order,
    its id, and the files beside it in OUT."""

    files: list[tuple[str, bytes]]
    release_id: str
    beside: list[tuple[str, bytes]]

    @property
    def size(self) -> int:
        """Bytes of the release's own files."""
        return sum(len(data) for _, data in self.files)


def load_release(out: Path) -> Release:
    """Read ``out``'s current release and the files beside it into memory."""
    root = (out / "current").resolve()
    files: list[tuple[str, bytes]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            files.append((path.relative_to(root).as_posix(), path.read_bytes()))
    files.sort()
    beside = [(n, (out / n).read_bytes()) for n in BESIDE if (out / n).is_file()]
    return Release(files, root.name, beside)


def write_files(root: Path, files: list[tuple[str, bytes]]) -> None:
    """Write ``files`` under ``root`` with the calls of ``Stager.write``."""
    made: set[str] = set()
    base = str(root)
    for rel, data in files:
        parent = os.path.dirname(rel)
        if parent not in made:
            os.makedirs(os.path.join(base, parent), exist_ok=True)
            made.add(parent)
        fd = os.open(os.path.join(base, rel), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


def _write_split(root: Path, files: list[tuple[str, bytes]], writers: int) -> None:
    """``files`` written by ``writers`` forked processes, every ``writers``-th file each."""
    pids = []
    for k in range(writers):
        pid = os.fork()
        if pid == 0:  # the child: write its share, report by exit code only
            code = 0
            try:
                write_files(root, files[k::writers])
            except BaseException:
                code = 1
            os._exit(code)
        pids.append(pid)
    failed = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    if any(failed):
        raise OSError(f"a floor writer failed: exit codes {failed}")


def write_floor(release: Release, out: Path, writers: int = 1) -> None:
    """Write ``release`` as a new OUT at ``out`` (which must not exist)."""
    out.mkdir()
    (out / "releases").mkdir()
    staging = out / f".staging-{os.getpid()}"
    staging.mkdir()
    if writers == 1:
        write_files(staging, release.files)
    else:
        _write_split(staging, release.files, writers)
    syncfs(staging)
    os.rename(staging, out / "releases" / release.release_id)
    fsync_dir(out / "releases")
    for name, data in release.beside:
        write_atomic(out / name, data)
    tmp = out / "current.tmp"
    os.symlink(f"releases/{release.release_id}", tmp)
    os.replace(tmp, out / "current")
    fsync_dir(out)
