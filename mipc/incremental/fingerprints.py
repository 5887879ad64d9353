"""Fingerprints of inventory entries: what the incremental compile compares.

Takes parsed entries (:class:`mipc.model.PhoneSpec`), effective phones, the parsed inventory
document, and for the render epoch the folders next to the inventory (``vendor_templates/``,
``custom_files/``, ``certs/``); gives stable digests (marshal format 2, so equal values give
equal bytes however they are shared). Never imports render or release.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from pathlib import Path
from typing import Any

from mipc import __version__
from mipc.catalog.addresses import normalize_mac
from mipc.diagnostics import Position
from mipc.inventory.load import Document
from mipc.model import EffectivePhone, Inventory, PhoneSpec
from mipc.rules.names import private_stations

#: marshal's format 2: later formats write a back-reference for an object seen before in the
#: same dump, so equal values shared differently would give different bytes, and digests.
_STABLE = 2


def _position(p: Position | None) -> tuple[str, int, int, str] | None:
    return None if p is None else (p.file, p.line, p.col, p.column_name)


#: The fields of an appearance that spec_digests covers: all of them (a test checks).
APPEARANCE_FIELDS = (
    "kind",
    "extension",
    "label",
    "display_name",
    "station",
    "identification_address",
    "auth_user",
    "auth_password",
    "sharable",
    "line_keys",
    "shared",
    "registration_group",
    "position",
)


def spec_digests(spec: PhoneSpec) -> tuple[bytes, bytes]:
    """Digests of a phone's entry as parsed: its values and where each came from, then its
    values alone (the entry encoded once: the first is the digest of the second and of the
    positions). The second says whether only the entry's place changed (a row above it was
    removed): no file of the phone changes, only where a message would point."""
    key: Any = (
        spec.name,
        spec.template,
        spec.location,
        spec.address,
        spec.origin,
        tuple((k, repr(s.value), s.layer) for k, s in spec.layer.items()),
        tuple(
            (
                a.kind,
                a.extension,
                a.label,
                a.display_name,
                a.station,
                a.identification_address,
                a.auth_user,
                None if a.auth_password is None else repr(a.auth_password),
                a.sharable,
                a.line_keys,
                a.shared,
                a.registration_group,
            )
            for a in spec.appearances
        ),
    )
    places: Any = (
        _position(spec.position),
        _position(spec.address_position),
        tuple(_position(s.position) for s in spec.layer.values()),
        tuple(_position(a.position) for a in spec.appearances),
    )
    unplaced = hashlib.sha1(marshal.dumps(key, _STABLE), usedforsecurity=False).digest()
    h = hashlib.sha1(unplaced, usedforsecurity=False)
    h.update(marshal.dumps(places, _STABLE))
    return h.digest(), unplaced


def source_group(spec: PhoneSpec) -> str:
    """Where a phone's entry lives: "" for the YAML files, else its phone list."""
    return spec.position.file if spec.origin == "csv" and spec.position else ""


def address_key(spec: PhoneSpec) -> str:
    """A phone's address as the uniqueness checks compare it (a MAC without separators)."""
    if spec.address is None:
        return ""
    return normalize_mac(spec.address) or spec.address.lower()


def identity(spec: PhoneSpec) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """What the cross-phone checks compare: address, extensions, stations."""
    private = private_stations(spec)
    extensions = tuple(a.extension for _, a in private if a.extension is not None)
    return address_key(spec), extensions, tuple(station for station, _ in private)


def projection(phone: EffectivePhone, memo: dict[Any, Any] | None = None) -> bytes:
    """A digest of what the shared files (group, server, CA, custom and firmware files) and the
    network files take from a phone: while it is the same, they are the same.

    ``memo`` keeps the repr of objects phones share (registrations, firmware, time), by
    identity, and the digests of the :func:`sharing` parts: give the same dict for the phones
    of one plan, which must outlive it.
    """
    return projected(sharing(phone, memo), phone)


def projected(shared: bytes, phone: EffectivePhone) -> bytes:
    """:func:`projection` of a phone whose :func:`sharing` is ``shared``."""
    h = hashlib.sha1(shared, usedforsecurity=False)
    for part in (phone.name, phone.mac or "", phone.computer_name or ""):
        h.update(b"\0" + part.encode())
    return h.digest()


def sharing(phone: EffectivePhone, memo: dict[Any, Any] | None = None) -> bytes:
    """:func:`projection` without who the phone is (name, MAC, computer name): phones with
    the same one load the same shared files, so while one of them stays, adding or removing
    another changes no shared file. A phone whose custom files' names hold ``[MACADDRESS]``
    keeps its MAC in it. Phones of one profile share it: it is worked out once for them."""
    memo = {} if memo is None else memo

    def shared(value: object) -> str:
        text = memo.get(id(value))
        if text is None:
            text = memo[id(value)] = repr(value)
        return text

    key: Any = (
        phone.family,
        phone.model.id,
        phone.mac if _names_mac(phone.config_files) else None,
        phone.location,
        phone.registration_group,
        shared(phone.registrations),
        phone.secure,
        tuple((a.registration_group, shared(a.registrations)) for a in phone.appearances),
        shared(phone.config_files),
        shared(phone.firmware),
        shared(phone.time),
    )
    digest: bytes | None = memo.get(key)
    if digest is None:
        encoded = marshal.dumps(key, _STABLE)
        digest = memo[key] = hashlib.sha1(encoded, usedforsecurity=False).digest()
    return digest


def _names_mac(config_files: tuple[str, ...]) -> bool:
    """Whether a custom file's name holds the ``[MACADDRESS]`` macro (any case)."""
    return any("[macaddress]" in name.lower() for name in config_files)


def linking(spec: PhoneSpec) -> bool:
    """Whether a phone has appearances that reach other phones (shared) or groups (external)."""
    return any(a.kind != "private" for a in spec.appearances)


def context_key(doc: Document) -> str:
    """A digest of the inventory without its phones: data and source positions."""
    h = hashlib.sha256(f"{__version__}\0{doc.root}\0".encode())
    h.update("\0".join(str(p) for p in doc.files).encode())
    data = {k: v for k, v in doc.data.items() if k != "phones"}
    h.update(json.dumps(data, sort_keys=True, default=repr).encode())
    for table in (doc.positions, doc.key_positions):
        rest = sorted(
            (repr(path), repr(pos))
            for path, pos in table.items()
            if not path or path[0] != "phones"
        )
        h.update(repr(rest).encode())
    return h.hexdigest()


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
    serving, values = inventory.serving, inventory.secrets.values
    password = values.get(serving.password, "") if serving.password is not None else ""
    h.update(repr(serving).encode() + hashlib.sha256(password.encode()).digest())
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
