"""The incremental emit: the current release's files hard-linked, the changed phones' written.

Takes a :class:`Prelink` (OUT locked, the current release being linked into a staging folder)
and a :class:`Patch` (what an incremental compile changed, in release terms: the caller makes
it, see ``mipc.pipeline.build``); gives the :class:`~mipc.release.emit.EmitResult` of the
new release, whose manifest is the old one spliced (:func:`mipc.release.manifest.splice`).
Never imports render or incremental.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mipc.artifacts import Artifact, stem_of
from mipc.diagnostics import Diagnostic
from mipc.model import Plan
from mipc.release.ahead import is_folder
from mipc.release.ahead import take as take_ahead
from mipc.release.durable import start_writeback
from mipc.release.emit import EmitOptions, EmitResult, publish
from mipc.release.linker import trash_name
from mipc.release.manifest import (
    MANIFEST,
    ManifestIndex,
    Spliced,
    entry_value,
    file_entry,
    phone_entry,
    splice,
)
from mipc.release.retain import drop_retained, write_retained
from mipc.release.staging import Counts, WwwGroup, group_warning, open_new, safe_relpath
from mipc.release.store import EmitError, Out, release_id_of

#: The program that links a release's files (:mod:`mipc.release.linker`), run by path.
LINKER = Path(__file__).with_name("linker.py")

#: How much less the links after those of the top of ``www/`` (the longest) weigh for the
#: scheduler: on two cores the first and the build's own compile each keep a core, and the
#: others take what the two leave.
LATER_NICE = 19


class Prelink:
    """OUT locked, a staging folder, and the current release's files being hard-linked into
    it by :mod:`mipc.release.linker` in other processes (the kernel's work, hundreds of
    thousands of links, on the other core while this one compiles the changed phones; they
    die with the build, and never hold OUT's lock). Leaving the ``with`` block stops them
    and removes the staging folder, unless a release was made of it (a spare taken goes to
    the trash instead: :mod:`mipc.release.ahead`)."""

    def __init__(self, out_dir: Path, release: str) -> None:
        self.out = Out(out_dir)
        self.release = release
        self.current: str | None = None
        self.staging = self.out.root / f".staging-{os.getpid()}"
        self._lock: contextlib.ExitStack | None = None
        self._copies: list[subprocess.Popen[bytes]] = []
        self._wanted = -1  # the processes that must succeed

    def __enter__(self) -> Prelink:
        try:
            self.out.prepare()
        except OSError as exc:
            raise EmitError(f"cannot create {self.out.root}: {exc}") from exc
        stack = contextlib.ExitStack()
        stack.enter_context(self.out.locked())
        self._lock = stack
        try:
            self.out.clean_staging()
            self.current = self.out.current_id()
            if self.current == self.release:
                if take_ahead(self.out, self.current, self.staging):
                    self._wanted = 0  # linked ahead, once the last build had ended
                else:
                    self.staging.mkdir()
                    self._start_copies(self.out.releases / self.current)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start_copies(self, old: Path) -> None:
        """Link the release's files in two processes of :mod:`mipc.release.linker`: the
        files at the top of ``www/`` (at 100k phones most of the release, in one folder
        whose lock serializes them); and, niced, the folders of ``www/`` and ``network/``."""
        self._wanted = -1  # until every process has started: wait() fails
        try:
            (self.staging / "www").mkdir()
            linker = [sys.executable, "-I", "-S", str(LINKER), str(os.getpid())]
            www, into = str(old / "www"), str(self.staging / "www")
            network = ["tree", str(old / "network"), str(self.staging / "network")]
            commands = [
                [*linker, "files", www, into],
                [*linker, "folders", www, into, *network],
            ]
            quiet = subprocess.DEVNULL
            for i, command in enumerate(commands):
                copy = subprocess.Popen(command, stdin=quiet, stdout=quiet, stderr=quiet)
                self._copies.append(copy)
                if i:
                    with contextlib.suppress(OSError):
                        os.setpriority(os.PRIO_PROCESS, copy.pid, LATER_NICE)
            self._wanted = len(commands)
        except OSError:  # no interpreter to start, or no release to link: wait() says so
            return

    def wait(self) -> bool:
        """Wait for the links; False if they could not all be made (a file system without
        hard links, say)."""
        failed = [c.wait() for c in self._copies]
        return len(self._copies) == self._wanted and not any(failed)

    def __exit__(self, *exc: object) -> None:
        for copy in self._copies:
            if copy.poll() is None:
                copy.kill()
            copy.wait()
        if self._wanted == 0 and is_folder(self.staging):
            # A spare taken, and no release made of it (the build goes on in full): its
            # hundreds of thousands of links go to the trash, which the linker the build
            # ends with empties in the background (mipc.release.ahead), not in its time.
            with contextlib.suppress(OSError):
                os.rename(self.staging, self.out.root / trash_name("unused"))
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()


class PhoneFiles(Protocol):
    """A changed phone as the current release has it."""

    @property
    def own(self) -> Mapping[str, tuple[str, int]]:
        """Its own files: path → (sha256, size)."""
        ...

    @property
    def shared(self) -> tuple[str, ...]:
        """The other files it fetches (group, server, custom files)."""
        ...


@dataclass(frozen=True)
class Patch:
    """An incremental compile, as the release needs it."""

    release: str  # the release it patches: must still be current
    plan: Plan  # the context with only the changed phones (resolved, checked)
    own: Mapping[str, Mapping[str, bytes]]  # each changed phone's own files now (www/...)
    manifest: bytes  # the manifest of ``release``
    index: ManifestIndex  # and its index
    before: Mapping[str, PhoneFiles]  # each changed phone in ``release``
    phones: int  # the phones of the whole release
    warnings: tuple[Diagnostic, ...] = ()  # the render warnings (the same as the last build's)
    secret: frozenset[str] = frozenset()  # the paths of ``own`` that hold a secret
    gone: Mapping[str, PhoneFiles] = field(default_factory=dict)  # each removed phone
    network: Mapping[str, bytes] | None = None  # network/ now, when it changes


@dataclass(frozen=True)
class _Changes:
    """The manifest entries and files a patch changes (None: an entry dropped)."""

    files: dict[str, bytes | None]
    records: dict[str, bytes | None]
    writes: list[tuple[str, bytes]]
    kept: list[str]  # dropped from the manifest, but retained (content-addressed)

    def drop(self, rel: str, sha256: str) -> None:
        """Drop file ``rel`` (content ``sha256``) from the manifest; keep it if it is
        content-addressed (a phone that read the old master may ask for it)."""
        self.files[rel] = None
        if stem_of(rel, sha256) != rel:
            self.kept.append(rel)


def _changes(patch: Patch) -> _Changes:
    changes = _Changes({}, {}, [], [])
    for name, gone in sorted(patch.gone.items()):
        for rel, (sha, _size) in gone.own.items():
            changes.drop(rel, sha)
        changes.records[name] = None
    for phone in sorted(patch.plan.phones, key=lambda p: p.name):
        before, own = patch.before[phone.name], patch.own[phone.name]
        for rel, content in own.items():
            sha = hashlib.sha256(content).hexdigest()
            if rel not in before.own or before.own[rel][0] != sha:
                changes.writes.append((rel, content))
                changes.files[rel] = file_entry(rel, sha, len(content))
        for rel, (sha, _size) in before.own.items():
            if rel not in own:
                changes.drop(rel, sha)
        changes.records[phone.name] = phone_entry(phone, [*before.shared, *own])
    if patch.network is not None:
        _network_changes(patch, patch.network, changes)
    # a removed phone's file an added one writes again is the new release's, not kept
    changes.kept[:] = [rel for rel in changes.kept if changes.files[rel] is None]
    return changes


def _network_changes(patch: Patch, network: Mapping[str, bytes], changes: _Changes) -> None:
    """The ``network/`` files that differ from the release's, and those it no longer has."""
    index, data = patch.index, patch.manifest
    first = bisect_left(index.files, "network/")
    last = bisect_left(index.files, "network0")  # "0" follows "/"
    old = set(index.files[first:last])
    for name, content in network.items():
        rel = "network/" + safe_relpath(name)
        old.discard(rel)
        sha = hashlib.sha256(content).hexdigest()
        entry = index.file_entry(data, rel)
        if entry is None or entry_value(entry)["sha256"] != sha:
            changes.writes.append((rel, content))
            changes.files[rel] = file_entry(rel, sha, len(content))
    for rel in old:
        changes.files[rel] = None


def _apply(
    staging: Path, changes: _Changes, patch: Patch, linked: tuple[Path, WwwGroup | None]
) -> int:
    """Drop and write the changed files in the staging folder linked from release folder
    ``linked[0]``, as Stager.write does (mode and group ``linked[1]``); the number of files
    holding secrets left without the group."""
    release, group = linked
    counts = Counts()
    drop_retained(staging, release, set(changes.files))
    kept = set(changes.kept)
    for rel, new in changes.files.items():
        if new is None and rel not in kept:
            os.unlink(staging / rel)
    write_retained(staging, kept)  # linked already (Prelink)
    for rel, content in changes.writes:
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        art = Artifact(content, secret=rel in patch.secret)
        fd = open_new(str(tmp), art, group, counts)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, dest)  # a new file: the old release's (linked) one is not touched
    return counts.ungrouped


