"""``mipc diff``: what a build would change, per phone, per setting and per file.

``mipc diff [INVENTORY] --against OUT`` renders the inventory in memory (only the phones whose
digest differs from the release's manifest, plus every shared file), writes nothing, and
compares it with ``OUT/current`` (or a release folder, or a ``manifest.json`` and the tree
beside it). ``mipc diff --between OLD NEW`` compares two releases.

This module chooses the snapshots (:mod:`mipc.pipeline.compare`, :mod:`mipc.release.reader`)
and prints; the comparison itself is :func:`mipc.diff.compare.diff`. Exit codes follow
diff(1): 0 no changes, 1 changes, 2 trouble (an invalid inventory, an unreadable release).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mipc.cli.commands.validate import inventory_root
from mipc.cli.report import report as print_diagnostics
from mipc.diff.compare import diff
from mipc.diff.format import github_report, json_report, text_report
from mipc.diff.model import Report, Snapshot
from mipc.network.plan import DEFAULT_SERVER_ROOT
from mipc.pipeline.compare import (
    Destination,
    incremental_report,
    inventory_snapshot,
    unchanged_report,
)
from mipc.pipeline.compile import Allowed, default_inventory, paused_gc, validate
from mipc.release.reader import SnapshotError, load_release, prior_zones


@dataclass(frozen=True)
class DiffOptions:
    """What ``mipc diff`` was asked: what to compare, how to report it."""

    against: Path | None = None
    between: tuple[Path, Path] | None = None
    fmt: str = "text"
    files: bool = False
    changed_macs: bool = False
    show_secrets: bool = False
    quiet: bool = False
    server_root: str = DEFAULT_SERVER_ROOT
    secrets_dir: Path | None = None  # a folder outside the inventory with secret files
    firmware_store: Path | None = None  # the firmware store, maybe outside the inventory

    def allowed(self) -> Allowed:
        """The folders outside the inventory it may read."""
        return Allowed.of(self.secrets_dir, self.firmware_store)


def _trouble(err: IO[str], message: str) -> int:
    print(f"mipc diff: {message}", file=err)
    return 2


def _quick_report(target: Path | None, opts: DiffOptions) -> Report | None:
    if opts.between is not None or opts.against is None or opts.allowed().options():
        return None  # the shortcuts know only the defaults: the full compare knows the rest
    inventory = target if target is not None else default_inventory()
    return unchanged_report(opts.against, inventory, opts.server_root) or incremental_report(
        opts.against,
        inventory,
        opts.server_root,
        show_secrets=opts.show_secrets,
        files=opts.files,
    )


def snapshots(
    target: Path | None, opts: DiffOptions, err: IO[str]
) -> tuple[Snapshot, Snapshot] | int:
    """The two snapshots to compare, or an exit code after printing the trouble."""
    if opts.between is not None:
        return load_release(opts.between[0]), load_release(opts.between[1])
    if opts.against is None:
        return _trouble(err, "say what to compare with: --against OUT or --between OLD NEW")

    base = load_release(opts.against)
    inventory = target if target is not None else default_inventory()
    result = validate(inventory, allowed=opts.allowed())
    if result.plan is None or result.diagnostics.errors:
        fmt = "text" if opts.fmt == "json" else opts.fmt
        print_diagnostics(result.diagnostics, fmt, base=inventory_root(inventory))
        return _trouble(err, f"{inventory} is invalid; nothing compared")
    try:
        new = inventory_snapshot(
            result.plan,
            base,
            label=f"inventory {inventory}",
            destination=Destination(opts.server_root, prior_zones(opts.against)),
        )
    except ValueError as exc:
        return _trouble(err, f"cannot render {inventory}: {exc}")
    return base, new


def run_diff(
    target: Path | None,
    opts: DiffOptions,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Compare, print the report as asked, and return the exit code (0, 1 or 2)."""

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        with paused_gc():
            report = _quick_report(target, opts)
            if report is None:
                pair = snapshots(target, opts, err)
                if isinstance(pair, int):
                    return pair
                old, new = pair
                report = diff(old, new, show_secrets=opts.show_secrets, files=opts.files)
    except SnapshotError as exc:
        return _trouble(err, str(exc))
    except OSError as exc:
        return _trouble(err, f"{exc.filename or ''}: {exc.strerror or exc}")
    code = 1 if report.changed else 0
    if opts.quiet:
        return code
    if opts.changed_macs:
        for address in report.rollout():
            print(address, file=out)
    elif opts.fmt == "json":
        print(json.dumps(json_report(report), indent=2, ensure_ascii=False), file=out)
    elif opts.fmt == "github":
        out.write(github_report(report, files=opts.files))
    else:
        out.write(text_report(report, files=opts.files))
    return code
