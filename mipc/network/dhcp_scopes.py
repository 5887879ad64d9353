"""The locations' DHCP scopes, and option 132 (VLAN id) in the encoding the site chose.

Takes a :class:`mipc.network.checks.Checked` plan; gives the per-location parts of
``dhcpd.conf`` (``subnet`` blocks), ``kea-dhcp4.json`` (``subnet4`` entries) and
``dnsmasq.conf`` (tagged ``dhcp-range`` and ``dhcp-option`` lines): each scope's pools and its
options 2 (time offset), 42 or 4 (time servers), 132 (VLAN) and 160 (its provision proxy). A scope
option beats the global one in all three servers; Kea's subnet options also beat its client
classes, which is why option 67 is never set here. Never imports render or release.
"""

from __future__ import annotations

from typing import Any

from mipc.network.checks import Checked, CheckedScope

__all__ = [
    "dhcpd_scopes",
    "dhcpd_vlan_def",
    "dhcpd_vlan_value",
    "dnsmasq_scopes",
    "dnsmasq_vlan_value",
    "kea_subnets",
    "kea_vlan_type",
    "time_servers_option",
]

_DHCPD_TYPES = {"string": "text", "uint16": "unsigned integer 16", "uint32": "unsigned integer 32"}


def dhcpd_vlan_def(c: Checked) -> str:
    """The dhcpd definition of option 132 in the chosen encoding."""
    return f"option mipc-voice-vlan code 132 = {_DHCPD_TYPES[c.vlan_encoding]};"


def dhcpd_vlan_value(c: Checked, vlan: int) -> str:
    """Option 132's value as dhcpd writes it: quoted for a string, bare for an integer."""
    return f'"{vlan}"' if c.vlan_encoding == "string" else str(vlan)


def kea_vlan_type(c: Checked) -> str:
    """Kea's option-def type of option 132."""
    return c.vlan_encoding


def dnsmasq_vlan_value(c: Checked, vlan: int) -> str:
    """Option 132's value for dnsmasq: a quoted string, or the integer's bytes in hex."""
    if c.vlan_encoding == "string":
        return f'"{vlan}"'
    size = 2 if c.vlan_encoding == "uint16" else 4
    return ":".join(f"{b:02x}" for b in vlan.to_bytes(size, "big"))


#: The option carrying the time servers (``site.time_server_option``) in each dialect:
#: dhcpd, Kea, dnsmasq (dnsmasq 2.90 rejects ``option:time-server``; reference §1).
_TIME_SERVER_NAMES = {
    42: ("ntp-servers", "ntp-servers", "option:ntp-server"),
    4: ("time-servers", "time-servers", "4"),
}


def time_servers_option(c: Checked, dialect: int) -> str:
    """The name of the time servers' option in ``dialect`` (0 dhcpd, 1 Kea, 2 dnsmasq)."""
    return _TIME_SERVER_NAMES[c.time_option][dialect]


def _tag(index: int) -> str:
    return f"mipc-scope{index + 1}"


def _options(scope: CheckedScope) -> list[tuple[str, Any]]:
    """The scope's options that are set, as (kind, value): time, ntp, vlan, url."""
    kinds = (
        ("time", scope.time_offset),
        ("ntp", scope.time_servers or None),
        ("vlan", scope.vlan),
        ("url", scope.url),
    )
    return [(kind, value) for kind, value in kinds if value is not None]


#: Each option's line, for dhcpd and for dnsmasq (TAG is the scope's tag).
_FORMATS = {
    "time": ("option time-offset {};", "dhcp-option=TAG,2,{}"),
    "ntp": ("option NAME {};", "dhcp-option=TAG,NAME,{}"),
    "vlan": ("option mipc-voice-vlan {};", "dhcp-option-force=TAG,132,{}"),
    "url": ('option mipc-provisioning-url "{}";', 'dhcp-option-force=TAG,160,"{}"'),
}


def _line(c: Checked, dialect: int, kind: str, value: Any) -> str:
    """The option's line in ``dialect`` (0 dhcpd, 1 dnsmasq)."""
    form = _FORMATS[kind][dialect]
    if kind == "ntp":
        value = (", ", ",")[dialect].join(value)
        form = form.replace("NAME", time_servers_option(c, 2 * dialect))
    elif kind == "vlan":
        value = (dhcpd_vlan_value, dnsmasq_vlan_value)[dialect](c, value)
    return form.format(value)


def dhcpd_scopes(c: Checked) -> list[str]:
    """One ``subnet`` block per network of each location, with its pools and options."""
    out: list[str] = []
    for scope in c.scopes:
        out += ["", f"# Location {scope.name}: its own time offset, time servers, VLAN, proxy."]
        for net in scope.networks:
            out.append(f"subnet {net.network_address} netmask {net.netmask} {{")
            out.append("  # EDIT: add `option routers <gateway>;` for this network.")
            out += [f"  range {a} {b};" for pn, a, b in scope.ranges if pn == net]
            out += [f"  {_line(c, 0, kind, value)}" for kind, value in _options(scope)]
            out.append("}")
    return out


_KEA_NAMES = {
    "time": "time-offset",
    "vlan": "mipc-voice-vlan",
    "url": "mipc-provisioning-url",
}


def _kea_option(c: Checked, kind: str, value: Any) -> dict[str, Any]:
    if kind == "ntp":
        return {"name": time_servers_option(c, 1), "data": ", ".join(value)}
    option: dict[str, Any] = {"name": _KEA_NAMES[kind], "data": str(value)}
    if kind in ("vlan", "url"):
        option["always-send"] = True  # not in the phone's option 55 list
    return option


def kea_subnets(c: Checked) -> list[dict[str, Any]]:
    """One ``subnet4`` entry per network of each location (ids numbered from 1, in order)."""
    subnets: list[dict[str, Any]] = []
    for scope in c.scopes:
        data = [_kea_option(c, kind, value) for kind, value in _options(scope)]
        for net in scope.networks:
            pools = [{"pool": f"{a} - {b}"} for pn, a, b in scope.ranges if pn == net]
            subnets.append(
                {
                    "id": len(subnets) + 1,
                    "subnet": str(net),
                    "pools": pools,
                    "option-data": data,
                    "user-context": {"location": scope.name},
                }
            )
    return subnets


def dnsmasq_scopes(c: Checked) -> list[str]:
    """A tag per location, set by its ranges (or its networks, for reservations only)."""
    out: list[str] = []
    for index, scope in enumerate(c.scopes):
        tag = _tag(index)
        out += ["", f"# Location {scope.name}"]
        for net in scope.networks:
            pools = [(a, b) for pn, a, b in scope.ranges if pn == net]
            out += [f"dhcp-range=set:{tag},{a},{b},{net.netmask},12h" for a, b in pools]
            if not pools:
                out.append(f"dhcp-range=set:{tag},{net.network_address},static,{net.netmask}")
        out += [
            _line(c, 1, kind, value).replace("=TAG,", f"=tag:{tag},", 1)
            for kind, value in _options(scope)
        ]
    return out
