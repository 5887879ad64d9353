"""What the phones of a key=value family share: custom configuration files and firmware.

Takes a family's :class:`Profile`, the plan and its phones; gives the custom files named by
``config_files`` (published at ``<Manufacturer>/<name>``) and links to the firmware images
phones use (``firmware/<family>/<version>/<image>``, and the latest image of every model in
use at the web root under the guide's DHCP option 67 names and the family's
``firmware_aliases``, the names the phones ask for with factory settings). Files are read
only through the plan's :class:`mipc.model.InventoryFiles` (gathered when the inventory was
loaded): no I/O here. A missing file or image is a warning, passed to ``warn``. Never
imports release.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from mipc.artifacts import Artifact, Artifacts
from mipc.catalog.models import load_catalog
from mipc.inventory.files import store_folder
from mipc.model import EffectivePhone, Plan
from mipc.render.base import RenderError
from mipc.render.keyvalue.profile import Profile
from mipc.render.keyvalue.sections import firmware_path

__all__ = ["custom_names", "custom_source", "shared_custom", "shared_firmware", "system_type"]

Warn = Callable[[str], None]


def safe_component(name: str, what: str) -> str:
    """A name usable as one path component of the web root."""
    if (
        not name
        or name in {".", ".."}
        or ".." in name
        or any(sep in name for sep in "/\\")
        or not name.isprintable()
    ):
        raise RenderError(f"{what} {name!r} must be a single file name (no '/', '\\', '..')")
    return name


def system_type(profile: Profile, phone: EffectivePhone) -> str:
    """The ``system/type`` value of the phone's model."""
    try:
        return profile.system_types[phone.model.id]
    except KeyError:
        raise RenderError(
            f"phone {phone.name}: model {phone.model.id} is not a "
            f"{profile.display} model mipc can render"
        ) from None


def custom_names(profile: Profile, phone: EffectivePhone) -> list[str]:
    """The phone's ``config_files``, ``[MACADDRESS]`` and ``[MODEL]`` replaced."""
    model = system_type(profile, phone)
    names = []
    for raw in phone.config_files:
        name = raw.strip().replace("[MACADDRESS]", phone.mac or "")
        name = name.replace("[MODEL]", model)
        if name:
            names.append(safe_component(name, f"phone {phone.name}: custom file"))
    return names


def custom_source(profile: Profile, phone: EffectivePhone, name: str) -> tuple[str, str]:
    """Where a custom file is published in the release, and its path in the inventory."""
    folder = profile.custom_dirs.get(phone.model.manufacturer, phone.model.manufacturer)
    return f"{folder}/{name}", f"custom_files/{folder}/{name}"


def shared_custom(
    profile: Profile, plan: Plan, phones: tuple[EffectivePhone, ...], out: Artifacts
) -> None:
    """Add the custom files the phones name (and that exist) to ``out``."""
    users: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    for phone in phones:
        for name in custom_names(profile, phone):
            published, rel = custom_source(profile, phone, name)
            users.setdefault(published, []).append(phone.name)
            sources[published] = rel
    for published in sorted(users):
        data = plan.inventory.files.read(sources[published])
        if data is not None:
            out[published] = Artifact(data=data, phones=tuple(sorted(set(users[published]))))


def _names(phones: Iterable[str]) -> str:
    ordered = sorted(set(phones))
    shown = ", ".join(ordered[:3])
    return shown + (f" (+{len(ordered) - 3} more)" if len(ordered) > 3 else "")


def _wanted_firmware(
    profile: Profile, phones: tuple[EffectivePhone, ...], warn: Warn
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Release path -> phones that use it, and release path -> store-relative path."""
    family = profile.family
    wanted: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    catalog = load_catalog()
    for phone in phones:
        image = phone.model.firmware_image
        if not image:
            continue
        if phone.firmware is not None:
            path = firmware_path(family, phone.firmware.version, image)
            wanted.setdefault(path, []).append(phone.name)
            sources[path] = path.removeprefix("firmware/")
        latest = catalog.latest_firmware(phone.model.id)
        if latest is None:
            continue
        rel = firmware_path(family, latest.version, image).removeprefix("firmware/")
        for name in (image, *profile.firmware_aliases.get(phone.model.id, ())):
            root_name = safe_component(name, "firmware image")
            if sources.setdefault(root_name, rel) != rel:
                warn(
                    f"{root_name}: models want different latest firmware "
                    f"({sources[root_name]} and {rel}); the first is linked"
                )
            wanted.setdefault(root_name, []).append(phone.name)
    return wanted, sources


def shared_firmware(
    profile: Profile, plan: Plan, phones: tuple[EffectivePhone, ...], out: Artifacts, warn: Warn
) -> None:
    """Add links to the firmware images the phones use (from the store) to ``out``."""
    store = store_folder(plan.inventory.root, plan.inventory.firmware_store)
    if store is None:
        return
    wanted, sources = _wanted_firmware(profile, phones, warn)
    for path in sorted(wanted):
        link = plan.inventory.files.firmware(sources[path])
        if link is not None:
            out[path] = Artifact(data=b"", phones=tuple(sorted(set(wanted[path]))), link=link)
        else:
            warn(
                f"firmware image {sources[path]} not found in the firmware store "
                f"(expected {Path(store) / sources[path]}); not in the release, needed by "
                f"{_names(wanted[path])}"
            )
