"""Artifacts: the files a renderer makes, as plain path → bytes records (no file format).

Takes nothing; gives :class:`Artifact` (bytes, or a firmware image to link, the phones
that fetch it, and whether it holds a secret), :data:`Artifacts` (relative path → artifact)
and :class:`RenderConflict`; and the content-addressed names of the files a phone fetches
by the name another file gives (:func:`addressed`, :func:`stem_of`).
Shared by render, which makes artifacts, and release, which writes them; imports neither.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from mipc.diagnostics import InvalidInputError


@dataclass(frozen=True)
class Artifact:
    """One file of the release. ``link`` names a firmware image to link instead of bytes."""

    data: bytes
    phones: tuple[str, ...] = ()  # names of the phones that fetch this file
    link: str | None = None  # absolute path of a firmware image in the store
    secret: bool = False  # holds a secret's value: written mode 0640, of nginx's group


#: Relative path (under the release's ``www/``) → artifact.
Artifacts = dict[str, Artifact]


class RenderConflict(InvalidInputError, RuntimeError):
    """Two renderers (or two phones) produced the same path with different contents."""


#: Hex digits of a file's sha256 in its content-addressed name.
ADDRESS_DIGITS = 8

#: The digits' pattern, for the other places that must recognise them (the nginx site).
ADDRESS_PATTERN = rf"\.[0-9a-f]{{{ADDRESS_DIGITS}}}"

_ADDRESSED = re.compile(rf"^(?P<stem>.+?)(?P<digest>{ADDRESS_PATTERN})(?P<ext>\.[^./]*)?$")


def addressed(path: str, data: bytes) -> str:
    """``path`` with the first :data:`ADDRESS_DIGITS` hex digits of ``data``'s sha256 before
    its extension: ``phone/<guid>.cfg`` → ``phone/<guid>.1a2b3c4d.cfg``.

    A file another file names (a Polycom master's ``CONFIG_FILES``) carries its content in
    its name, so a release never changes the bytes behind a name an earlier release gave: a
    phone that read the master of one release reads that release's files, even after a
    switch (the release after it keeps them, see :mod:`mipc.release.retain`).
    """
    digest = hashlib.sha256(data).hexdigest()[:ADDRESS_DIGITS]
    folder, _, name = path.rpartition("/")
    base, dot, ext = name[1:].rpartition(".")
    name = f"{name[0]}{base}.{digest}.{ext}" if dot else f"{name}.{digest}"
    return f"{folder}/{name}" if folder else name


def stem_of(path: str, sha256: str | None) -> str:
    """The name ``path`` has without its content address (itself if it has none): its
    digits must be those of ``sha256``, the file's, so a name that merely looks addressed
    stays as it is."""
    match = _ADDRESSED.match(path)
    if match is None or sha256 is None or not sha256.startswith(match["digest"][1:]):
        return path
    return match["stem"] + (match["ext"] or "")


def looks_addressed(path: str) -> bool:
    """Whether ``path`` has the shape of a content-addressed name (digits not checked)."""
    return _ADDRESSED.match(path) is not None
