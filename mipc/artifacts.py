"""Artifacts: the files a renderer makes, as plain path → bytes records (no file format).

Takes nothing; gives :class:`Artifact` (bytes, or a firmware image to link, the phones
that fetch it, and whether it holds a secret), :data:`Artifacts` (relative path → artifact)
and :class:`RenderConflict`.
Shared by render, which makes artifacts, and release, which writes them; imports neither.
"""

from __future__ import annotations

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
