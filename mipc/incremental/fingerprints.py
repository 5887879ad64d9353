"""Fingerprints: the digests that say whether a phone's files may have changed.

Takes the inventory (and, for the render epoch, the folders next to it: ``vendor_templates/``,
``custom_files/``, ``certs/``) and the pieces of a resolved phone; gives hex digests. The
values are recorded in every release manifest, so they must stay bit for bit what they are.
Never imports the render or release stages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mipc import __version__
from mipc.model import Appearance, Inventory, Secret


def secret_hash(secret: Secret | None) -> str:
    """sha256 of a secret's value (empty for no secret): digests see secrets by value only."""
    return hashlib.sha256(secret.value.encode()).hexdigest() if secret is not None else ""


def tree_digest(h: Any, folder: Path) -> None:
    """Feed every file below ``folder`` (its relative path and content digest) into ``h``."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())


def render_epoch(inventory: Inventory) -> str:
    """What every phone's files depend on beyond its own settings.

    mipc's version, the site, and the overriding templates, custom files and certificates
    next to the inventory. Part of every phone digest, so a build or diff may trust an
    unchanged digest to mean unchanged files from the same mipc; what mipc ships (code,
    catalog data, templates) is the package's digest, recorded with each release, which the
    release store compares before it reuses anything.
    """
    h = hashlib.sha256(__version__.encode())
    h.update(repr(inventory.site).encode())
    h.update(repr(sorted(inventory.registration_groups.items())).encode())
    h.update(repr(sorted(inventory.lines.items())).encode())
    h.update(repr(sorted(inventory.managed_proxies.items())).encode())
    h.update(repr(inventory.firmware_store).encode())
    root = Path(inventory.root)
    for folder in (
        root / "vendor_templates",
        root / "custom_files",
        root / "certs",
    ):
        tree_digest(h, folder)
    return h.hexdigest()


def profile_digest(parts: Iterable[str]) -> str:
    """The digest shared by every phone of one profile: its parts joined and hashed."""
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def phone_key(
    name: str,
    mac: str | None,
    computer: str | None,
    appearances: tuple[Appearance, ...],
    group_reprs: Mapping[str, str],
) -> str:
    """The phone's own part of its digest: identity and appearances (secrets by value).

    ``group_reprs``: the repr of each registration group's registrations, which are the
    registrations of every appearance that registers with the group.
    """
    parts = [name, mac or "", computer or ""]
    for a in appearances:
        parts += (
            a.kind,
            a.station,
            a.extension,
            a.label,
            a.display_name,
            a.user,
            a.auth_user or "",
            secret_hash(a.auth_password) if a.auth_password is not None else "",
            str(a.line_keys),
            str(a.calls_per_line_key),
            a.registration_group,
            group_reprs[a.registration_group],
        )
    return "\x1f".join(parts)


def phone_digest(profile: str, key: str) -> str:
    """A phone's digest: its profile's digest, then its own key."""
    h = hashlib.sha256(profile.encode())
    h.update(key.encode())
    return h.hexdigest()
