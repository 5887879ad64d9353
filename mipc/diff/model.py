"""What a diff compares and what it reports: snapshots of releases, and the changes found.

A :class:`Snapshot` is a release's contents: files by path (``www/...``, ``network/...``), each
a :class:`FileRef` whose bytes are read only when its hash differs, and phones by name
(:class:`PhoneRecord`, their manifest records). A :class:`Report` lists the phones and files
that differ. Plain frozen data; no I/O, no file formats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

REDACTED = "<redacted>"

#: Phone record fields compared besides files (label shown in reports).
PHONE_FIELDS: tuple[tuple[str, str], ...] = (
    ("firmware", "firmware"),
    ("family", "family"),
    ("model", "model"),
    ("address", "address"),
    ("type", "type"),
    ("location", "location"),
    ("template", "template"),
    ("registration_group", "registration group"),
)

Status = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class FileRef:
    """One file of a snapshot: its hash and size when known, and how to read it."""

    sha256: str | None
    size: int | None
    loader: Callable[[], bytes] = field(compare=False, repr=False)

    @staticmethod
    def of(data: bytes) -> FileRef:
        """A file held in memory (hash computed only if a comparison needs it)."""
        return FileRef(None, len(data), lambda: data)

    def read(self) -> bytes:
        """The file's bytes (read now, from wherever the loader reads them)."""
        return self.loader()

    def digest(self) -> str:
        """The file's sha256, as recorded or computed from its bytes."""
        return self.sha256 if self.sha256 is not None else hashlib.sha256(self.read()).hexdigest()


@dataclass(frozen=True)
class PhoneRecord:
    """What a manifest says about one phone."""

    name: str
    family: str = ""
    model: str = ""
    address: str | None = None
    mac: str | None = None
    computer_name: str | None = None
    firmware: str | None = None
    files: tuple[str, ...] = ()
    digest: str | None = None
    type: str | None = None
    location: str | None = None
    template: str | None = None
    registration_group: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """A release's contents: files by path (``www/...``, ``network/...``) and phones by name.

    ``secrets`` are secret values known to whoever built the snapshot (from the inventory):
    any setting with one of these values is redacted whatever its key.
    """

    files: Mapping[str, FileRef]
    phones: Mapping[str, PhoneRecord]
    label: str = ""
    version: str | None = None
    secrets: frozenset[str] = frozenset()
    inventory_digest: str | None = None  # sha256 of the inventory's sources
    toolchain: str | None = None  # the package digest of the mipc that made the release

    @staticmethod
    def of(
        files: Mapping[str, bytes | FileRef],
        phones: Iterable[PhoneRecord] = (),
        *,
        label: str = "",
        secrets: Iterable[str] = (),
    ) -> Snapshot:
        """A snapshot from plain bytes (tests, small tools)."""
        return Snapshot(
            files={p: f if isinstance(f, FileRef) else FileRef.of(f) for p, f in files.items()},
            phones={p.name: p for p in phones},
            label=label,
            secrets=frozenset(secrets),
        )


EMPTY = Snapshot(files={}, phones={}, label="(nothing)")


@dataclass(frozen=True)
class SettingChange:
    """One decoded setting that differs. ``None`` means absent; secrets hold ``<redacted>``."""

    key: str
    old: str | None
    new: str | None
    secret: bool = False
    file: str = ""  # the file it is in (``old → new`` when the phone's file was renamed)


@dataclass(frozen=True)
class FileChange:
    """A file that differs: its status, the phones that fetch it, its settings' changes."""

    path: str
    status: Status
    phones: tuple[str, ...]  # every phone that fetches it, before or after
    shared: bool
    settings: tuple[SettingChange, ...] = ()
    decoded: bool = True  # False: not a format whose settings we read (line counts only)
    lines_added: int = 0
    lines_removed: int = 0
    binary: bool = False
    unified: str | None = None  # with ``files=True``; redacted


@dataclass(frozen=True)
class FieldChange:
    """A phone record field (firmware, model, group...) that differs."""

    field: str  # label from PHONE_FIELDS
    old: str | None
    new: str | None


@dataclass(frozen=True)
class PhoneChange:
    """A phone that was added, removed or changed, with what changed."""

    name: str
    status: Status
    address: str | None
    mac: str | None
    computer_name: str | None
    family: str
    model: str
    digest_changed: bool = False
    fields: tuple[FieldChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()  # from its own files
    own_files: tuple[str, ...] = ()  # its own files that change (added, removed, changed)
    shared_files: tuple[str, ...] = ()  # shared files it fetches that change
    files_added: tuple[str, ...] = ()  # files it fetches now and did not (not renamed)
    files_removed: tuple[str, ...] = ()  # files it no longer fetches

    @property
    def firmware(self) -> FieldChange | None:
        """The phone's firmware change, if any (the rollout list needs it)."""
        return next((f for f in self.fields if f.field == "firmware"), None)


@dataclass(frozen=True)
class Counts:
    """How many phones or files were added, removed, changed and left unchanged."""

    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Report:
    """The result of :func:`mipc.diff.compare.diff`: what differs between two snapshots."""

    old: str
    new: str
    phones: tuple[PhoneChange, ...]  # added, removed and changed phones, by name
    files: tuple[FileChange, ...]  # added, removed and changed files, by path
    phone_counts: Counts
    file_counts: Counts

    @property
    def changed(self) -> bool:
        """Whether anything differs (the exit code of ``mipc diff``)."""
        return bool(self.phones or self.files)

    def rollout(self) -> list[str]:
        """MACs and computer names of the phones whose files change, sorted, each once."""
        return sorted({p.address for p in self.phones if p.address})


_RECORD_FIELDS = tuple(f.name for f in fields(PhoneRecord) if f.name != "files")


def same_but_files(a: PhoneRecord, b: PhoneRecord) -> bool:
    """Whether two manifest records agree on everything but their files."""
    return all(getattr(a, f) == getattr(b, f) for f in _RECORD_FIELDS)


def record(data: Mapping[str, Any], files: tuple[str, ...] | None = None) -> PhoneRecord:
    """A manifest phone entry as a :class:`PhoneRecord` (``files`` replaces its files)."""
    get = data.get
    return PhoneRecord(
        str(data["name"]),
        get("family") or "",
        get("model") or "",
        get("address"),
        get("mac"),
        get("computer_name"),
        get("firmware"),
        tuple(get("files") or ()) if files is None else files,
        get("digest"),
        get("type"),
        get("location"),
        get("template"),
        get("registration_group"),
    )
