"""The data shipped with mipc, found one way: :mod:`importlib.resources`.

``schemas/`` and ``vendor_templates/`` sit at the top of the repository, as the product's
layout asks; in a checkout the package reaches them through the symbolic links
``mipc/schemas`` and ``mipc/vendor_templates``, and the wheel packs them inside ``mipc/``.
The catalog's data sits in ``mipc/catalog/data/``, the lab that ``mipc init`` scaffolds in
``mipc/inventory/lab/``. Takes nothing; gives paths and the digest of the package itself.
"""

from __future__ import annotations

import hashlib
import os
import sys
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mipc import __version__


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


@cache
def package_digest() -> str:
    """What this mipc is: its package (code, data, schemas, templates), tzdata's version and
    Python's. A release made by another mipc shares no files by phone digest with a new one."""
    h = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
    try:
        h.update(version("tzdata").encode())
    except PackageNotFoundError:  # pragma: no cover - a declared dependency
        h.update(b"no tzdata")
    package = Path(__file__).resolve().parent
    seen: set[str] = set()
    for dirpath, dirnames, filenames in sorted(os.walk(package, followlinks=True)):
        real = os.path.realpath(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        if real in seen:
            continue
        seen.add(real)
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, package).encode() + b"\0")
            with open(path, "rb") as fh:
                h.update(hashlib.file_digest(fh, "sha256").digest())
    return h.hexdigest()
