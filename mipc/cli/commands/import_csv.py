"""``mipc import-csv``: merge the guide's CSV phone lists into an inventory, all or nothing.

Takes the lists, the inventory path and the command's options; loads the model through the
pipeline, hands it to :func:`mipc.inventory.importer.import_lists`, then writes the files it
planned (with ``--dry-run``, prints their diff instead), the diagnostics and, unless quiet,
the summary.
Gives the exit code: 0 ok, 1 rejected rows or conflicts (or warnings with ``--strict``),
2 I/O trouble. A rejected row writes nothing unless ``--skip-errors`` (exit 1 still).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from mipc.diagnostics import render
from mipc.inventory.atomic import write_files
from mipc.inventory.importer import (
    Format,
    ImportOptions,
    ImportReport,
    ImportTrouble,
    OnConflict,
    import_lists,
    unloaded,
)
from mipc.inventory.load import display_name
from mipc.pipeline import default_inventory, load_model, paused_gc

__all__ = ["ImportCommand", "run_import"]


@dataclass(frozen=True)
class ImportCommand:
    """What ``mipc import-csv`` was asked: the lists, the inventory (None: the default one)
    and the options."""

    csv_paths: Sequence[Path]
    inventory: Path | None = None
    dry_run: bool = False
    on_conflict: OnConflict = "fail"
    into: Path | None = None
    as_format: Format = "csv"
    strict: bool = False
    skip_errors: bool = False
    fmt: str = "text"
    quiet: bool = False  # diagnostics and errors only: no summary (a --dry-run diff still)

    @property
    def options(self) -> ImportOptions:
        """The options of the import itself."""
        return ImportOptions(
            self.on_conflict, self.into, self.as_format, self.strict, self.skip_errors
        )


def run_import(command: ImportCommand, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``mipc import-csv``: diagnostics go to ``err``, the summary and, with ``dry_run``, a
    diff of every file that would change to ``out`` (the summary not with ``quiet``); gives the
    exit code."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    target = command.inventory if command.inventory is not None else default_inventory()
    try:
        with paused_gc():
            report = _plan(command, target)
    except ImportTrouble as exc:
        err.write(f"mipc import-csv: {exc}\n")
        return 2
    if report.diagnostics.items:
        err.write(render(report.diagnostics, command.fmt) + "\n")
    root = target if target.is_dir() else target.parent
    blocked = report.blocked(command.strict, command.skip_errors)
    if command.dry_run and not blocked:
        for path in sorted(report.files):
            out.write(_diff(path, root, report.old.get(path), report.files[path]))
    elif not blocked and report.files:
        try:
            write_files(report.files)
        except OSError as exc:
            err.write(f"mipc import-csv: cannot write the inventory ({exc}); nothing changed\n")
            return 2
        report.written = True
    if blocked:
        report.files.clear()
        report.imported.clear()
        report.replaced.clear()
        report.removed.clear()
        err.write(f"mipc import-csv: nothing written{_why(report, command.skip_errors)}\n")
    if not command.quiet:
        out.write(report.summary(root) + "\n")
        out.writelines(line + "\n" for line in report.removals())
    return report.exit_code(command.strict)


def _why(report: ImportReport, skip_errors: bool) -> str:
    """Why nothing was written, when rows were rejected (they are listed)."""
    if not report.rejected or skip_errors or report.severe:
        return ""
    return (
        f": {report.rejected_rows} rejected row(s) ({report.rejected_text()}); fix them, or"
        " import the other rows with --skip-errors"
    )


def _plan(command: ImportCommand, target: Path) -> ImportReport:
    """Load the inventory and plan the import into it."""
    inv, diags = load_model(target)
    if inv is None:
        return unloaded(diags)
    return import_lists(command.csv_paths, target, inv, command.options, diags)


def _diff(path: Path, root: Path, old: str | None, new: str) -> str:
    shown = display_name(path, root)
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{shown}",
        tofile=f"b/{shown}",
    )
    return "".join(lines)