def emit_delta(
    patch: Patch,
    pre: Prelink,
    *,
    keep: int = 5,
    meanwhile: Callable[[EmitResult], None] | None = None,
) -> EmitResult | None:
    """Write the release of an incremental compile in ``pre``'s staging folder: the current
    release's files linked, the changed phones' own files written over them (new files, never
    through a link), the manifest spliced. None if the shortcut does not apply after all (the
    caller builds in full); raises as :func:`mipc.release.emit.emit`. The manifest is spliced
    while the links are being made, and ``meanwhile`` is given the result then (the release
    it names is made current only once they are).
    """
    current, staging = pre.current, pre.staging
    if current is None or current != patch.release:
        return None
    try:
        changes = _changes(patch)
        index = splice(
            Spliced(patch.manifest, patch.index, pre.out.releases / current / MANIFEST),
            changes.files,
            changes.records,
            patch.plan.inventory.digest,
            staging / MANIFEST,
        )
        start_writeback(staging / MANIFEST)  # on its way to disk while the links are made
        written = len(changes.writes)
        result = EmitResult(
            release=release_id_of(index.sha256),
            changed=False,
            counts=Counts(written=written, unchanged=len(index.files) - written),
            phones=patch.phones,
            files=len(index.files),
            index=index,
            own={name: tuple(sorted(paths)) for name, paths in patch.own.items()},
            incremental=True,
            warnings=list(patch.warnings),
        )
        if meanwhile is not None:
            meanwhile(result)
    finally:
        linked = pre.wait()
    if not linked:
        return None
    group = WwwGroup.named(patch.plan.inventory.serving.group)
    ungrouped = _apply(staging, changes, patch, (pre.out.releases / current, group))
    publish(pre.out, staging, current, result, EmitOptions(keep=keep), lambda: None)
    if ungrouped:
        result.warnings.append(group_warning(group, ungrouped, pre.out.root))
    return result
