"""Staging a release: artifacts written (or hard-linked) into a folder beside the releases.

Takes artifacts (:mod:`mipc.artifacts`) and the current release's file hashes; gives the files
of a new release on disk and their manifest entries. Files whose sha256 equals the current
release's are hard-linked from it; firmware images are hard-linked (or copied) from the store.
A file holding a secret (:attr:`mipc.artifacts.Artifact.secret`) is written mode 0640 and given
nginx's group (:class:`WwwGroup`); one the build cannot give the group is counted
(:attr:`Counts.ungrouped`) for the build to warn about. A current release's secret file of
another group is copied, not linked, so no older release's file changes.
Every path a renderer returns is checked: no absolute paths, no ``..``, nothing that could
land outside the release. Never imports render or incremental.
"""

from __future__ import annotations

import grp
import hashlib
import os
import shutil
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mipc.artifacts import Artifact, RenderConflict
from mipc.diagnostics import Diagnostic, Severity
from mipc.release.durable import file_sha
from mipc.release.errors import UnsafePath as UnsafePath
from mipc.release.errors import safe_relpath as safe_relpath
from mipc.release.manifest import FileEntry
from mipc.release.store import EmitError


def _inside(path: Path, root: Path) -> bool:
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base + os.sep)


@dataclass
class Counts:
    """How the files of a release came to be there."""

    written: int = 0  # new or changed contents
    linked: int = 0  # firmware images linked (or copied) from the store
    unchanged: int = 0  # same bytes as the current release: hard-linked from it
    ungrouped: int = 0  # files holding a secret that could not be given nginx's group

    def add(self, other: Counts) -> None:
        """Add another count to this one."""
        self.written += other.written
        self.linked += other.linked
        self.unchanged += other.unchanged
        self.ungrouped += other.ungrouped


#: The mode of a file holding a secret: the build user writes it, nginx's group reads it.
SECRET_MODE = 0o640


@dataclass(frozen=True)
class WwwGroup:
    """The group nginx reads the release as: its name, and its id on this machine (None
    when there is no such group here)."""

    name: str
    gid: int | None

    @classmethod
    def named(cls, name: str) -> WwwGroup:
        """The group ``name`` as this machine knows it."""
        try:
            return cls(name, grp.getgrnam(name).gr_gid)
        except KeyError:
            return cls(name, None)

    def give(self, fd: int) -> bool:
        """Give the open file ``fd`` this group; False when the build cannot."""
        if self.gid is None:
            return False
        try:
            os.fchown(fd, -1, self.gid)
        except PermissionError:
            return False
        return True


#: The code of the warning that files holding secrets lack nginx's group.
GROUP_CODE = "www-group"


def group_warning(group: WwwGroup, count: int, out: Path) -> Diagnostic:
    """The one warning of a build that could not give ``count`` files holding secrets the
    group nginx reads them as, with what to do."""
    why = (
        f"no group {group.name} on this machine"
        if group.gid is None
        else f"the build user is neither root nor a member of {group.name}"
    )
    message = (
        f"{count} files holding secrets are mode 0640 but not of group {group.name} ({why}),"
        f" so nginx reads them only if it runs as the build user: build as root or as a member"
        f" of {group.name} (serving.nginx_group), or run: chgrp -R {group.name}"
        f" {out.absolute()}/current/www"
    )
    return Diagnostic(Severity.WARNING, GROUP_CODE, message, None)


def open_new(path: str, art: Artifact, group: WwwGroup | None, counts: Counts) -> int:
    """A new file at ``path`` for ``art``: mode 0644, or 0640 and of ``group`` when it holds
    a secret (counted in ``counts.ungrouped`` when the group cannot be given)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE if art.secret else 0o644)
    if art.secret and group is not None and not group.give(fd):
        counts.ungrouped += 1
    return fd


@dataclass(frozen=True)
class Written:
    """What writing some artifacts gave: their entries, counts, and the files not yet linked
    (same bytes as the current release). Sent back from worker processes: plain data."""

    entries: list[FileEntry]
    counts: Counts
    unchanged: list[str]


class Background:
    """A function run in a thread named ``name``; :meth:`join` waits and re-raises what it
    raised."""

    def __init__(self, func: Callable[[], None], name: str) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                func()
            except BaseException as exc:  # re-raised by join, in the emitting thread
                self._error = exc

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def join(self, *, check: bool = True) -> None:
        """Wait for the thread; re-raise its error if ``check``."""
        self._thread.join()
        error, self._error = self._error, None
        if error is not None and check:
            raise error


@dataclass
class Stager:
    """Writes artifacts into a staging folder; reuses the current release's identical files."""

    root: Path  # the staging folder
    old_root: Path | None = None  # the current release
    old_files: Mapping[str, tuple[str, int]] = field(default_factory=dict)  # (sha256, size)
    unchanged: list[str] = field(default_factory=list)  # same bytes as old: not yet linked
    early: Background | None = None  # linking started while phones render
    group: WwwGroup | None = None  # nginx's group, given to the files holding secrets
    ungrouped: int = 0  # secret files copied from the current release without the group
    _dirs: set[str] = field(default_factory=set)

    def link_early(self, paths: list[str]) -> None:
        """Start linking ``paths`` (as :meth:`link_unchanged`) in a thread; never before a
        pool of worker processes is forked (no fork() while another thread runs), only once
        it is, or when there is none."""
        self.early = Background(partial(self.link_unchanged, paths), "mipc-link")

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
                if self._regroup(st):
                    self._copy_secret(rel)
                    continue
                try:
                    os.link(rel, rel, src_dir_fd=old, dst_dir_fd=new, follow_symlinks=False)
                except FileExistsError:
                    continue  # a second artifact at the same path: the merge compared hashes
                except OSError:
                    shutil.copyfile(self.old_root / rel, self.root / rel, follow_symlinks=False)
        finally:
            os.close(old)
            os.close(new)

    def _regroup(self, st: os.stat_result) -> bool:
        """Whether a current release's file holds a secret (mode 0640) of another group than
        nginx's now is: it is copied, so the older release keeps its own."""
        group = self.group
        mode = stat.S_IMODE(st.st_mode)
        return group is not None and mode == SECRET_MODE and st.st_gid != group.gid

    def _copy_secret(self, rel: str) -> None:
        assert self.old_root is not None
        data = (self.old_root / rel).read_bytes()
        counts = Counts()
        fd = open_new(self._dest(rel), Artifact(data, secret=True), self.group, counts)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        self.ungrouped += counts.ungrouped

    def write_www(self, artifacts: Mapping[str, Artifact]) -> Written:
        """Write artifacts (paths under ``www/``) in path order; what is left to link goes
        with the result, not into :attr:`unchanged`."""
        counts = Counts()
        entries = [
            self.write("www/" + safe_relpath(path), art, counts)
            for path, art in sorted(artifacts.items())
        ]
        unchanged, self.unchanged = self.unchanged, []
        return Written(entries, counts, unchanged)

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
            fd = open_new(dest, art, self.group, counts)
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
        sha = self._known_sha(rel, st) or file_sha(source)
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


def merge_entry(into: dict[str, FileEntry], entry: FileEntry) -> None:
    """Add one manifest entry; the same path twice is fine only with the same contents
    (else :class:`mipc.artifacts.RenderConflict`), and then it lists both phones' names."""
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
