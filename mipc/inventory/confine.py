"""Where an inventory may read: inside its own folder, or a folder the command line names.

An inventory names files: its phone lists, ``{file: …}`` secrets, the firmware store, and the
files under ``custom_files/``, ``certs/`` and ``vendor_templates/``. Each must resolve (through
every symbolic link) inside the inventory's folder, or inside a folder named explicitly on the
command line (:class:`Allowed`: ``--secrets-dir`` for secret files, ``--firmware-store`` for the
store). What resolves elsewhere is refused before it is read, with an
``outside-inventory`` error naming the path and where it leads. ``{env: …}`` secrets are
limited to names with a prefix (``MIPC_`` unless ``site.secret_env_prefix`` says another).

Takes a loaded :class:`~mipc.inventory.load.Document` (or paths); gives diagnostics and
answers. Never imports the model, the rules or the later stages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.load import Document, JsonPath, display_name, json_path

__all__ = [
    "CODE",
    "DEFAULT_ENV_PREFIX",
    "ENV_CODE",
    "Allowed",
    "check_document",
    "env_prefix",
    "escapes",
    "refusal",
]

CODE = "outside-inventory"
ENV_CODE = "secret-env-prefix"
DEFAULT_ENV_PREFIX = "MIPC_"


@dataclass(frozen=True)
class Allowed:
    """The folders the command line names besides the inventory's: ``secrets_dir``, where
    ``{file: …}`` secrets may also be; ``firmware_store``, the firmware store (it overrides
    the inventory's ``firmware.store``, and permits it outside the inventory). Absolute."""

    secrets_dir: str | None = None
    firmware_store: str | None = None

    @classmethod
    def of(cls, secrets_dir: str | os.PathLike[str] | None, store: object = None) -> Allowed:
        """The folders made absolute (None stays None)."""
        return cls(
            os.path.abspath(secrets_dir) if secrets_dir is not None else None,
            os.path.abspath(str(store)) if store is not None else None,
        )

    def options(self) -> dict[str, str]:
        """What a build records among its options (nothing for the defaults)."""
        named = {"secrets_dir": self.secrets_dir, "firmware_store": self.firmware_store}
        return {k: v for k, v in named.items() if v is not None}


def _inside(real: str, folder: str) -> bool:
    base = os.path.realpath(folder)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def escapes(path: str, folders: Sequence[str]) -> str | None:
    """Where ``path`` leads (resolved through every link) when that is outside every one of
    ``folders``; None when it stays inside one."""
    real = os.path.realpath(path)
    return None if any(_inside(real, f) for f in folders) else real


def refusal(shown: str, target: str, where: str, fix: str) -> str:
    """The one line saying that ``shown`` leads to ``target``, outside ``where``."""
    return f"{shown} leads to {target}, outside {where}; not read: {fix}"


def env_prefix(doc: Document) -> str:
    """The prefix an ``{env: …}`` secret's name must have."""
    site = doc.data.get("site")
    prefix = site.get("secret_env_prefix") if isinstance(site, Mapping) else None
    return str(prefix) if prefix else DEFAULT_ENV_PREFIX


def store_path(doc: Document) -> str | None:
    """The firmware store the inventory names, absolute; None when it names none."""
    firmware = doc.data.get("firmware")
    store = firmware.get("store") if isinstance(firmware, Mapping) else None
    if not store:
        return None
    return os.path.abspath(os.path.join(doc.root, str(store)))


def _check_store(doc: Document, allowed: Allowed, diags: Diagnostics) -> None:
    store = store_path(doc)
    if store is None:
        return
    folders = [str(doc.root)]
    if allowed.firmware_store is not None:
        folders.append(allowed.firmware_store)
    target = escapes(store, folders)
    if target is not None:
        diags.error(
            CODE,
            refusal(
                f"firmware store {store}",
                target,
                "the inventory",
                f"name it on the command line, --firmware-store {store}",
            ),
            doc.position(("firmware", "store")),
            json_path(("firmware", "store")),
        )


def secrets_of(doc: Document) -> Iterator[tuple[JsonPath, str, str]]:
    """(path, kind, name) of every secret the document names: ``{env: NAME}`` or
    ``{file: path}`` (the only mappings of the schema with those keys alone)."""
    stack: list[tuple[JsonPath, Any]] = [((), doc.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, Mapping):
            if len(value) == 1 and ("env" in value or "file" in value):
                kind = "env" if "env" in value else "file"
                if isinstance(value[kind], str):
                    yield path, kind, value[kind]
                    continue
            stack.extend(((*path, str(k)), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))


def _check_secrets(doc: Document, allowed: Allowed, diags: Diagnostics) -> None:
    prefix = env_prefix(doc)
    folders = [str(doc.root)]
    if allowed.secrets_dir is not None:
        folders.append(allowed.secrets_dir)
    for path, kind, name in sorted(secrets_of(doc), key=lambda s: json_path(s[0])):
        where = doc.position(path)
        if kind == "env" and not name.startswith(prefix):
            diags.error(
                ENV_CODE,
                f"secret {{env: {name}}}: only environment variables whose names start with"
                f" {prefix} are read; rename it {prefix}{name}, or allow its prefix with"
                " site.secret_env_prefix",
                where,
                json_path(path),
            )
        elif kind == "file":
            target = escapes(os.path.join(doc.root, name), folders)
            if target is not None:
                diags.error(
                    CODE,
                    refusal(
                        f"secret {{file: {name}}}",
                        target,
                        "the inventory",
                        "keep secret files in the inventory, or name their folder with"
                        " --secrets-dir",
                    ),
                    where,
                    json_path(path),
                )


def check_list(doc: Document, index: int, diags: Diagnostics) -> bool:
    """Whether the ``index``-th phone list lies inside the inventory; if not, says so."""
    entry = str(doc.data["phone_lists"][index])
    path = doc.root / entry
    target = escapes(str(path), [str(doc.root)])
    if target is None:
        return True
    diags.error(
        CODE,
        refusal(
            f"phone list {entry}",
            target,
            "the inventory",
            "keep phone lists in the inventory's folder",
        ),
        doc.positions.get(("phone_lists", index), Position(display_name(path, doc.root))),
        json_path(("phone_lists", index)),
    )
    return False


def check_document(doc: Document, allowed: Allowed, diags: Diagnostics) -> None:
    """Report every secret and firmware store of ``doc`` that would be read from outside
    the folders it may read (phone lists: :func:`check_list`, as they are read)."""
    _check_store(doc, allowed, diags)
    _check_secrets(doc, allowed, diags)
