"""Polycom files shared by many phones: group files, custom files, firmware and stock links.

Takes the plan's Polycom phones, the inventory's ``custom_files/polycom/`` and firmware store
and the catalog's firmware; gives each phone's firmware generation, which group file it loads
(one per group, servers and generation), the custom files to copy and the store files to link
(as artifacts). Problems that do not stop a build go to the ``warn`` callback. Never imports
release or another stage.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from mipc.artifacts import Artifact, Artifacts
from mipc.catalog.models import load_catalog
from mipc.model import EffectivePhone, Plan, Registration
from mipc.render.polycom.generations import Generation, generation_of
from mipc.render.polycom.mapping import load_mapping
from mipc.render.polycom.names import (
    CUSTOM_DIR,
    FAMILY,
    firmware_path,
    group_file_name,
    stock_path,
    variant_tag,
)

__all__ = [
    "GroupFiles",
    "custom_files",
    "custom_names",
    "custom_source",
    "generation",
    "group_files",
    "provisional_firmware",
    "store_links",
    "varied_groups",
]

Warn = Callable[[str], None]

_MACRO = re.compile(r"\[(MACADDRESS|MODEL)\]", re.IGNORECASE)


def generation(phone: EffectivePhone) -> Generation:
    """The firmware generation of a phone (from the shipped generations, which an inventory
    cannot change: they decide which shared files exist)."""
    return _generation(phone.firmware.version if phone.firmware is not None else None)


@lru_cache(maxsize=256)
def _generation(version: str | None) -> Generation:
    data = load_mapping()
    return generation_of(data.generations, version, data.default_generation)


def stock_paths(version: str, gen: Generation) -> list[str]:
    """Web paths of the stock files of firmware ``version`` (none from UC Software 4 on)."""
    return [stock_path(version, name) for name in gen.stock_files]


def provisional_firmware() -> list[tuple[str, str, tuple[str, ...]]]:
    """(model token, firmware path, stock file paths) of the latest firmware of every Polycom
    model that boots from a master of its own (not an accessory)."""
    catalog = load_catalog()
    data = load_mapping()
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for model in sorted(catalog.models.values(), key=lambda m: m.polycom_token or ""):
        if model.family != FAMILY or not model.polycom_token or model.id in data.accessories:
            continue
        latest = catalog.latest_firmware(model.id)
        if latest is not None:
            gen = generation_of(data.generations, latest.version, data.default_generation)
            path = firmware_path(latest.version, model.part_number)
            out.append((model.polycom_token, path, tuple(stock_paths(latest.version, gen))))
    return out


def _variants(
    phones: Iterable[EffectivePhone],
) -> dict[str, dict[tuple[Registration, ...], list[EffectivePhone]]]:
    """Polycom phones by registration group, then by the servers they see (sorted by name).

    How many servers a phone uses is the shipped ``max_servers``: which group files exist is
    also decided where no inventory mapping is read (the incremental build).
    """
    max_servers = load_mapping().max_servers
    variants: dict[str, dict[tuple[Registration, ...], list[EffectivePhone]]] = {}
    for phone in sorted(phones, key=lambda p: p.name):
        if phone.family != FAMILY:
            continue
        servers = phone.registrations[:max_servers]
        variants.setdefault(phone.registration_group, {}).setdefault(servers, []).append(phone)
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
    files: Mapping[str, GroupFile]
    """group file path -> what it holds"""


@dataclass(frozen=True)
class GroupFile:
    """One group file: its group, servers, the generation it is written for, its phones."""

    group: str
    servers: tuple[Registration, ...]
    generation: Generation
    phones: tuple[str, ...]


def group_files(plan: Plan) -> GroupFiles:
    """Which group file each phone loads. A group whose phones all see the same servers
    is ``proxy/<group>.cfg``; if they differ (managed proxies per location), each variant
    gets a short digest suffix so no phone loads another's servers. Phones of an older
    firmware generation load the file of their generation's folder."""
    variants = _variants(plan.phones)
    varied = plan.varied_groups or frozenset()
    by_phone: dict[str, str] = {}
    made: dict[str, tuple[GroupFile, list[str]]] = {}  # path -> (its file, its phones)
    for group, seen in variants.items():
        for servers, phones in seen.items():
            variant = None
            if len(seen) > 1 or group in varied:
                variant = variant_tag(servers)
            for phone in phones:
                gen = generation(phone)
                path = gen.path(group_file_name(group, variant))
                if path not in made:
                    made[path] = (GroupFile(group, servers, gen, ()), [])
                made[path][1].append(phone.name)
                by_phone[phone.name] = path
    files = {path: replace(f, phones=tuple(names)) for path, (f, names) in made.items()}
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


def custom_source(plan: Plan, name: str) -> str | None:
    """The gathered file custom file ``name`` is read from (``custom_files/polycom/<name>`` or
    ``custom_files/Polycom/<name>``), or None when neither holds it."""
    files = plan.inventory.files
    return next(
        (rel for d in ("polycom", "Polycom") if files.exists(rel := f"custom_files/{d}/{name}")),
        None,
    )


def custom_files(plan: Plan, phones: Iterable[EffectivePhone], warn: Warn) -> Artifacts:
    """``custom/<file>`` copied from ``custom_files/polycom/`` for the phones that name it;
    a missing one is left out (each phone's master warns and leaves it out too)."""
    users: dict[str, list[str]] = {}
    for phone in phones:
        for name in dict.fromkeys(custom_names(phone, warn)):
            users.setdefault(name, []).append(phone.name)
    out: Artifacts = {}
    for name in sorted(users):
        rel = custom_source(plan, name)
        data = None if rel is None else plan.inventory.files.read(rel)
        if rel is None or data is None:
            continue
        source = Path(plan.inventory.root) / rel  # for the warning only
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


def store_links(plan: Plan, phones: Iterable[EffectivePhone], warn: Warn) -> Artifacts:
    """Firmware images and the stock files of their version, linked from the inventory's
    firmware store (``<store>/polycom/<version>/``)."""
    needed: dict[str, list[str]] = {}
    for phone in phones:
        if phone.firmware is not None:
            version = phone.firmware.version
            paths = [firmware_path(version, phone.model.part_number)]
            for path in paths + stock_paths(version, generation(phone)):
                needed.setdefault(path, []).append(phone.name)
    store = _store(plan)
    if store is None:
        if needed:
            warn(
                "no firmware store named: Polycom firmware images (and the stock files of "
                "SIP firmware) are not linked into the release"
            )
        return {}
    files = plan.inventory.files
    out: Artifacts = {}
    for path in sorted(needed):
        link = files.firmware(path.removeprefix("firmware/"))
        if link is not None:
            out[path] = Artifact(b"", tuple(sorted(needed[path])), link)
        else:
            source = store / path.removeprefix("firmware/")
            who = ", ".join(sorted(needed[path]))
            warn(f"firmware file missing: {source} (needed at {path} by {who})")
    # The provisional master names the latest files of every model; link those the store
    # holds. A missing one is not a warning: no inventory phone needs it.
    for _token, image, stock in provisional_firmware():
        for path in (image, *stock):
            link = files.firmware(path.removeprefix("firmware/"))
            if path not in out and link is not None:
                out[path] = Artifact(b"", (), link)
    return out
