"""The built-in defaults: the weakest settings layer, for all phones, a family or a model.

Takes ``mipc/catalog/data/defaults.json``; gives its parsed content, read once. Imports
nothing from the inventory or later stages.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mipc.resources import catalog_data_dir


@cache
def builtin_defaults() -> dict[str, Any]:
    """The parsed defaults file: ``all``, ``families`` and ``models`` settings."""
    with (catalog_data_dir() / "defaults.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data
