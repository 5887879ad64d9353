"""The columns of the CSV phone lists: the guide's two layouts and mipc's normalised one.

The CIC guide ("Create CSV Managed IP Phone Lists") defines two layouts:

- the **template list**: ``Name, Template, Proxy Group, Extension, Identification Address,
  Label, Address``;
- the **TMM list**: ``Name, Type, Manufacturer, Model, Proxy Group, Extension,
  Identification Address, Label, Address``.

mipc adds a **normalised** layout, the union of both (``Name, Template, Type, Manufacturer,
Model, Proxy Group, Extension, Identification Address, Label, Address``), which
``mipc import-csv`` writes into an inventory.

mipc extends every layout with columns for what else an inventory holds for a phone (a
spreadsheet or the Managed IP Phone Assistant ignores them; they are written only when a phone
needs them): ``Location``, and for the second and later private appearances ``Extension 2``,
``Identification Address 2``, ``Label 2``, ``Extension 3``, ...

Takes nothing; gives the column names, the layouts, the header spellings accepted and the
phone types' spellings. Imports nothing of mipc.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

__all__ = [
    "ADDRESS",
    "BY_FOLDED",
    "COLUMNS",
    "CSV_LAYER",
    "EXTENSION",
    "IDENT",
    "LABEL",
    "LAYOUTS",
    "LOCATION",
    "MANUFACTURER",
    "MODEL",
    "NAME",
    "PROXY_GROUP",
    "TEMPLATE",
    "TMM",
    "TYPE",
    "TYPES",
    "TYPE_SPELLING",
    "Layout",
    "appearance_columns",
    "canonical",
    "fold",
    "number_of",
]

Layout = Literal["template", "tmm", "normalised"]
LAYOUTS: tuple[Layout, ...] = ("template", "tmm", "normalised")

NAME = "Name"
TEMPLATE = "Template"
TYPE = "Type"
MANUFACTURER = "Manufacturer"
MODEL = "Model"
PROXY_GROUP = "Proxy Group"
EXTENSION = "Extension"
IDENT = "Identification Address"
LABEL = "Label"
ADDRESS = "Address"
LOCATION = "Location"
#: The most appearances a row holds (``Extension 64`` is the last numbered column).
MAX_APPEARANCES = 64

COLUMNS: Mapping[Layout, tuple[str, ...]] = MappingProxyType(
    {
        "template": (NAME, TEMPLATE, PROXY_GROUP, EXTENSION, IDENT, LABEL, ADDRESS),
        "tmm": (NAME, TYPE, MANUFACTURER, MODEL, PROXY_GROUP, EXTENSION, IDENT, LABEL, ADDRESS),
        "normalised": (
            NAME,
            TEMPLATE,
            TYPE,
            MANUFACTURER,
            MODEL,
            PROXY_GROUP,
            EXTENSION,
            IDENT,
            LABEL,
            ADDRESS,
        ),
    }
)
#: The columns a TMM list needs (a normalised list may have them too).
TMM = (TYPE, MANUFACTURER, MODEL)
#: The layer name of the settings a list gives (``Setting.source``).
CSV_LAYER = "csv"

#: The phone types as a list may spell them (folded), by the inventory's name.
TYPES = MappingProxyType(
    {
        "workstation": "workstation",
        "stand-alone phone": "stand-alone",
        "stand-alone": "stand-alone",
        "standalone phone": "stand-alone",
        "standalone": "stand-alone",
        "stand alone phone": "stand-alone",
        "stand alone": "stand-alone",
    }
)
#: How a list written by mipc spells each type.
TYPE_SPELLING = MappingProxyType({"workstation": "Workstation", "stand-alone": "Stand-alone Phone"})

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """``text`` as headers and types are compared: runs of spaces as one, stripped, casefolded."""
    return _SPACES.sub(" ", text).strip().casefold()


#: Every accepted header spelling (folded) by its canonical column name; "Registration Group"
#: is accepted for "Proxy Group".
BY_FOLDED = MappingProxyType(
    {fold(c): c for c in (*COLUMNS["normalised"], LOCATION)} | {"registration group": PROXY_GROUP}
)
_NUMBERED = re.compile(r"\A(extension|identification address|label) ([1-9][0-9]?)\Z")
_BASES = MappingProxyType({fold(c): c for c in (EXTENSION, IDENT, LABEL)})


def appearance_columns(number: int) -> tuple[str, str, str]:
    """The Extension, Identification Address and Label columns of appearance ``number``
    (1: the guide's own columns)."""
    if number == 1:
        return (EXTENSION, IDENT, LABEL)
    return (f"{EXTENSION} {number}", f"{IDENT} {number}", f"{LABEL} {number}")


def canonical(folded: str) -> str | None:
    """The canonical column of a folded header spelling (numbered ones included), or None."""
    known = BY_FOLDED.get(folded)
    if known is not None:
        return known
    match = _NUMBERED.match(folded)
    if match is None or not 2 <= int(match.group(2)) <= MAX_APPEARANCES:
        return None
    return f"{_BASES[match.group(1)]} {int(match.group(2))}"


def number_of(column: str) -> int | None:
    """The appearance number of a numbered column (``Label 3``: 3), else None."""
    match = _NUMBERED.match(fold(column))
    return int(match.group(2)) if match else None
