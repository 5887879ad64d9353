"""Polycom parameter files: an ordered parameter map, and reading a rendered file back.

Takes parameter names and values; gives the ``elements`` the templates lay out (one element
per first dotted name) and, from a rendered file, its parameters in document order. Knows no
phone and no option; imports only :mod:`mipc.render.base`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from mipc.render.base import KeyedFile, RenderError
from mipc.render.fastpaths import Elements

__all__ = ["Params", "PolycomError", "comment", "iter_params", "valid_key"]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


class PolycomError(RenderError):
    """Input the Polycom renderer cannot write (names the phone and the key or value)."""


def valid_key(key: str) -> bool:
    """Whether ``key`` can be a Polycom parameter name (an XML attribute name, not ``xml*``)."""
    return _KEY.fullmatch(key) is not None and not key.lower().startswith("xml")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"parameter value {value!r} is neither text, a number nor a boolean")


class Params(KeyedFile):
    """An ordered map of Polycom parameters for one file; writing a key twice raises."""

    checked: ClassVar[set[str]] = set()

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.owner = owner

    def valid_key(self, key: str) -> bool:
        """Whether ``key`` is a Polycom parameter name."""
        return valid_key(key)

    def text(self, key: str, value: Any) -> str:
        """A boolean as 0/1, a number or text as itself."""
        return _text(value)

    def bad_key(self, key: str) -> Exception:
        """The error for a name Polycom cannot read."""
        return PolycomError(f"{self.owner}: {key!r} is not a Polycom parameter name")

    def twice(self, key: str) -> Exception:
        """The error for a parameter written twice."""
        return PolycomError(f"{self.owner}: parameter {key} is written twice")

    def update(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Set every (key, value) pair, in order."""
        for key, value in pairs:
            self.set(key, value)

    def elements(self) -> Elements:
        """The parameters grouped by their first dotted name, in first-seen order; the
        templates write each group as one element (Polycom ignores element names)."""
        return Elements(tuple(self._items), list(self._items.values()))


def comment(text: str) -> str:
    """Text that is safe inside an XML comment (no ``--``, no trailing ``-``)."""
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text).replace("\n", " ")
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "- -")
    return cleaned.rstrip("-")


def iter_params(text: str | bytes) -> Iterator[tuple[str, str]]:
    """Every parameter of a Polycom file, in document order (for tests and ``simulate``)."""
    root = ET.fromstring(text)
    for element in root.iter():
        for key, value in element.attrib.items():
            if not key.startswith("{"):
                yield key, value


def device_pairs(
    enable: str, suffix: str, device: list[tuple[str, Any]], enabled: bool = False
) -> list[tuple[str, Any]]:
    """``device.*`` parameters as the phone takes them: ``enable`` (``device.set``) first,
    unless ``enabled`` (already written), each followed by its ``suffix`` (``.set``)
    companion."""
    out: list[tuple[str, Any]] = [(enable, 1)] if device and not enabled else []
    for key, value in device:
        out.extend(((key, value), (key + suffix, 1)))
    return out
