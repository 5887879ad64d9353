"""The errors of the release store: I/O trouble with OUT, OUT locked by another process, and
a path that would leave the release.

Takes nothing; gives the exception classes :mod:`mipc.release.store` and
:mod:`mipc.release.lock` raise (both exit code 2), :class:`UnsafePath` and the check that
raises it (:func:`safe_relpath`, for every module that joins a path to a release folder).
Imports only the exception tree.
"""

from __future__ import annotations

from mipc.diagnostics import InvalidInputError, MipcError


class EmitError(MipcError):
    """An I/O problem with OUT (exit code 2)."""


class LockHeld(EmitError):
    """Another build or rollback holds OUT's lock."""


class UnsafePath(InvalidInputError, ValueError):
    """A path that could land outside the release (absolute, ``..``, empty parts, ...)."""


def safe_relpath(rel: str) -> str:
    """``rel`` if it is a plain relative POSIX path that stays inside its root, else raise."""
    if not isinstance(rel, str) or not rel:
        raise UnsafePath(f"empty or non-text path {rel!r}")
    if "\x00" in rel or "\\" in rel or rel.startswith("/"):
        raise UnsafePath(f"unsafe path {rel!r}: absolute, or with a NUL or a backslash")
    for part in rel.split("/"):
        if part in ("", ".", "..") or len(part.encode("utf-8")) > 255:
            raise UnsafePath(f"unsafe path {rel!r}: empty, '.', '..' or over-long component")
    return rel
