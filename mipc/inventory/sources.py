"""The secrets an inventory names, read once when it is loaded.

Takes an assembled inventory; gives a frozen :class:`mipc.model.Secrets` with the value of
every ``{env: …}`` and ``{file: …}`` secret it names (``admin_password`` in any layer, and
appearance passwords), and for each one that cannot be read, why. A secret file is read only
when it lies (through every link) inside the inventory or the ``--secrets-dir`` folder
(:mod:`mipc.inventory.confine`, which reports the others where they are named, before this
runs). Nothing is reported here: the resolve stage reports a missing secret where a phone uses
it. Never imports the rules, resolve, render or release stages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mipc.inventory.confine import Allowed, escapes
from mipc.model import Inventory, SecretRef, Secrets


def secret_ref(value: Any) -> SecretRef | None:
    """The secret a setting's value names (``{env: NAME}`` or ``{file: PATH}``), if any."""
    if isinstance(value, Mapping):
        env = value.get("env")
        file = value.get("file")
        return SecretRef(env=str(env) if env else None, file=str(file) if file else None)
    return None


def named_secrets(inventory: Inventory) -> Iterator[SecretRef]:
    """Every secret the inventory names, in any layer or appearance (with repeats)."""
    yield from inventory.serving.secrets()
    layers = [inventory.defaults]
    layers += [loc.layer for loc in inventory.locations.values()]
    layers += [t.layer for t in inventory.templates.values()]
    for phone in inventory.phones:
        if phone.layer:
            layers.append(phone.layer)
        for app in phone.appearances:
            if app.auth_password is not None:
                yield app.auth_password
    for layer in layers:
        setting = layer.get("admin_password")
        ref = secret_ref(setting.value) if setting is not None else None
        if ref is not None:
            yield ref


def read_secret(
    ref: SecretRef, root: Path, secrets_dir: str | None = None
) -> tuple[str | None, str | None]:
    """A secret's value, or why it cannot be read (neither for a reference to nothing); a
    file outside ``root`` and ``secrets_dir`` is not read."""
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if value is None:
            return None, f"environment variable {ref.env} is not set; export it before the build"
        return value, None
    if ref.file is not None:
        folders = [str(root)] if secrets_dir is None else [str(root), secrets_dir]
        target = escapes(str(root / ref.file), folders)
        if target is not None:
            return None, f"secret file {ref.file} leads to {target}, outside the inventory"
        try:
            value = (root / ref.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return None, f"cannot read secret file {ref.file}: {getattr(exc, 'strerror', exc)}"
        value = value[:-1] if value.endswith("\n") else value
        return (value[:-1] if value.endswith("\r") else value), None
    return None, None


def read_secrets(inventory: Inventory, allowed: Allowed | None = None) -> Secrets:
    """The values of the inventory's secrets, each read once."""
    root = Path(inventory.root)
    secrets_dir = allowed.secrets_dir if allowed is not None else None
    values: dict[SecretRef, str] = {}
    problems: dict[SecretRef, str] = {}
    for ref in named_secrets(inventory):
        if ref in values or ref in problems:
            continue
        value, problem = read_secret(ref, root, secrets_dir)
        if value is not None:
            values[ref] = value
        elif problem is not None:
            problems[ref] = problem
    return Secrets(MappingProxyType(values), MappingProxyType(problems))


def with_secrets(inventory: Inventory, allowed: Allowed | None = None) -> Inventory:
    """The inventory with the values of the secrets it names (files also in
    ``allowed.secrets_dir``)."""
    return replace(inventory, secrets=read_secrets(inventory, allowed))
