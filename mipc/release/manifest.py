"""A release's ``manifest.json``: written as a stream, indexed, and patched in place.

The manifest is canonical JSON (sorted keys, compact, UTF-8, one trailing LF): the same bytes
as ``json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``. It is
written piece by piece (at 100k phones the whole document would be hundreds of MB of Python
objects), and the writer notes where each file entry and each phone record starts. With that
:class:`ManifestIndex`, an incremental build makes the next manifest by copying the unchanged
runs of bytes and putting in only the entries that changed (:func:`splice`), instead of
encoding 250,000 entries again.

Takes effective phones and file entries; gives the manifest's bytes and its index. Never
imports render or incremental.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mipc import __version__
from mipc.model import EffectivePhone

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1

_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
#: A string as that encoder writes it (its own C function, ``ensure_ascii=False``).
_string: Callable[[str], str] = json.encoder.encode_basestring


@dataclass(frozen=True)
class FileEntry:
    """One file of a release as its manifest lists it."""

    path: str  # relative to the release: www/... or network/...
    sha256: str
    size: int
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManifestIndex:
    """Where each entry of a manifest's two tables starts.

    ``file_starts[i]`` is the byte offset of the i-th file entry (``"path":{...}``), in path
    order; one more offset follows the last entry, one byte past its end, as if a comma
    followed. The same for the phones. ``per_phone`` gives each phone's files.
    """

    sha256: str
    files: tuple[str, ...]
    file_starts: tuple[int, ...]
    phones: tuple[str, ...]
    phone_starts: tuple[int, ...]

    def file_entry_exists(self, path: str) -> bool:
        """Whether the manifest lists file ``path``."""
        i = bisect_left(self.files, path)
        return i < len(self.files) and self.files[i] == path

    def file_entry(self, data: bytes, path: str) -> bytes | None:
        """The ``"path":{...}`` entry of file ``path`` in manifest ``data``, or None."""
        return _entry(data, self.files, self.file_starts, path)

    def phone_entry(self, data: bytes, name: str) -> bytes | None:
        """The ``"name":{...}`` record of phone ``name`` in manifest ``data``, or None."""
        return _entry(data, self.phones, self.phone_starts, name)


def _entry(data: bytes, keys: Sequence[str], starts: Sequence[int], key: str) -> bytes | None:
    i = bisect_left(keys, key)
    if i == len(keys) or keys[i] != key:
        return None
    return data[starts[i] : starts[i + 1] - 1]


def entry_value(entry: bytes) -> Any:
    """The JSON value of one ``"key":value`` entry."""
    return json.loads(b"{" + entry + b"}").popitem()[1]


def phone_record(phone: EffectivePhone, files: list[str]) -> dict[str, Any]:
    """A phone's manifest record: who it is, its digest, and the files it fetches."""
    return {
        "name": phone.name,
        "family": phone.family,
        "vendor": phone.model.manufacturer,
        "model": phone.model.id,
        "type": phone.type,
        "mac": phone.mac,
        "computer_name": phone.computer_name,
        "address": phone.address,
        "location": phone.location,
        "template": phone.template,
        "registration_group": phone.registration_group,
        "firmware": phone.firmware.version if phone.firmware is not None else None,
        "files": sorted(files),
        "digest": phone.digest,
    }


def _json(value: Any) -> str:
    """``value`` as the canonical encoder writes it: a string (the common case) or None at
    the C encoder's speed, anything else through the encoder."""
    if type(value) is str:
        return _string(value)
    return "null" if value is None else _encode(value)


def file_entry(path: str, sha256: str, size: int) -> bytes:
    """A file's manifest entry, encoded (``"path":{"sha256":...,"size":...}``)."""
    return f'{_json(path)}:{{"sha256":{_json(sha256)},"size":{size}}}'.encode()


