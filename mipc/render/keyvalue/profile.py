"""What differs between the key=value families, as one frozen record read from their data.

Takes nothing; gives :class:`Profile`, filled by :mod:`mipc.render.keyvalue.data` from
``vendor_templates/<family>/keys.yaml``. Holds no vendor fact itself; never imports release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mipc.render.base import RenderError

__all__ = ["Profile", "ProfileError", "Scalar"]

#: A default value in the data: a number, a string or a flag.
Scalar = int | str | bool


class ProfileError(RenderError):
    """A family's data file is missing or malformed: names the file and the entry."""


@dataclass(frozen=True)
class Profile:
    """Everything that differs between the key=value families (see the data files)."""

    family: str
    display: str
    template: str
    sections: tuple[str, ...]
    keys: Mapping[str, str]  # concept -> key path ({n}: the line index)
    system_types: Mapping[str, str]  # catalog model id -> system/type value
    custom_dirs: Mapping[str, str]  # manufacturer -> folder under custom_files/
    transports: Mapping[str, str]
    line_modes: Mapping[str, str]
    languages: Mapping[str, str]
    port_modes: Mapping[str, str]
    syslog_modes: Mapping[str, str]
    values: Mapping[str, str]  # named fixed values (vlan.manual -> MANUAL ...)
    limits: Mapping[str, int]  # concept -> most characters
    minimums: Mapping[str, int]  # concept -> lowest number written
    defaults: Mapping[str, Scalar]  # option (or option.field) -> value when not set
    firmware_aliases: Mapping[str, tuple[str, ...]]  # model id -> more web-root image names
    hashes: Mapping[str, str]  # concept -> the hash scheme its secret is written in
    source: str = ""  # the data files read, for messages
