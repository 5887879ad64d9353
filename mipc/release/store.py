"""The release store: the OUT folder, its releases, the current link, history, lock, rollback.

Layout of OUT::

    OUT/current -> releases/<id>     switched by renaming a new symlink over the old one
    OUT/releases/<id>/{www,network,manifest.json}
    OUT/releases/<id>/retained.json  the files kept of the release before it (not in its
                                     manifest; see mipc.release.retain)
    OUT/releases.json                the order releases were made current (rollback), and
                                     which mipc (package digest) made each release
    OUT/uploads/{logs,overrides,contacts}   created once, never written by a build
    OUT/.lock                        flock: one build (or rollback) at a time, and who
                                     holds it (see mipc.release.lock)
    OUT/.staging-<pid>/              the release being written; renamed into releases/ whole
    OUT/.next-<id>/, .next-<id>.stamps, .next.lock, .trash-*
                                     release <id> linked ahead for the next incremental
                                     build, and what is left to remove (mipc.release.ahead)

Takes an OUT path; gives :class:`Out` (read and switch releases under the lock),
:func:`rollback` and the errors a build reports. ``<id>`` is the first 16 hex digits of the
manifest's sha256: same inventory, same id. Never imports render or incremental.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mipc.diagnostics import Diagnostic, InvalidInputError
from mipc.release.durable import file_sha, fsync_dir, syncfs, write_atomic
from mipc.release.errors import EmitError as EmitError
from mipc.release.errors import LockHeld as LockHeld
from mipc.release.lock import hold
from mipc.release.manifest import MANIFEST
from mipc.release.retain import carried, read_retained, retain
from mipc.resources import package_digest

HISTORY = "releases.json"
UPLOAD_DIRS = ("contacts", "logs", "overrides")


class WarningsAsErrors(InvalidInputError):
    """``--strict`` and the render stage warned: the release is not made current."""

    def __init__(self, warnings: list[Diagnostic]) -> None:
        super().__init__(f"{len(warnings)} warning(s) under --strict")
        self.warnings = warnings


def release_id(data: bytes) -> str:
    """A release's id: the first 16 hex digits of its manifest's sha256."""
    return release_id_of(hashlib.sha256(data).hexdigest())


def release_id_of(manifest_sha256: str) -> str:
    """A release's id from its manifest's sha256 (in hex)."""
    return manifest_sha256[:16]


@dataclass(frozen=True)
class ReleaseIndex:
    """The parts of a release's manifest a build reuses, without the rest (at 100k phones
    the parsed manifest is some 300 MB of Python objects; this is a fraction)."""

    files: Mapping[str, tuple[str, int]] = field(default_factory=dict)  # path: (sha256, size)
    phones: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    """phone name: (digest, its files)"""


def _compact(obj: dict[str, Any]) -> Any:
    """``json``'s object hook for a manifest: a file's entry as (sha256, size) and a phone's
    as (digest, its files) as soon as each is parsed, anything else as it is. Each entry's
    dict is freed at once, so the parse never holds the whole manifest's objects (at 100k
    phones some 300 MB, whose freed pages the process keeps)."""
    sha, size = obj.get("sha256"), obj.get("size")
    if isinstance(sha, str) and isinstance(size, int):
        return (sha, size)
    digest, owned = obj.get("digest"), obj.get("files")
    if (
        isinstance(digest, str)
        and isinstance(owned, list)
        and all(isinstance(f, str) for f in owned)
    ):
        return (digest, tuple(owned))
    return obj


def _index(manifest: Mapping[str, Any]) -> ReleaseIndex:
    """The well-formed file and phone entries of a manifest parsed with :func:`_compact`."""
    raw_files, raw_phones = manifest.get("files"), manifest.get("phones")
    files: dict[str, tuple[str, int]] = {}
    for path, meta in raw_files.items() if isinstance(raw_files, dict) else ():
        if isinstance(meta, tuple) and isinstance(meta[1], int):
            files[path] = meta
    phones: dict[str, tuple[str, tuple[str, ...]]] = {}
    for phone, record in raw_phones.items() if isinstance(raw_phones, dict) else ():
        if isinstance(record, tuple) and isinstance(record[1], tuple):
            phones[phone] = record
    return ReleaseIndex(files, phones)


class Out:
    """The output folder: releases, the current link, history, uploads and the lock."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self.releases = self.root / "releases"
        self.current = self.root / "current"
        self.history_file = self.root / HISTORY
        self._lock_fd: int | None = None

    def prepare(self) -> None:
        """Create OUT, releases/ and the upload folders if missing (existing ones untouched)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.releases.mkdir(exist_ok=True)
        for name in UPLOAD_DIRS:
            (self.root / "uploads" / name).mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def locked(self, command: str = "build", wait: float = 0) -> Iterator[None]:
        """Hold OUT's lock for the ``with`` block (re-entrant; see :mod:`mipc.release.lock`),
        waiting up to ``wait`` seconds for another holder: :class:`LockHeld` if it keeps it,
        :class:`EmitError` if OUT cannot be written."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(hold(self.root, command, wait))
            except OSError as exc:
                raise EmitError(f"cannot write {self.root}: {describe_os_error(exc)}") from exc
            yield

    def current_id(self) -> str | None:
        """The release ``current`` points to, or None (no link, or not to a release)."""
        try:
            target = os.readlink(self.current)
        except OSError:
            return None
        name = Path(target).name
        if Path(target).parent != Path("releases") or not (self.releases / name).is_dir():
            return None
        return name

    def index_of(self, name: str) -> ReleaseIndex:
        """What a build reuses of release ``name``: file hashes and phone digests (entries
        that are not well formed are left out, so they are rebuilt; nothing if the manifest
        cannot be read or is damaged: its sha256 must begin with the release's id, ``<id>``
        or ``<id>.<n>``)."""
        try:
            raw = (self.releases / name / MANIFEST).read_bytes()
            if release_id(raw) != name.partition(".")[0]:
                return ReleaseIndex()
            data = json.loads(raw, object_hook=_compact)
        except (OSError, ValueError):
            return ReleaseIndex()
        return _index(data) if isinstance(data, dict) else ReleaseIndex()

    def manifest_sha256(self, name: str) -> str | None:
        """The sha256 of release ``name``'s manifest, or None if it cannot be read."""
        try:
            return file_sha(self.releases / name / MANIFEST)
        except OSError:
            return None

    def _history_data(self) -> dict[str, Any]:
        try:
            data = json.loads(self.history_file.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def history(self) -> list[str]:
        """The releases kept, in the order they were made current (those still on disk)."""
        names = [str(n) for n in self._history_data().get("releases", [])]
        return [n for n in names if (self.releases / n).is_dir()]

    def toolchain_of(self, name: str) -> str | None:
        """The digest of the mipc that made release ``name`` (see ``package_digest``)."""
        toolchains = self._history_data().get("toolchains")
        value = toolchains.get(name) if isinstance(toolchains, dict) else None
        return value if isinstance(value, str) else None

    def same_toolchain(self, name: str) -> bool:
        """Whether release ``name`` was made by this very mipc (same package digest)."""
        return self.toolchain_of(name) == package_digest()

    def write_history(self, names: list[str], current: str, made: str | None = None) -> None:
        """Record the releases kept, the current one, and which mipc made each of them
        (``made``: the release this mipc just made or confirmed)."""
        old = self._history_data().get("toolchains")
        toolchains = {
            str(k): str(v) for k, v in (old if isinstance(old, dict) else {}).items() if k in names
        }
        if made is not None:
            toolchains[made] = package_digest()
        data = json.dumps(
            {"current": current, "releases": names, "toolchains": toolchains},
            indent=2,
            sort_keys=True,
        )
        write_atomic(self.history_file, (data + "\n").encode())

    def switch(self, name: str) -> None:
        """Point ``current`` at ``releases/name`` atomically (rename a new symlink over it)."""
        tmp = self.root / "current.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(f"releases/{name}", tmp)
        os.replace(tmp, self.current)
        fsync_dir(self.root)

    def clean_staging(self) -> None:
        """Remove staging folders left by killed builds (call with the lock held)."""
        for entry in self.root.glob(".staging-*"):
            shutil.rmtree(entry, ignore_errors=True)

    def carry_over(self, current: str, target: str) -> None:
        """Before switching from release ``current`` to the existing release ``target``:
        link into ``target`` the content-addressed files of ``current`` it lacks, so a phone
        that read ``current``'s master finds what it names (:mod:`mipc.release.retain`)."""
        if current == target:
            return
        folder = self.releases / target
        paths = carried(self.index_of(current).files, self.index_of(target).files)
        if paths:
            retain(folder, self.releases / current, paths, read_retained(folder))
            syncfs(folder)

    def prune(self, names: list[str], keep: int, current: str) -> list[str]:
        """Keep the last ``keep`` releases of ``names`` (and the current one); delete the rest."""
        kept = names[-keep:] if keep > 0 else []
        if current not in kept:
            kept.append(current)
        for name in names:
            if name not in kept:
                shutil.rmtree(self.releases / name, ignore_errors=True)
        for entry in self.releases.iterdir():  # folders no history names (older layouts)
            if entry.name not in kept and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
        return [n for n in names if n in kept]


@dataclass
class RollbackResult:
    """The release that was current, and the one that is now."""

    previous: str
    current: str


def rollback(out_dir: Path, to: str | None = None) -> RollbackResult:
    """Switch ``current`` to the release made current before it (or to release ``to``)."""
    out = Out(out_dir)
    if not out.releases.is_dir():
        raise EmitError(f"{out.root} holds no releases")
    with out.locked("rollback"):
        current = out.current_id()
        history = out.history()
        if current is None:
            raise EmitError(f"{out.root}/current does not point to a release")
        if to is not None:
            if to not in history:
                known = ", ".join(history) or "none"
                raise EmitError(f"no release {to!r} in {out.root} (releases: {known})")
            target = to
        else:
            if current not in history or history.index(current) == 0:
                raise EmitError(
                    f"no release before {current} in {out.root}; nothing to roll back to"
                )
            target = history[history.index(current) - 1]
        out.carry_over(current, target)
        out.switch(target)
        out.write_history(history, target)
        return RollbackResult(previous=current, current=target)


def describe_os_error(exc: OSError) -> str:
    """An ``OSError`` as one line for the user (a full disk said plainly)."""
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device{where}"
    return f"{exc.strerror or exc}{':' + where if where else ''}"
