"""The files next to an inventory that the renderers use, gathered once when it is loaded.

Takes an assembled inventory (its root and its firmware store); gives a frozen
:class:`mipc.model.InventoryFiles`: the bytes of every file under ``custom_files/``, ``certs/``
and ``vendor_templates/`` (and, for each one that cannot be read, why), and the listing of the
firmware store (each file's path relative to the store and its absolute, resolved path; images
are linked by the release, never read). Symbolic links are followed, a folder that links back
to one it is in is listed once. Nothing is reported here: the renderers say what is missing
where a phone needs it. Never imports the rules, resolve, render or release stages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from types import MappingProxyType

from mipc.model import Inventory, InventoryFiles

__all__ = ["FOLDERS", "gather_files", "store_folder", "walk", "with_files"]

#: The inventory's folders whose files are read whole: custom files, certificates and the
#: overrides of templates and vendor data.
FOLDERS = ("custom_files", "certs", "vendor_templates")


def store_folder(root: str, store: str | None) -> str | None:
    """The absolute folder of the firmware store ``store`` (relative to ``root`` unless it is
    absolute); None when no store is named."""
    if not store:
        return None
    return os.path.abspath(os.path.join(root, store))


def walk(folder: str) -> Iterator[tuple[str, str]]:
    """(POSIX path relative to ``folder``, path) of every file below ``folder``, in sorted
    order, following symbolic links; nothing when ``folder`` is not a folder."""
    yield from _walk(folder, "", frozenset())


def _walk(folder: str, prefix: str, above: frozenset[str]) -> Iterator[tuple[str, str]]:
    real = os.path.realpath(folder)
    if real in above:
        return  # a link back to a folder this one is in
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        rel = prefix + entry.name
        try:
            is_dir, is_file = entry.is_dir(), entry.is_file()
        except OSError:
            continue
        if is_dir:
            yield from _walk(entry.path, rel + "/", above | {real})
        elif is_file:
            yield rel, entry.path


def _read_folders(root: str) -> tuple[dict[str, bytes], dict[str, str]]:
    contents: dict[str, bytes] = {}
    problems: dict[str, str] = {}
    for name in FOLDERS:
        for rel, path in walk(os.path.join(root, name)):
            try:
                with open(path, "rb") as stream:
                    contents[f"{name}/{rel}"] = stream.read()
            except OSError as exc:
                problems[f"{name}/{rel}"] = str(exc)
    return contents, problems


def gather_files(root: str, store: str | None) -> InventoryFiles:
    """Read the files of the inventory at ``root`` and list its firmware store ``store``."""
    contents, problems = _read_folders(root)
    folder = store_folder(root, store)
    firmware = {} if folder is None else {rel: os.path.realpath(p) for rel, p in walk(folder)}
    return InventoryFiles(
        contents=MappingProxyType(contents),
        problems=MappingProxyType(problems),
        firmware_files=MappingProxyType(firmware),
    )


def with_files(inventory: Inventory) -> Inventory:
    """The inventory with the files its renderers use."""
    return replace(inventory, files=gather_files(inventory.root, inventory.firmware_store))
