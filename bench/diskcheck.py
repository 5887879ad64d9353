"""Room for a benchmark run: what the steps leave on disk, counted before anything is written.

Nothing is deleted while measuring, so every output stays until the end: per round, the cold
build, the override build, the two floors and the ``defaults:`` change each write a whole
release (files and bytes); the template change writes 40% of the phones' files; the naive
peer one file per phone; every incremental step a tree of hard links (a directory entry per
file), a manifest and ``state.bin``; the import a list of N rows twice. The preparation adds
one release, a linked copy of it per incremental variant, and the inventories. Files take
whole 4 KiB blocks. :func:`refuse_if_short` compares that with ``statvfs`` of the scratch
folder, bytes and inodes, and stops with a clear message when it does not fit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BLOCK = 4096
FILES_PER_PHONE = 1.5  # a 100k release holds 150,013 files
BYTES_PER_PHONE = 3000  # and 298 MB (before blocks)
META_PER_PHONE = 600  # manifest.json + state.bin + inputs.json, bytes a phone
INVENTORY_PER_PHONE = 120  # bytes of YAML or CSV a phone
LINK_BYTES = 64  # a directory entry
MARGIN = 1.25
RESERVE = 1 << 30  # leave this much free in any case

WHOLE = {"cold", "override", "floor", "floor2", "defaults"}
LINKED = {"noop", "yaml", "csv", "add", "remove", "template40", "defaults"}


@dataclass(frozen=True)
class Need:
    """What a run leaves on disk."""

    bytes: int
    inodes: int

    def __add__(self, other: Need) -> Need:
        return Need(self.bytes + other.bytes, self.inodes + other.inodes)


def release_need(phones: int) -> Need:
    """One whole release of ``phones`` phones on disk, by the figures of a 100k release."""
    files = int(phones * FILES_PER_PHONE)
    blocks = files + int(phones * BYTES_PER_PHONE) // BLOCK  # small files: a block or two each
    return Need(blocks * BLOCK + phones * META_PER_PHONE, files)


def size_need(phones: int, rounds: int, keys: list[str], release: Need | None = None) -> Need:
    """What ``rounds`` rounds of the steps ``keys`` at ``phones`` phones leave, preparation
    included; ``release`` is a measured whole release (else :func:`release_need`)."""
    whole = release or release_need(phones)
    files = int(phones * FILES_PER_PHONE)
    linked = Need(files * LINK_BYTES + phones * META_PER_PHONE, files // 100)  # dirs, not files
    per_round = Need(0, 0)
    for key in keys:
        if key in WHOLE:
            per_round += whole
        if key in LINKED:
            per_round += linked
        if key == "template40":
            per_round += Need(int(whole.bytes * 0.4), int(whole.inodes * 0.4))
        if key == "naive":
            per_round += Need(phones * BLOCK, phones)
        if key == "import":
            per_round += Need(2 * phones * INVENTORY_PER_PHONE + (1 << 20), 50)
    prepare = whole + Need(8 * phones * INVENTORY_PER_PHONE, 8 * (phones // 10_000 + 5))
    for _ in range(len({k for k in keys if k in LINKED})):
        prepare += linked
    total = prepare
    for _ in range(rounds):
        total += per_round
    return Need(int(total.bytes * MARGIN), int(total.inodes * MARGIN))


def measured_release(out: Path) -> Need:
    """The disk use (bytes in blocks) and files of ``out``'s current release."""
    used = files = 0
    for dirpath, _, filenames in os.walk((out / "current").resolve()):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            used += st.st_blocks * 512
            files += 1
    for name in ("state.bin", "inputs.json"):
        if (out / name).is_file():
            used += (out / name).stat().st_size
    return Need(used, files)


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB"


def refuse_if_short(scratch: Path, need: Need) -> str:
    """A line saying what the run needs and what ``scratch`` has; ``SystemExit`` if short."""
    st = os.statvfs(scratch)
    free, inodes = st.f_bavail * st.f_frsize, st.f_favail
    line = (
        f"disk: the run leaves about {_gib(need.bytes)} and {need.inodes:,} files in {scratch}"
        f" ({_gib(free)} and {inodes:,} inodes free)"
    )
    if need.bytes + RESERVE > free or need.inodes > inodes:
        raise SystemExit(
            f"refusing to start: {line}; nothing is deleted while measuring, so it all must"
            f" fit (with {_gib(RESERVE)} to spare). Free some space, pick another --scratch,"
            " or run fewer --sizes, --rounds or --steps."
        )
    return line
