"""The header row of a CSV phone list: which columns it has, where, and so which layout.

Columns are matched by name (any order, case and surrounding spaces ignored), never by
position; unknown columns are warned about and ignored. A list without a Name column, or
without either a Template column or all of Type, Manufacturer and Model, has no recognisable
header: a *severe* error, the list gives no phone. So is a column named twice.

Takes the header record, its row number and the name diagnostics give the list; gives a
:class:`Header`, adding the problems to the diagnostics. Never imports the model, the catalog
or the other stages.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.csv_columns import BY_FOLDED, NAME, TEMPLATE, TMM, Layout, canonical, fold

__all__ = ["Header", "read_header"]


@dataclass(frozen=True)
class Header:
    """The columns of a list: (canonical name, index) of each, how each is written, the
    layout and the number of cells up to the last named column."""

    columns: tuple[tuple[str, int], ...]
    written: Mapping[str, str]
    layout: Layout
    width: int


def read_header(record: list[str], row: int, shown: str, diags: Diagnostics) -> Header | None:
    """The header ``record`` (at ``row``) describes, or None after a severe error."""
    found = _columns(record, row, shown, diags)
    if found is None:
        return None
    layout = _layout(found, row, shown, diags)
    if layout is None:
        return None
    width = max(i for i, cell in enumerate(record) if cell.strip()) + 1
    return Header(
        columns=tuple((column, index) for column, (index, _) in found.items()),
        written={column: written for column, (_, written) in found.items()},
        layout=layout,
        width=width,
    )


def _columns(
    record: list[str], row: int, shown: str, diags: Diagnostics
) -> dict[str, tuple[int, str]] | None:
    """Each known column's (index, spelling as written); unknown ones warned about."""
    found: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(record):
        written = cell.strip()
        if not written:
            continue
        column = canonical(fold(written))
        if column is None:
            close = difflib.get_close_matches(fold(written), list(BY_FOLDED), n=1)
            hint = f"; did you mean {BY_FOLDED[close[0]]!r}?" if close else ""
            diags.warning(
                "unknown-column",
                f"column {written!r} is not a phone list column and is ignored{hint}",
                Position(shown, row, column_name=written),
            )
            continue
        if column in found:
            diags.error(
                "duplicate-column",
                f"column {column!r} appears twice (also as {found[column][1]!r}); keep one",
                Position(shown, row, column_name=written),
            )
            return None
        found[column] = (index, written)
    return found


def _layout(
    found: Mapping[str, tuple[int, str]], row: int, shown: str, diags: Diagnostics
) -> Layout | None:
    """The layout the columns found make, or None (the header is not recognisable)."""
    if NAME not in found:
        names = ", ".join(w for _, w in found.values()) or "none"
        diags.error(
            "no-header",
            "no recognisable header: the first row must name the columns, with at least"
            f" Name and Template (template list) or Name, Type, Manufacturer and Model"
            f" (TMM list); recognised columns: {names}",
            Position(shown, row, column_name=""),
        )
        return None
    has_tmm = [c for c in TMM if c in found]
    if TEMPLATE in found:
        return "normalised" if has_tmm else "template"
    if len(has_tmm) == len(TMM):
        return "tmm"
    missing = ", ".join(c for c in TMM if c not in found)
    diags.error(
        "no-header",
        "no recognisable header: a list needs a Template column (template list) or"
        f" Type, Manufacturer and Model columns (TMM list); missing: {missing}",
        Position(shown, row, column_name=""),
    )
    return None
