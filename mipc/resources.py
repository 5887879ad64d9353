"""The data shipped with mipc, found one way: :mod:`importlib.resources`.

``schemas/`` and ``vendor_templates/`` sit at the top of the repository, as the product's
layout asks; in a checkout the package reaches them through the symbolic links
``mipc/schemas`` and ``mipc/vendor_templates``, and the wheel packs them inside ``mipc/``.
The catalog's data sits in ``mipc/catalog/data/``, the lab that ``mipc init`` scaffolds in
``mipc/inventory/lab/``. Takes nothing; gives paths; imports nothing of mipc.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def resource_dir(name: str) -> Path:
    """The folder ``name`` (a path relative to the package) as a real directory."""
    path = Path(str(resources.files("mipc").joinpath(name)))
    if not path.is_dir():
        raise FileNotFoundError(f"mipc is installed without its {name}/ folder")
    return path


def schemas_dir() -> Path:
    """The JSON Schemas."""
    return resource_dir("schemas")


def templates_dir() -> Path:
    """The shipped vendor templates (and, beside them, each family's data)."""
    return resource_dir("vendor_templates")


def catalog_data_dir() -> Path:
    """The catalog's data files: models and firmware, built-in defaults, Windows zones."""
    return resource_dir("catalog/data")


def lab_dir() -> Path:
    """The guide's lab inventory that ``mipc init`` writes."""
    return resource_dir("inventory/lab")
