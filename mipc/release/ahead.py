"""Linking ahead: the current release's files hard-linked, once a build has ended, into a
spare folder that the next incremental build starts from.

An incremental build begins by hard-linking every file of the current release into its
staging folder (:class:`mipc.release.delta.Prelink`): at 100k phones 160,000 links, most of a
one-phone build's time. After a build, :func:`start` has :mod:`mipc.release.linker` make those
very links (same program, same calls) in the background, niced, into ``OUT/.next-<id>``; the
next incremental build of release ``<id>`` renames that folder into its staging folder
(:func:`take`) instead of linking. The spare records the stamp of each folder it was linked
from (inode, modification and change times, taken before the folder was read); a release
folder that changed since (a rollback's carry-over links files into one) makes the spare
stale, and it is not taken.

``OUT/.next.lock`` (flock) is held by whoever works on the spares: the linker for as long as it
sets aside and links (the build locks it and hands the open file over, so no other build can
come in between), and a build while it takes one, waiting up to :data:`WAIT` seconds for a
linker still at work (what it links is what the build would link itself). Spares no build will
take (another release's, a killed linker's), and a spare a build took but made no release of
(:class:`mipc.release.delta.Prelink`: the build went on in full), are set aside as
``OUT/.trash-*`` and removed by the linker in the background, once it has let go of the lock:
never in a build's time.

Takes OUT and its current release; gives whether a spare was taken. Never imports render or
incremental.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

from mipc.release.linker import AHEAD, PART, STAMPS, TRASH, folder_stamp, trash_name
from mipc.release.store import Out

#: ``--link-ahead``: ``auto`` links ahead for a release of :data:`AHEAD_FILES` files or more.
LinkAhead = Literal["auto", "always", "never"]
#: Below this many files a release links in a few hundredths of a second: no spare.
AHEAD_FILES = 20_000
#: How long a build waits for a linker still linking ahead (a second or two at 100k phones).
WAIT = 60.0
#: The flock of the spares.
LOCK = ".next.lock"
#: The program that links ahead.
LINKER = Path(__file__).with_name("linker.py")


def _open_lock(root: Path) -> int:
    return os.open(root / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder itself (not a symbolic link to one)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _leftovers(root: Path, keep: str) -> bool:
    """Whether OUT holds spares or trash but ``keep`` (a spare's name, or empty)."""
    try:
        names = os.listdir(root)
    except OSError:
        return False
    kept = (keep, f"{keep}{STAMPS}") if keep else ()
    return any(n.startswith((AHEAD, TRASH)) and n not in kept for n in names)


def start(out: Out, files: int, mode: LinkAhead) -> bool:
    """After a build that left ``current`` at a release of ``files`` files: link it ahead
    (``mode`` allowing), or at least remove the spares no build will take, in a process that
    outlives the build. Call with OUT's lock held. False if nothing was started."""
    name = out.current_id()
    if name is None:
        return False
    spare = (
        f"{AHEAD}{name}" if mode == "always" or (mode == "auto" and files >= AHEAD_FILES) else ""
    )
    if spare and is_folder(out.root / spare):
        spare = ""  # there already (a no-op build)
    if not spare and not _leftovers(out.root, f"{AHEAD}{name}"):
        return False
    try:
        lock = _open_lock(out.root)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a linker is at work still: the next build links for itself
        os.set_inheritable(lock, True)
        command = [sys.executable, "-I", "-S", str(LINKER), "ahead", str(lock)]
        command += [str(out.releases / name), str(out.root), spare and name]
        quiet = subprocess.DEVNULL
        # It forks the linker and ends: waited for here, so no process is left unreaped.
        started = subprocess.run(
            command,
            stdin=quiet,
            stdout=quiet,
            stderr=quiet,
            pass_fds=(lock,),
            start_new_session=True,
            check=False,
            timeout=30,
        )
        return started.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False  # linking ahead only saves time
    finally:
        os.close(lock)


def _wait_for(lock: int, seconds: float) -> bool:
    """Take the flock of the open file ``lock`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def settled(root: Path, seconds: float) -> bool:
    """Wait, up to ``seconds``, for the link-ahead a build left running in OUT ``root`` to
    end: its lock let go of and the trash emptied (for what must not run beside it, such
    as a benchmark's next step). False if it has not ended by then."""
    deadline = time.monotonic() + seconds
    try:
        lock = os.open(root / LOCK, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        pass  # no build linked ahead here
    else:
        try:
            if not _wait_for(lock, seconds):
                return False
        finally:
            os.close(lock)
    while any(n.startswith(TRASH) for n in os.listdir(root)):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _fresh(release: Path, stamps: object) -> bool:
    """Whether every folder of ``release`` named by ``stamps`` has the stamp it had."""
    if not isinstance(stamps, dict) or "www" not in stamps or "network" not in stamps:
        return False
    for rel, stamp in stamps.items():
        try:
            info = os.stat(release / rel, follow_symlinks=False)
        except (OSError, ValueError):
            return False
        if folder_stamp(info) != stamp:
            return False
    return True


def take(out: Out, name: str, staging: Path) -> bool:
    """Rename the spare of release ``name`` to ``staging`` if there is one that is not stale
    (waiting for a linker still making it); a stale one is set aside. Call with OUT's lock
    held. False: the build links for itself."""
    spare = out.root / f"{AHEAD}{name}"
    if not is_folder(spare) and not is_folder(out.root / f"{spare.name}{PART}"):
        return False  # none, and none being made: no waiting
    try:
        lock = _open_lock(out.root)
    except OSError:
        return False
    try:
        if not _wait_for(lock, WAIT):
            return False
        stamps_file = out.root / f"{spare.name}{STAMPS}"
        try:
            stamps = json.loads(stamps_file.read_bytes())
        except (OSError, ValueError):
            stamps = None
        if not is_folder(spare) or not _fresh(out.releases / name, stamps):
            with contextlib.suppress(OSError):
                os.rename(spare, out.root / trash_name("stale"))
            return False
        try:
            os.rename(spare, staging)
        except OSError:
            return False
        with contextlib.suppress(OSError):
            os.unlink(stamps_file)
        return True
    finally:
        os.close(lock)
