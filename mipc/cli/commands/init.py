"""``mipc init DIR``: scaffold the guide's lab inventory."""

from __future__ import annotations

import shutil
from pathlib import Path

from mipc.resources import lab_dir


class InitError(Exception):
    pass


def scaffold(target: Path) -> list[Path]:
    """Copy the lab inventory into target, which must be missing or empty."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InitError(f"{target} is not empty; give a new or empty folder")
    source = lab_dir()
    written: list[Path] = []
    for path in sorted(source.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            written.append(dest)
    return written
