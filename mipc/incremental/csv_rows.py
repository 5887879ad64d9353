"""A changed phone list read again only where its rows changed: the CSV half of the shortcut.

The state keeps each list's rows (:data:`~mipc.inventory.phone_lists.ListRows`: a digest of
each record and the phone it made), packed (:func:`pack`). When a list changed, its records
are parsed again (cheap: the csv module) and digested; only the rows whose digest or place
changed are read and checked (at 100k phones a tenth of a second of a one-row build, and the
state's phones of the rows that stay are not looked at). The header must be the same, at the
same place; otherwise the list is read whole, as before.

Takes the inventory document, the list's entry and its packed rows; gives the entries of the
rows read, the names the rows read or gone had, and the list's rows now. Never imports
render or release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mipc.diagnostics import Diagnostic, Diagnostics
from mipc.inventory.load import Document
from mipc.inventory.phone_lists import ListRows, list_rows, read_list
from mipc.model import PhoneSpec

__all__ = ["DIGEST", "Reread", "list_entries", "pack", "packed_rows", "reread", "unpack"]

#: Bytes of a row's digest (:func:`mipc.inventory.csvlists.row_digest`).
DIGEST = 16

#: A list's rows as the state keeps them: the digests joined, the names joined by NUL (a
#: phone list cannot hold one: it is refused as binary).
Packed = tuple[bytes, str]


def pack(rows: ListRows) -> Packed:
    """``rows`` as the state keeps them."""
    return b"".join(rows[0]), "\0".join(rows[1])


def unpack(packed: Packed) -> ListRows:
    """The rows :func:`pack` packed (a ValueError when they are not)."""
    joined, names = packed
    count = len(joined) // DIGEST
    split = tuple(names.split("\0")) if count else ()
    if len(joined) % DIGEST or len(split) != count:
        raise ValueError("not a list's rows")
    return tuple(joined[i * DIGEST : (i + 1) * DIGEST] for i in range(count)), split


@dataclass(frozen=True)
class Reread:
    """A changed list read where it changed: the entries of the rows read, the names the
    rows read or gone had before, and the list's rows now."""

    specs: list[PhoneSpec]
    were: set[str] | None  # None: all its rows were read
    rows: ListRows


def reread(
    doc: Document,
    index: int,
    before: Packed,
    said: frozenset[Diagnostic],
    templates: dict[str, str],
    also: frozenset[str] | set[str] = frozenset(),
) -> Reread | None:
    """The ``index``-th phone list of ``doc`` read where its rows differ from ``before``, and
    where they made the phones ``also`` names; None when it must be read whole (its header
    moved or changed, or what it says is not what it said: ``said``, the last build's
    messages about this list)."""
    try:
        old_rows, old_names = unpack(before)
    except ValueError:
        return None
    diags = Diagnostics()
    wanted = _Wanted(old_rows, old_names, also)
    found = read_list(doc, index, diags, templates, wanted=wanted)
    h = found.header_row
    if found.severe or diags.errors or h < 0 or found.rows[: h + 1] != old_rows[: h + 1]:
        return None  # the header moved or changed: read whole
    rows = found.rows
    read = {i for i in range(h + 1, len(rows)) if wanted(i, rows[i])}
    kept = set(range(h + 1, min(len(rows), len(old_rows)))) - read
    if set(diags.items) != {d for d in said if _line(d) - 1 not in kept}:
        return None  # it says something else (or where it said it, the rows moved)
    staying = {old_names[i].casefold() for i in kept if old_names[i]}
    if any(spec.name.casefold() in staying for spec in found.phones):
        return None  # a name the list has (in any case): read whole, which says where
    gone = range(len(rows), len(old_rows))
    were = {old_names[i] for i in (*read, *gone) if i < len(old_rows) and old_names[i]}
    names = list(list_rows(found)[1])
    for i in kept:
        names[i] = old_names[i]
    return Reread(found.phones, were, (rows, tuple(names)))


def _line(said: Diagnostic) -> int:
    return said.position.line if said.position is not None else 0


@dataclass(frozen=True)
class _Wanted:
    """Which records to read: those whose digest is not the one their place had, and those
    that made a phone ``also`` names."""

    old_rows: tuple[bytes, ...]
    old_names: tuple[str, ...] = ()
    also: frozenset[str] | set[str] = frozenset()

    def __call__(self, i: int, digest: bytes) -> bool:
        if i >= len(self.old_rows) or self.old_rows[i] != digest:
            return True
        return bool(self.also) and self.old_names[i] in self.also


def list_entries(
    doc: Document,
    index: int,
    said: frozenset[Diagnostic],
    before: Packed | None,
    templates: dict[str, str],
    also: frozenset[str] | set[str] = frozenset(),
) -> Reread | None:
    """The entries of the changed ``index``-th list: of its changed rows and those of the
    phones ``also`` names (:func:`reread`) when ``before`` has its rows, else of all of them
    (``were`` then None); None if it now says something (an error, or a message) it did
    not say before (``said``)."""
    if before is not None:
        found = reread(doc, index, before, said, templates, also)
        if found is not None:
            return found
    diags = Diagnostics()
    whole = read_list(doc, index, diags, templates, digests=True)
    if diags.errors or set(diags.items) != said:
        return None
    return Reread(whole.phones, None, list_rows(whole))


def packed_rows(rows: Mapping[str, ListRows]) -> dict[str, Packed]:
    """Each list's rows as the state keeps them."""
    return {shown: pack(r) for shown, r in rows.items()}
