"""Polycom files shared by many phones: group files, custom files, firmware and stock links.

Takes the plan's Polycom phones, the inventory's ``custom_files/polycom/`` and firmware store
and the catalog's firmware; gives which group file each phone loads, the custom files to copy
and the store files to link (as artifacts). Problems that do not stop a build go to the
``warn`` callback. Never imports release or another stage.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mipc.artifacts import Artifact, Artifacts
from mipc.catalog.models import load_catalog
from mipc.model import EffectivePhone, Plan, Registration
from mipc.render.polycom.mapping import PolycomData, load_mapping
from mipc.render.polycom.names import (
    CUSTOM_DIR,
    FAMILY,
    firmware_path,
    group_file_name,
    variant_tag,
)

__all__ = [
    "GroupFiles",
    "custom_files",
    "custom_names",
    "group_files",
    "provisional_firmware",
    "store_links",
    "varied_groups",
]

Warn = Callable[[str], None]

_MACRO = re.compile(r"\[(MACADDRESS|MODEL)\]", re.IGNORECASE)


def provisional_firmware() -> list[tuple[str, str]]:
    """(model token, firmware path) of the latest firmware of every Polycom model."""
    catalog = load_catalog()
    out: list[tuple[str, str]] = []
    for model in sorted(catalog.models.values(), key=lambda m: m.polycom_token or ""):
        if model.family != FAMILY or not model.polycom_token:
            continue
        latest = catalog.latest_firmware(model.id)
        if latest is not None:
            out.append((model.polycom_token, firmware_path(latest.version, model.part_number)))
    return out


def _variants(
    phones: Iterable[EffectivePhone],
) -> dict[str, dict[tuple[Registration, ...], list[str]]]:
    """Polycom phones by registration group, then by the servers they see (names sorted).

    How many servers a phone uses is the shipped ``max_servers``: which group files exist is
    also decided where no inventory mapping is read (the incremental build).
    """
    max_servers = load_mapping().max_servers
    variants: dict[str, dict[tuple[Registration, ...], list[str]]] = {}
    for phone in sorted(phones, key=lambda p: p.name):
        if phone.family != FAMILY:
            continue
        servers = phone.registrations[:max_servers]
        variants.setdefault(phone.registration_group, {}).setdefault(servers, []).append(phone.name)
    return variants


def varied_groups(phones: Iterable[EffectivePhone]) -> frozenset[str]:
    """The registration groups whose Polycom phones see more than one set of servers (each
    set gets its own group file)."""
    return frozenset(group for group, seen in _variants(phones).items() if len(seen) > 1)


@dataclass(frozen=True)
class GroupFiles:
    """Which group file each phone loads, and what each group file holds."""

    plan: Plan
    by_phone: Mapping[str, str]  # phone name -> group file path
    files: Mapping[str, tuple[str, tuple[Registration, ...], tuple[str, ...]]]
    """group file path -> (group name, servers, phones)"""


def group_files(plan: Plan) -> GroupFiles:
    """Which group file each phone loads. A group whose phones all see the same servers
    is ``proxy/<group>.cfg``; if they differ (managed proxies per location), each variant
    gets a short digest suffix so no phone loads another's servers."""
    variants = _variants(plan.phones)
    varied = plan.varied_groups or frozenset()
    by_phone: dict[str, str] = {}
    files: dict[str, tuple[str, tuple[Registration, ...], tuple[str, ...]]] = {}
    for group, seen in variants.items():
        for servers, names in seen.items():
            variant = None
            if len(seen) > 1 or group in varied:
                variant = variant_tag(servers)
            path = group_file_name(group, variant)
            files[path] = (group, servers, tuple(names))
            for name in names:
                by_phone[name] = path
    return GroupFiles(plan, by_phone, files)


def custom_names(phone: EffectivePhone, warn: Warn) -> list[str]:
    """The phone's ``config_files``, macros expanded; a name that is not plain is left out."""
    names: list[str] = []
    for raw in phone.config_files:
        name = _MACRO.sub(
            lambda m: (phone.mac or "") if m.group(1).upper() == "MACADDRESS" else phone.model.id,
            raw.strip(),
        )
        parts = name.replace("\\", "/").split("/")
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            warn(
                f"{phone.name}: custom config file {raw!r} is not a plain relative file "
                "name; left out"
            )
            continue
        names.append("/".join(parts))
    return names


def custom_files(plan: Plan, phones: Iterable[EffectivePhone], warn: Warn) -> Artifacts:
    """``custom/<file>`` copied from ``custom_files/polycom/`` for the phones that name it."""
    users: dict[str, list[str]] = {}
    for phone in phones:
        for name in dict.fromkeys(custom_names(phone, warn)):
            users.setdefault(name, []).append(phone.name)
    root = Path(plan.inventory.root) / "custom_files"
    out: Artifacts = {}
    for name in sorted(users):
        source = next(
            (root / d / name for d in ("polycom", "Polycom") if (root / d / name).is_file()),
            None,
        )
        who = ", ".join(sorted(users[name]))
        if source is None:
            warn(
                f"custom config file {name} (for {who}) not found in {root / 'polycom'}; "
                "the phones skip it"
            )
            continue
        data = source.read_bytes()
        try:
            ET.fromstring(data)
        except ET.ParseError as exc:
            warn(
                f"custom config file {source} is not well-formed XML ({exc}); "
                "the phones may reject it"
            )
        out[f"{CUSTOM_DIR}/{name}"] = Artifact(data, tuple(sorted(users[name])))
    return out


def _store(plan: Plan) -> Path | None:
    if plan.inventory.firmware_store is None:
        return None
    store = Path(plan.inventory.firmware_store)
    return store if store.is_absolute() else Path(plan.inventory.root) / store


def store_links(
    plan: Plan, phones: Iterable[EffectivePhone], data: PolycomData, warn: Warn
) -> Artifacts:
    """Firmware images and stock files, linked from the inventory's firmware store."""
    images: dict[str, list[str]] = {}
    phones = list(phones)
    for phone in phones:
        if phone.firmware is not None:
            path = firmware_path(phone.firmware.version, phone.model.part_number)
            images.setdefault(path, []).append(phone.name)
    store = _store(plan)
    if store is None:
        if images:
            warn(
                "no firmware store named: Polycom firmware images and stock files "
                f"({', '.join(data.stock_files)}) are not linked into the release"
            )
        return {}
    out: Artifacts = {}
    names = tuple(sorted(p.name for p in phones))
    for stock in data.stock_files:
        source = store / "polycom" / stock
        if source.is_file():
            out[stock] = Artifact(b"", names, str(source.resolve()))
        else:
            warn(f"Polycom stock file {stock} not found at {source}")
    for path in sorted(images):
        source = store / path.removeprefix("firmware/")
        who = ", ".join(sorted(images[path]))
        if source.is_file():
            out[path] = Artifact(b"", tuple(sorted(images[path])), str(source.resolve()))
        else:
            warn(f"firmware image missing: {source} (needed at {path} by {who})")
    # The provisional master names the latest image of every model; link those the store
    # holds. A missing one is not a warning: no inventory phone needs it.
    for _token, path in provisional_firmware():
        source = store / path.removeprefix("firmware/")
        if path not in out and source.is_file():
            out[path] = Artifact(b"", (), str(source.resolve()))
    return out
