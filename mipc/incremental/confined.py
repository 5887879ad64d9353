"""Whether the inputs a record names still lead where a build may read them.

The no-op and incremental shortcuts hash the inputs ``OUT/inputs.json`` names. An input the
last build read may since have been replaced by a symbolic link leading outside the folders a
build may read (:mod:`mipc.inventory.confine`); hashing it would open a file the full path
refuses to open. So, before any input is opened, each is resolved: a phone list and every file
below ``vendor_templates/``, ``custom_files/`` and ``certs/`` must stay inside the inventory's
folder, a ``{file: …}`` secret inside it or ``--secrets-dir``, the firmware store inside it or
``--firmware-store`` (the folders the record's options name). The inventory's own YAML files
are the inventory (the full path reads them wherever they lead), so they are not checked.
Anything leading elsewhere sends the build down the full path, which refuses it with an
``outside-inventory`` error, having read nothing.

Takes a record's inputs (anything shaped like :class:`~mipc.incremental.inputs.Inputs`: this
module is imported by that one, so it names the shape, not the class), the inventory path and
the build's options; gives the first input that leads outside, or None. Opens no file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from mipc.inventory.confine import escapes
from mipc.inventory.files import Refused, walk
from mipc.inventory.load import inventory_files


class Recorded(Protocol):
    """What a record says was read: files, secret files, folders walked, firmware stores."""

    @property
    def files(self) -> Mapping[str, str]:
        """The inventory files read (YAML files, phone lists), by absolute path."""

    @property
    def secret_files(self) -> Mapping[str, str]:
        """The ``{file: ...}`` secrets read, by absolute path."""

    @property
    def trees(self) -> Mapping[str, str]:
        """The folders whose every file was read (templates, custom files, certificates)."""

    @property
    def stores(self) -> Mapping[str, str]:
        """The firmware stores listed."""


def escaping(saved: Recorded, target: Path, options: Mapping[str, str]) -> str | None:
    """The first input of ``saved`` that leads outside the folders a build of ``target``
    with ``options`` may read; None when every one stays inside."""
    root, yaml_files = inventory_files(target)
    inventory = [os.path.abspath(root)]
    own = {os.path.abspath(p) for p in yaml_files}
    secrets = inventory + [v for k, v in options.items() if k == "secrets_dir"]
    stores = inventory + [v for k, v in options.items() if k == "firmware_store"]
    for path in sorted(saved.files):
        if path not in own and escapes(path, inventory) is not None:
            return path
    for path in sorted(saved.secret_files):
        if escapes(path, secrets) is not None:
            return path
    for folder in sorted(saved.trees):
        found = _escaping_below(folder, inventory)
        if found is not None:
            return found
    for folder in sorted(saved.stores):
        found = _escaping_below(folder, stores)
        if found is not None:
            return found
    return None


def _escaping_below(folder: str, allowed: list[str]) -> str | None:
    """``folder`` or the first link below it that leads outside ``allowed`` (the inventory's
    confined walk, which lists folders and follows no link that leaves; nothing is read)."""
    refused: list[Refused] = []
    for _ in walk(folder, allowed, refused):
        if refused:
            break
    return refused[0].link if refused else None
