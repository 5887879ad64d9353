"""OUT's lock: one build (or rollback) at a time, who holds it, and what to do when it is stale.

``OUT/.lock`` is ``flock``'ed by the process that builds; while held it says who holds it, as a
small JSON (:class:`Holder`: pid, host, start time, the command; the boot and the process's
start tick, so a reused pid is not taken for the holder). The lock is the process's own: its
file descriptor is not inherited by programs it runs (``O_CLOEXEC``) and a forked child (a
render worker) closes it first thing (:func:`os.register_at_fork`), so no child ever keeps it
once the build is gone. It is re-entrant within a process: a build holds it from its first
look at OUT to its last write, and the stages that lock on their own find it held already.

A lock whose holder is gone while some other process still keeps the file locked (a child of
an older mipc, say) is *stale*: it is taken over by renaming a fresh, locked lock file over it,
under a second lock (``OUT/.lock-takeover``) so that two takers cannot both win. Takes OUT's
path; gives :func:`hold`, :func:`unlock` and the refusal. Never imports render or incremental.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from mipc.release.errors import LockHeld

LOCK = ".lock"
TAKEOVER = ".lock-takeover"
#: How often a build that waits for the lock tries again (seconds).
POLL = 0.1

_HELD: dict[str, int] = {}  # OUT's real path: the descriptor this process locked it with


def _forget_in_child() -> None:
    """In a forked child: close the parent's lock descriptors (the lock stays the parent's)."""
    for fd in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot; None if there is no such
    process (or no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    try:
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) OUT's lock."""

    pid: int
    host: str
    started: str  # UTC, ISO 8601
    command: str = "build"
    boot: str = ""  # the kernel's boot id when it took the lock
    ticks: int = -1  # the process's start time, in clock ticks since boot (-1: unknown)

    @classmethod
    def me(cls, command: str) -> Holder:
        """This process, taking the lock now for ``command``."""
        ticks = _start_ticks(os.getpid())
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            command=command,
            boot=_boot_id(),
            ticks=-1 if ticks is None else ticks,
        )

    @classmethod
    def parse(cls, data: bytes) -> Holder | None:
        """The holder a lock file names, or None (empty, or not written by this mipc)."""
        try:
            raw = json.loads(data)
            return cls(
                pid=int(raw["pid"]),
                host=str(raw["host"]),
                started=str(raw["started"]),
                command=str(raw.get("command", "build")),
                boot=str(raw.get("boot", "")),
                ticks=int(raw.get("ticks", -1)),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def to_bytes(self) -> bytes:
        """The lock file's contents."""
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode()

    def describe(self) -> str:
        """``build pid 1234 on host h since 2026-12-01T12:00:00Z``."""
        return f"{self.command} pid {self.pid} on host {self.host} since {self.started}"

    def gone(self) -> bool:
        """Whether the holder has surely ended (on another host no one can tell: it has not)."""
        if self.host != socket.gethostname():
            return False
        boot = _boot_id()
        if self.boot and boot and self.boot != boot:
            return True  # the machine restarted since
        ticks = _start_ticks(self.pid)
        if ticks is not None:
            return self.ticks >= 0 and ticks != self.ticks  # the pid is another process's now
        if Path("/proc/self/stat").exists():
            return True  # /proc works and has no such process
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def refusal(root: Path, holder: Holder | None, waited: float = 0) -> str:
    """The one line that says OUT is locked, by whom, and what to do."""
    who = holder.describe() if holder else "a process that did not record who it is"
    after = f" (waited {waited:g} s)" if waited else ""
    return (
        f"{root} is locked by {who}{after}; wait for it to finish (mipc build --wait SECONDS),"
        f" or, if it is gone, mipc unlock {root}"
    )


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _read_holder(fd: int) -> Holder | None:
    try:
        return Holder.parse(os.pread(fd, 4096, 0))
    except OSError:
        return None


def _try_lock(path: Path) -> tuple[int | None, Holder | None, int]:
    """Lock ``path`` without waiting: ``(fd, None, inode)``, or ``(None, holder, inode)``
    when another process holds it. Raises ``OSError`` (a read-only OUT, say)."""
    while True:
        fd = _open(path)
        try:
            ino = os.fstat(fd).st_ino
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                return None, holder, ino
            if os.stat(path).st_ino == ino:
                return fd, None, ino
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # a takeover renamed another file over it meanwhile: lock that one


def _write_holder(fd: int, holder: Holder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, holder.to_bytes(), 0)


def _replace(root: Path, stale_ino: int, holder: Holder | None) -> int | None:
    """Rename a fresh lock file over ``OUT/.lock`` if it still is inode ``stale_ino`` (a stale
    lock): locked by this process and naming ``holder`` (its descriptor is returned), or
    empty and free when ``holder`` is None. None (and -1 for a free one) when another
    process replaced it first."""
    path = root / LOCK
    guard = _open(root / TAKEOVER)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if os.stat(path).st_ino != stale_ino:
            return None
        fresh = root / f"{LOCK}.{os.getpid()}"
        fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        if holder is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _write_holder(fd, holder)
        os.replace(fresh, path)
        if holder is None:
            os.close(fd)
            return -1
        return fd
    finally:
        os.close(guard)


def acquire(root: Path, command: str, wait: float = 0) -> int:
    """Lock OUT for ``command`` (waiting up to ``wait`` seconds for another holder; a stale
    lock is taken over); the descriptor. :class:`LockHeld` if it stays held; ``OSError``
    if OUT cannot be written."""
    path = root / LOCK
    deadline = time.monotonic() + wait
    me = Holder.me(command)
    while True:
        fd, holder, ino = _try_lock(path)
        if fd is None and holder is not None and holder.gone():
            fd = _replace(root, ino, me)
            if fd is None:
                continue  # another build took it over first: try again
            return fd
        if fd is not None:
            _write_holder(fd, me)
            return fd
        left = deadline - time.monotonic()
        if left <= 0:
            raise LockHeld(refusal(root, holder, wait))
        time.sleep(min(POLL, left))


def release(fd: int) -> None:
    """Say no one holds the lock any more, and unlock it."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
    os.close(fd)


@contextlib.contextmanager
def hold(root: Path, command: str = "build", wait: float = 0) -> Iterator[None]:
    """Hold OUT's lock for the ``with`` block (see :func:`acquire`); re-entrant."""
    key = os.path.realpath(root)
    if key in _HELD:
        yield
        return
    fd = acquire(root, command, wait)
    _HELD[key] = fd
    try:
        yield
    finally:
        del _HELD[key]
        release(fd)


@dataclass(frozen=True)
class Unlocked:
    """What :func:`unlock` found: who held the lock (None: no one said), whether it was
    held, and whether that holder still runs."""

    holder: Holder | None
    held: bool
    running: bool


def unlock(root: Path, force: bool = False) -> Unlocked:
    """Clear OUT's lock if its holder is gone (or ``force``: a person's decision, even if it
    runs); :class:`LockHeld`, naming the holder, when it runs and not ``force``."""
    path = root / LOCK
    if not path.exists():
        return Unlocked(None, held=False, running=False)
    fd, holder, ino = _try_lock(path)
    if fd is not None:
        stale = _read_holder(fd)
        release(fd)  # no one held it: only a record was left
        return Unlocked(stale, held=False, running=False)
    running = holder is None or not holder.gone()
    if running and not force:
        who = holder.describe() if holder else "a process that did not record who it is"
        raise LockHeld(
            f"{root} is locked by {who}, which is still running; wait for it, or"
            f" mipc unlock --force {root} if you are sure it must go"
        )
    if _replace(root, ino, None) is None:  # another process took it over meanwhile
        return unlock(root, force)
    return Unlocked(holder, held=True, running=running)
