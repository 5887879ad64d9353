"""Conflicts of an import: phones that share a name, an address or a private extension.

Every phone has identities (its name, its MAC or computer name, its private extensions); an
:class:`Index` holds who owns each, so a new phone's clashes are found in one look-up each,
named as the messages name them ("name 'A' and MAC 00:04:f2:aa:bb:cc").

Takes phone entries; gives their owners and clashes. Never imports the loader, the pipeline or
the other stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mipc.catalog.addresses import normalize_mac
from mipc.inventory.csv_columns import ADDRESS
from mipc.inventory.csv_write import phone_row
from mipc.model import PhoneSpec

__all__ = ["Index", "Owner", "identities", "same_phone"]

Identity = tuple[str, str]


def identities(phone: PhoneSpec) -> tuple[Identity, ...]:
    """(kind, key) for each unique identity of a phone: name, address (MAC or computer name),
    private extensions."""
    out = [("name", phone.name.casefold())]
    if phone.address:
        mac = normalize_mac(phone.address)
        out.append(("address", mac if mac is not None else phone.address.casefold()))
    for app in phone.appearances:
        if app.kind == "private" and app.extension:
            out.append(("extension", app.extension))
    return tuple(out)


def _shown(phone: PhoneSpec, kind: str, key: str) -> str:
    """How a conflict names an identity of ``phone``."""
    if kind == "name":
        return f"name {phone.name!r}"
    if kind == "extension":
        return f"extension {key!r}"
    address = phone.address or key
    return f"MAC {address}" if normalize_mac(address) is not None else f"computer name {address!r}"


def same_phone(a: PhoneSpec, b: PhoneSpec) -> bool:
    """The same phone as far as a CSV row can tell (MACs compared in any notation)."""
    rows = []
    for phone in (a, b):
        row = phone_row(phone)
        mac = normalize_mac(row[ADDRESS])
        if mac is not None:
            row[ADDRESS] = mac
        rows.append(row)
    return rows[0] == rows[1]


@dataclass
class Owner:
    """A phone that holds identities: where it is, and so whether it can be replaced."""

    phone: PhoneSpec
    target: Path | None
    """The import target list holding it, if any."""
    new: bool
    yaml_file: Path | None = None
    """The YAML file of an existing YAML phone."""
    yaml_target: Path | None = None
    """The YAML file a new phone goes to (``--as yaml``)."""
    list_file: Path | None = None
    """The phone list (not an import target) holding an existing CSV phone."""
    keys: tuple[Identity, ...] = ()

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = identities(self.phone)

    @property
    def replaceable(self) -> bool:
        """Whether ``--on-conflict replace`` can take this phone out."""
        return (
            self.target is not None
            or self.yaml_target is not None
            or (self.list_file is not None and self.phone.origin == "csv")
            or (self.yaml_file is not None and self.phone.origin == "yaml")
        )


class Index:
    """The owner of every identity (the first phone to claim it)."""

    def __init__(self) -> None:
        self.keys: dict[Identity, Owner] = {}

    def add(self, owner: Owner) -> None:
        """Claim the identities of ``owner`` not claimed yet."""
        for key in owner.keys:
            self.keys.setdefault(key, owner)

    def remove(self, owner: Owner) -> None:
        """Release the identities ``owner`` holds."""
        for key in owner.keys:
            if self.keys.get(key) is owner:
                del self.keys[key]

    def clashes(self, phone: PhoneSpec, keys: tuple[Identity, ...]) -> list[tuple[str, Owner]]:
        """The owners ``phone``'s identities clash with, each with what they share."""
        found: list[tuple[str, Owner]] = []
        for kind, key in keys:
            owner = self.keys.get((kind, key))
            if owner is None:
                continue
            shown = _shown(phone, kind, key)
            if all(owner is not o for _, o in found):
                found.append((shown, owner))
            else:
                found = [(f"{s} and {shown}" if o is owner else s, o) for s, o in found]
        return found
