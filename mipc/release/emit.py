"""The full emit: a plan rendered and written as an atomic, deterministic release of OUT.

Takes a :class:`mipc.model.Plan`, the network files and a :class:`~mipc.release.rendering.
Rendering` (the caller's: the build passes :class:`mipc.render.pool.PhonePool`); gives an
:class:`EmitResult`. A release is written into a staging folder, made durable (syncfs),
renamed into ``releases/`` and only then made current, so a crash at any point leaves the
previous release serving. Phones whose digest is unchanged since the current release (made by
the same mipc) are not rendered: their files are hard-linked from it. Never imports render or
incremental.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mipc.artifacts import Artifact
from mipc.diagnostics import Diagnostic, once_each
from mipc.model import EffectivePhone, Plan
from mipc.release.durable import fsync_dir, start_writeback, syncfs
from mipc.release.manifest import MANIFEST, FileEntry, ManifestIndex, write_manifest
from mipc.release.rendering import Progress, Rendering
from mipc.release.retain import carried, retain
from mipc.release.staging import (
    GROUP_CODE,
    Background,
    Counts,
    Stager,
    WwwGroup,
    group_warning,
    merge_entry,
    safe_relpath,
)
from mipc.release.store import (
    EmitError,
    Out,
    ReleaseIndex,
    WarningsAsErrors,
    release_id_of,
)

#: The network files, or a function that makes them (called while the workers render).
Network = Mapping[str, bytes] | Callable[[], Mapping[str, bytes]]


@dataclass(frozen=True)
class EmitOptions:
    """How to emit: releases to keep, ``force`` (no reuse, always a new release), ``strict``
    (warnings fail), progress reports, work on the plan to do before the phones render,
    and how long to wait for OUT's lock (seconds)."""

    keep: int = 5
    force: bool = False
    strict: bool = False
    progress: Progress | None = None
    before_render: Callable[[], None] | None = None
    wait: float = 0


@dataclass
class EmitResult:
    """What an emit did, for the summary and the incremental state."""

    release: str  # the release current points to now
    changed: bool  # a new release was made current
    reused: bool = False  # an existing (older) release with the same contents was switched to
    counts: Counts = field(default_factory=Counts)
    warnings: list[Diagnostic] = field(default_factory=list)  # the renderers' (code render)
    phones: int = 0
    files: int = 0
    pruned: list[str] = field(default_factory=list)
    # For the incremental state (mipc.incremental.state): the manifest's index, the shared files
    # (rendered for all phones, and network/), the phones that first raised a warning.
    index: ManifestIndex | None = None
    warned: frozenset[str] = frozenset()
    own: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # each phone's own files
    incremental: bool = False  # only the changed phones were compiled (mipc.incremental.state)


def emit(
    plan: Plan,
    out_dir: Path,
    network: Network,
    render: Rendering,
    options: EmitOptions | None = None,
) -> EmitResult:
    """Render ``plan`` with ``render`` and write it as a new release of ``out_dir``; switch
    ``current`` to it. ``options.before_render`` runs in this process before the phones render.

    Raises :class:`~mipc.release.store.LockHeld` if another build holds OUT,
    :class:`~mipc.release.store.EmitError` or ``OSError`` on I/O trouble,
    :class:`~mipc.release.store.WarningsAsErrors` when ``strict`` and a renderer warned, and
    whatever a renderer raises; in every case ``current`` is untouched and the staging
    folder is removed.
    """
    options = options or EmitOptions()
    out = Out(out_dir)
    try:
        out.prepare()
    except OSError as exc:
        raise EmitError(f"cannot create {out.root}: {exc.strerror or exc}") from exc
    with out.locked(wait=options.wait):
        out.clean_staging()
        current = out.current_id()
        # Files are reused by phone digest, which covers the inventory's inputs; what mipc
        # ships (code, templates, vendor data) is covered by the mipc that made the release.
        same_mipc = current is not None and out.same_toolchain(current)
        reuse = same_mipc and not options.force
        old = out.index_of(current) if current and reuse else ReleaseIndex()
        staging = out.root / f".staging-{os.getpid()}"
        staging.mkdir()
        stager = Stager(
            root=staging,
            old_root=(out.releases / current) if current and old.files else None,
            old_files=old.files,
            group=WwwGroup.named(plan.inventory.serving.group),
        )
        try:
            return _emit_locked(
                _Emission(plan, out, stager, current, old, render, options), network
            )
        finally:
            stager.join_early(check=False)  # an error was raised already, or none happened
            shutil.rmtree(staging, ignore_errors=True)


