"""The DHCP options phones need, for three servers: ISC dhcpd 4.4, Kea 2.x and dnsmasq 2.90.

Takes a :class:`mipc.network.checks.Checked` plan; gives ``dhcpd.conf``, ``kea-dhcp4.json``
and ``dnsmasq.conf`` as bytes: option 160 (provisioning URL), 66/67 (TFTP server and recovery
firmware, per vendor class and per known phone), 2 (time offset), 42 or 4 (time servers,
``site.time_server_option``), 15 (domain), optionally 6 (DNS servers) and 132 (VLAN), and the
locations' scopes
(:mod:`mipc.network.dhcp_scopes`). Each file passes its daemon's own test mode as it is.
Never imports render or release.
"""

from __future__ import annotations

import json
from typing import Any

from mipc.network.checks import HEADER, Checked, colon_mac, text
from mipc.network.dhcp_scopes import (
    dhcpd_scopes,
    dhcpd_vlan_def,
    dhcpd_vlan_value,
    dnsmasq_scopes,
    dnsmasq_vlan_value,
    kea_subnets,
    kea_vlan_type,
    time_servers_option,
)
from mipc.network.dns import fqdn, naptr_records, prov_owner

__all__ = ["render_dhcpd", "render_dnsmasq", "render_kea"]


def render_dhcpd(c: Checked) -> bytes:
    """``dhcpd.conf``: global options, recovery classes and per-phone host entries."""
    out = _dhcpd_options(c) + _dhcpd_recovery(c) + dhcpd_scopes(c)
    out += [
        "",
        "# EXAMPLE (edit and uncomment): the voice VLAN scope.",
        "# subnet 192.0.2.0 netmask 255.255.255.0 {",
        "#   range 192.0.2.100 192.0.2.200;",
        "#   option routers 192.0.2.1;",
        "# }",
    ]
    return text(out)


def _dhcpd_options(c: Checked) -> list[str]:
    out = [
        f"# {HEADER}",
        "# ISC dhcpd 4.4: options for managed IP phones (CIC Managed IP Phones guide).",
        "# Global options, recovery classes, per-phone host entries and the subnets of the",
        "# locations that list networks: this file passes `dhcpd -t -cf dhcpd.conf` as it is",
        '# and can be included from your own dhcpd.conf (`include "/path/dhcpd.conf";`).',
        "# Edit the EXAMPLE subnet at the end (commented out) or declare your own subnets.",
        "# Precedence in dhcpd: host > class > pool > subnet > global.",
        "",
        "# Option 160 (provisioning URL) is not a standard option: define it before use.",
        "option mipc-provisioning-url code 160 = text;",
    ]
    if c.uses_vlan:
        out.append(f"# Option 132 (VLAN id): {c.vlan_encoding} encoding (unverified).")
        out.append(dhcpd_vlan_def(c))
    out += [
        "",
        f'option mipc-provisioning-url "{c.url}";',
        f'option domain-name "{c.domain}";',
        f"option time-offset {c.time_offset};",
    ]
    if c.time_servers:
        out.append(f"option {time_servers_option(c, 0)} {', '.join(c.time_servers)};")
    if c.dns_servers:
        out.append(f"option domain-name-servers {', '.join(c.dns_servers)};")
    if c.tftp:
        out.append(f'option tftp-server-name "{c.tftp}";')
    if c.default_boot:
        out.append(f'option bootfile-name "{c.default_boot}";')
    if c.vlan is not None:
        out.append(f"option mipc-voice-vlan {dhcpd_vlan_value(c, c.vlan)};")
    forced = ", a0" + (", 84" if c.uses_vlan else "")
    out += [
        "",
        "# dhcpd only sends the options a client lists in option 55: force 160"
        + (" and 132" if c.uses_vlan else "")
        + ".",
        "if exists dhcp-parameter-request-list {",
        "  option dhcp-parameter-request-list =",
        f"    concat(option dhcp-parameter-request-list{forced});",
        "}",
    ]
    return out


def _dhcpd_recovery(c: Checked) -> list[str]:
    out: list[str] = []
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
                f"  hardware ethernet {colon_mac(mac)};",
                f'  option bootfile-name "{boot}";',
                f'  filename "{boot}";',
                "}",
            ]
    return out


def _kea_options(c: Checked) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Kea's ``option-def`` and global ``option-data``."""
    option_def: list[dict[str, Any]] = [
        {"name": "mipc-provisioning-url", "code": 160, "space": "dhcp4", "type": "string"}
    ]
    if c.uses_vlan:
        option_def.append(
            {"name": "mipc-voice-vlan", "code": 132, "space": "dhcp4", "type": kea_vlan_type(c)}
        )
    data: list[dict[str, Any]] = [
        {"name": "mipc-provisioning-url", "data": c.url, "always-send": True},
        {"name": "domain-name", "data": c.domain},
        {"name": "time-offset", "data": str(c.time_offset)},
    ]
    if c.time_servers:
        data.append({"name": time_servers_option(c, 1), "data": ", ".join(c.time_servers)})
    if c.dns_servers:
        data.append({"name": "domain-name-servers", "data": ", ".join(c.dns_servers)})
    if c.tftp:
        data.append({"name": "tftp-server-name", "data": c.tftp})
    if c.default_boot:
        # Global level on purpose: Kea lets subnet/pool option-data beat class option-data.
        data.append({"name": "boot-file-name", "data": c.default_boot})
    if c.vlan is not None:
        data.append({"name": "mipc-voice-vlan", "data": str(c.vlan), "always-send": True})
    return option_def, data


