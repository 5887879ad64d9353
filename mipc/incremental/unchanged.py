"""Whether OUT's current release is up to date with what it was built from, and the record.

Takes OUT and the inventory; gives the :class:`~mipc.incremental.inputs.Record` of the current
release when none of its inputs changed (the build then has nothing to do), and writes
``OUT/inputs.json``. Reads OUT through :mod:`mipc.release.store`; never imports render.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mipc.incremental.inputs import RECORD, Record, up_to_date
from mipc.release.durable import write_atomic
from mipc.release.store import Out


def unchanged_release(out_dir: Path, target: Path, options: Mapping[str, str]) -> Record | None:
    """The record of OUT's current release if nothing it was built from changed (see
    :mod:`mipc.incremental.inputs`); then, under the lock, what killed builds left is removed,
    as any build does. None: build as usual. Raises :class:`~mipc.release.store.LockHeld`."""
    out = Out(out_dir)
    current = out.current_id()
    if current is None or up_to_date(out_dir, target, current, options) is None:
        return None
    with out.locked():
        out.clean_staging()
        return up_to_date(out_dir, target, out.current_id(), options)


def save_record(out_dir: Path, record: Record) -> None:
    """Write ``OUT/inputs.json`` (what the current release was built from) atomically."""
    write_atomic(out_dir / RECORD, record.to_bytes())