@dataclass
class _Emission:
    """One emit under OUT's lock: what it was given, and the release gathered so far."""

    plan: Plan
    out: Out
    stager: Stager
    current: str | None
    old: ReleaseIndex  # what the current release lends (nothing under --force)
    render: Rendering
    options: EmitOptions
    files: dict[str, FileEntry] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)
    warnings: list[Diagnostic] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # to link from the current release
    shared_paths: list[str] = field(default_factory=list)  # files rendered for all phones

    def write_shared(self, rel: str, art: Artifact) -> None:
        """Write a file that belongs to no single phone."""
        self.shared_paths.append(rel)
        merge_entry(self.files, self.stager.write(rel, art, self.counts))

    def reuse(self) -> list[EffectivePhone]:
        """Take the files of the phones whose digest is unchanged from the current release
        (the digest covers everything they depend on, see resolve.render_epoch); the phones
        left to render."""
        old_files, old_phones = self.old.files, self.old.phones
        to_render: list[EffectivePhone] = []
        for phone in self.plan.phones:
            record = old_phones.get(phone.name)
            if record is None or record[0] != phone.digest:
                to_render.append(phone)
                continue
            owned = [f for f in record[1] if f not in self.files]
            if not all(f in old_files for f in owned):
                to_render.append(phone)
                continue
            for path in owned:
                sha, size = old_files[path]
                merge_entry(self.files, FileEntry(path, sha, size, (phone.name,)))
                self.unchanged.append(path)
                self.counts.unchanged += 1
        return to_render

    def render_phones(self, to_render: Sequence[EffectivePhone], network: Network) -> None:
        """Render and write ``to_render``; make and write the network files meanwhile."""
        reused = self.render.reused_warnings(self.plan, to_render)
        self.warnings.extend(reused.warnings)
        self.warned.extend(reused.warned)
        # The unchanged phones' files are linked meanwhile, in a thread (link(2) waits on the
        # file system, not on the interpreter): before rendering in this process, or once
        # the workers are forked (no fork() while another thread runs; a pool that forks
        # starts all its workers at its first task, before ``meanwhile``).
        forks = self.render.forks(len(to_render))
        if not forks:
            self._link_early()
        # The network files and the work of before_render read the whole plan: before the
        # workers fork, or every page of it they read would be copied (Rendering.phones).
        made = network() if callable(network) else network
        if self.options.before_render is not None:
            self.options.before_render()
        # The whole plan goes along: renderers draw plan-wide facts (which group file variant
        # a phone loads) from it, so a phone renders the same alone as in a full build.
        chunks = self.render.phones(
            self.plan,
            tuple(to_render),
            self.stager.write_www,
            self._link_early if forks else None,
            self.options.progress,
        )
        try:
            for chunk in chunks:
                for entry in chunk.written.entries:
                    merge_entry(self.files, entry)
                self.counts.add(chunk.written.counts)
                self.warnings.extend(chunk.warnings)
                self.warned.extend(chunk.warned)
                self.unchanged.extend(chunk.written.unchanged)
        finally:
            # Stop the workers now, not when the traceback lets go of the generator: the
            # staging folder is removed next, and no worker may write into it after.
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        for name, data in sorted(made.items()):
            self.write_shared("network/" + safe_relpath(name), Artifact(data))

    def _link_early(self) -> None:
        """Start linking the files taken from the current release so far."""
        if self.unchanged:
            self.stager.link_early(self.unchanged)
            self.unchanged = []

    def retain(self) -> None:
        """Keep the current release's content-addressed files this one lacks, for the phones
        that read its masters (:mod:`mipc.release.retain`)."""
        if self.current is None:
            return
        before = self.old.files or self.out.index_of(self.current).files
        paths = carried(before, self.files)
        if paths:
            retain(self.stager.root, self.out.releases / self.current, paths)

    def group_warning(self, ungrouped: int) -> list[Diagnostic]:
        """The warning that ``ungrouped`` files holding secrets lack nginx's group."""
        group = self.stager.group
        return [group_warning(group, ungrouped, self.out.root)] if ungrouped and group else []

    def finish_staging(self) -> None:
        """Link the files that are the same as the current release's (a release is made)."""
        self.unchanged.extend(self.stager.unchanged)
        self.stager.join_early()
        if self.unchanged:
            if self.options.progress:
                self.options.progress("link", 0, len(self.unchanged))
            self.stager.link_unchanged(self.unchanged)


