"""The emit stage: artifacts to an atomic, deterministic release on disk (DESIGN §6, issue 6).

Layout of OUT::

    OUT/current -> releases/<id>     switched by renaming a new symlink over the old one
    OUT/releases/<id>/{www,network,manifest.json}
    OUT/releases.json                the order releases were made current (rollback)
    OUT/uploads/{logs,overrides,contacts}   created once, never written by a build
    OUT/.lock                        flock: one build (or rollback) at a time
    OUT/inputs.json, OUT/.inputs.key what current was built from (incremental.inputs): no-op check
    OUT/.staging-<pid>/              the release being written; renamed into releases/ whole

A release is written into a staging folder, made durable (syncfs), renamed into
``releases/`` and only then made current, so a crash at any point leaves the previous release
serving. ``<id>`` is the first 16 hex digits of the manifest's sha256: same inventory, same
id. Files whose sha256 equals the current release's are hard-linked from it; firmware images
are hard-linked (or copied) from the store. Every path a renderer returns is checked: no
absolute paths, no ``..``, nothing that could land outside the release.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from mipc.diagnostics import InvalidInputError, MipcError
from mipc.incremental.inputs import RECORD, Record, up_to_date
from mipc.incremental.state import Delta
from mipc.model import EffectivePhone, Plan
from mipc.release.manifest import (
    MANIFEST,
    FileEntry,
    ManifestIndex,
    file_entry,
    phone_entry,
    splice,
    write_manifest,
)
from mipc.render.base import Artifact
from mipc.render.stage import (
    CHUNK_SIZE,
    PARALLEL_THRESHOLD,
    ChunkRenderer,
    RenderConflict,
    Rendered,
    dedupe,
    phone_chunks,
    render_chunk,
    render_shared,
)
from mipc.resources import package_digest

HISTORY = "releases.json"
UPLOAD_DIRS = ("contacts", "logs", "overrides")

#: (stage, done, total): progress reports from :func:`emit`.
Progress = Callable[[str, int, int], None]


class EmitError(MipcError):
    """An I/O problem with OUT (exit code 2)."""


class LockHeld(EmitError):
    """Another build or rollback holds OUT's lock."""