def phone_entry(phone: EffectivePhone, files: list[str]) -> bytes:
    """A phone's manifest record, encoded (``"name":{...}``): the bytes the canonical encoder
    gives for :func:`phone_record`, written field by field (a test checks), since at 100k
    phones encoding each record as a dict is a second of the build."""
    firmware = phone.firmware.version if phone.firmware is not None else None
    listed = ",".join(_json(f) for f in sorted(files))
    return (
        f"{_json(phone.name)}:{{"
        f'"address":{_json(phone.address)},"computer_name":{_json(phone.computer_name)},'
        f'"digest":{_json(phone.digest)},"family":{_json(phone.family)},"files":[{listed}],'
        f'"firmware":{_json(firmware)},"location":{_json(phone.location)},'
        f'"mac":{_json(phone.mac)},"model":{_json(phone.model.id)},"name":{_json(phone.name)},'
        f'"registration_group":{_json(phone.registration_group)},'
        f'"template":{_json(phone.template)},"type":{_json(phone.type)},'
        f'"vendor":{_json(phone.model.manufacturer)}}}'
    ).encode()


def _middle(inventory_digest: str) -> bytes:
    return (
        f'}},"format":{MANIFEST_FORMAT},"inventory_digest":{_encode(inventory_digest)}'
        f',"mipc_version":{_encode(__version__)},"phones":{{'
    ).encode()


_HEAD = b'{"files":{'
_TAIL = b"}}\n"


#: Runs of a source manifest at least this long are copied by the kernel, not written.
_COPIED = 1 << 16


class _Writer:
    """Appends byte pieces to a file descriptor, hashing them, and knows the offset reached.
    With ``source`` (bytes and a descriptor of the file they were read from), long runs of
    it are copied from file to file in the kernel (``copy_file_range``: at 100k phones a
    manifest is 70 MB, and writing it again from memory costs ten times more)."""

    def __init__(self, fd: int, source: tuple[bytes, int] | None = None) -> None:
        self.fd = fd
        self.source = source
        self.hash = hashlib.sha256()
        self.offset = 0
        self.parts: list[bytes] = []

    def add(self, data: bytes) -> None:
        self.parts.append(data)
        self.offset += len(data)
        if len(self.parts) > 4096:
            self.flush()

    def copy(self, data: bytes, start: int, end: int) -> None:
        """Append ``data[start:end]`` (the source's bytes, when ``data`` is the source)."""
        if self.source is None or self.source[0] is not data or end - start < _COPIED:
            self.add(data[start:end])
            return
        self.flush()
        view = memoryview(data)[start:end]
        self.hash.update(view)
        _copy_range(self.source[1], self.fd, start, view)
        self.offset += end - start

    def flush(self) -> None:
        data = b"".join(self.parts)
        self.hash.update(data)
        _write_all(self.fd, memoryview(data))
        self.parts.clear()


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def _copy_range(source: int, fd: int, start: int, view: memoryview) -> None:
    """Append to ``fd`` the bytes of ``source`` from ``start`` (``view`` holds them, and is
    written instead where the kernel cannot copy)."""
    done = 0
    copy = getattr(os, "copy_file_range", None)  # Linux (and FreeBSD) only
    try:
        while copy is not None and done < len(view):
            copied = copy(source, fd, len(view) - done, start + done)
            if copied == 0:  # the source is shorter than it was read: write what is left
                break
            done += copied
    except OSError:  # the kernel or file system cannot: write
        pass
    _write_all(fd, view[done:])


def _table(w: _Writer, entries: Iterable[tuple[str, bytes]]) -> tuple[list[str], list[int]]:
    keys: list[str] = []
    starts: list[int] = []
    for key, entry in entries:
        if keys:
            w.add(b",")
        keys.append(key)
        starts.append(w.offset)
        w.add(entry)
    starts.append(w.offset + 1)
    return keys, starts


