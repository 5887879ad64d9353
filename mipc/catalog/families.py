"""What each phone family can do, as the guide states it: the catalog's ``families`` section.

Takes the parsed catalog data; gives one frozen :class:`Family` per family name, checked once.
The rules and resolve read a family's facts here instead of naming families in Python.
Imports nothing else of mipc.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any


class FamilyDataError(ValueError):
    """The catalog's ``families`` section is malformed (a bug in ``catalog.json``)."""


@dataclass(frozen=True)
class Family:
    """The guide's facts about one family of phones."""

    name: str
    #: Shared and external station appearances (the guide: Polycom phones only).
    linked_appearances: bool
    #: A phone of the family takes one registration (the guide: ISS, AudioCodes, Genesys).
    single_registration: bool
    #: One station appearance per line key, a private one among them.
    one_appearance_per_line: bool
    #: The family's phones run firmware that mipc pins and links (not the soft phone).
    firmware: bool
    #: A phone of the family is addressed by its computer's full name, not by a MAC.
    by_computer_name: bool
    #: The family's file format is not published: mipc writes its own documented profile
    #: (docs/keyvalue-and-softphone.md), and the commands say so (ISS, the soft phone).
    profile: bool
    #: mipc writes the credentials the phone presents to the provisioning server into its
    #: files (serving.access basic or phone): Polycom's device.prov.user/password only; the
    #: other families' equivalents are not verified (docs/serving.md).
    provisioning_credentials: bool
    #: The family's phones carry a factory device certificate whose subject CN mipc maps to
    #: the phone (serving.access: certificate): Polycom's (its CN holding the MAC is not
    #: verified, docs/serving.md); the others' are not documented for this.
    device_certificate: bool


def read_families(data: Any, models_families: set[str]) -> Mapping[str, Family]:
    """The ``families`` section; every family a model names must be there, with every fact."""
    if not isinstance(data, Mapping):
        raise FamilyDataError("catalog families must be an object")
    facts = [f.name for f in fields(Family) if f.name != "name"]
    out: dict[str, Family] = {}
    for name in sorted(data):
        entry = data[name]
        if not isinstance(entry, Mapping) or set(entry) != set(facts):
            raise FamilyDataError(f"catalog family {name!r} must give exactly: {', '.join(facts)}")
        if not all(isinstance(entry[f], bool) for f in facts):
            raise FamilyDataError(f"catalog family {name!r}: every fact is true or false")
        out[name] = Family(name, **{f: entry[f] for f in facts})
    missing = sorted(models_families - set(out))
    if missing:
        raise FamilyDataError(f"catalog families miss {', '.join(missing)}, which models name")
    return MappingProxyType(out)
