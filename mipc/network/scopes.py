"""Each location's DHCP scope and the site-wide values the DHCP options take from the phones.

Takes the inventory and its phones' :class:`~mipc.network.facts.PhoneFacts`; gives the
:class:`mipc.network.checks.NetScope` of each location that lists ``networks`` (its time offset
and time servers, its VLAN, its provision proxy), the time settings of a location, and the
voice VLAN of a set of phones (option 132). Never imports render or release.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

from mipc.catalog.timezones import lookup
from mipc.model import Inventory, chain
from mipc.network.checks import NetScope
from mipc.network.facts import PhoneFacts
from mipc.resolve.resolver import DEFAULT_LOCATION

__all__ = ["location_scopes", "location_time", "proxy_url", "voice_vlan"]


def _setting(inv: Inventory, location: str, key: str) -> object:
    """``key`` as the location sets it, else its parents, else ``defaults:``; None if unset."""
    parents = {
        n: (loc.parent or (None if n == DEFAULT_LOCATION else DEFAULT_LOCATION))
        for n, loc in inv.locations.items()
    }
    for name in chain(location, parents):
        setting = inv.locations[name].layer.get(key)
        if setting is not None:
            return setting.value
    setting = inv.defaults.get(key)
    return setting.value if setting is not None else None


def location_time(
    inv: Inventory, location: str, phones: Sequence[PhoneFacts]
) -> tuple[int, tuple[str, ...]]:
    """(UTC offset in seconds, time servers) of ``location``: as its first phone resolved them,
    else from the location's settings (default UTC and the CIC servers)."""
    here = [p for p in phones if p.location == location]
    if here:
        return here[0].time
    zone = _setting(inv, location, "time_zone")
    offset = lookup(str(zone)).std_offset if zone is not None else 0
    sntp = _setting(inv, location, "sntp_server")
    if sntp is None or sntp == "ic-server":
        return offset, tuple(s.address for s in inv.site.servers)
    return offset, (str(sntp),)


def voice_vlan(phones: Sequence[PhoneFacts]) -> int | None:
    """The VLAN id most of the phones that read option 132 are given (ties: the lowest)."""
    ids = Counter(p.vlan for p in phones if p.vlan is not None)
    if not ids:
        return None
    return sorted(ids.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def proxy_url(provisioning_url: str, proxy: tuple[str, int]) -> str:
    """The provisioning URL with the proxy as its server (plain HTTP: the cache's listener)."""
    host, port = proxy
    return f"http://{host}:{port}{urlsplit(provisioning_url).path or '/'}"


def location_scopes(inv: Inventory, phones: Sequence[PhoneFacts]) -> tuple[NetScope, ...]:
    """The scope of each location that lists networks, in name order (``phones``: in name
    order)."""
    scopes: list[NetScope] = []
    web = urlsplit(inv.site.provisioning_url).scheme in ("http", "https")  # a proxy caches HTTP
    for name, loc in sorted(inv.locations.items()):
        if not loc.networks:
            continue
        offset, time_servers = location_time(inv, name, phones)
        here = [p for p in phones if p.location == name]
        vlan_value = _setting(inv, name, "options.vlan.id")
        vlan = voice_vlan(here) if here else None
        if vlan is None and isinstance(vlan_value, int):
            vlan = vlan_value
        scopes.append(
            NetScope(
                name=name,
                networks=loc.networks,
                ranges=loc.dhcp_ranges,
                time_offset=offset,
                time_servers=time_servers,
                voice_vlan=vlan,
                provisioning_url=(
                    proxy_url(inv.site.provisioning_url, loc.provision_proxy)
                    if loc.provision_proxy is not None and web
                    else None
                ),
            )
        )
    return tuple(scopes)
