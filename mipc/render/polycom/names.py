"""Names and paths of the Polycom release files.

Takes phone and group names and firmware versions; gives the file names under the web root
(``phone/<guid>.cfg``, ``proxy/<group>.cfg``, ``firmware/polycom/<version>/<part>.sip.ld``).
Pure functions of their arguments: imports nothing of mipc.
"""

from __future__ import annotations

import re
import uuid
from functools import lru_cache

__all__ = [
    "CA_FILE",
    "CUSTOM_DIR",
    "DEFAULT_MASTER",
    "FAMILY",
    "FIRMWARE_DIR",
    "PHONE_NAMESPACE",
    "SERVER_FILE",
    "SETUP_FILE",
    "firmware_path",
    "group_file_name",
    "phone_file_name",
    "phone_guid",
    "safe_segment",
    "stock_path",
    "variant_tag",
]

FAMILY = "polycom"

#: Namespace of the per-phone guids: ``uuid5(PHONE_NAMESPACE, phone name)``. Never change it:
#: every phone's file name would change with it.
PHONE_NAMESPACE = uuid.UUID("6d1f0c0e-3b7a-5c52-9a61-7c2f0e4f8a10")

DEFAULT_MASTER = "000000000000.cfg"
SETUP_FILE = "server/setup.cfg"
SERVER_FILE = "server/xic.cfg"
CA_FILE = "server/cert/ca.cfg"
CUSTOM_DIR = "custom"
FIRMWARE_DIR = "firmware/polycom"

_SAFE = re.compile(r"[A-Za-z0-9]")


def phone_guid(name: str) -> str:
    """The stable guid of a phone's file: a function of its name only, never of its MAC."""
    return str(uuid.uuid5(PHONE_NAMESPACE, name))


def phone_file_name(name: str) -> str:
    """Path of a phone's own parameter file (``phone/<guid>.cfg``)."""
    return f"phone/{phone_guid(name)}.cfg"


def variant_tag(servers: object) -> str:
    """The short digest that tells apart the group files of one group's server variants."""
    return uuid.uuid5(PHONE_NAMESPACE, repr(servers)).hex[:8]


@lru_cache(maxsize=1 << 14)  # group names and versions repeat from phone to phone
def safe_segment(name: str) -> str:
    """A readable, file-safe and injective form of ``name`` for one path segment.

    ASCII letters and digits stay, and so does ``.`` except as the first character; a space
    becomes ``-``; every other character becomes ``_`` followed by the two upper-case hex
    digits of each of its UTF-8 bytes. ``-`` and ``_`` are themselves escaped, so the mapping
    can be undone and two names never meet:
    ``<Default Registration Group>`` → ``_3CDefault-Registration-Group_3E``,
    ``5.9.7.4477`` → ``5.9.7.4477``.
    """
    out: list[str] = []
    for i, char in enumerate(name):
        if (_SAFE.fullmatch(char) and char.isascii()) or (char == "." and i > 0):
            out.append(char)
        elif char == " ":
            out.append("-")
        else:
            out.append("".join(f"_{byte:02X}" for byte in char.encode("utf-8")))
    return "".join(out) or "_"


def group_file_name(group: str, variant: str | None = None) -> str:
    """Path of a registration group file (``proxy/<safe name>.cfg``)."""
    suffix = f"~{variant}" if variant else ""
    return f"proxy/{safe_segment(group)}{suffix}.cfg"


def firmware_path(version: str, part_number: str | None) -> str:
    """Web path of a firmware image: ``firmware/polycom/<version>/<part>.sip.ld``.

    Models without a known part number use the combined image ``sip.ld``.
    """
    image = f"{part_number}.sip.ld" if part_number else "sip.ld"
    return f"{FIRMWARE_DIR}/{safe_segment(version)}/{image}"


def stock_path(version: str, name: str) -> str:
    """Web path of one of Polycom's stock files of a firmware version
    (``firmware/polycom/<version>/sip.cfg``): they are bound to their version."""
    return f"{FIRMWARE_DIR}/{safe_segment(version)}/{name}"
