"""Hand-built model objects for renderer tests: an inventory with only a site."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mipc.model import Inventory, Server, Site

LAB_SITE = Site(
    domain="lab.voip",
    provisioning_url="http://provision.lab.voip:8088/",
    servers=(Server("vm40ic1", "10.250.1.151"), Server("vm40ic2", "10.250.1.152")),
    provisioning_address="provision.lab.voip",
    tftp_server="10.250.1.151",
    voicemail_number="*86",
)


def lab_site(**changes: Any) -> Site:
    """The lab's site, with the fields a test needs changed."""
    return replace(LAB_SITE, **changes)


def bare_inventory(root: Path, site: Site = LAB_SITE, store: str | None = None) -> Inventory:
    """An inventory of one site and nothing else (renderers get their phones directly)."""
    empty: Any = MappingProxyType({})
    return Inventory(
        root=str(root),
        site=site,
        lines=empty,
        managed_proxies=empty,
        registration_groups=empty,
        locations=empty,
        templates=empty,
        defaults=empty,
        phones=(),
        firmware_store=store,
        firmware_pins=empty,
        digest="0" * 64,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (relative POSIX path: bytes), in sorted order."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