def write_manifest(
    phones: Iterable[EffectivePhone],
    files: Mapping[str, FileEntry],
    inventory_digest: str,
    path: Path,
) -> ManifestIndex:
    """Write the manifest of a release (every file, every phone, the inventory digest) to
    ``path``; return its index (with its sha256)."""
    ordered = sorted(phones, key=lambda p: p.name)
    per_phone: dict[str, list[str]] = {p.name: [] for p in ordered}
    for entry in files.values():
        for name in entry.phones:
            if name in per_phone:
                per_phone[name].append(entry.path)
    return _write(
        path,
        inventory_digest,
        lambda w: _table(
            w, ((rel, file_entry(rel, e.sha256, e.size)) for rel, e in sorted(files.items()))
        ),
        lambda w: _table(w, ((p.name, phone_entry(p, per_phone[p.name])) for p in ordered)),
    )


def _write(
    path: Path,
    inventory_digest: str,
    files: Callable[[_Writer], tuple[list[str], list[int]]],
    phones: Callable[[_Writer], tuple[list[str], list[int]]],
    source: tuple[bytes, Path] | None = None,
) -> ManifestIndex:
    """Write a manifest whose two tables ``files`` and ``phones`` write; its index.
    ``source``: the bytes the tables copy from and the file they were read from."""
    with contextlib.ExitStack() as stack:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        stack.callback(os.close, fd)
        copied = None
        if source is not None:
            src = os.open(source[1], os.O_RDONLY | os.O_CLOEXEC)
            stack.callback(os.close, src)
            if os.fstat(src).st_size == len(source[0]):  # else: write it all from memory
                copied = (source[0], src)
        w = _Writer(fd, copied)
        w.add(_HEAD)
        file_keys, file_starts = files(w)
        w.add(_middle(inventory_digest))
        phone_keys, phone_starts = phones(w)
        w.add(_TAIL)
        w.flush()
    return ManifestIndex(
        w.hash.hexdigest(),
        tuple(file_keys),
        tuple(file_starts),
        tuple(phone_keys),
        tuple(phone_starts),
    )


def _splice_table(
    w: _Writer,
    data: bytes,
    keys: Sequence[str],
    starts: Sequence[int],
    changes: Mapping[str, bytes | None],
) -> tuple[list[str], list[int]]:
    """Copy a table of ``data``, replacing, adding (sorted in) or (None) removing entries."""
    out_keys: list[str] = []
    out_starts: list[int] = []

    def copy(a: int, b: int) -> None:  # the old entries a..b-1, unchanged
        if a >= b:
            return
        if out_keys:
            w.add(b",")
        shift = w.offset - starts[a]
        out_keys.extend(keys[a:b])
        out_starts.extend(s + shift for s in starts[a:b])
        w.copy(data, starts[a], starts[b] - 1)

    i = 0
    for key in sorted(changes):
        j = bisect_left(keys, key, i)
        copy(i, j)
        i = j + 1 if j < len(keys) and keys[j] == key else j
        new = changes[key]
        if new is not None:
            if out_keys:
                w.add(b",")
            out_keys.append(key)
            out_starts.append(w.offset)
            w.add(new)
    copy(i, len(keys))
    out_starts.append(w.offset + 1)
    return out_keys, out_starts


@dataclass(frozen=True)
class Spliced:
    """A manifest to splice: its bytes, its index, and the file they were read from (a
    release's, which does not change), whose unchanged runs are then copied, not written."""

    data: bytes
    index: ManifestIndex
    path: Path | None = None


def splice(
    old: Spliced,
    files: Mapping[str, bytes | None],
    phones: Mapping[str, bytes | None],
    inventory_digest: str,
    path: Path,
) -> ManifestIndex:
    """Write to ``path`` the manifest ``old`` with the file and phone entries in ``files``
    and ``phones`` replaced, added, or (None) removed, and the given inventory digest;
    return the new index."""
    data, index = old.data, old.index
    return _write(
        path,
        inventory_digest,
        lambda w: _splice_table(w, data, index.files, index.file_starts, files),
        lambda w: _splice_table(w, data, index.phones, index.phone_starts, phones),
        None if old.path is None else (data, old.path),
    )
