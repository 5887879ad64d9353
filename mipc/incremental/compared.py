"""Which phones' entries changed against the state, and whether they can be compiled alone.

The half of :func:`mipc.incremental.delta.changes` that compares the entries read again with
what the state keeps of each phone: changed, added, removed, or only moved (a line above
it changed); then whether the changed and added phones can be compiled without the others
and the removed ones dropped. Takes entries and a :class:`~mipc.incremental.state.State`;
gives names and digests. Never imports render or the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mipc.incremental.fingerprints import identity, linking, spec_digests
from mipc.incremental.phones import collides, group_names
from mipc.incremental.state import State
from mipc.model import PhoneSpec
from mipc.network.facts import PhoneFacts

__all__ = ["compared", "independent"]


def compared(
    fresh: Mapping[str, list[PhoneSpec]],
    state: State,
    partial: Mapping[str, set[str]] | None = None,
) -> tuple[dict[str, PhoneSpec], set[str], set[str], dict[str, bytes]] | None:
    """The changed and added entries of ``fresh`` (by source group), the added phones, the
    removed ones, and those whose entry only moved (with their digest now); None when a name
    is listed twice or moved to another file. ``partial``: the groups of which ``fresh``
    holds only some entries, those that were the names of the others."""
    specs: dict[str, PhoneSpec] = {}
    added: set[str] = set()
    removed: set[str] = set()
    moved: dict[str, bytes] = {}
    for group, entries in fresh.items():
        listed = {e.name for e in entries}
        if len(listed) != len(entries):
            return None  # a name twice: the full compile says where
        were = (partial or {}).get(group)
        if were is None:
            were = group_names(state.phones, group)
        for spec in entries:
            old = state.phones.get(spec.name)
            if old is None:
                added.add(spec.name)
                specs[spec.name] = spec
            elif old[1] != group or spec.name not in were:
                return None  # moved, or also elsewhere
            else:
                placed, unplaced = spec_digests(spec)
                if placed != old[0] and unplaced == old[9]:
                    moved[spec.name] = placed
                elif placed != old[0]:
                    specs[spec.name] = spec
        removed.update(were.difference(listed))
    return specs, added, removed, moved


def _droppable(state: State, name: str) -> bool:
    """Whether removing phone ``name`` changes no other phone's diagnostics or files."""
    old = state.phones[name]
    if name in state.flagged or name in state.linking or state.shared_refs.intersection(old[4]):
        return False
    return not PhoneFacts.from_tuple(old[8]).waiting


def independent(specs: Mapping[str, PhoneSpec], state: State, removed: set[str]) -> bool:
    """Whether the changed and added phones can be compiled without the others, and the
    removed ones dropped: none warned first, none shares or is shared, none waited for an
    address, and no address, extension or station collides."""
    if not all(_droppable(state, n) for n in removed):
        return False
    if not specs:
        return True
    if any(n in state.flagged or n in state.linking for n in specs):
        return False
    new = {n: identity(s) for n, s in specs.items()}
    for n, spec in specs.items():
        before = state.phones[n][4] if n in state.phones else ()
        if linking(spec) or state.shared_refs.intersection((*before, *new[n][2])):
            return False
    return not _collides(new.values(), state, {*specs, *removed})


def _collides(
    new: Iterable[tuple[str, tuple[str, ...], tuple[str, ...]]], state: State, left: set[str]
) -> bool:
    """Whether an address, extension or station of ``new`` is another phone's (the phones of
    the state but those ``left``)."""
    addresses: set[str] = set()
    extensions: set[str] = set()
    stations: set[str] = set()
    for address, exts, own in new:
        if address:
            addresses.add(address)
        extensions.update(exts)
        stations.update(own)
    return collides(state.phones, (addresses, extensions, stations), left)