class WarningsAsErrors(InvalidInputError):
    """``--strict`` and the render stage warned: the release is not made current."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(f"{len(warnings)} warning(s) under --strict")
        self.warnings = warnings


class UnsafePath(InvalidInputError, ValueError):
    """A path that could land outside the release (absolute, ``..``, empty parts, ...)."""


# --- paths -------------------------------------------------------------------------------


def safe_relpath(rel: str) -> str:
    """``rel`` if it is a plain relative POSIX path that stays inside its root, else raise."""
    if not isinstance(rel, str) or not rel:
        raise UnsafePath(f"empty or non-text path {rel!r}")
    if "\x00" in rel or "\\" in rel or rel.startswith("/"):
        raise UnsafePath(f"unsafe path {rel!r}: absolute, or with a NUL or a backslash")
    for part in rel.split("/"):
        if part in ("", ".", "..") or len(part.encode("utf-8")) > 255:
            raise UnsafePath(f"unsafe path {rel!r}: empty, '.', '..' or over-long component")
    return rel


def _inside(path: Path, root: Path) -> bool:
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base + os.sep)


# --- the manifest ------------------------------------------------------------------------


def release_id(data: bytes) -> str:
    """A release's id: the first 16 hex digits of its manifest's sha256."""
    return release_id_of(hashlib.sha256(data).hexdigest())


def release_id_of(manifest_sha256: str) -> str:
    return manifest_sha256[:16]


# --- durability helpers ------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(path: Path) -> None:
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


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# --- OUT ---------------------------------------------------------------------------------


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
    def locked(self) -> Iterator[None]:
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockHeld(
                    f"another build is running on {self.root} (lock {self.root / '.lock'} is "
                    "held); wait for it to finish"
                ) from None
            yield
        finally:
            os.close(fd)

    def current_id(self) -> str | None:
        try:
            target = os.readlink(self.current)
        except OSError:
            return None
        name = Path(target).name
        if Path(target).parent != Path("releases") or not (self.releases / name).is_dir():
            return None
        return name

    def manifest_of(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.releases / name / MANIFEST).read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def index_of(self, name: str) -> ReleaseIndex:
        """What a build reuses of release ``name``: file hashes and phone digests (entries
        that are not well formed are left out, so they are rebuilt)."""
        manifest = self.manifest_of(name) or {}
        files: dict[str, tuple[str, int]] = {}
        phones: dict[str, tuple[str, tuple[str, ...]]] = {}
        raw_files = manifest.get("files")
        for path, meta in raw_files.items() if isinstance(raw_files, dict) else ():
            if isinstance(meta, dict) and isinstance(meta.get("sha256"), str):
                size = meta.get("size")
                if isinstance(size, int):
                    files[path] = (meta["sha256"], size)
        raw_phones = manifest.get("phones")
        for phone, record in raw_phones.items() if isinstance(raw_phones, dict) else ():
            if isinstance(record, dict) and isinstance(record.get("digest"), str):
                owned = record.get("files")
                if isinstance(owned, list) and all(isinstance(f, str) for f in owned):
                    phones[phone] = (record["digest"], tuple(owned))
        return ReleaseIndex(files, phones)

    def manifest_sha256(self, name: str) -> str | None:
        try:
            return _file_sha(self.releases / name / MANIFEST)
        except OSError:
            return None

    def _history_data(self) -> dict[str, Any]:
        try:
            data = json.loads(self.history_file.read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def history(self) -> list[str]:
        names = [str(n) for n in self._history_data().get("releases", [])]
        return [n for n in names if (self.releases / n).is_dir()]

    def toolchain_of(self, name: str) -> str | None:
        """The digest of the mipc that made release ``name`` (see ``package_digest``)."""
        toolchains = self._history_data().get("toolchains")
        value = toolchains.get(name) if isinstance(toolchains, dict) else None
        return value if isinstance(value, str) else None

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
        _write_atomic(self.history_file, (data + "\n").encode())

    def switch(self, name: str) -> None:
        """Point ``current`` at ``releases/name`` atomically (rename a new symlink over it)."""
        tmp = self.root / "current.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(f"releases/{name}", tmp)
        os.replace(tmp, self.current)
        _fsync_dir(self.root)

    def clean_staging(self) -> None:
        """Remove staging folders left by killed builds (call with the lock held)."""
        for entry in self.root.glob(".staging-*"):
            shutil.rmtree(entry, ignore_errors=True)

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


# --- writing one release -----------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseIndex:
    """The parts of a release's manifest a build reuses, without the rest (at 100k phones
    the parsed manifest is some 300 MB of Python objects; this is a fraction)."""

    files: Mapping[str, tuple[str, int]] = field(default_factory=dict)  # path: (sha256, size)
    phones: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    """phone name: (digest, its files)"""


@dataclass
class Counts:
    written: int = 0  # new or changed contents
    linked: int = 0  # firmware images linked (or copied) from the store
    unchanged: int = 0  # same bytes as the current release: hard-linked from it

    def add(self, other: Counts) -> None:
        self.written += other.written
        self.linked += other.linked
        self.unchanged += other.unchanged


@dataclass
class Stager:
    """Writes artifacts into a staging folder; reuses the current release's identical files."""

    root: Path  # the staging folder
    old_root: Path | None = None  # the current release
    old_files: Mapping[str, tuple[str, int]] = field(default_factory=dict)  # (sha256, size)
    unchanged: list[str] = field(default_factory=list)  # same bytes as old: not yet linked
    early: _Background | None = None  # linking started while phones render
    _dirs: set[str] = field(default_factory=set)

    def join_early(self, *, check: bool = True) -> None:
        """Wait for the early linking; re-raise its error if ``check``."""
        if self.early is not None:
            early, self.early = self.early, None
            early.join(check=check)

    def _dest(self, rel: str) -> str:
        """The absolute path for ``rel`` in the staging folder, its folder made (and checked
        to lie inside the release: a symlinked folder would not)."""
        parent = os.path.dirname(rel)
        if parent not in self._dirs:
            folder = os.path.join(self.root, parent)
            os.makedirs(folder, exist_ok=True)
            if not _inside(Path(folder), self.root):
                raise UnsafePath(f"{rel} would be written outside the release")
            self._dirs.add(parent)
        return os.path.join(self.root, rel)

    def _same_as_old(self, rel: str, sha: str) -> bool:
        old = self.old_files.get(rel)
        return self.old_root is not None and old is not None and old[0] == sha

    def link_unchanged(self, paths: list[str]) -> None:
        """Hard-link (or copy) files the current release already holds, byte for byte."""
        assert self.old_root is not None
        old = os.open(self.old_root, os.O_RDONLY | os.O_DIRECTORY)
        new = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for rel in paths:
                self._dest(safe_relpath(rel))  # creates (and checks) the folders
                try:
                    st = os.stat(rel, dir_fd=old, follow_symlinks=False)
                except OSError as exc:
                    raise EmitError(
                        f"the current release lost {rel} ({exc.strerror}); build with --force"
                    ) from exc
                if not stat.S_ISREG(st.st_mode):
                    raise EmitError(
                        f"the current release's {rel} is not a file; build with --force"
                    )
                try:
                    os.link(rel, rel, src_dir_fd=old, dst_dir_fd=new, follow_symlinks=False)
                except FileExistsError:
                    continue  # a second artifact at the same path: the merge compared hashes
                except OSError:
                    shutil.copyfile(self.old_root / rel, self.root / rel, follow_symlinks=False)
        finally:
            os.close(old)
            os.close(new)

    def write(self, rel: str, art: Artifact, counts: Counts) -> FileEntry:
        """Write (or link) one artifact at ``rel`` (relative to the release)."""
        dest = self._dest(rel)
        if art.link is not None:
            return self._link(rel, dest, art, counts)
        sha = hashlib.sha256(art.data).hexdigest()
        entry = FileEntry(rel, sha, len(art.data), art.phones)
        if self._same_as_old(rel, sha):  # linked once a release is sure to be made
            counts.unchanged += 1
            self.unchanged.append(rel)
            return entry
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:  # a second artifact at the same path: merge compares hashes
            return entry
        try:
            view = memoryview(art.data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        counts.written += 1
        return entry

    def _link(self, rel: str, dest: str, art: Artifact, counts: Counts) -> FileEntry:
        source = Path(str(art.link))
        try:
            st = os.stat(source)
        except OSError as exc:
            raise EmitError(f"firmware image {source}: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise EmitError(f"firmware image {source} is not a regular file")
        sha = self._known_sha(rel, st) or _file_sha(source)
        entry = FileEntry(rel, sha, st.st_size, art.phones)
        try:
            os.link(source, dest)
        except FileExistsError:
            return entry
        except OSError:
            shutil.copyfile(source, dest)
        counts.linked += 1
        return entry

    def _known_sha(self, rel: str, st: os.stat_result) -> str | None:
        """The current release's hash of ``rel`` when it is the very same file (a hard link)."""
        old = self.old_files.get(rel)
        if self.old_root is None or old is None:
            return None
        try:
            ost = os.lstat(self.old_root / rel)
        except OSError:
            return None
        same = (ost.st_dev, ost.st_ino, ost.st_size, ost.st_mtime_ns) == (
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
        )
        return old[0] if same else None


def _file_sha(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def merge_entry(into: dict[str, FileEntry], entry: FileEntry) -> None:
    old = into.get(entry.path)
    if old is None:
        into[entry.path] = entry
        return
    if old.sha256 != entry.sha256:
        raise RenderConflict(
            f"{entry.path} is produced twice with different contents "
            f"(for {', '.join(old.phones) or 'all phones'} and "
            f"{', '.join(entry.phones) or 'all phones'}); this is a bug in a renderer"
        )
    into[entry.path] = FileEntry(
        old.path, old.sha256, old.size, tuple(sorted({*old.phones, *entry.phones}))
    )


# --- rendering and writing chunks (in this process or in workers) -------------------------


@dataclass
class ChunkResult:
    entries: list[FileEntry]
    counts: Counts
    warnings: list[str]
    phones: int
    unchanged: list[str]
    warned: list[str]


class _Job:
    """What a render process needs; made once per process (renderers keep plan-wide facts,
    such as Polycom's group files, so they must not be rebuilt for every chunk)."""

    def __init__(self, plan: Plan, stager: Stager) -> None:
        self.plan = plan
        self.stager = stager
        self.index = {p.name: p for p in plan.phones}
        self.renderer = ChunkRenderer(plan)
        self.warned = 0

    def chunk(self, names: tuple[str, ...]) -> ChunkResult:
        rendered = render_chunk(self.plan, (self.index[n] for n in names), self.renderer)
        counts = Counts()
        write = self.stager.write
        entries = [
            write("www/" + safe_relpath(path), art, counts)
            for path, art in sorted(rendered.artifacts.items())
        ]
        unchanged, self.stager.unchanged = self.stager.unchanged, []
        warnings = rendered.warnings[self.warned :]
        self.warned = len(rendered.warnings)
        return ChunkResult(entries, counts, warnings, len(names), unchanged, rendered.warned)


_JOB: _Job | None = None  # set before forking the workers


def _worker_chunk(names: tuple[str, ...]) -> ChunkResult:
    assert _JOB is not None, "worker started without a job"
    return _JOB.chunk(names)


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _reused_warnings(plan: Plan, to_render: list[EffectivePhone]) -> Rendered:
    """The warnings of the profiles whose phones are all reused, not rendered.

    A reused phone is not rendered, so what its renderer would warn about (an option with no
    key, a syslog port, a firmware the catalog lacks) would go unsaid, and ``--strict`` pass
    where a full build fails. Most such warnings belong to the profile: one phone of each
    profile that is not rendered anyway is rendered here, for its warnings only, and so is
    every reused phone with custom files named after its MAC (whose warnings are its own).
    """
    rendered = {p.profile for p in to_render}
    names = {p.name for p in to_render}
    chosen: list[EffectivePhone] = []
    for phone in sorted(plan.phones, key=lambda p: p.name):
        if phone.name in names:
            continue
        if phone.profile not in rendered:
            rendered.add(phone.profile)  # this phone speaks for its profile
            chosen.append(phone)
        elif _own_custom_files(phone):
            chosen.append(phone)  # its custom files are its own: so are their warnings
    if not chosen:
        return Rendered()
    return render_chunk(plan, chosen)


def _own_custom_files(phone: EffectivePhone) -> bool:
    """Whether a phone names custom files after its own MAC address."""
    return any("[MACADDRESS]" in name.upper() for name in phone.config_files)


def _parallel(phones: int, workers: int) -> bool:
    """Whether rendering ``phones`` pays for a pool of worker processes."""
    return workers > 1 and phones >= PARALLEL_THRESHOLD and phones > CHUNK_SIZE


class _Background:
    """A function run in a thread; :meth:`join` waits and re-raises what it raised."""

    def __init__(self, func: Callable[[list[str]], None], arg: list[str]) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                func(arg)
            except BaseException as exc:  # re-raised by join, in the emitting thread
                self._error = exc

        self._thread = threading.Thread(target=run, name="mipc-link", daemon=True)
        self._thread.start()

    def join(self, *, check: bool = True) -> None:
        self._thread.join()
        error, self._error = self._error, None
        if error is not None and check:
            raise error


def _render_phones(
    plan: Plan,
    phones: tuple[EffectivePhone, ...],
    stager: Stager,
    workers: int,
    progress: Progress | None,
    meanwhile: Callable[[], None],
) -> Iterator[ChunkResult]:
    """Render and write ``phones`` (some of ``plan``'s), in chunks, maybe in workers;
    ``meanwhile`` runs in this process once the workers have their chunks."""
    global _JOB
    chunks = phone_chunks(phones, CHUNK_SIZE)
    total = len(phones)
    done = 0
    job = _Job(plan, stager)
    if not _parallel(total, workers):
        meanwhile()
        for chunk in chunks:
            result = job.chunk(chunk)
            done += result.phones
            if progress:
                progress("render", done, total)
            yield result
        return
    _JOB = job
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            results = pool.map(_worker_chunk, chunks)
            meanwhile()
            for result in results:
                done += result.phones
                if progress:
                    progress("render", done, total)
                yield result
    finally:
        _JOB = None


# --- the whole emit ----------------------------------------------------------------------


@dataclass
class EmitResult:
    release: str  # the release current points to now
    changed: bool  # a new release was made current
    reused: bool = False  # an existing (older) release with the same contents was switched to
    counts: Counts = field(default_factory=Counts)
    warnings: list[str] = field(default_factory=list)
    phones: int = 0
    files: int = 0
    pruned: list[str] = field(default_factory=list)
    # For the incremental state (mipc.incremental.state): the manifest's index, the shared files
    # (rendered for all phones, and network/), the phones that first raised a warning.
    index: ManifestIndex | None = None
    warned: frozenset[str] = frozenset()
    own: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # each phone's own files
    incremental: bool = False  # only the changed phones were compiled (mipc.incremental.state)


#: The network files, or a function that makes them (called while the workers render).
Network = Mapping[str, bytes] | Callable[[], Mapping[str, bytes]]


def emit(
    plan: Plan,
    out_dir: Path,
    network: Network,
    *,
    keep: int = 5,
    force: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    strict: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> EmitResult:
    """Render ``plan`` and write it as a new release of ``out_dir``; switch ``current`` to it.
    ``meanwhile`` runs in this process while worker processes render.

    Raises :class:`LockHeld` if another build holds OUT, :class:`EmitError` or ``OSError`` on
    I/O trouble, :class:`WarningsAsErrors` when ``strict`` and a renderer warned, and
    whatever a renderer raises; in every case ``current`` is untouched and
    the staging folder is removed.
    """
    out = Out(out_dir)
    try:
        out.prepare()
    except OSError as exc:
        raise EmitError(f"cannot create {out.root}: {exc.strerror or exc}") from exc
    with out.locked():
        out.clean_staging()
        current = out.current_id()
        # Files are reused by phone digest, which covers the inventory's inputs; what mipc
        # ships (code, templates, vendor data) is covered by the mipc that made the release.
        same_mipc = current is not None and out.toolchain_of(current) == package_digest()
        old = out.index_of(current) if current and same_mipc and not force else ReleaseIndex()
        old_files, old_phones = old.files, old.phones
        staging = out.root / f".staging-{os.getpid()}"
        staging.mkdir()
        stager = Stager(
            root=staging,
            old_root=(out.releases / current) if current and old_files else None,
            old_files=old_files,
        )
        try:
            return _emit_locked(
                plan,
                out,
                stager,
                current,
                old_files,
                old_phones,
                network,
                keep,
                force,
                workers,
                progress,
                strict,
                meanwhile,
            )
        finally:
            stager.join_early(check=False)  # an error was raised already, or none happened
            shutil.rmtree(staging, ignore_errors=True)


def _emit_locked(
    plan: Plan,
    out: Out,
    stager: Stager,
    current: str | None,
    old_files: Mapping[str, tuple[str, int]],
    old_phones: Mapping[str, tuple[str, tuple[str, ...]]],
    network: Network,
    keep: int,
    force: bool,
    workers: int | None,
    progress: Progress | None,
    strict: bool,
    meanwhile: Callable[[], None] | None,
) -> EmitResult:
    staging = stager.root
    (staging / "www").mkdir()
    (staging / "network").mkdir()
    files: dict[str, FileEntry] = {}
    counts = Counts()
    warnings: list[str] = []
    unchanged: list[str] = []
    shared = render_shared(plan)
    warnings.extend(shared.warnings)
    shared_paths: list[str] = []
    for path, art in sorted(shared.artifacts.items()):
        shared_paths.append("www/" + safe_relpath(path))
        merge_entry(files, stager.write(shared_paths[-1], art, counts))
    # A phone whose digest is unchanged has unchanged files (the digest covers everything
    # they depend on, see resolve.render_epoch): reuse them instead of rendering.
    to_render: list[EffectivePhone] = []
    for phone in plan.phones:
        record = old_phones.get(phone.name)
        if record is None or record[0] != phone.digest:
            to_render.append(phone)
            continue
        owned = [f for f in record[1] if f not in files]
        if not all(f in old_files for f in owned):
            to_render.append(phone)
            continue
        for path in owned:
            sha, size = old_files[path]
            merge_entry(files, FileEntry(path, sha, size, (phone.name,)))
            unchanged.append(path)
            counts.unchanged += 1
    reused = _reused_warnings(plan, to_render)
    warnings.extend(reused.warnings)
    warned = list(reused.warned)
    # The whole plan goes along: renderers draw plan-wide facts (which group file variant a
    # phone loads) from it, so a phone renders the same alone as in a full build.
    jobs = workers or default_workers()
    if unchanged and not _parallel(len(to_render), jobs):
        # Few phones to render: link the unchanged phones' files meanwhile (link(2) waits on
        # the file system, not on the interpreter). Not beside a worker pool: no fork()
        # while another thread runs.
        stager.early = _Background(stager.link_unchanged, unchanged)
        unchanged = []
    network_data: dict[str, Mapping[str, bytes]] = {}

    def make_network() -> None:  # in this process, while the workers render
        network_data["files"] = network() if callable(network) else network
        if meanwhile is not None:
            meanwhile()

    rendering = _render_phones(plan, tuple(to_render), stager, jobs, progress, make_network)
    for chunk in rendering:
        for entry in chunk.entries:
            merge_entry(files, entry)
        counts.add(chunk.counts)
        warnings.extend(chunk.warnings)
        warned.extend(chunk.warned)
        unchanged.extend(chunk.unchanged)
    for name, data in sorted(network_data["files"].items()):
        rel = "network/" + safe_relpath(name)
        shared_paths.append(rel)
        merge_entry(files, stager.write(rel, Artifact(data), counts))
    if progress:
        progress("manifest", 0, 1)
    index = write_manifest(plan.phones, files, plan.inventory.digest, staging / MANIFEST)
    digest = index.sha256
    name = release_id_of(digest)
    result = EmitResult(
        release=name,
        changed=False,
        counts=counts,
        warnings=dedupe(warnings),
        phones=len(plan.phones),
        files=len(files),
        index=index,
        warned=frozenset(warned),
        own=_own_files(files, frozenset(shared_paths)),
    )
    if strict and result.warnings:
        raise WarningsAsErrors(result.warnings)

    def finish_staging() -> None:
        unchanged.extend(stager.unchanged)
        stager.join_early()
        if unchanged:
            if progress:
                progress("link", 0, len(unchanged))
            stager.link_unchanged(unchanged)

    _publish(out, staging, current, result, digest, force, keep, finish_staging)
    if progress:
        progress("manifest", 1, 1)
    return result


def _publish(
    out: Out,
    staging: Path,
    current: str | None,
    result: EmitResult,
    digest: str,
    force: bool,
    keep: int,
    finish_staging: Callable[[], None],
) -> None:
    """Make the staged release (manifest sha256 ``digest``, id ``result.release``) current,
    unless it is the current one already; ``finish_staging`` completes it first."""
    name = result.release
    history = out.history()
    if current is not None and not force and out.manifest_sha256(current) == digest:
        result.release = current
        if out.toolchain_of(current) != package_digest():
            out.write_history(history, current, made=current)
        return
    if (out.releases / name).is_dir() and not force and out.manifest_sha256(name) == digest:
        result.reused = True  # e.g. after a rollback: switch back to the identical release
    else:
        if (out.releases / name).exists():  # --force: a fresh copy beside the old one
            n = 2
            while (out.releases / f"{name}.{n}").exists():
                n += 1
            name = f"{name}.{n}"
            result.release = name
        finish_staging()
        _syncfs(staging)
        os.rename(staging, out.releases / name)
        _fsync_dir(out.releases)
    history = [n for n in history if n != name] + [name]
    if current and current not in history:
        history.insert(len(history) - 1, current)
    out.write_history(history, name, made=name)
    out.switch(name)
    result.changed = True
    before = set(history)
    out.write_history(out.prune(history, keep, name), name)
    result.pruned = sorted(before - set(out.history()))


# --- the incremental emit ----------------------------------------------------------------


class Prelink:
    """OUT locked, a staging folder, and the current release's files being hard-linked into
    it by ``cp -al`` in other processes (the kernel's work, hundreds of thousands of links, on
    the other core while this one compiles the changed phones). Leaving the ``with`` block
    stops the copies and removes the staging folder, unless a release was made of it."""

    def __init__(self, out_dir: Path, release: str) -> None:
        self.out = Out(out_dir)
        self.release = release
        self.current: str | None = None
        self.staging = self.out.root / f".staging-{os.getpid()}"
        self._lock: contextlib.ExitStack | None = None
        self._copies: list[subprocess.Popen[bytes]] = []

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
                self.staging.mkdir()
                old = self.out.releases / self.current
                with contextlib.suppress(OSError):  # no cp: wait() says so
                    for part in ("www", "network"):
                        command = [
                            "cp",
                            "-al",
                            "-T",
                            "--",
                            str(old / part),
                            str(self.staging / part),
                        ]
                        self._copies.append(
                            subprocess.Popen(
                                command, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                            )
                        )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def wait(self) -> bool:
        """Wait for the links; False if they could not all be made (no GNU cp, say)."""
        failed = [c.wait() for c in self._copies]
        return len(self._copies) == 2 and not any(failed)

    def __exit__(self, *exc: object) -> None:
        for copy in self._copies:
            if copy.poll() is None:
                copy.kill()
            copy.wait()
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()


def emit_delta(delta: Delta, pre: Prelink, *, keep: int = 5) -> EmitResult | None:
    """Write the release of an incremental compile (:mod:`mipc.incremental.state`) in ``pre``'s
    staging folder: the current release's files linked, the changed phones' own files
    written over them (new files, never through a link), the manifest spliced. None if the
    shortcut does not apply after all (the caller builds in full); raises as :func:`emit`.
    """
    state = delta.state
    phones = sorted(delta.plan.phones, key=lambda p: p.name)
    if pre.current != state.release:
        return None
    own = delta.render()
    if own is None:
        return None
    out, current, staging = pre.out, pre.current, pre.staging
    try:
        found = delta.previous(out.releases / current)
        if found is None:
            return None
        data, previous = found
        files: dict[str, bytes | None] = {}
        records: dict[str, bytes | None] = {}
        writes: list[tuple[str, bytes]] = []
        for phone in phones:
            before = previous[phone.name]
            for rel, content in own[phone.name].items():
                sha = hashlib.sha256(content).hexdigest()
                if rel not in before.own or before.own[rel][0] != sha:
                    writes.append((rel, content))
                    files[rel] = file_entry(rel, sha, len(content))
            for rel in before.own:
                if rel not in own[phone.name]:
                    files[rel] = None
            records[phone.name] = phone_entry(phone, [*before.shared, *own[phone.name]])
    finally:
        linked = pre.wait()
    if not linked:
        return None
    for rel, new in files.items():
        if new is None:
            os.unlink(staging / rel)
    for rel, content in writes:
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # as Stager.write
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, dest)  # a new file: the old release's (linked) one is not touched
    index = splice(
        data, state.index, files, records, delta.plan.inventory.digest, staging / MANIFEST
    )
    result = EmitResult(
        release=release_id_of(index.sha256),
        changed=False,
        counts=Counts(written=len(writes), unchanged=len(index.files) - len(writes)),
        phones=len(state.phones),
        files=len(index.files),
        index=index,
        own={name: tuple(sorted(paths)) for name, paths in own.items()},
        incremental=True,
        warnings=[d.message for d in delta.diagnostics if d.code == "render"],
    )
    _publish(out, staging, current, result, index.sha256, False, keep, lambda: None)
    return result


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


def unchanged_release(out_dir: Path, target: Path, options: Mapping[str, str]) -> Record | None:
    """The record of OUT's current release if nothing it was built from changed (see
    :mod:`mipc.incremental.inputs`); then, under the lock, what killed builds left is removed,
    as any build does. None: build as usual. Raises :class:`LockHeld`."""
    out = Out(out_dir)
    current = out.current_id()
    if current is None or up_to_date(out_dir, target, current, options) is None:
        return None
    with out.locked():
        out.clean_staging()
        return up_to_date(out_dir, target, out.current_id(), options)


def save_record(out_dir: Path, record: Record) -> None:
    """Write ``OUT/inputs.json`` (what the current release was built from) atomically."""
    _write_atomic(out_dir / RECORD, record.to_bytes())


# --- rollback ----------------------------------------------------------------------------


@dataclass
class RollbackResult:
    previous: str
    current: str


def rollback(out_dir: Path, to: str | None = None) -> RollbackResult:
    """Switch ``current`` to the release made current before it (or to release ``to``)."""
    out = Out(out_dir)
    if not out.releases.is_dir():
        raise EmitError(f"{out.root} holds no releases")
    with out.locked():
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
        out.switch(target)
        out.write_history(history, target)
        return RollbackResult(previous=current, current=target)


# --- errors on the way -------------------------------------------------------------------


def describe_os_error(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device{where}"
    return f"{exc.strerror or exc}{':' + where if where else ''}"
