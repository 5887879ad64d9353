"""A release read back from disk as a :class:`mipc.diff.model.Snapshot`, and the zones of
OUT's releases.

Takes OUT, a release folder or a ``manifest.json``; gives the snapshot, whose files are read
only when a diff asks for their bytes, or :class:`mipc.network.serials.PriorZones` (the zone
files the next release's SOA serials follow). Never imports render.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from mipc.diagnostics import MipcError
from mipc.diff.model import FileRef, Snapshot, record
from mipc.network.serials import PriorZones
from mipc.release.manifest import MANIFEST
from mipc.release.store import Out


class SnapshotError(MipcError):
    """A release that cannot be read (exit code 2)."""


def release_folder(path: Path) -> tuple[Path, Path]:
    """``(tree root, manifest.json)`` for OUT, a release folder, or a manifest.json path."""
    if path.is_file():
        return path.parent, path
    if not path.is_dir():
        raise SnapshotError(f"{path} does not exist")
    if (path / MANIFEST).is_file():
        root = Path(os.path.realpath(path))
        return root, root / MANIFEST
    current = path / "current"
    if current.is_symlink() or current.exists():
        root = Path(os.path.realpath(current))
        if (root / MANIFEST).is_file():
            return root, root / MANIFEST
        raise SnapshotError(f"{current} does not point to a release with a {MANIFEST}")
    raise SnapshotError(
        f"{path} is not a release: no {MANIFEST} and no current -> releases/<id> in it"
    )


def _reader(path: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from exc

    return read


def load_release(path: Path) -> Snapshot:
    """A release on disk as a snapshot; files are read only when a comparison needs them."""
    root, manifest_path = release_folder(path)
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except OSError as exc:
        raise SnapshotError(f"cannot read {manifest_path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise SnapshotError(f"{manifest_path} is not JSON: {exc}") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != 1
        or not isinstance(manifest.get("files"), dict)
        or not isinstance(manifest.get("phones"), dict)
    ):
        raise SnapshotError(f"{manifest_path} is not a mipc release manifest (format 1)")
    files: dict[str, FileRef] = {}
    top = str(root)
    try:
        for rel, entry in manifest["files"].items():
            files[str(rel)] = FileRef(
                str(entry["sha256"]), int(entry["size"]), _reader(os.path.join(top, str(rel)))
            )
        phones = {str(name): record(p) for name, p in manifest["phones"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{manifest_path}: malformed entry ({exc})") from exc
    in_out = root.parent.name == "releases"
    label = f"release {root.name}" if in_out else str(root)
    return Snapshot(
        toolchain=Out(root.parent.parent).toolchain_of(root.name) if in_out else None,
        files=files,
        phones=phones,
        label=label,
        version=str(manifest.get("mipc_version") or "") or None,
        inventory_digest=str(manifest.get("inventory_digest") or "") or None,
    )


def _zones(release: Path) -> dict[str, bytes]:
    """The zone files (``network/*.zone``) of a release folder; those it cannot read left out."""
    zones: dict[str, bytes] = {}
    try:
        paths = sorted((release / "network").glob("*.zone"))
    except OSError:
        return zones
    for path in paths:
        try:
            zones[path.name] = path.read_bytes()
        except OSError:
            continue
    return zones


def prior_zones(path: Path) -> PriorZones:
    """The zones a build into (or a diff against) ``path`` follows: for OUT, its current
    release's and those of every release in ``OUT/releases``; for a release folder, its own.
    Empty when ``path`` holds no release (the first release's serials are 1)."""
    releases = path / "releases"
    if releases.is_dir():
        current_id = Out(path).current_id()
        current = _zones(releases / current_id) if current_id is not None else {}
        try:
            folders = sorted(p for p in releases.iterdir() if p.is_dir())
        except OSError:
            folders = []
        return PriorZones(current, tuple(_zones(p) for p in folders))
    try:
        root, _ = release_folder(path)
    except SnapshotError:
        return PriorZones()
    own = _zones(root)
    return PriorZones(own, (own,))