def _emit_locked(e: _Emission, network: Network) -> EmitResult:
    staging, plan = e.stager.root, e.plan
    (staging / "www").mkdir()
    (staging / "network").mkdir()
    shared = e.render.shared(plan)
    e.warnings.extend(shared.warnings)
    for path, art in sorted(shared.artifacts.items()):
        e.write_shared("www/" + safe_relpath(path), art)
    e.render_phones(e.reuse(), network)
    # The phones' files go to disk while the manifest is written and the unchanged files
    # linked; the release's syncfs (publish) then waits for what is left, and says what
    # went wrong (this one only starts early: its error is not said twice).
    early = Background(partial(syncfs, staging), "mipc-sync")
    try:
        return _emit_finish(e)
    finally:
        early.join(check=False)


def _emit_finish(e: _Emission) -> EmitResult:
    """The manifest and the switch, once every file of the release is written."""
    staging, plan, progress = e.stager.root, e.plan, e.options.progress
    if progress:
        progress("manifest", 0, 1)
    index = write_manifest(plan.phones, e.files, plan.inventory.digest, staging / MANIFEST)
    start_writeback(staging / MANIFEST)
    result = EmitResult(
        release=release_id_of(index.sha256),
        changed=False,
        counts=e.counts,
        warnings=once_each(e.warnings),
        phones=len(plan.phones),
        files=len(e.files),
        index=index,
        warned=frozenset(e.warned),
        own=_own_files(e.files, frozenset(e.shared_paths)),
    )
    result.warnings.extend(e.group_warning(e.counts.ungrouped))
    if e.options.strict and result.warnings:
        raise WarningsAsErrors(result.warnings)

    def finish() -> None:  # the files linked now may be copied without the group too
        e.finish_staging()
        e.retain()
        late = e.group_warning(e.counts.ungrouped + e.stager.ungrouped)
        if late and e.stager.ungrouped:
            if e.options.strict:
                raise WarningsAsErrors(late)
            result.warnings = [w for w in result.warnings if w.code != GROUP_CODE] + late

    publish(e.out, staging, e.current, result, e.options, finish)
    if progress:
        progress("manifest", 1, 1)
    return result


def publish(
    out: Out,
    staging: Path,
    current: str | None,
    result: EmitResult,
    options: EmitOptions,
    finish_staging: Callable[[], None],
) -> None:
    """Make the staged release (``result.index``, id ``result.release``) current, unless it
    is the current one already; ``finish_staging`` completes it first. Uses
    ``options.force`` (a fresh copy even of an existing release) and ``options.keep``."""
    assert result.index is not None
    digest, force, name = result.index.sha256, options.force, result.release
    history = out.history()
    # A release is named by its manifest's digest (a forced copy: NAME.N), so only a current
    # release of that name can be this one: no other's manifest is read and hashed.
    named = current == name or (current or "").startswith(f"{name}.")
    if current is not None and named and not force and out.manifest_sha256(current) == digest:
        result.release = current
        if not out.same_toolchain(current):
            out.write_history(history, current, made=current)
        return
    if (out.releases / name).is_dir() and not force and out.manifest_sha256(name) == digest:
        result.reused = True  # e.g. after a rollback: switch back to the identical release
        if current is not None:
            out.carry_over(current, name)
    else:
        if (out.releases / name).exists():  # --force: a fresh copy beside the old one
            n = 2
            while (out.releases / f"{name}.{n}").exists():
                n += 1
            name = f"{name}.{n}"
            result.release = name
        finish_staging()
        syncfs(staging)
        os.rename(staging, out.releases / name)
        fsync_dir(out.releases)
    history = [n for n in history if n != name] + [name]
    if current and current not in history:
        history.insert(len(history) - 1, current)
    out.write_history(history, name, made=name)
    out.switch(name)
    result.changed = True
    before = set(history)
    out.write_history(out.prune(history, options.keep, name), name)
    result.pruned = sorted(before - set(out.history()))


def _own_files(
    files: Mapping[str, FileEntry], shared: frozenset[str]
) -> dict[str, tuple[str, ...]]:
    """Each phone's own files: what its renderer made for it alone."""
    own: dict[str, list[str]] = {}
    for path, entry in files.items():
        if path not in shared:
            for name in entry.phones:
                own.setdefault(name, []).append(path)
    return {name: tuple(sorted(paths)) for name, paths in own.items()}
