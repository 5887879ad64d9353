"""What a simulated boot gives: requests, settings, uploads and the first failure.

Frozen dataclasses only; no I/O and no file format.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """One request the phone makes and what the server answered.

    ``size`` is the body's length (None when nothing came back); ``note`` says why an answer
    that is not 200 does not stop the boot (a firmware image the store does not hold).
    """

    method: str
    path: str
    status: int
    size: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Setting:
    """An effective setting and the file (path under the web root) that gave it."""

    key: str
    value: str
    source: str


@dataclass(frozen=True)
class Upload:
    """A file the phone would send to the server (shown, never sent)."""

    method: str
    path: str


@dataclass(frozen=True)
class Target:
    """The phone to play, as the manifest (or, without one, its address) tells it.

    ``family`` is None when no manifest was read: the server's answer tells it.
    """

    name: str
    family: str | None
    mac: str | None = None
    computer_name: str | None = None
    model: str | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Boot:
    """A played boot: ``failure`` is the first reason the phone would not boot, or None."""

    target: Target
    family: str
    requests: tuple[Request, ...]
    settings: tuple[Setting, ...]
    uploads: tuple[Upload, ...]
    failure: str | None
