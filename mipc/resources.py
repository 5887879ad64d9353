"""Locate the data shipped with mipc: schemas/ and vendor_templates/.

In a checkout they sit at the top of the repository; in a wheel they are packaged inside
``mipc/``. Both layouts are found the same way.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mipc is installed without its {name}/ folder")


def schemas_dir() -> Path:
    return resource_dir("schemas")


def templates_dir() -> Path:
    return resource_dir("vendor_templates")


def data_dir() -> Path:
    return _PACKAGE / "data"
