"""Network boot services for managed IP phones: DHCP, DNS and nginx configuration.

The CIC Managed IP Phones guide asks the administrator to set up, by hand, the services a phone
needs before it can fetch a single file: DHCP options (160 provisioning URL, 66/67 TFTP server
and recovery firmware per vendor class, 2 time offset, 42 NTP servers, 15 domain, optionally
6 DNS servers and 132 VLAN), a voice DNS zone (A records for the CIC servers and the shared
"provision" name of a switchover pair, SRV records ``_sip._udp``, ``_sip._tcp``, ``_sips._tcp``)
and the web server phones fetch from and upload to.  This module renders those files from a
:class:`NetworkPlan`:

* :func:`render_network` gives ``dhcpd.conf`` (ISC dhcpd 4.4), ``kea-dhcp4.json`` (Kea 2.x),
  ``dnsmasq.conf`` (dnsmasq 2.90), ``<domain>.zone`` (BIND) and ``named.conf.snippet``.
* :func:`render_nginx` gives the nginx site (a file for ``sites-enabled``, included at http
  level) that serves the release's ``www`` tree read-only and accepts the phones' uploads.
* :func:`render_nginx_cache` gives the site for a remote-site cache in front of the central one.

Every function is pure and deterministic: same input, same bytes (UTF-8, LF, sorted, no
timestamps).  Every inventory value that lands in a file is validated first; a value that could
break out of its quoting (whitespace, quotes, ``;``, ``{``, ``}``, newlines, ...) raises
:class:`ValueError` naming the field.  Facts about the tools (option names, precedence, pitfalls)
come from ``reference/network.md``, where each was checked against the real daemons.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "NetPhone",
    "NetServer",
    "NetworkPlan",
    "render_network",
    "render_nginx",
    "render_nginx_cache",
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


@dataclass(frozen=True)
class NetPhone:
    """A phone as DHCP sees it.

    ``mac`` is 12 lower-case hex digits without separators.  ``boot_file`` is the recovery
    firmware the guide hands out in option 67 (``sip100.img``, ``sip200.img``, ``405.img``,
    ``405hd.img``, ``420hd.img``, ``430hd.img``, ``440hd.img``); ``None`` for Polycom phones,
    which do not use option 67.  ``family`` is the vendor family, used in comments.
    """

    name: str
    mac: str
    boot_file: str | None
    family: str


@dataclass(frozen=True)
class NetworkPlan:
    """Everything the network files need, filled from the inventory by the compiler.

    ``provisioning_host_address`` is the address of the provisioning host name (the host of
    ``provisioning_url``); for a switchover pair the guide creates one A record per server under
    the same name, so a tuple of addresses is accepted too.  A SIP port of 0 leaves that SRV
    record out; an empty ``tftp_server`` leaves option 66 out; ``voice_vlan`` (option 132, for
    the native-VLAN scope that recovering phones boot in) is sent as a string, as the guide's
    table says.  ``nameserver`` is the zone's NS host; without it, the CIC server whose name
    sorts first.
    ``zone_serial`` overrides the content-derived SOA serial (needed with secondary servers,
    which only transfer a zone whose serial increased).
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


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_MAC = re.compile(r"^[0-9a-f]{12}$")
_BOOT_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
# Characters that could end a quoted string or a statement in one of the output dialects.
_HOSTILE = re.compile(r"[\s\"'`;{}\\#$,]|[\x00-\x1f\x7f]")
# Model part of a recovery image name: sip100.img -> SIP100, 420hd.img -> 420HD.
_MODEL = re.compile(r"^(sip\d{3}|\d{3}(?:hd)?)(?![a-z0-9])", re.IGNORECASE)


def _hostile(what: str, value: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{what}: must not be empty")
    bad = _HOSTILE.search(value)
    if bad:
        raise ValueError(
            f"{what} {value!r}: character {bad.group()!r} is not allowed "
            "(no whitespace, quotes, backslash, ';', '{', '}', '#', '$', ',' or control characters)"
        )
    if not value.isascii():
        raise ValueError(f"{what} {value!r}: only ASCII is allowed")


def _hostname(what: str, value: str) -> str:
    """A DNS name of LDH labels (a trailing dot is dropped); returned in lower case."""
    _hostile(what, value)
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            f"{what} {value!r}: not a valid host name "
            "(dot-separated labels of letters, digits and inner hyphens)"
        )
    return name.lower()


