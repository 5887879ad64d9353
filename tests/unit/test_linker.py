"""The release linker (mipc.release.linker), run as the incremental build runs it: a
release's tree linked into a staging folder, file for file the same inodes, folders made anew
as they were; any failure an exit status of 1."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from mipc.release.delta import LINKER


def _tree(root: Path) -> None:
    """A small release: files at the top of www/, nested folders, a symbolic link, a folder
    with a setgid mode, and network/."""
    (root / "www" / "phone" / "deep").mkdir(parents=True)
    (root / "www" / "server").mkdir()
    (root / "network").mkdir()
    for i in range(50):
        (root / "www" / f"{i:012x}.cfg").write_bytes(b"<x/>%d" % i)
    (root / "www" / "phone" / "a.cfg").write_text("a")
    (root / "www" / "phone" / "deep" / "b.cfg").write_text("b")
    (root / "www" / "server" / "s.cfg").write_text("s")
    (root / "network" / "dhcpd.conf").write_text("host")
    os.symlink("../missing-target", root / "www" / "firmware.ld")
    os.chmod(root / "www" / "phone", 0o2750)
    os.utime(root / "www" / "phone", ns=(1_000_000_000, 2_000_000_000))


def _link(build: int, *args: str | Path) -> int:
    command = [sys.executable, "-I", "-S", str(LINKER), str(build), *map(str, args)]
    return subprocess.run(command, check=False, capture_output=True).returncode


def _entries(root: Path) -> dict[str, tuple[int, int, int]]:
    """Each path under ``root``: (inode for a file or link, else 0), mode, mtime of a folder."""
    out: dict[str, tuple[int, int, int]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        folder = stat.S_ISDIR(info.st_mode)
        out[str(path.relative_to(root))] = (
            0 if folder else info.st_ino,
            info.st_mode,
            info.st_mtime_ns if folder else 0,
        )
    return out


def test_the_linker_links_a_release_as_the_incremental_build_runs_it(tmp_path: Path) -> None:
    """The two processes of Prelink: the top of www/, then its folders and network/. Every
    file (and the symbolic link, not followed) is the release's inode; every folder has the
    release's mode and times."""
    old, new = tmp_path / "release", tmp_path / "staging"
    _tree(old)
    (new / "www").mkdir(parents=True)
    assert _link(os.getpid(), "files", old / "www", new / "www") == 0
    assert sorted(p.name for p in (new / "www").iterdir()) == sorted(
        p.name for p in (old / "www").iterdir() if not p.is_dir() or p.is_symlink()
    )
    folders = ("folders", old / "www", new / "www", "tree", old / "network", new / "network")
    assert _link(os.getpid(), *folders) == 0
    made, before = _entries(new), _entries(old)
    assert made.pop("www")[:2] == before.pop("www")[:2]  # made by Prelink: its time is now
    assert made == before
    assert os.readlink(new / "www" / "firmware.ld") == "../missing-target"


def test_the_linker_fails_rather_than_link_part_of_a_release(tmp_path: Path) -> None:
    """A folder already there, a missing source, a wrong command line: not 0, so the build
    compiles in full; a linker whose build is gone links nothing."""
    old, new = tmp_path / "release", tmp_path / "staging"
    _tree(old)
    (new / "www" / "phone").mkdir(parents=True)
    assert _link(os.getpid(), "folders", old / "www", new / "www") == 1
    assert _link(os.getpid(), "files", tmp_path / "none", new / "www") == 1
    assert _link(os.getpid(), "sideways", old / "www", new / "www") == 1
    assert _link(os.getpid(), "files", old / "www") == 2
    other = tmp_path / "other"
    other.mkdir()
    assert _link(1, "files", old / "www", other) == 1  # not its parent: gone already
    assert list(other.iterdir()) == []
