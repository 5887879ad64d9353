"""The voice DNS zone (BIND) and the ``named.conf`` snippet that loads it.

Takes a :class:`mipc.network.checks.Checked` plan; gives ``<domain>.zone`` (A records for the
CIC servers and the shared provisioning name of a switchover pair, SRV records ``_sip._udp``,
``_sip._tcp``, ``_sips._tcp``, each only for a transport the phones use, and the NAPTR
records naming them in the order of preference), one reverse zone per /24 of the servers'
IPv4 addresses (``<c>.<b>.<a>.in-addr.arpa.zone``, their PTR records) and
``named.conf.snippet`` as bytes. Never imports render or release.
"""

from __future__ import annotations

import ipaddress

from mipc.network.checks import HEADER, Checked, text
from mipc.network.serials import PriorZones, next_serial

__all__ = [
    "fqdn",
    "naptr_records",
    "prov_owner",
    "render_named_snippet",
    "render_reverse_zones",
    "render_zone",
]


def fqdn(rel: str, domain: str) -> str:
    """A relative owner name (``@`` for the apex) as a name in ``domain``."""
    return domain if rel == "@" else f"{rel}.{domain}"


def prov_owner(c: Checked) -> str | None:
    """Owner name of the provisioning A records, or None when the host is not in the zone."""
    host = c.prov_host
    if not c.prov_addresses:
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if host == c.domain:
        return "@"
    if host.endswith("." + c.domain):
        return host[: -len(c.domain) - 1]
    return None


def _rr_type(address: str) -> str:
    return "AAAA" if ipaddress.ip_address(address).version == 6 else "A"


def render_zone(c: Checked, prior: PriorZones | None = None) -> bytes:
    """``<domain>.zone``: NS, the servers' and provisioning host's addresses, SIP SRV and
    NAPTR records; its serial follows ``prior`` (:mod:`mipc.network.serials`)."""
    prov = prov_owner(c)
    server_names = {s[0] for s in c.servers}
    if prov is not None and prov in server_names:
        raise ValueError(
            f"provisioning host {c.prov_host!r} is also a CIC server name; the guide: "
            "'Do not use the name of either CIC server'"
        )
    ns_name, ns_addr = c.ns
    body = [
        "",
        f"@ IN NS {ns_name}",
        "",
        "; CIC servers on the voice VLAN",
    ]
    addresses: list[tuple[str, str]] = [(rel, addr) for rel, addr, _p, _w in c.servers]
    if ns_addr is not None and ns_name not in server_names:
        addresses.append((ns_name, ns_addr))
    for rel, addr in sorted(addresses):
        body.append(f"{rel} IN {_rr_type(addr)} {addr}")
    if prov is not None:
        body += ["", "; provisioning host: one record per server of a switchover pair"]
        for addr in c.prov_addresses:
            body.append(f"{prov} IN {_rr_type(addr)} {addr}")
    if c.ports:
        body += ["", "; SIP service records for switchover: priority weight port target"]
        for owner, port in sorted(c.ports):
            for rel, _addr, prio, weight in sorted(c.servers):
                body.append(f"{owner} IN SRV {prio} {weight} {port} {fqdn(rel, c.domain)}.")
        body += _naptr(c)
    return _zone(c, c.domain, body, prior)


def naptr_records(c: Checked) -> list[tuple[int, str, str]]:
    """The domain's NAPTR records as (order, service, replacement), lowest order first."""
    return [
        (10 * (i + 1), service, f"{owner}.{c.domain}.")
        for i, (service, owner) in enumerate(c.naptr)
    ]


def _naptr(c: Checked) -> list[str]:
    """The NAPTR records leading a phone set to DNSnaptr to the SRV records above."""
    out = [
        "",
        "; NAPTR (RFC 3263 4.1): order preference flags service regexp replacement; a phone",
        "; that discovers the transport (Polycom DNSnaptr) takes the lowest order it supports.",
    ]
    for order, service, replacement in naptr_records(c):
        out.append(f'@ IN NAPTR {order} 0 "S" "{service}" "" {replacement}')
    return out


def _zone(c: Checked, origin: str, body: list[str], prior: PriorZones | None) -> bytes:
    """The zone file: header, SOA and ``body``; the serial the inventory's, else the one
    :func:`mipc.network.serials.next_serial` gives."""
    serial = c.serial
    if serial is None:
        serial = next_serial(prior or PriorZones(), f"{origin}.zone", _head(c, origin, 0) + body)
    return text(_head(c, origin, serial) + body)


def _head(c: Checked, origin: str, serial: int) -> list[str]:
    """The zone's header and SOA."""
    ns_name, _addr = c.ns
    ns = ns_name if ns_name.endswith(".") else fqdn(ns_name, c.domain) + "."
    return [
        f"; {HEADER}",
        f"; BIND zone {origin}.  The SOA serial stays the current release's while the records",
        "; do, and is one more than the highest of OUT's releases when they change",
        "; (site.zone_serial overrides it).",
        f"$ORIGIN {origin}.",
        "$TTL 3600",
        f"@ IN SOA {ns} hostmaster.{c.domain}. ( {serial} 3600 900 1209600 300 )",
    ]


def reverse_origins(c: Checked) -> list[str]:
    """The reverse zones (``<c>.<b>.<a>.in-addr.arpa``) of the servers' IPv4 addresses."""
    return sorted({reverse_origins_of(a) for _r, a, _p, _w in c.servers if "." in a})


def render_reverse_zones(c: Checked, prior: PriorZones | None = None) -> dict[str, bytes]:
    """``<origin>.zone`` for each reverse zone: NS and a PTR record per server there."""
    ns_name, _addr = c.ns
    ns = ns_name if ns_name.endswith(".") else fqdn(ns_name, c.domain) + "."
    zones: dict[str, bytes] = {}
    for origin in reverse_origins(c):
        body = ["", f"@ IN NS {ns}", "", "; CIC servers"]
        for rel, addr, _p, _w in sorted(c.servers, key=lambda s: s[1]):
            if "." in addr and origin == reverse_origins_of(addr):
                body.append(f"{addr.rsplit('.', 1)[1]} IN PTR {fqdn(rel, c.domain)}.")
        zones[f"{origin}.zone"] = _zone(c, origin, body, prior)
    return zones


def reverse_origins_of(address: str) -> str:
    """The reverse zone (a /24) that holds ``address``'s PTR record."""
    return ".".join(reversed(address.split(".")[:3])) + ".in-addr.arpa"


def render_named_snippet(c: Checked) -> bytes:
    """``named.conf.snippet``: the zone statement for ``<domain>.zone``."""
    out = [
        f"// {HEADER}",
        "// Add to named.conf (Debian: named.conf.local); copy the zone files to the paths below.",
    ]
    for origin in [c.domain, *reverse_origins(c)]:
        out += [
            f'zone "{origin}" {{',
            "    type primary;",
            f'    file "/etc/bind/{origin}.zone";',
            "    allow-update { none; };",
            "};",
        ]
    return text(out)
