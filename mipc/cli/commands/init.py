"""``mipc init DIR``: scaffold the guide's lab inventory in a new or empty folder.

Takes an :class:`InitOptions`; gives the exit code (0 written, 1 the folder is not empty or is
a file, 2 it cannot be written) after reporting the files written (JSON: ``directory`` and
``written``). Never parses argv; never imports the pipeline.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mipc.cli.report import reporter
from mipc.diagnostics import InvalidInputError, MipcError
from mipc.resources import lab_dir


class InitError(InvalidInputError):
    """The target is a file or a folder that is not empty (exit code 1)."""


@dataclass(frozen=True)
class InitOptions:
    """What ``mipc init`` was asked."""

    directory: Path
    fmt: str = "text"
    quiet: bool = False


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


def run_init(opts: InitOptions) -> int:
    """Scaffold, report, return the exit code."""
    with reporter("init", opts.fmt, quiet=opts.quiet) as out:
        try:
            written = scaffold(opts.directory)
        except OSError as exc:
            raise MipcError(f"cannot write {opts.directory}: {exc.strerror or exc}") from exc
        lines = [f"wrote {path}" for path in written]
        out.result(
            {"directory": str(opts.directory), "written": [str(p) for p in written]},
            "\n".join(lines),
        )
        out.summary(f"next: mipc validate {opts.directory}")
    return out.code
