"""Names in an inventory: whether they can become file names, what they refer to, chains.

Takes names and the mappings they are looked up in; gives "did you mean" hints, the
unknown-name, bad-name and cycle diagnostics, the parent chains of templates and locations,
and the station names of a phone's private appearances. Never imports the resolve, render
or release stages.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from mipc.diagnostics import Diagnostics, Position
from mipc.model import AppearanceSpec, Inventory, PhoneSpec, Setting, chain

_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|\.\.")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A "did you mean" hint naming the choice closest to ``name``, or nothing."""
    match = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def unknown(
    diags: Diagnostics,
    kind: str,
    name: str,
    choices: Iterable[str],
    position: Position | None,
    path: str = "",
) -> None:
    """Report ``name``, of the given kind, as not defined (with a hint)."""
    diags.error(
        f"unknown-{kind.replace(' ', '-')}",
        f"{kind} {name!r} is not defined{did_you_mean(name, choices)}",
        position,
        path,
    )


def check_name(diags: Diagnostics, kind: str, name: str, position: Position | None) -> None:
    """Report a name that cannot become part of a file name, or of the network files."""
    if _BAD_NAME.search(name) or name.strip() != name or not name:
        diags.error(
            "bad-name",
            f"{kind} name {name!r} cannot become a file name: remove '/', '\\', '..',"
            " control characters and surrounding spaces",
            position,
        )
    else:
        check_printable(diags, kind, name, position)


def check_printable(diags: Diagnostics, kind: str, name: str, position: Position | None) -> None:
    """Report a name holding characters that print nothing (a no-break space, a soft hyphen,
    a format character): the DHCP and DNS files, whose comments name it, cannot hold them."""
    if name.isprintable():
        return
    hidden = ", ".join(f"U+{ord(c):04X}" for c in sorted({c for c in name if not c.isprintable()}))
    diags.error(
        "bad-name",
        f"{kind} name {name!r} holds characters that print nothing ({hidden}), which the"
        " DHCP and DNS files cannot hold; remove them or use plain spaces",
        position,
    )


def cycles(
    diags: Diagnostics,
    kind: str,
    parents: Mapping[str, str | None],
    positions: Mapping[str, Position | None],
) -> None:
    """Report each cycle of ``parents`` once, from its smallest name."""
    reported: set[frozenset[str]] = set()
    for start in sorted(parents):
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in parents:
            if node in seen:
                cycle = seen[seen.index(node) :]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first = min(cycle)
                    i = cycle.index(first)
                    ordered = cycle[i:] + cycle[:i]
                    chain = " -> ".join([*ordered, first])
                    diags.error(
                        f"{kind}-cycle",
                        f"{kind} cycle: {chain}; break it by removing one link",
                        positions.get(first),
                    )
                break
            seen.append(node)
            node = parents[node]


def inherited(inv: Inventory, template: str | None, key: str) -> Setting | None:
    """The value a template chain gives key (nearest template first)."""
    parents = {name: t.extends for name, t in inv.templates.items()}
    for name in chain(template, parents):
        setting = inv.templates[name].layer.get(key)
        if setting is not None:
            return setting
    return None


def private_stations(phone: PhoneSpec) -> list[tuple[str, AppearanceSpec]]:
    """A phone's private appearances with their station names (the first defaults to the
    phone's name, the next to the name and its number)."""
    out: list[tuple[str, AppearanceSpec]] = []
    for app in phone.appearances:
        if app.kind == "private":
            station = app.station or (f"{phone.name} {len(out) + 1}" if out else phone.name)
            out.append((station, app))
    return out


def station_names(phone: PhoneSpec) -> list[str]:
    """Station names of a phone's private appearances (the first defaults to the phone's)."""
    return [station for station, _ in private_stations(phone)]
