"""``mipc unlock OUT [--force]``: clear OUT's lock when the build that took it is gone.

A build killed before it could unlock leaves no lock behind (the kernel drops it with the
process), but a lock kept by some other process after its holder ended (a child of an older
mipc) would refuse every build. This clears such a lock; it refuses, naming the holder, when
the holder still runs, unless ``--force`` (a person's decision: two builds could then write OUT
at once). Takes an :class:`UnlockOptions`; gives exit code 0 (cleared, or nothing to clear) or
2 (the holder runs, or OUT cannot be written); JSON: ``out``, ``held``, ``cleared``,
``holder``. Never parses argv; never imports the pipeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from mipc.cli.report import reporter
from mipc.diagnostics import MipcError
from mipc.release.lock import Unlocked, unlock
from mipc.release.store import describe_os_error


@dataclass(frozen=True)
class UnlockOptions:
    """What ``mipc unlock`` was asked."""

    out: Path
    force: bool = False
    fmt: str = "text"
    quiet: bool = False


def _said(out: Path, found: Unlocked) -> str:
    """The line for a person."""
    if not found.held:
        return f"{out}: not locked; nothing to clear"
    who = found.holder.describe() if found.holder else "a process that did not say who it was"
    if found.running:
        return f"{out}: cleared the lock of {who}, which still runs (--force)"
    return f"{out}: cleared the lock of {who}, which is gone"


def run_unlock(opts: UnlockOptions) -> int:
    """Clear the lock, report, return the exit code."""
    with reporter("unlock", opts.fmt, quiet=opts.quiet) as out:
        if not opts.out.is_dir():
            raise MipcError(f"{opts.out} is not a folder")
        try:
            found = unlock(opts.out, force=opts.force)
        except OSError as exc:
            raise MipcError(f"cannot unlock {opts.out}: {describe_os_error(exc)}") from exc
        doc = {
            "out": str(opts.out),
            "held": found.held,
            "cleared": found.held,
            "holder": asdict(found.holder) if found.holder else None,
        }
        out.result(doc, _said(opts.out, found))
    return out.code
