"""The network plan and its checks: every inventory value that lands in a network file.

Takes a :class:`NetworkPlan` (filled from the inventory by :mod:`mipc.network.plan`); gives
:class:`Checked`, the plan validated and normalised, which the DHCP, DNS and nginx writers
take; a bad value raises :class:`ValueError` naming the field.
The value checks themselves are :mod:`mipc.network.values` (re-exported here).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from mipc.network.sip import SERVICES
from mipc.network.values import (
    HEADER,
    MAC,
    MODEL,
    all_macs,
    boot_file,
    bounded,
    colon_mac,
    comment_name,
    host_or_ip,
    hostile,
    hostname,
    ip,
    ipv4,
    port,
    relative_in_zone,
    text,
    u16,
    url,
    utc_offset,
)

__all__ = [
    "HEADER",
    "Checked",
    "CheckedScope",
    "NetPhone",
    "NetScope",
    "NetServer",
    "NetworkPlan",
    "check",
    "colon_mac",
    "host_or_ip",
    "hostile",
    "port",
    "text",
    "url",
]


@dataclass(frozen=True)
class NetServer:
    """A CIC server on the voice VLAN (one of a switchover pair), e.g. ``vm40ic1 10.250.1.151``.

    ``name`` is a host name relative to the voice domain (``vm40ic1``) or a fully qualified name
    inside it (``vm40ic1.lab.voip``).  ``priority``/``weight`` go into its SRV records; the guide
    leaves both at 0 for both servers (the resolver picks at random).
    """

    name: str
    address: str
    priority: int = 0
    weight: int = 0


class NetPhone(NamedTuple):
    """A phone as DHCP sees it (a named tuple: a plan holds 100,000s of them).

    ``mac`` is 12 lower-case hex digits without separators.  ``boot_file`` is the recovery
    firmware the guide hands out in option 67 (``sip100.img``, ``sip200.img``, ``405.img``,
    ``405hd.img``, ``420hd.img``, ``430hd.img``, ``440hd.img``); ``None`` for a phone whose
    family does not boot through option 67 (Polycom).  ``family`` is the vendor family, used
    in comments.
    """

    name: str
    mac: str
    boot_file: str | None
    family: str


@dataclass(frozen=True)
class NetScope:
    """The DHCP scope of one location: its networks, pools and the options that differ there.

    ``networks`` are IPv4 CIDRs (``10.2.0.0/24``), ``ranges`` pools ``FIRST-LAST`` inside them.
    ``time_offset`` (option 2, seconds east of UTC) and ``time_servers`` (42 or 4) are the
    location's; ``voice_vlan`` its option 132; ``provisioning_url`` its option 160 (the
    location's provision proxy), ``None`` for the site's.
    """

    name: str
    networks: tuple[str, ...]
    ranges: tuple[str, ...] = ()
    time_offset: int = 0
    time_servers: tuple[str, ...] = ()
    voice_vlan: int | None = None
    provisioning_url: str | None = None


@dataclass(frozen=True)
class NetworkPlan:
    """Everything the network files need, filled from the inventory by the compiler.

    ``provisioning_host_address`` is the address of the provisioning host name (the host of
    ``provisioning_url``); for a switchover pair the guide creates one A record per server under
    the same name, so a tuple of addresses is accepted too.  A SIP port of 0 leaves that SRV
    record out (the compiler sets a port only for a transport some phone uses with the site's
    servers); ``sip_preference`` are the transports the NAPTR records put first (the ones DNS
    SRV registrations chose); an empty ``tftp_server`` leaves option 66 out; ``voice_vlan``
    (option 132, for the native-VLAN scope that recovering phones boot in) is sent as a string,
    as the guide's table says (``vlan_encoding`` ``uint16`` or ``uint32`` sends an integer instead).
    ``scopes`` are the locations' DHCP scopes; ``time_server_option`` the option the time
    servers go in (42, NTP servers, or 4, time servers: the guide sets one, never both).
    ``nameserver`` is the zone's NS host; without it, the CIC server whose name sorts first.
    ``zone_serial`` overrides the SOA serial that follows OUT's releases
    (:mod:`mipc.network.serials`).
    """

    domain: str
    provisioning_url: str
    servers: tuple[NetServer, ...]
    sip_port_udp: int
    sip_port_tcp: int
    sip_port_tls: int
    time_offset: int
    time_servers: tuple[str, ...]
    tftp_server: str
    provisioning_host_address: str | tuple[str, ...]
    phones: tuple[NetPhone, ...]
    default_boot_file: str | None
    dns_servers: tuple[str, ...] = ()
    voice_vlan: int | None = None
    nameserver: NetServer | None = None
    zone_serial: int | None = None
    scopes: tuple[NetScope, ...] = ()
    vlan_encoding: str = "string"
    time_server_option: int = 42
    sip_preference: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckedScope:
    """A scope after validation: networks, pools ``(network, first, last)``, options."""

    name: str
    networks: tuple[ipaddress.IPv4Network, ...]
    ranges: tuple[tuple[ipaddress.IPv4Network, str, str], ...]
    time_offset: int
    time_servers: tuple[str, ...]
    vlan: int | None
    url: str | None


@dataclass(frozen=True)
class Checked:
    """The plan after validation, normalised."""

    domain: str
    url: str
    prov_host: str
    servers: tuple[tuple[str, str, int, int], ...]  # (relative name, address, priority, weight)
    ports: tuple[tuple[str, int], ...]  # (service owner, port)
    naptr: tuple[tuple[str, str], ...]  # (NAPTR service, SRV owner), most preferred first
    time_offset: int
    time_servers: tuple[str, ...]
    dns_servers: tuple[str, ...]
    tftp: str
    prov_addresses: tuple[str, ...]
    phones: tuple[tuple[str, str, str, str], ...]  # (mac, name, family, boot file) with a file
    classes: tuple[tuple[str, str], ...]  # (vendor class, boot file)
    default_boot: str | None
    vlan: int | None
    ns: tuple[str, str | None]  # (relative or absolute NS name, address to add or None)
    serial: int | None
    scopes: tuple[CheckedScope, ...] = ()
    vlan_encoding: str = "string"
    time_option: int = 42  # the DHCP option of the time servers: 42 (NTP) or 4

    @property
    def uses_vlan(self) -> bool:
        """Whether option 132 is sent anywhere (globally or in a scope)."""
        return self.vlan is not None or any(s.vlan is not None for s in self.scopes)


def _servers(plan: NetworkPlan, domain: str) -> tuple[tuple[str, str, int, int], ...]:
    if not plan.servers:
        raise ValueError("servers: at least one CIC server is needed")
    servers: list[tuple[str, str, int, int]] = []
    for i, srv in enumerate(plan.servers):
        rel = relative_in_zone(f"servers[{i}].name", srv.name, domain)
        if rel == "@" or "." in rel:
            raise ValueError(
                f"servers[{i}].name {srv.name!r}: a host name in {domain} "
                f"(a single label such as vm40ic1, or vm40ic1.{domain})"
            )
        addr = str(ip(f"servers[{i}].address", srv.address))
        servers.append(
            (rel, addr, u16(f"servers[{i}].priority", srv.priority), u16("weight", srv.weight))
        )
    names = [s[0] for s in servers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"servers: name {dup[0]!r} given twice")
    return tuple(servers)


def _ports(
    plan: NetworkPlan,
) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, str], ...]]:
    """The SRV owners with their ports, and the NAPTR records' (service, owner) in order: the
    preferred transports first, then the others, each most secure first."""
    given = {"tls": plan.sip_port_tls, "tcp": plan.sip_port_tcp, "udp": plan.sip_port_udp}
    unknown = sorted(set(plan.sip_preference) - set(SERVICES))
    if unknown:
        raise ValueError(f"sip_preference {unknown[0]!r}: one of {', '.join(SERVICES)}")
    ports: list[tuple[str, int]] = []
    naptr: list[tuple[int, int, str, str]] = []
    for rank, (transport, (owner, service)) in enumerate(SERVICES.items()):
        if port(f"sip_port_{transport}", given[transport], allow_zero=True):
            ports.append((owner, given[transport]))
            naptr.append((int(transport not in plan.sip_preference), rank, service, owner))
    return tuple(ports), tuple((service, owner) for *_, service, owner in sorted(naptr))


def _phones_fine(plan: NetworkPlan) -> bool:
    """Whether :func:`_phones_checked` would find nothing wrong, tested a whole plan at a
    time (at 100k phones, a twentieth of the time); False: let it say what."""
    phones = plan.phones
    if not phones:
        return True
    names = [ph.name for ph in phones]
    try:
        names_fine = all(names) and "".join(names).isprintable()
    except TypeError:  # a value that is no text
        return False
    if not (names_fine and max(map(len, names)) <= 128 and all_macs(ph.mac for ph in phones)):
        return False
    if len({ph.mac for ph in phones}) != len(phones):
        return False
    try:
        for family, boot in {(ph.family, ph.boot_file) for ph in phones}:
            hostile("phones[].family", family)
            if boot is not None:
                boot_file("phones[].boot_file", boot)
    except ValueError:
        return False
    return True


def _phones(plan: NetworkPlan) -> tuple[tuple[str, str, str, str], ...]:
    """The phones with a boot file, as (mac, name, family, boot file), sorted; a ValueError
    names the first bad phone."""
    if not _phones_fine(plan):
        return _phones_checked(plan)
    booting = ((p.mac, p.name, p.family, p.boot_file) for p in plan.phones)
    return tuple(sorted((m, n, f, b) for m, n, f, b in booting if b is not None))


def _phones_checked(plan: NetworkPlan) -> tuple[tuple[str, str, str, str], ...]:
    phones: list[tuple[str, str, str, str]] = []
    seen: dict[str, str] = {}
    checked: set[tuple[str, str | None]] = set()  # (family, boot file) pairs, few of them
    for i, ph in enumerate(plan.phones):
        if not isinstance(ph.mac, str) or not MAC.fullmatch(ph.mac):
            raise ValueError(
                f"phones[{i}].mac {ph.mac!r}: 12 lower-case hex digits without separators"
            )
        pname = comment_name(f"phones[{i}].name", ph.name)
        if (ph.family, ph.boot_file) not in checked:
            hostile(f"phones[{i}].family", ph.family)
            if ph.boot_file is not None:
                boot_file(f"phones[{i}].boot_file", ph.boot_file)
            checked.add((ph.family, ph.boot_file))
        if ph.mac in seen:
            raise ValueError(f"phones: MAC {ph.mac} used by both {seen[ph.mac]!r} and {pname!r}")
        seen[ph.mac] = pname
        if ph.boot_file is not None:
            phones.append((ph.mac, pname, ph.family, ph.boot_file))
    return tuple(sorted(phones))


def _classes(phones: tuple[tuple[str, str, str, str], ...]) -> tuple[tuple[str, str], ...]:
    """One vendor class per model: the boot file most phones of that model use."""
    boots = Counter(boot for *_, boot in phones)
    per_model: dict[str, Counter[str]] = {}
    for boot, n in sorted(boots.items()):
        m = MODEL.match(boot)
        if m:
            per_model.setdefault(m.group(1).upper(), Counter())[boot] += n
    return tuple(
        (model, sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])
        for model, count in sorted(per_model.items())
    )


def _nameserver(
    plan: NetworkPlan, domain: str, servers: tuple[tuple[str, str, int, int], ...]
) -> tuple[str, str | None]:
    if plan.nameserver is None:
        return (min(s[0] for s in servers), None)
    ns_name = hostname("nameserver.name", plan.nameserver.name)
    if ns_name == domain or ns_name.endswith("." + domain) or "." not in ns_name:
        ns_rel = relative_in_zone("nameserver.name", ns_name, domain)
        return (ns_rel, str(ip("nameserver.address", plan.nameserver.address)))
    return (ns_name + ".", None)


def _domain(plan: NetworkPlan) -> str:
    domain = hostname("domain", plan.domain)
    if "." not in domain:
        raise ValueError(f"domain {plan.domain!r}: use a dotted voice domain such as lab.voip")
    return domain


def _network(what: str, value: str) -> ipaddress.IPv4Network:
    hostile(what, value)
    try:
        return ipaddress.IPv4Network(value)
    except ValueError as err:
        raise ValueError(f"{what} {value!r}: not an IPv4 network in CIDR form ({err})") from None


def _range(
    what: str, value: str, nets: tuple[ipaddress.IPv4Network, ...]
) -> tuple[ipaddress.IPv4Network, str, str]:
    first, sep, last = value.partition("-")
    if not sep:
        raise ValueError(f"{what} {value!r}: a pool is FIRST-LAST")
    low, high = ipaddress.IPv4Address(ipv4(what, first)), ipaddress.IPv4Address(ipv4(what, last))
    inside = [n for n in nets if low in n and high in n]
    if low > high or not inside:
        raise ValueError(f"{what} {value!r}: FIRST-LAST, ascending, inside one of the networks")
    return inside[0], str(low), str(high)


def _scope(i: int, s: NetScope) -> CheckedScope:
    what = f"scopes[{i}]"
    nets = tuple(_network(f"{what}.networks", n) for n in s.networks)
    if not nets:
        raise ValueError(f"{what} ({s.name!r}): at least one network")
    url_ = s.provisioning_url
    if url_ is not None:
        url(f"{what}.provisioning_url", url_, ("http", "https", "ftp", "tftp"))
    return CheckedScope(
        name=comment_name(f"{what}.name", s.name),
        networks=nets,
        ranges=tuple(_range(f"{what}.ranges", r, nets) for r in s.ranges),
        time_offset=utc_offset(f"{what}.time_offset", s.time_offset),
        time_servers=tuple(ipv4(f"{what}.time_servers", t) for t in s.time_servers),
        vlan=bounded(f"{what}.voice_vlan", s.voice_vlan, 1, 4094, "a VLAN id, 1-4094"),
        url=url_,
    )


def _scopes(plan: NetworkPlan) -> tuple[CheckedScope, ...]:
    scopes = tuple(_scope(i, s) for i, s in enumerate(plan.scopes))
    seen: list[tuple[ipaddress.IPv4Network, str]] = []
    for s in scopes:
        for net in s.networks:
            for other, owner in seen:
                if net.overlaps(other):
                    raise ValueError(f"scopes: {net} ({s.name}) overlaps {other} ({owner})")
            seen.append((net, s.name))
    if plan.vlan_encoding not in ("string", "uint16", "uint32"):
        raise ValueError(f"vlan_encoding {plan.vlan_encoding!r}: string, uint16 or uint32")
    if plan.time_server_option not in (4, 42):
        raise ValueError(f"time_server_option {plan.time_server_option!r}: 4 or 42")
    return scopes


def check(plan: NetworkPlan) -> Checked:
    """The plan validated and normalised; a ValueError names the first bad field."""
    domain = _domain(plan)
    _scheme, prov_host, _uport = url(
        "provisioning_url", plan.provisioning_url, ("http", "https", "ftp", "tftp")
    )
    servers = _servers(plan, domain)
    ports, naptr = _ports(plan)
    offset = utc_offset("time_offset", plan.time_offset)
    time_servers = tuple(ipv4("time_servers", t) for t in plan.time_servers)
    dns_servers = tuple(ipv4("dns_servers", t) for t in plan.dns_servers)
    tftp = host_or_ip("tftp_server", plan.tftp_server) if plan.tftp_server else ""
    raw_prov = plan.provisioning_host_address
    prov_list = (raw_prov,) if isinstance(raw_prov, str) else tuple(raw_prov)
    prov_addresses = tuple(
        sorted({str(ip("provisioning_host_address", a)) for a in prov_list if a})
    )
    phones = _phones(plan)
    default_boot = (
        boot_file("default_boot_file", plan.default_boot_file)
        if plan.default_boot_file is not None
        else None
    )
    vlan = bounded("voice_vlan", plan.voice_vlan, 1, 4094, "a VLAN id between 1 and 4094")
    ns = _nameserver(plan, domain, servers)
    serial = bounded("zone_serial", plan.zone_serial, 1, 2**32 - 1, "between 1 and 4294967295")
    return Checked(
        domain=domain,
        url=plan.provisioning_url,
        prov_host=prov_host,
        servers=servers,
        ports=ports,
        naptr=naptr,
        time_offset=offset,
        time_servers=time_servers,
        dns_servers=dns_servers,
        tftp=tftp,
        prov_addresses=prov_addresses,
        phones=phones,
        classes=_classes(phones),
        default_boot=default_boot,
        vlan=vlan,
        ns=ns,
        serial=serial,
        scopes=_scopes(plan),
        vlan_encoding=plan.vlan_encoding,
        time_option=plan.time_server_option,
    )
