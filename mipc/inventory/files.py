"""The files next to an inventory that the renderers use, gathered once when it is loaded.

Takes an assembled inventory (its root and its firmware store) and the folders the command
line allows (:class:`mipc.inventory.confine.Allowed`); gives a frozen
:class:`mipc.model.InventoryFiles`: the bytes of every file under ``custom_files/``, ``certs/``
and ``vendor_templates/`` (and, for each one that cannot be read, why), and the listing of the
firmware store (each file's path relative to the store and its absolute, resolved path; images
are linked by the release, never read). Symbolic links are followed while they stay inside the
inventory (for the store: inside the store or the inventory); a link that leads elsewhere is
refused, never followed nor read (:class:`Refused`, reported by :func:`with_files` as an
``outside-inventory`` error). A folder that links back to one it is in is listed once. What is
missing is not reported here: the renderers say so where a phone needs it. Never imports the
rules, resolve, render or release stages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.confine import CODE, Allowed, escapes, refusal
from mipc.model import Inventory, InventoryFiles

__all__ = ["FOLDERS", "Refused", "gather_files", "store_folder", "walk", "with_files"]

#: The inventory's folders whose files are read whole: custom files, certificates and the
#: overrides of templates and vendor data.
FOLDERS = ("custom_files", "certs", "vendor_templates")


@dataclass(frozen=True)
class Refused:
    """A symbolic link that leads outside the folders it may lead to: where it is (as
    messages show it), and where it leads."""

    link: str
    target: str
    where: str = "the inventory"


def store_folder(root: str, store: str | None) -> str | None:
    """The absolute folder of the firmware store ``store`` (relative to ``root`` unless it is
    absolute); None when no store is named."""
    if not store:
        return None
    return os.path.abspath(os.path.join(root, store))


def walk(
    folder: str, within: Sequence[str] = (), refused: list[Refused] | None = None
) -> Iterator[tuple[str, str]]:
    """(POSIX path relative to ``folder``, path) of every file below ``folder``, in sorted
    order, following symbolic links; nothing when ``folder`` is not a folder. With
    ``within``, a link (or ``folder`` itself) that leads outside those folders is not
    followed but added to ``refused``."""
    if within and os.path.lexists(folder):
        target = escapes(folder, within)
        if target is not None:
            if refused is not None:
                refused.append(Refused(folder, target))
            return
    yield from _walk(folder, "", frozenset(), (within, refused))


def _walk(
    folder: str,
    prefix: str,
    above: frozenset[str],
    confined: tuple[Sequence[str], list[Refused] | None],
) -> Iterator[tuple[str, str]]:
    real = os.path.realpath(folder)
    if real in above:
        return  # a link back to a folder this one is in
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return
    within, refused = confined
    for entry in entries:
        rel = prefix + entry.name
        if within and entry.is_symlink():
            target = escapes(entry.path, within)
            if target is not None:
                if refused is not None:
                    refused.append(Refused(entry.path, target))
                continue
        try:
            is_dir, is_file = entry.is_dir(), entry.is_file()
        except OSError:
            continue
        if is_dir:
            yield from _walk(entry.path, rel + "/", above | {real}, confined)
        elif is_file:
            yield rel, entry.path


def _read_folders(root: str, refused: list[Refused]) -> tuple[dict[str, bytes], dict[str, str]]:
    contents: dict[str, bytes] = {}
    problems: dict[str, str] = {}
    for name in FOLDERS:
        for rel, path in walk(os.path.join(root, name), (root,), refused):
            try:
                with open(path, "rb") as stream:
                    contents[f"{name}/{rel}"] = stream.read()
            except OSError as exc:
                problems[f"{name}/{rel}"] = str(exc)
    return contents, problems


def gather_files(
    root: str, store: str | None, refused: list[Refused] | None = None
) -> InventoryFiles:
    """Read the files of the inventory at ``root`` and list its firmware store ``store``;
    the links that lead outside (never followed) go into ``refused``."""
    found: list[Refused] = [] if refused is None else refused
    contents, problems = _read_folders(root, found)
    folder = store_folder(root, store)
    firmware: dict[str, str] = {}
    if folder is not None:
        links: list[Refused] = []
        firmware = {rel: os.path.realpath(p) for rel, p in walk(folder, (folder, root), links)}
        found.extend(replace(r, where="the firmware store and the inventory") for r in links)
    return InventoryFiles(
        contents=MappingProxyType(contents),
        problems=MappingProxyType(problems),
        firmware_files=MappingProxyType(firmware),
    )


def _shown(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return path if rel.startswith(os.pardir) else rel.replace(os.sep, "/")


def with_files(
    inventory: Inventory, diags: Diagnostics | None = None, allowed: Allowed | None = None
) -> Inventory:
    """The inventory with the files its renderers use; ``allowed.firmware_store``, when
    named, is the store. Each link refused is an error in ``diags``."""
    if allowed is not None and allowed.firmware_store is not None:
        inventory = replace(inventory, firmware_store=allowed.firmware_store)
    refused: list[Refused] = []
    files = gather_files(inventory.root, inventory.firmware_store, refused)
    for link in refused:
        shown = _shown(link.link, inventory.root)
        message = refusal(
            f"symbolic link {shown}",
            link.target,
            link.where,
            "copy what it links to into the inventory",
        )
        if diags is not None:
            diags.error(CODE, message, Position(shown))
    return replace(inventory, files=files)
