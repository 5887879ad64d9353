"""The ``key=value`` file format: values, the ordered key mapping, strict and lenient parsing.

Takes keys and values (or a file's text); gives the checked text of a value, a
:class:`KeyValueFile` that refuses a second write of a key, and the pairs of a rendered file
(:func:`parse_strict`) or of an administrator's custom file (:func:`parse_custom`). Knows no
family and reads no file; never imports release.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from mipc.model import Secret
from mipc.render.base import KeyedFile, RenderError
from mipc.render.syntax import syntax

__all__ = ["KEY", "KeyValueFile", "check_value", "parse_custom", "parse_strict"]

#: A key path: slash-separated segments of letters, digits and ``_``.
KEY = re.compile(r"[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_KV_FILE = re.compile(r"(?:[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*=[\x20-\x7e]*\n)*")


def check_value(value: Any, *, phone: str, key: str) -> str:
    """The text of a value for one ``key=value`` line, or a RenderError.

    Booleans become ``1``/``0``; everything else must be printable ASCII without ``=``. A
    :class:`~mipc.model.Secret` is checked as its value, and its messages say ``<redacted>``.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Secret):
        return _checked(value.value, phone, key, secret=True)
    if not isinstance(value, str):
        raise RenderError(f"phone {phone}: value of {key} has unsupported type {type(value)}")
    return _checked(value, phone, key, secret=False)


def _checked(value: str, phone: str, key: str, *, secret: bool) -> str:
    if value.isascii() and value.isprintable() and "=" not in value:
        return value  # the common case, decided in C: printable ASCII is 0x20-0x7e
    shown = "<redacted>" if secret else repr(value)
    if not _PRINTABLE_ASCII.fullmatch(value):
        bad = next(ch for ch in value if not " " <= ch <= "~")
        what = "a character that is not printable ASCII" if secret else repr(bad)
        raise RenderError(
            f"phone {phone}: value of {key} ({shown}) contains {what}; key=value files "
            "take printable ASCII only (no newline, control or non-ASCII character)"
        )
    raise RenderError(
        f"phone {phone}: value of {key} ({shown}) contains '='; the phone's parser "
        "is not known to accept it, so mipc refuses to write it"
    )


class KeyValueFile(KeyedFile):
    """An ordered ``key → value`` mapping that refuses a second write of a key."""

    checked: ClassVar[set[str]] = set()

    def __init__(self, phone: str) -> None:
        super().__init__()
        self.phone = phone

    def valid_key(self, key: str) -> bool:
        """A key path of slash-separated word segments."""
        return KEY.fullmatch(key) is not None

    def text(self, key: str, value: Any) -> str:
        """The value checked for a ``key=value`` line."""
        return check_value(value, phone=self.phone, key=key)

    def bad_key(self, key: str) -> Exception:
        """The error for a key that is not a key path."""
        return RenderError(f"phone {self.phone}: {key!r} is not a valid key path")

    def twice(self, key: str) -> Exception:
        """The error for a key written twice."""
        return RenderError(f"phone {self.phone}: key {key} would be written twice")

    def keys(self) -> list[str]:
        """The keys, in the order written."""
        return list(self._items)


@syntax("key=value")
def parse_strict(text: str, where: str) -> dict[str, str]:
    """Parse a rendered ``key=value`` file strictly: LF, one ``=`` split, unique non-blank
    keys without spaces. Raises RenderError naming ``where`` and the line."""
    if text.startswith("\ufeff"):
        raise RenderError(f"{where}: starts with a byte order mark")
    if "\r" in text:
        raise RenderError(f"{where}: contains a carriage return")
    if text and not text.endswith("\n"):
        raise RenderError(f"{where}: does not end with a newline")
    if _KV_FILE.fullmatch(text):  # well formed: only duplicate keys remain to be found
        pairs = [line.split("=", 1) for line in text.split("\n")[:-1]]
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
    result = {}
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        key, sep, value = line.partition("=")
        if not sep or not KEY.fullmatch(key):
            # The line is not quoted: a template may have split a secret across it.
            raise RenderError(f"{where}:{number}: not a key=value line")
        if key in result:
            raise RenderError(f"{where}:{number}: key {key} appears twice")
        if not _PRINTABLE_ASCII.fullmatch(value):
            raise RenderError(f"{where}:{number}: value of {key} is not printable ASCII")
        result[key] = value
    return result


def parse_custom(text: str, where: str) -> dict[str, str]:
    """The text of an administrator's custom file (read from ``where``), parsed leniently
    (``;``/``#`` comments, blank lines, spaces around ``=``); every key and value is checked
    as mipc's own are."""
    pairs: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not KEY.fullmatch(key):
            raise RenderError(f"{where}:{number}: not a key=value line: {raw!r}")
        pairs[key] = check_value(value, phone=f"(custom file {where}:{number})", key=key)
    return pairs
