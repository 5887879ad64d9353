"""``mipc rollback OUT [--to ID]``: switch ``OUT/current`` back to the previous release.

"Previous" is the release made current before the current one, in the order
``OUT/releases.json`` records; rolling back twice goes two releases back. Takes a
:class:`RollbackOptions`; gives exit code 0, or 2 when there is nothing to roll back to, OUT is
locked by a build, or OUT cannot be read (JSON: ``out``, ``current`` and ``previous``). Never
parses argv; never imports the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mipc.cli.report import reporter
from mipc.diagnostics import MipcError
from mipc.release.store import describe_os_error, rollback


@dataclass(frozen=True)
class RollbackOptions:
    """What ``mipc rollback`` was asked."""

    out: Path
    to: str | None = None
    fmt: str = "text"
    quiet: bool = False


def run_rollback(opts: RollbackOptions) -> int:
    """Switch, report, return the exit code."""
    with reporter("rollback", opts.fmt, quiet=opts.quiet) as out:
        try:
            result = rollback(opts.out, opts.to)
        except OSError as exc:
            raise MipcError(f"cannot switch {opts.out}: {describe_os_error(exc)}") from exc
        out.result(
            {"out": str(opts.out), "current": result.current, "previous": result.previous},
            f"{opts.out}: current is now release {result.current} (was {result.previous})",
        )
    return out.code