def render_kea(c: Checked) -> bytes:
    """``kea-dhcp4.json``: options, one client class per recovery model, reservations."""
    option_def, data = _kea_options(c)
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
            "hw-address": colon_mac(mac),
            "boot-file-name": boot,
            "option-data": [{"name": "boot-file-name", "data": boot}],
            "user-context": {"phone": pname, "family": family},
        }
        for mac, pname, family, boot in c.phones
    ]
    dhcp4: dict[str, Any] = {
        "user-context": {"comment": [HEADER, *_KEA_COMMENT]},
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
    dhcp4["subnet4"] = kea_subnets(c)
    doc = json.dumps({"Dhcp4": dhcp4}, indent=2, ensure_ascii=False)
    if reservations:
        # One reservation a line: as readable as indented JSON for tens of thousands of
        # phones, and written by the C encoder (indent= makes json use its Python one).
        one = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
        rows = ",\n      ".join(map(one, reservations))
        doc = doc.replace(json.dumps(_RESERVATIONS), f"[\n      {rows}\n    ]", 1)
    return (doc + "\n").encode("utf-8")


_KEA_COMMENT = (
    "Kea 2.x: options for managed IP phones (CIC Managed IP Phones guide).",
    "Passes `kea-dhcp4 -t` as it is: no interfaces; the locations' networks as subnets.",
    "EDIT: list your interfaces, add routers and any other subnet4 entries.",
    "Do not set option 67 in a subnet or pool: Kea lets it beat the classes.",
)

_RESERVATIONS = "\x00reservations\x00"  # placeholder: cannot occur in checked values


def render_dnsmasq(c: Checked) -> bytes:
    """``dnsmasq.conf``: options, recovery by vendor class and by phone, the zone's records."""
    out = [
        f"# {HEADER}",
        "# dnsmasq 2.90: DHCP options for managed IP phones, and the voice zone's records.",
        "# Only the locations' networks have a dhcp-range; add yours (EXAMPLE at the end).",
        "# The file passes `dnsmasq --test --conf-file=dnsmasq.conf` as it is.",
        "",
        f'dhcp-option=option:domain-name,"{c.domain}"',
        f"dhcp-option=2,{c.time_offset}",
    ]
    if c.time_servers:
        out.append(f"dhcp-option={time_servers_option(c, 2)},{','.join(c.time_servers)}")
    if c.dns_servers:
        out.append(f"dhcp-option=option:dns-server,{','.join(c.dns_servers)}")
    if c.tftp:
        out.append(f'dhcp-option=66,"{c.tftp}"')
    if c.default_boot:
        out.append(f'dhcp-option=67,"{c.default_boot}"')
    out.append("# 160 (and 132) are sent even when the phone does not ask for them.")
    out.append(f'dhcp-option-force=160,"{c.url}"')
    if c.vlan is not None:
        out.append(f"dhcp-option-force=132,{dnsmasq_vlan_value(c, c.vlan)}")
    out += _dnsmasq_recovery(c) + dnsmasq_scopes(c) + _dnsmasq_records(c)
    out += [
        "",
        "# EXAMPLE (edit and uncomment): the voice VLAN scope.",
        "# dhcp-range=192.0.2.100,192.0.2.200,255.255.255.0,12h",
        "# dhcp-option=option:router,192.0.2.1",
    ]
    return text(out)


def _dnsmasq_recovery(c: Checked) -> list[str]:
    out: list[str] = []
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
            out.append(f"dhcp-host={colon_mac(mac)},set:mipc-{mac}")
            out.append(f'dhcp-option=tag:mipc-{mac},67,"{boot}"')
    return out


def _dnsmasq_records(c: Checked) -> list[str]:
    out = [
        "",
        f"# DNS records of {c.domain} (the same as {c.domain}.zone), if dnsmasq serves DNS.",
    ]
    for rel, addr, _prio, _weight in sorted(c.servers):
        out.append(f"host-record={fqdn(rel, c.domain)},{addr}")
    prov_rel = prov_owner(c)
    if prov_rel is not None:
        for addr in c.prov_addresses:
            out.append(f"host-record={fqdn(prov_rel, c.domain)},{addr}")
    for owner, port in sorted(c.ports):
        for rel, _addr, prio, weight in sorted(c.servers):
            out.append(f"srv-host={owner}.{c.domain},{fqdn(rel, c.domain)},{port},{prio},{weight}")
    for order, service, replacement in naptr_records(c):
        out.append(f"naptr-record={c.domain},{order},0,S,{service},,{replacement[:-1]}")
    return out
