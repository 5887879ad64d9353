"""The columns of the CSV phone lists: the guide's two layouts and mipc's normalised one.

The CIC guide ("Create CSV Managed IP Phone Lists") defines two layouts:

- the **template list**: ``Name, Template, Proxy Group, Extension, Identification Address,
  Label, Address``;
- the **TMM list**: ``Name, Type, Manufacturer, Model, Proxy Group, Extension,
  Identification Address, Label, Address``.

mipc adds a **normalised** layout, the union of both (``Name, Template, Type, Manufacturer,
Model, Proxy Group, Extension, Identification Address, Label, Address``), which
``mipc import-csv`` writes into an inventory.

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
    "fold",
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
    {fold(c): c for c in COLUMNS["normalised"]} | {"registration group": PROXY_GROUP}
)
