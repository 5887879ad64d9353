"""The SOA serial of each zone mipc writes: one that increases with each release that changes
the zone, and stays the same (so do the bytes) while the zone's records do.

Takes :class:`PriorZones` (the zone files of OUT's releases, read by the caller) and a new
zone's lines; gives its serial: the current release's serial when the records (every line but
comments, the serial masked) are the same, else one more than the highest serial that zone has
in any release OUT keeps (1 for the first; after 4294967295 comes 1, RFC 1982 arithmetic). No
clock is read: the same inventory over the same OUT gives the same bytes. Never imports render
or release.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["PriorZones", "next_serial", "serial_of", "stale_serials"]

#: The SOA line as :mod:`mipc.network.dns` writes it: owner, NS, mailbox, ``( serial ...``.
_SOA = re.compile(r"^(@ IN SOA \S+ \S+ \( )(\d+)( .*)$")

_MAX = 2**32 - 1


@dataclass(frozen=True)
class PriorZones:
    """The zone files of OUT's releases (file name → bytes): ``current`` the current
    release's, ``kept`` those of every release OUT keeps (the current one included)."""

    current: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))
    kept: tuple[Mapping[str, bytes], ...] = ()


def _key(lines: Sequence[str]) -> tuple[str, ...]:
    """What the secondary servers see of a zone: its records and directives, the serial
    masked; comments and blank lines left out."""
    out: list[str] = []
    for line in lines:
        if not line or line.startswith(";"):
            continue
        out.append(_SOA.sub(r"\1-\3", line))
    return tuple(out)


def serial_of(data: bytes) -> int | None:
    """The SOA serial of a zone file mipc wrote, or None when it has none it can read."""
    for line in data.decode("utf-8", "replace").splitlines():
        found = _SOA.match(line)
        if found:
            return int(found.group(2))
    return None


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()


def _highest(prior: PriorZones, name: str) -> int:
    """The highest serial zone file ``name`` has in OUT's releases (0: none)."""
    serials = [serial_of(zones[name]) for zones in prior.kept if name in zones]
    return max((s for s in serials if s is not None), default=0)


def next_serial(prior: PriorZones, name: str, lines: Sequence[str]) -> int:
    """The serial of zone file ``name`` whose lines (any serial in them) are ``lines``."""
    before = prior.current.get(name)
    if before is not None:
        serial = serial_of(before)
        if serial is not None and _key(_lines(before)) == _key(lines):
            return serial
    return _highest(prior, name) % _MAX + 1


def stale_serials(prior: PriorZones, files: Mapping[str, bytes]) -> list[str]:
    """One line per zone of ``files`` whose records changed since the current release but
    whose serial is not above the highest OUT's releases have (only ``site.zone_serial`` can
    do that): secondary servers would not transfer it."""
    said: list[str] = []
    for name, data in sorted(files.items()):
        before = prior.current.get(name)  # a zone (not the DHCP files: megabytes)
        if before is None:
            continue
        serial = serial_of(data)
        if serial is None or _key(_lines(before)) == _key(_lines(data)):
            continue
        highest = _highest(prior, name)
        if serial <= highest and serial != highest % _MAX + 1:
            said.append(
                f"warning: {name}: its records changed, but its serial {serial}"
                f" (site.zone_serial) is not above {highest}, the highest of OUT's releases:"
                f" secondary DNS servers will not transfer it; raise site.zone_serial above"
                f" {highest}, or remove it (the default serial increases by itself)"
            )
    return said
