"""The errors of the release store: I/O trouble with OUT, and OUT locked by another process.

Takes nothing; gives the exception classes :mod:`mipc.release.store` and
:mod:`mipc.release.lock` raise (both exit code 2). Imports only the exception tree.
"""

from __future__ import annotations

from mipc.diagnostics import MipcError


class EmitError(MipcError):
    """An I/O problem with OUT (exit code 2)."""


class LockHeld(EmitError):
    """Another build or rollback holds OUT's lock."""
