"""Writing several files of an inventory at once, all or nothing.

Every file is written to a temporary file beside it first and then moved into place with
``os.replace``; a failure gives the files already moved their old bytes back and removes the
new files and folders, so the inventory is left as it was.

Takes the new text of each file; gives nothing (raises the ``OSError``). Never imports the
model or the other stages.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_files"]


def write_files(files: dict[Path, str]) -> None:
    """Write every file or none: temporary files first, then ``os.replace`` each; on a failure
    the files already replaced get their old bytes back and new files and folders are removed."""
    made_dirs: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in sorted(files.items()):
            _make_parents(path, made_dirs)
            staged.append((path, _stage(path, text)))
    except BaseException:
        _undo([], staged, made_dirs)
        raise
    backups: list[tuple[Path, bytes | None]] = []
    try:
        for dest, staged_tmp in staged:
            previous = dest.read_bytes() if dest.exists() else None
            os.replace(staged_tmp, dest)
            backups.append((dest, previous))
    except BaseException:
        _undo(backups, staged, made_dirs)
        raise


def _make_parents(path: Path, made: list[Path]) -> None:
    """Make the missing folders above ``path``, adding each to ``made`` (outermost first)."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        folder.mkdir()
        made.append(folder)


def _stage(path: Path, text: str) -> Path:
    """A temporary file beside ``path`` holding ``text``, flushed to the disk."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)  # not staged yet: nobody else removes it
        raise
    return Path(tmp_name)


def _undo(
    backups: list[tuple[Path, bytes | None]],
    staged: list[tuple[Path, Path]],
    made_dirs: list[Path],
) -> None:
    """Put back the files replaced, remove the temporary files and the folders made."""
    for done, before in reversed(backups):
        if before is None:
            done.unlink(missing_ok=True)
        else:
            done.write_bytes(before)
    for _, staged_tmp in staged:
        staged_tmp.unlink(missing_ok=True)
    for folder in reversed(made_dirs):
        with contextlib.suppress(OSError):
            folder.rmdir()
