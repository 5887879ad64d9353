"""``mipc rollback OUT [--to ID]``: switch ``OUT/current`` back to the previous release.

"Previous" is the release made current before the current one, in the order
``OUT/releases.json`` records; rolling back twice goes two releases back. Exit 0, or 2 when
there is nothing to roll back to, OUT is locked by a build, or OUT cannot be read.
"""

from __future__ import annotations

from pathlib import Path

import click

from mipc.release.store import EmitError, describe_os_error, rollback


def run_rollback(out: Path, to: str | None = None) -> int:
    try:
        result = rollback(out, to)
    except EmitError as exc:
        click.echo(f"mipc rollback: {exc}", err=True)
        return 2
    except OSError as exc:
        click.echo(f"mipc rollback: cannot switch {out}: {describe_os_error(exc)}", err=True)
        return 2
    click.echo(f"{out}: current is now release {result.current} (was {result.previous})")
    return 0
