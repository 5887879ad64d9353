"""What a new release keeps of the one it replaces: the files a booting phone may still ask for.

A Polycom phone boots in several requests: its master, then each file the master names. When
a build switches ``current`` between two of them, the phone asks the new release for the
files the old master named. Those files are content-addressed (:func:`mipc.artifacts.
addressed`): a name always means the same bytes, so a release can hold the old ones beside
its own without a clash. Each release therefore keeps, besides the files of its manifest, the
content-addressed files of the release it replaced that it no longer has: hard links, listed
in its ``retained.json`` and not in its manifest (they are no part of what a phone booting
from it gets). A boot that spans one switch is served one release; one that spans two may not
be (the files of two releases back are gone).

Takes release folders and manifest file tables; gives the links. Never imports render or
incremental.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Container, Iterable, Mapping
from pathlib import Path

from mipc.artifacts import stem_of
from mipc.release.durable import write_atomic
from mipc.release.errors import UnsafePath, safe_relpath

__all__ = ["RETAINED", "carried", "drop_retained", "read_retained", "retain", "write_retained"]

#: The list of a release's retained files (``www/...`` paths), beside its manifest.
RETAINED = "retained.json"


def carried(before: Mapping[str, tuple[str, int]], after: Container[str]) -> list[str]:
    """The content-addressed files of ``before`` (path → (sha256, size)) that ``after`` lacks:
    what a release made after ``before``'s keeps, sorted."""
    return sorted(
        path
        for path, (sha, _size) in before.items()
        if path.startswith("www/") and path not in after and stem_of(path, sha) != path
    )


def read_retained(release: Path) -> list[str]:
    """The retained files release folder ``release`` lists (none if it lists none, or lists
    them badly: each must be a plain path under ``www/``)."""
    try:
        data = json.loads((release / RETAINED).read_bytes())
    except (OSError, ValueError):
        return []
    return [p for p in data if _plain(p)] if isinstance(data, list) else []


def _plain(path: object) -> bool:
    """Whether ``path`` is a plain relative path under ``www/`` (:func:`safe_relpath`)."""
    if not isinstance(path, str) or not path.startswith("www/"):
        return False
    try:
        safe_relpath(path)
    except UnsafePath:
        return False
    return True


def drop_retained(staging: Path, release: Path, keep: Container[str]) -> None:
    """Remove from ``staging`` (a linked copy of ``release``) the files ``release`` retained,
    but those in ``keep``."""
    for path in read_retained(release):
        if path not in keep:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staging / path)


def retain(into: Path, source: Path, paths: Iterable[str], listed: Iterable[str] = ()) -> None:
    """Hard-link each of ``paths`` from release folder ``source`` into ``into`` (a copy with
    the same mode and group where no link can be made; a file gone from ``source`` is
    skipped), and write ``into``'s list of retained files: those and ``listed``."""
    kept = set(listed)
    made: set[str] = set()  # folders made already (tens of thousands of files share a few)
    for path in paths:
        if not _plain(path):
            continue
        src, dest = os.path.join(source, path), os.path.join(into, path)
        folder = os.path.dirname(dest)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        try:
            os.link(src, dest, follow_symlinks=False)
        except FileExistsError:
            pass
        except FileNotFoundError:
            continue
        except OSError:
            shutil.copy2(src, dest, follow_symlinks=False)
            with contextlib.suppress(OSError):
                st = os.lstat(src)
                os.chown(dest, -1, st.st_gid, follow_symlinks=False)
        kept.add(path)
    write_retained(into, kept)


def write_retained(into: Path, paths: Iterable[str]) -> None:
    """Write release folder ``into``'s list of retained files (none: no list)."""
    kept = sorted(set(paths))
    if kept:
        write_atomic(into / RETAINED, (json.dumps(kept, indent=0) + "\n").encode())