def _ipv4(what: str, value: str) -> str:
    _hostile(what, value)
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"{what} {value!r}: not an IPv4 address") from None


def _ip(what: str, value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    _hostile(what, value)
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{what} {value!r}: not an IP address") from None


def _host_or_ip(what: str, value: str) -> str:
    _hostile(what, value)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return _hostname(what, value)


def _port(what: str, value: int, *, allow_zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what}: expected an integer port, got {value!r}")
    low = 0 if allow_zero else 1
    if not low <= value <= 65535:
        raise ValueError(f"{what} {value}: must be between {low} and 65535")
    return value


def _u16(what: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
        raise ValueError(f"{what} {value!r}: must be an integer between 0 and 65535")
    return value


def _url(what: str, value: str, schemes: tuple[str, ...]) -> tuple[str, str, int | None]:
    """Check a URL; return (scheme, host, port).  ';' is allowed (AudioCodes '<img>;<cfg>')."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what}: must be a non-empty string")
    bad = re.search(r"[\s\"'`{}\\#$,<>^|]|[\x00-\x1f\x7f]", value)
    if bad or not value.isascii():
        shown = bad.group() if bad else "non-ASCII"
        raise ValueError(f"{what} {value!r}: character {shown!r} is not allowed in the URL")
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError(f"{what} {value!r}: scheme must be one of {', '.join(schemes)}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} {value!r}: credentials do not belong in the URL")
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"{what} {value!r}: no host")
    host = _host_or_ip(f"{what} host", host)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{what} {value!r}: bad port") from None
    return parts.scheme, host, port


def _name(what: str, value: str) -> str:
    """A free-form name (a phone name) that appears in comments only.

    Inside a comment only a line break (or another control character) could do harm, so
    spaces, quotes and punctuation that phone names really hold are fine.
    """
    if not value or not value.isprintable():
        raise ValueError(f"{what} {value!r}: empty, or holds control characters")
    if len(value) > 128:
        raise ValueError(f"{what} {value!r}: longer than 128 characters")
    return value


def _boot_file(what: str, value: str) -> str:
    _hostile(what, value)
    if not _BOOT_FILE.match(value) or ".." in value:
        raise ValueError(
            f"{what} {value!r}: a boot file is a plain file name "
            "(letters, digits, '.', '_', '+', '-'; no path)"
        )
    return value


def _relative_in_zone(what: str, value: str, domain: str) -> str:
    """A name inside the zone, as a relative owner name (``@`` for the apex)."""
    name = _hostname(what, value)
    if name == domain:
        return "@"
    if name.endswith("." + domain):
        return name[: -len(domain) - 1]
    return name


@dataclass(frozen=True)
class _Checked:
    """The plan after validation, normalised."""

    domain: str
    url: str
    prov_host: str
    servers: tuple[tuple[str, str, int, int], ...]  # (relative name, address, priority, weight)
    ports: tuple[tuple[str, int], ...]  # (service owner, port)
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


def _check(plan: NetworkPlan) -> _Checked:
    domain = _hostname("domain", plan.domain)
    if "." not in domain:
        raise ValueError(f"domain {plan.domain!r}: use a dotted voice domain such as lab.voip")
    url = plan.provisioning_url
    _scheme, prov_host, _uport = _url("provisioning_url", url, ("http", "https", "ftp", "tftp"))

    if not plan.servers:
        raise ValueError("servers: at least one CIC server is needed")
    servers: list[tuple[str, str, int, int]] = []
    for i, srv in enumerate(plan.servers):
        rel = _relative_in_zone(f"servers[{i}].name", srv.name, domain)
        if rel == "@" or "." in rel:
            raise ValueError(
                f"servers[{i}].name {srv.name!r}: a host name in {domain} "
                f"(a single label such as vm40ic1, or vm40ic1.{domain})"
            )
        addr = str(_ip(f"servers[{i}].address", srv.address))
        servers.append(
            (rel, addr, _u16(f"servers[{i}].priority", srv.priority), _u16("weight", srv.weight))
        )
    names = [s[0] for s in servers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"servers: name {dup[0]!r} given twice")

    ports: list[tuple[str, int]] = []
    for owner, field, value in (
        ("_sip._udp", "sip_port_udp", plan.sip_port_udp),
        ("_sip._tcp", "sip_port_tcp", plan.sip_port_tcp),
        ("_sips._tcp", "sip_port_tls", plan.sip_port_tls),
    ):
        if _port(field, value, allow_zero=True):
            ports.append((owner, value))

    offset = plan.time_offset
    if not isinstance(offset, int) or isinstance(offset, bool) or not -86400 <= offset <= 86400:
        raise ValueError(f"time_offset {offset!r}: seconds east of UTC, within ±86400")

    time_servers = tuple(_ipv4("time_servers", t) for t in plan.time_servers)
    dns_servers = tuple(_ipv4("dns_servers", t) for t in plan.dns_servers)
    tftp = _host_or_ip("tftp_server", plan.tftp_server) if plan.tftp_server else ""

    raw_prov = plan.provisioning_host_address
    prov_list = (raw_prov,) if isinstance(raw_prov, str) else tuple(raw_prov)
    prov_addresses = tuple(
        sorted({str(_ip("provisioning_host_address", a)) for a in prov_list if a})
    )

    phones: list[tuple[str, str, str, str]] = []
    seen: dict[str, str] = {}
    for i, ph in enumerate(plan.phones):
        if not isinstance(ph.mac, str) or not _MAC.match(ph.mac):
            raise ValueError(
                f"phones[{i}].mac {ph.mac!r}: 12 lower-case hex digits without separators"
            )
        pname = _name(f"phones[{i}].name", ph.name)
        _hostile(f"phones[{i}].family", ph.family)
        family = ph.family
        if ph.mac in seen:
            raise ValueError(f"phones: MAC {ph.mac} used by both {seen[ph.mac]!r} and {pname!r}")
        seen[ph.mac] = pname
        if ph.boot_file is not None:
            phones.append(
                (ph.mac, pname, family, _boot_file(f"phones[{i}].boot_file", ph.boot_file))
            )
    phones.sort()

    default_boot = (
        _boot_file("default_boot_file", plan.default_boot_file)
        if plan.default_boot_file is not None
        else None
    )

    # One vendor class per model: the boot file most phones of that model use.
    per_model: dict[str, Counter[str]] = {}
    for _mac, _pn, _fam, boot in phones:
        m = _MODEL.match(boot)
        if m:
            per_model.setdefault(m.group(1).upper(), Counter())[boot] += 1
    classes = tuple(
        (model, sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))[0][0])
        for model, count in sorted(per_model.items())
    )

    vlan = plan.voice_vlan
    if vlan is not None and (
        not isinstance(vlan, int) or isinstance(vlan, bool) or not 1 <= vlan <= 4094
    ):
        raise ValueError(f"voice_vlan {vlan!r}: a VLAN id between 1 and 4094")

    if plan.nameserver is not None:
        ns_name = _hostname("nameserver.name", plan.nameserver.name)
        if ns_name == domain or ns_name.endswith("." + domain) or "." not in ns_name:
            ns_rel = _relative_in_zone("nameserver.name", ns_name, domain)
            ns: tuple[str, str | None] = (
                ns_rel,
                str(_ip("nameserver.address", plan.nameserver.address)),
            )
        else:
            ns = (ns_name + ".", None)
    else:
        ns = (min(s[0] for s in servers), None)

    serial = plan.zone_serial
    if serial is not None and (
        not isinstance(serial, int) or isinstance(serial, bool) or not 1 <= serial <= 2**32 - 1
    ):
        raise ValueError(f"zone_serial {serial!r}: between 1 and 4294967295")

    return _Checked(
        domain=domain,
        url=url,
        prov_host=prov_host,
        servers=tuple(servers),
        ports=tuple(ports),
        time_offset=offset,
        time_servers=time_servers,
        dns_servers=dns_servers,
        tftp=tftp,
        prov_addresses=prov_addresses,
        phones=tuple(phones),
        classes=classes,
        default_boot=default_boot,
        vlan=vlan,
        ns=ns,
        serial=serial,
    )


def _colon_mac(mac: str) -> str:
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


_HEADER = "Generated by mipc (Managed IP Phone Compiler) from the inventory; do not edit by hand."


# --------------------------------------------------------------------------------------------
# DHCP
# --------------------------------------------------------------------------------------------


def _render_dhcpd(c: _Checked) -> bytes:
    out = [
        f"# {_HEADER}",
        "# ISC dhcpd 4.4: options for managed IP phones (CIC Managed IP Phones guide).",
        "# Global options, recovery classes and per-phone host entries only: no subnet is",
        "# declared, so this file passes `dhcpd -t -cf dhcpd.conf` as it is and can be included",
        '# from your own dhcpd.conf (`include "/path/dhcpd.conf";`).  Edit the EXAMPLE subnet',
        "# at the end (commented out) or declare your own voice-VLAN subnets.",
        "# Precedence in dhcpd: host > class > pool > subnet > global.",
        "",
        "# Option 160 (provisioning URL) is not a standard option: define it before use.",
        "option mipc-provisioning-url code 160 = text;",
    ]
    if c.vlan is not None:
        out.append("# Option 132 (VLAN id): string encoding, as in the guide's table (unverified).")
        out.append("option mipc-voice-vlan code 132 = text;")
    out += [
        "",
        f'option mipc-provisioning-url "{c.url}";',
        f'option domain-name "{c.domain}";',
        f"option time-offset {c.time_offset};",
    ]
    if c.time_servers:
        out.append(f"option ntp-servers {', '.join(c.time_servers)};")
    if c.dns_servers:
        out.append(f"option domain-name-servers {', '.join(c.dns_servers)};")
    if c.tftp:
        out.append(f'option tftp-server-name "{c.tftp}";')
    if c.default_boot:
        out.append(f'option bootfile-name "{c.default_boot}";')
    if c.vlan is not None:
        out.append(f'option mipc-voice-vlan "{c.vlan}";')
    forced = ", a0" + (", 84" if c.vlan is not None else "")
    out += [
        "",
        "# dhcpd only sends the options a client lists in option 55: force 160"
        + (" and 132" if c.vlan is not None else "")
        + ".",
        "if exists dhcp-parameter-request-list {",
        "  option dhcp-parameter-request-list =",
        f"    concat(option dhcp-parameter-request-list{forced});",
        "}",
    ]
    if c.classes:
        out += [
            "",
            "# Multiple phone model recovery: option 67 by vendor class (option 60, exact match).",
        ]
        for model, boot in c.classes:
            out += [
                f'class "mipc-vc-{model.lower()}" {{',
                f'  match if option vendor-class-identifier = "{model}";',
                f'  option bootfile-name "{boot}";',
                f'  filename "{boot}";',
                "}",
            ]
    if c.phones:
        out += ["", "# Known phones: their own recovery image, whatever option 60 says."]
        for mac, pname, family, boot in c.phones:
            out += [
                f"host mipc-{mac} {{  # {pname} ({family})",
                f"  hardware ethernet {_colon_mac(mac)};",
                f'  option bootfile-name "{boot}";',
                f'  filename "{boot}";',
                "}",
            ]
    out += [
        "",
        "# EXAMPLE (edit and uncomment): the voice VLAN scope.",
        "# subnet 192.0.2.0 netmask 255.255.255.0 {",
        "#   range 192.0.2.100 192.0.2.200;",
        "#   option routers 192.0.2.1;",
        "# }",
    ]
    return _text(out)


def _render_kea(c: _Checked) -> bytes:
    option_def: list[dict[str, Any]] = [
        {"name": "mipc-provisioning-url", "code": 160, "space": "dhcp4", "type": "string"}
    ]
    if c.vlan is not None:
        option_def.append(
            {"name": "mipc-voice-vlan", "code": 132, "space": "dhcp4", "type": "string"}
        )
    data: list[dict[str, Any]] = [
        {"name": "mipc-provisioning-url", "data": c.url, "always-send": True},
        {"name": "domain-name", "data": c.domain},
        {"name": "time-offset", "data": str(c.time_offset)},
    ]
    if c.time_servers:
        data.append({"name": "ntp-servers", "data": ", ".join(c.time_servers)})
    if c.dns_servers:
        data.append({"name": "domain-name-servers", "data": ", ".join(c.dns_servers)})
    if c.tftp:
        data.append({"name": "tftp-server-name", "data": c.tftp})
    if c.default_boot:
        # Global level on purpose: Kea lets subnet/pool option-data beat class option-data.
        data.append({"name": "boot-file-name", "data": c.default_boot})
    if c.vlan is not None:
        data.append({"name": "mipc-voice-vlan", "data": str(c.vlan), "always-send": True})
    classes = [
        {
            # Kea puts every packet in VENDOR_CLASS_<option 60>: an exact match, no test needed.
            "name": f"VENDOR_CLASS_{model}",
            "boot-file-name": boot,
            "option-data": [{"name": "boot-file-name", "data": boot}],
        }
        for model, boot in c.classes
    ]
    reservations = [
        {
            "hw-address": _colon_mac(mac),
            "boot-file-name": boot,
            "option-data": [{"name": "boot-file-name", "data": boot}],
            "user-context": {"phone": pname, "family": family},
        }
        for mac, pname, family, boot in c.phones
    ]
    dhcp4: dict[str, Any] = {
        "user-context": {
            "comment": [
                _HEADER,
                "Kea 2.x: options for managed IP phones (CIC Managed IP Phones guide).",
                "Passes `kea-dhcp4 -t` as it is: no interfaces, no subnets.",
                "EDIT: list your interfaces and add your voice-VLAN subnet4 entries.",
                "Do not set option 67 in a subnet or pool: Kea lets it beat the classes.",
            ]
        },
        "interfaces-config": {"interfaces": []},
        "option-def": option_def,
        "option-data": data,
    }
    # Kea 2.2 rejects an empty "client-classes" list: leave empty lists out.
    if classes:
        dhcp4["client-classes"] = classes
    if reservations:
        dhcp4["reservations-global"] = True
        dhcp4["reservations-in-subnet"] = True
        dhcp4["reservations"] = _RESERVATIONS
    dhcp4["subnet4"] = []
    text = json.dumps({"Dhcp4": dhcp4}, indent=2, ensure_ascii=False)
    if reservations:
        # One reservation a line: as readable as indented JSON for tens of thousands of
        # phones, and written by the C encoder (indent= makes json use its Python one).
        one = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
        rows = ",\n      ".join(map(one, reservations))
        text = text.replace(json.dumps(_RESERVATIONS), f"[\n      {rows}\n    ]", 1)
    return (text + "\n").encode("utf-8")


_RESERVATIONS = "\x00reservations\x00"  # placeholder: cannot occur in checked values


def _render_dnsmasq(c: _Checked) -> bytes:
    out = [
        f"# {_HEADER}",
        "# dnsmasq 2.90: DHCP options for managed IP phones, and the voice zone's records.",
        "# No dhcp-range is set, so dnsmasq hands out nothing until you add yours (EXAMPLE at",
        "# the end); the file passes `dnsmasq --test --conf-file=dnsmasq.conf` as it is.",
        "",
        f'dhcp-option=option:domain-name,"{c.domain}"',
        f"dhcp-option=2,{c.time_offset}",
    ]
    if c.time_servers:
        out.append(f"dhcp-option=option:ntp-server,{','.join(c.time_servers)}")
    if c.dns_servers:
        out.append(f"dhcp-option=option:dns-server,{','.join(c.dns_servers)}")
    if c.tftp:
        out.append(f'dhcp-option=66,"{c.tftp}"')
    if c.default_boot:
        out.append(f'dhcp-option=67,"{c.default_boot}"')
    out.append("# 160 (and 132) are sent even when the phone does not ask for them.")
    out.append(f'dhcp-option-force=160,"{c.url}"')
    if c.vlan is not None:
        out.append(f'dhcp-option-force=132,"{c.vlan}"')
    if c.classes:
        out += [
            "",
            "# Multiple phone model recovery: option 67 by vendor class (option 60).",
            "# dnsmasq matches a SUBSTRING of option 60, so a class whose name contains another",
            "# (405 in 405HD) excludes the longer one; tagged options beat the untagged default.",
        ]
        models = [m for m, _ in c.classes]
        for model, _boot in c.classes:
            out.append(f"dhcp-vendorclass=set:mipc-vc-{model.lower()},{model}")
        for model, boot in c.classes:
            tags = [f"tag:mipc-vc-{model.lower()}"] + [
                f"tag:!mipc-vc-{other.lower()}"
                for other in models
                if other != model and model in other
            ]
            out.append(f'dhcp-option={",".join(tags)},67,"{boot}"')
    if c.phones:
        out += ["", "# Known phones: their own recovery image."]
        for mac, pname, family, boot in c.phones:
            out.append(f"# {pname} ({family})")
            out.append(f"dhcp-host={_colon_mac(mac)},set:mipc-{mac}")
            out.append(f'dhcp-option=tag:mipc-{mac},67,"{boot}"')
    out += [
        "",
        f"# DNS records of {c.domain} (the same as {c.domain}.zone), if dnsmasq serves DNS.",
    ]
    for rel, addr, _prio, _weight in sorted(c.servers):
        out.append(f"host-record={_fqdn(rel, c.domain)},{addr}")
    prov_rel = _prov_owner(c)
    if prov_rel is not None:
        for addr in c.prov_addresses:
            out.append(f"host-record={_fqdn(prov_rel, c.domain)},{addr}")
    for owner, port in sorted(c.ports):
        for rel, _addr, prio, weight in sorted(c.servers):
            out.append(f"srv-host={owner}.{c.domain},{_fqdn(rel, c.domain)},{port},{prio},{weight}")
    out += [
        "",
        "# EXAMPLE (edit and uncomment): the voice VLAN scope.",
        "# dhcp-range=192.0.2.100,192.0.2.200,255.255.255.0,12h",
        "# dhcp-option=option:router,192.0.2.1",
    ]
    return _text(out)


# --------------------------------------------------------------------------------------------
# DNS
# --------------------------------------------------------------------------------------------


def _fqdn(rel: str, domain: str) -> str:
    return domain if rel == "@" else f"{rel}.{domain}"


def _prov_owner(c: _Checked) -> str | None:
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


def _render_zone(c: _Checked) -> bytes:
    prov = _prov_owner(c)
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
                body.append(f"{owner} IN SRV {prio} {weight} {port} {_fqdn(rel, c.domain)}.")
    body_text = "\n".join(body)
    serial = c.serial
    if serial is None:
        digest = hashlib.sha256(f"{c.domain}\n{body_text}".encode()).digest()
        serial = int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1
    head = [
        f"; {_HEADER}",
        f"; BIND zone for the voice domain {c.domain}.  The SOA serial is derived from the",
        "; content (same records, same serial).  It does not increase, so with secondary servers",
        "; set zone_serial in the inventory instead.",
        f"$ORIGIN {c.domain}.",
        "$TTL 3600",
        f"@ IN SOA {_fqdn(ns_name, c.domain) + '.' if not ns_name.endswith('.') else ns_name}"
        f" hostmaster.{c.domain}. ( {serial} 3600 900 1209600 300 )",
    ]
    return _text(head + body)


def _render_named_snippet(c: _Checked) -> bytes:
    out = [
        f"// {_HEADER}",
        "// Add to named.conf (Debian: named.conf.local); copy the zone file to the path below.",
        f'zone "{c.domain}" {{',
        "    type primary;",
        f'    file "/etc/bind/{c.domain}.zone";',
        "    allow-update { none; };",
        "};",
    ]
    return _text(out)


def render_network(plan: NetworkPlan) -> dict[str, bytes]:
    """Render the DHCP and DNS files of ``plan``.

    Keys: ``dhcpd.conf``, ``kea-dhcp4.json``, ``dnsmasq.conf``, ``<domain>.zone`` and
    ``named.conf.snippet``.  Raises :class:`ValueError` on an invalid or unsafe value.
    """
    c = _check(plan)
    return {
        "dhcpd.conf": _render_dhcpd(c),
        "kea-dhcp4.json": _render_kea(c),
        "dnsmasq.conf": _render_dnsmasq(c),
        f"{c.domain}.zone": _render_zone(c),
        "named.conf.snippet": _render_named_snippet(c),
    }


# --------------------------------------------------------------------------------------------
# nginx
# --------------------------------------------------------------------------------------------

_LISTEN = re.compile(
    r"^(?:(?:\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9.-]+):)?[0-9]{1,5}$"
)
_PATH = re.compile(r"^/[A-Za-z0-9._+@=/:-]*$")

#: Content types, replacing the inherited map for this server (so the result does not depend
#: on the host's mime.types): .cfg as text/plain (Polycom XML and AudioCodes key=value files
#: alike), .xml as text/xml, firmware as application/octet-stream (also the default).
_TYPES = (
    ("text/plain", ("cfg", "log", "txt")),
    ("text/xml", ("xml",)),
    ("application/octet-stream", ("bin", "img", "ld", "zip")),
    ("audio/wav", ("wav",)),
    ("image/bmp", ("bmp",)),
    ("image/jpeg", ("jpeg", "jpg")),
    ("image/png", ("png",)),
)

_UPLOAD_DIRS = ("contacts", "logs", "overrides")


def _listen(value: str) -> str:
    _hostile("listen", value)
    if not _LISTEN.match(value):
        raise ValueError(f"listen {value!r}: expected PORT, ADDRESS:PORT or [IPv6]:PORT")
    _port("listen port", int(value.rsplit(":", 1)[-1]))
    return value


def _abs_path(what: str, value: str) -> str:
    _hostile(what, value)
    if not _PATH.match(value) or "/../" in value + "/" or "/./" in value + "/":
        raise ValueError(
            f"{what} {value!r}: an absolute path of letters, digits and ._+@=:- is expected"
        )
    return value.rstrip("/") or "/"


def _server_name(value: str) -> str:
    if value == "_":
        return value
    return _host_or_ip("server_name", value)


def _size(what: str, value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**40:
        raise ValueError(f"{what} {value!r}: a positive number of bytes")
    return str(value)


def _types_block(indent: str) -> list[str]:
    lines = [f"{indent}default_type application/octet-stream;", f"{indent}types {{"]
    for mime, exts in _TYPES:
        lines.append(f"{indent}    {mime} {' '.join(exts)};")
    lines.append(f"{indent}}}")
    return lines


def render_nginx(
    server_name: str,
    www_root: str,
    uploads_root: str,
    listen: str,
    *,
    max_upload_bytes: int = 10 * 1024 * 1024,
) -> bytes:
    """Render the nginx site that serves a release to the phones.

    The file is meant for ``sites-enabled`` (it is included at http level: it holds ``map``
    blocks and one ``server``).  ``www_root`` is served read-only (GET/HEAD; other methods get
    403); a file whose name starts with 12 hex digits (a MAC) is also found when the phone asks
    in upper case; directories and dotfiles give 404.  ``PUT`` is accepted only for
    ``/{logs,overrides,contacts}/<12 hex>-<name>``, stored under ``uploads_root`` (create or
    overwrite; no DELETE, no MKCOL), bodies up to ``max_upload_bytes``.  ``uploads_root`` must
    exist: nginx keeps upload bodies in ``uploads_root/.tmp`` (same file system as the uploads,
    so a finished PUT is a rename) and creates only that last folder.
    """
    name = _server_name(server_name)
    www = _abs_path("www_root", www_root)
    uploads = _abs_path("uploads_root", uploads_root)
    lst = _listen(listen)
    max_body = _size("max_upload_bytes", max_upload_bytes)

    hexes = [f"mipc_h{i}" for i in range(1, 13)]
    lows = [f"mipc_l{i}" for i in range(1, 13)]
    out = [
        f"# {_HEADER}",
        "# nginx site for the phones: include at http level (e.g. /etc/nginx/sites-enabled/).",
        f"# Read-only: {www} ; uploads (PUT only): {uploads}/{{{','.join(_UPLOAD_DIRS)}}}",
        "# MAC-named files: a request for 0004F2AABBCC.cfg is answered with 0004f2aabbcc.cfg.",
        "# The regex location below captures the 12 hex digits one by one and these maps",
        "# lower-case each of them (stock nginx has no lower-case function).",
    ]
    for h, low in zip(hexes, lows, strict=True):
        out.append(f"map ${h} ${low} {{ A a; B b; C c; D d; E e; F f; default ${h}; }}")
    mac_regex = (
        "^(?<mipc_dir>/(?:[^/]+/)*)"
        + "".join(f"(?<{h}>[0-9A-Fa-f])" for h in hexes)
        + "(?<mipc_rest>(?:[^/0-9A-Fa-f][^/]*)?)$"
    )
    lowered = "$mipc_dir" + "".join(f"${low}" for low in lows) + "$mipc_rest"
    upload_regex = f"^/({'|'.join(_UPLOAD_DIRS)})/[0-9A-Fa-f]{{12}}-[A-Za-z0-9._-]+$"
    out += [
        "",
        "server {",
        f"    listen {lst};",
        f"    server_name {name};",
        f'    root "{www}";',
        "    autoindex off;",
        "    server_tokens off;",
        "    client_max_body_size 1m;",
        "    # A types block here replaces the inherited map (mime.types) for this server.",
        *_types_block("    "),
        "",
        "    # Dotfiles (and anything under a dot-directory): not found.",
        "    location ~ /\\. {",
        "        return 404;",
        "    }",
        "",
        "    # Phone uploads: <mac>-boot.log, <mac>-app.log, <mac>-phone.cfg, <mac>-directory.xml",
        "    # ... PUT creates or overwrites; GET reads back (overrides, contacts).",
        f'    location ~ "{upload_regex}" {{',
        f'        root "{uploads}";',
        "        dav_methods PUT;",
        "        create_full_put_path on;",
        "        dav_access user:rw group:r;",
        f"        client_max_body_size {max_body};",
        "        # Same file system as the uploads: PUT renames the temporary file into place.",
        f'        client_body_temp_path "{uploads}/.tmp";',
        "        limit_except GET PUT {",
        "            deny all;",
        "        }",
        "    }",
        "",
        "    # MAC-named files, any case: the file as asked, else its lower-case MAC name.",
        f'    location ~ "{mac_regex}" {{',
        "        limit_except GET {",
        "            deny all;",
        "        }",
        f"        try_files $uri {lowered} =404;",
        "    }",
        "",
        "    # Everything else: files only (a directory gives 404), read-only.",
        "    location / {",
        "        limit_except GET {",
        "            deny all;",
        "        }",
        "        try_files $uri =404;",
        "    }",
        "}",
    ]
    return _text(out)


def render_nginx_cache(
    server_name: str,
    central_url: str,
    cache_root: str,
    listen: str,
    *,
    max_size_bytes: int = 2 * 1024**3,
    max_upload_bytes: int = 10 * 1024 * 1024,
) -> bytes:
    """Render the nginx site of a remote-site cache in front of the central provisioning server.

    GET/HEAD are cached under ``cache_root`` (200 for 5 minutes, 404 for 1 minute, revalidated
    with conditional requests, served stale while the central server is down or refreshing);
    PUT and everything else go through to ``central_url`` (``http(s)://host[:port][/]``).
    Like :func:`render_nginx` the file is included at http level.
    """
    name = _server_name(server_name)
    scheme, host, port = _url("central_url", central_url, ("http", "https"))
    path = urlsplit(central_url).path
    if path not in ("", "/") or urlsplit(central_url).query:
        raise ValueError(f"central_url {central_url!r}: give the server only (no path or query)")
    port = port or (443 if scheme == "https" else 80)
    cache = _abs_path("cache_root", cache_root)
    lst = _listen(listen)
    max_size = _size("max_size_bytes", max_size_bytes)
    max_body = _size("max_upload_bytes", max_upload_bytes)
    host_port = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    host_header = host if port == (443 if scheme == "https" else 80) else host_port
    out = [
        f"# {_HEADER}",
        "# nginx site for a remote-site cache: include at http level (sites-enabled).",
        f"# GET/HEAD are cached from {scheme}://{host_port}/ ; uploads (PUT) pass through.",
        f'proxy_cache_path "{cache}" levels=1:2 keys_zone=mipc_phones:10m max_size={max_size}'
        " inactive=30d use_temp_path=off;",
        "",
        "upstream mipc_central {",
        f"    server {host_port};",
        "    keepalive 8;",
        "}",
        "",
        "server {",
        f"    listen {lst};",
        f"    server_name {name};",
        "    server_tokens off;",
        f"    client_max_body_size {max_body};",
        "",
        "    location ~ /\\. {",
        "        return 404;",
        "    }",
        "",
        "    location / {",
        f"        proxy_pass {scheme}://mipc_central;",
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        f"        proxy_set_header Host {host_header};",
        "        proxy_cache mipc_phones;",
        "        proxy_cache_valid 200 5m;",
        "        proxy_cache_valid 404 1m;",
        "        proxy_cache_revalidate on;",
        "        proxy_cache_lock on;",
        "        proxy_cache_background_update on;",
        "        proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;",
        "        add_header X-Cache-Status $upstream_cache_status always;",
        "    }",
        "}",
    ]
    return _text(out)
