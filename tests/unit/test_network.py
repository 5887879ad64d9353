"""Unit tests for mipc.network: DHCP/DNS/nginx files parsed back, determinism, hostility."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from mipc.network.checks import NetPhone, NetServer, NetworkPlan
from mipc.network.nginx import render_nginx, render_nginx_cache
from mipc.network.plan import network_plan, render_network
from mipc.network.serials import PriorZones
from mipc.pipeline import validate

LAB = Path(__file__).resolve().parents[2] / "examples" / "lab" / "mipc.yaml"

PHONES = (
    NetPhone("PolycomLobby1", "0004f2aabbcc", None, "polycom"),
    NetPhone("Agent420", "00908f602aac", "420hd.img", "audiocodes"),
    NetPhone("Agent405", "00908f602aad", "405.img", "genesys"),
    NetPhone("Agent405HD", "00908f602aae", "405hd.img", "genesys"),
    NetPhone("Iss1", "000b82112233", "sip100.img", "iss"),
    NetPhone("Iss2", "000b82112234", "sip200.img", "iss"),
)


def lab_plan(**changes: Any) -> NetworkPlan:
    """The guide's lab: lab.voip, switchover pair vm40ic1/vm40ic2, ports 8060/8061."""
    plan = NetworkPlan(
        domain="lab.voip",
        provisioning_url="http://provision.lab.voip:8088/",
        servers=(NetServer("vm40ic1", "10.250.1.151"), NetServer("vm40ic2", "10.250.1.152")),
        sip_port_udp=8060,
        sip_port_tcp=8060,
        sip_port_tls=8061,
        time_offset=-18000,
        time_servers=("10.250.1.5", "10.250.0.2"),
        tftp_server="10.250.1.151",
        provisioning_host_address=("10.250.1.151", "10.250.1.152"),
        phones=PHONES,
        default_boot_file=None,
    )
    return dataclasses.replace(plan, **changes)


def zone_records(text: str) -> list[tuple[str, str, list[str]]]:
    """(owner, type, data) of every record line; comments and $-directives dropped."""
    records = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith("$"):
            continue
        fields = line.replace("(", " ").replace(")", " ").split()
        owner, klass, rtype, *data = fields
        assert klass == "IN"
        records.append((owner, rtype, data))
    return records


# ---------------------------------------------------------------- shape and determinism


def test_boot_files_are_the_catalog_recovery_images() -> None:
    plan = validate(LAB).plan
    assert plan is not None
    net = network_plan(plan)
    by_name = {p.name: p for p in plan.phones}
    assert {p.family for p in net.phones} >= {"polycom", "audiocodes", "iss"}
    for phone in net.phones:
        assert phone.boot_file == by_name[phone.name].model.firmware_image
        assert (phone.boot_file is None) == (phone.family == "polycom")


def test_keys_and_encoding() -> None:
    files = render_network(lab_plan())
    assert set(files) == {
        "dhcpd.conf",
        "kea-dhcp4.json",
        "dnsmasq.conf",
        "lab.voip.zone",
        "1.250.10.in-addr.arpa.zone",
        "named.conf.snippet",
    }
    for name, data in files.items():
        text = data.decode("utf-8")
        assert "\r" not in text, name
        assert text.endswith("\n") and not text.endswith("\n\n"), name
        assert all(line == line.rstrip() for line in text.splitlines()), name


def test_deterministic_and_order_independent() -> None:
    first = render_network(lab_plan())
    assert render_network(lab_plan()) == first
    shuffled = lab_plan(
        phones=tuple(reversed(PHONES)),
        servers=tuple(reversed(lab_plan().servers)),
        provisioning_host_address=("10.250.1.152", "10.250.1.151"),
    )
    assert render_network(shuffled) == first


def test_nginx_deterministic() -> None:
    args = ("provision.lab.voip", "/srv/mipc/current/www", "/srv/mipc/uploads", "8088")
    assert render_nginx(*args) == render_nginx(*args)
    cache = ("provision.branch.lab.voip", "http://provision.lab.voip:8088/", "/var/cache/x", "80")
    assert render_nginx_cache(*cache) == render_nginx_cache(*cache)


# ---------------------------------------------------------------- Kea


def test_kea_json() -> None:
    doc = json.loads(render_network(lab_plan(default_boot_file="sip200.img"))["kea-dhcp4.json"])
    d4 = doc["Dhcp4"]
    assert d4["interfaces-config"] == {"interfaces": []}
    assert d4["subnet4"] == []
    defs = {d["code"]: d for d in d4["option-def"]}
    assert defs[160]["type"] == "string"
    assert 132 not in defs
    data = {o["name"]: o for o in d4["option-data"]}
    assert data["mipc-provisioning-url"] == {
        "name": "mipc-provisioning-url",
        "data": "http://provision.lab.voip:8088/",
        "always-send": True,
    }
    assert data["time-offset"]["data"] == "-18000"
    assert data["ntp-servers"]["data"] == "10.250.1.5, 10.250.0.2"
    assert data["tftp-server-name"]["data"] == "10.250.1.151"
    assert data["domain-name"]["data"] == "lab.voip"
    assert data["boot-file-name"]["data"] == "sip200.img"
    classes = {c["name"]: c for c in d4["client-classes"]}
    assert set(classes) == {
        "VENDOR_CLASS_405",
        "VENDOR_CLASS_405HD",
        "VENDOR_CLASS_420HD",
        "VENDOR_CLASS_SIP100",
        "VENDOR_CLASS_SIP200",
    }
    assert classes["VENDOR_CLASS_420HD"]["boot-file-name"] == "420hd.img"
    assert classes["VENDOR_CLASS_420HD"]["option-data"] == [
        {"name": "boot-file-name", "data": "420hd.img"}
    ]
    hosts = {r["hw-address"]: r for r in d4["reservations"]}
    assert "00:04:f2:aa:bb:cc" not in hosts  # Polycom: no recovery image
    assert hosts["00:90:8f:60:2a:ac"]["boot-file-name"] == "420hd.img"
    assert d4["reservations-global"] is True


def test_kea_vlan_option() -> None:
    d4 = json.loads(render_network(lab_plan(voice_vlan=100))["kea-dhcp4.json"])["Dhcp4"]
    assert {d["code"]: d["type"] for d in d4["option-def"]} == {160: "string", 132: "string"}
    data = {o["name"]: o for o in d4["option-data"]}
    assert data["mipc-voice-vlan"]["data"] == "100"


# ---------------------------------------------------------------- dhcpd and dnsmasq


def test_dhcpd_conf() -> None:
    text = render_network(lab_plan())["dhcpd.conf"].decode()
    assert "option mipc-provisioning-url code 160 = text;" in text
    assert text.index("code 160 = text") < text.index('option mipc-provisioning-url "http')
    assert "option time-offset -18000;" in text
    assert "option ntp-servers 10.250.1.5, 10.250.0.2;" in text
    assert 'option tftp-server-name "10.250.1.151";' in text
    assert 'match if option vendor-class-identifier = "SIP100";' in text
    assert "concat(option dhcp-parameter-request-list, a0);" in text
    assert "hardware ethernet 00:90:8f:60:2a:ac;" in text
    assert "\nsubnet" not in text  # only the commented example
    assert "# subnet 192.0.2.0" in text


def test_dnsmasq_conf() -> None:
    lines = render_network(lab_plan())["dnsmasq.conf"].decode().splitlines()
    assert "dhcp-option=2,-18000" in lines
    assert 'dhcp-option-force=160,"http://provision.lab.voip:8088/"' in lines
    assert "dhcp-vendorclass=set:mipc-vc-405,405" in lines
    # substring matching: the 405 class must not catch 405HD phones
    assert 'dhcp-option=tag:mipc-vc-405,tag:!mipc-vc-405hd,67,"405.img"' in lines
    assert 'dhcp-option=tag:mipc-vc-405hd,67,"405hd.img"' in lines
    assert "srv-host=_sips._tcp.lab.voip,vm40ic1.lab.voip,8061,0,0" in lines
    assert not any(line.startswith("dhcp-range") for line in lines)


def test_optional_options_left_out() -> None:
    files = render_network(lab_plan(time_servers=(), tftp_server="", phones=()))
    text = files["dhcpd.conf"].decode()
    assert "ntp-servers" not in text and "tftp-server-name" not in text
    assert "\nclass " not in text and "\nhost " not in text
    d4 = json.loads(files["kea-dhcp4.json"])["Dhcp4"]
    assert "client-classes" not in d4 and "reservations" not in d4


# ---------------------------------------------------------------- zone


def test_zone_records() -> None:
    text = render_network(lab_plan())["lab.voip.zone"].decode()
    assert "$ORIGIN lab.voip.\n" in text
    records = zone_records(text)
    soa = [r for r in records if r[1] == "SOA"]
    assert len(soa) == 1
    serial = int(soa[0][2][2])
    assert 1 <= serial < 2**31
    a = sorted((o, d[0]) for o, t, d in records if t == "A")
    assert a == [
        ("provision", "10.250.1.151"),
        ("provision", "10.250.1.152"),
        ("vm40ic1", "10.250.1.151"),
        ("vm40ic2", "10.250.1.152"),
    ]
    srv = sorted((o, tuple(d)) for o, t, d in records if t == "SRV")
    assert srv == [
        ("_sip._tcp", ("0", "0", "8060", "vm40ic1.lab.voip.")),
        ("_sip._tcp", ("0", "0", "8060", "vm40ic2.lab.voip.")),
        ("_sip._udp", ("0", "0", "8060", "vm40ic1.lab.voip.")),
        ("_sip._udp", ("0", "0", "8060", "vm40ic2.lab.voip.")),
        ("_sips._tcp", ("0", "0", "8061", "vm40ic1.lab.voip.")),
        ("_sips._tcp", ("0", "0", "8061", "vm40ic2.lab.voip.")),
    ]
    assert [(o, d) for o, t, d in records if t == "NS"] == [("@", ["vm40ic1"])]


def _serial(zone: bytes) -> int:
    return int(re.search(rb"\( (\d+) ", zone).group(1))  # type: ignore[union-attr]


def _prior(current: bytes, *others: bytes) -> PriorZones:
    name = "lab.voip.zone"
    return PriorZones({name: current}, tuple({name: z} for z in (current, *others)))


def test_zone_serial_follows_the_previous_release() -> None:
    def zone(plan: NetworkPlan, prior: PriorZones | None = None) -> bytes:
        return render_network(plan, prior)["lab.voip.zone"]

    first = zone(lab_plan())
    assert _serial(first) == 1  # the first release
    # The same records as the current release: its serial, the same bytes.
    assert zone(lab_plan(), _prior(first)) == first
    assert zone(lab_plan(phones=()), _prior(first)) == first  # phones are not in the zone
    # A comment is not a record: a zone whose comments differ keeps the serial.
    noted = first.replace(b"; CIC servers", b"; an older comment").replace(b"( 1 ", b"( 7 ")
    assert _serial(zone(lab_plan(), _prior(noted))) == 7
    # Changed records: one more than the highest serial of any kept release.
    changed = zone(lab_plan(sip_port_tls=5061), _prior(first))
    assert _serial(changed) == 2
    assert changed.replace(b"( 2 ", b"( 1 ") != first
    # After a rollback to the first release a newer one had 2: a change gets 3, and the
    # first release's records keep its serial.
    assert _serial(zone(lab_plan(sip_port_tls=5062), _prior(first, changed))) == 3
    assert zone(lab_plan(), _prior(first, changed)) == first
    # RFC 1982: after 4294967295 comes 1.
    top = first.replace(b"( 1 ", b"( 4294967295 ")
    assert _serial(zone(lab_plan(sip_port_tls=5061), _prior(top))) == 1
    # site.zone_serial wins.
    assert _serial(zone(lab_plan(zone_serial=2026112601), _prior(first, changed))) == 2026112601


def test_reverse_zone_serials_are_their_own() -> None:
    name = "1.250.10.in-addr.arpa.zone"
    first = render_network(lab_plan())
    prior = PriorZones(first, (first,))
    moved = render_network(lab_plan(sip_port_tls=5061), prior)
    assert _serial(moved["lab.voip.zone"]) == 2
    assert moved[name] == first[name]  # its PTR records did not change


def test_zone_priorities_ports_and_single_address() -> None:
    plan = lab_plan(
        servers=(
            NetServer("vm40ic1", "10.250.1.151", 10, 60),
            NetServer("vm40ic2", "10.250.1.152", 20, 40),
        ),
        sip_port_tcp=0,
        sip_port_tls=0,
        provisioning_host_address="10.250.1.151",
    )
    records = zone_records(render_network(plan)["lab.voip.zone"].decode())
    srv = sorted((o, tuple(d)) for o, t, d in records if t == "SRV")
    assert srv == [
        ("_sip._udp", ("10", "60", "8060", "vm40ic1.lab.voip.")),
        ("_sip._udp", ("20", "40", "8060", "vm40ic2.lab.voip.")),
    ]
    assert [d for o, t, d in records if o == "provision"] == [["10.250.1.151"]]


def test_zone_fqdn_names_and_nameserver() -> None:
    plan = lab_plan(
        servers=(
            NetServer("vm40ic1.lab.voip", "10.250.1.151"),
            NetServer("VM40IC2", "10.250.1.152"),
        ),
        nameserver=NetServer("ns1", "10.250.1.5"),
    )
    records = zone_records(render_network(plan)["lab.voip.zone"].decode())
    a = {(o, d[0]) for o, t, d in records if t == "A"}
    assert {("vm40ic1", "10.250.1.151"), ("vm40ic2", "10.250.1.152"), ("ns1", "10.250.1.5")} <= a
    assert ("@", "NS", ["ns1"]) in records


def test_provisioning_host_outside_zone_gets_no_record() -> None:
    plan = lab_plan(provisioning_url="http://prov.example.net:8088/")
    records = zone_records(render_network(plan)["lab.voip.zone"].decode())
    assert not [r for r in records if r[0] == "provision"]


def test_provisioning_host_must_not_be_a_server() -> None:
    with pytest.raises(ValueError, match="CIC server"):
        render_network(lab_plan(provisioning_url="http://vm40ic1.lab.voip:8088/"))


# ---------------------------------------------------------------- nginx text


def test_nginx_site_text() -> None:
    text = render_nginx(
        "provision.lab.voip", "/srv/www", "/srv/uploads/", "127.0.0.1:8088"
    ).decode()
    assert "listen 127.0.0.1:8088;" in text
    assert 'root "/srv/www";' in text and 'root "/srv/uploads";' in text
    assert "autoindex off;" in text
    assert "dav_methods PUT;" in text and "DELETE" not in text.replace("no DELETE", "")
    assert "text/xml xml;" in text and "application/octet-stream bin img ld zip;" in text
    assert "client_max_body_size 10485760;" in text
    assert text.count("map $mipc_h") == 12


def test_nginx_cache_text() -> None:
    text = render_nginx_cache(
        "provision.branch.lab.voip", "http://provision.lab.voip:8088", "/var/cache/mipc", "80"
    ).decode()
    assert "server provision.lab.voip:8088;" in text
    assert "proxy_set_header Host provision.lab.voip:8088;" in text
    assert 'proxy_cache_path "/var/cache/mipc"' in text


# ---------------------------------------------------------------- hostile and invalid input

HOSTILE = ["bad name", 'a"b', "a'b", "a;b", "a{b", "a}b", "a\nb", "a\tb", "a\\b", ""]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "field",
    ["domain", "server_name", "server_address", "tftp_server", "phone_name", "family", "boot_file"],
)
def test_hostile_network_values(field: str, value: str) -> None:
    plan = lab_plan()
    if field == "domain":
        plan = lab_plan(domain=value)
    elif field == "server_name":
        plan = lab_plan(servers=(NetServer(value, "10.250.1.151"),))
    elif field == "server_address":
        plan = lab_plan(servers=(NetServer("vm40ic1", value),))
    elif field == "tftp_server":
        if not value:
            return  # empty means "no option 66"
        plan = lab_plan(tftp_server=value)
    elif field == "phone_name":
        if value not in ("a\nb", "a\tb", ""):
            return  # a phone name only lands in comments: see test_phone_names_in_comments
        plan = lab_plan(phones=(NetPhone(value, "00908f602aac", "420hd.img", "audiocodes"),))
    elif field == "family":
        plan = lab_plan(phones=(NetPhone("p", "00908f602aac", "420hd.img", value),))
    elif field == "boot_file":
        plan = lab_plan(phones=(NetPhone("p", "00908f602aac", value, "audiocodes"),))
    with pytest.raises(ValueError):
        render_network(plan)


def test_phone_names_in_comments() -> None:
    """Real phone names hold spaces and punctuation; they only ever appear in comments."""
    name = 'Agent "9001"; {desk} #2'
    files = render_network(lab_plan(phones=(NetPhone(name, "00908f602aac", "420hd.img", "iss"),)))
    for text in (files["dhcpd.conf"].decode(), files["dnsmasq.conf"].decode()):
        lines = [line for line in text.splitlines() if name in line]
        assert lines and all(line.split("#", 1)[1].find(name) >= 0 for line in lines)
    kea = json.loads(files["kea-dhcp4.json"])
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.extend(str(v) for k, v in node.items() if k == "phone")
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(kea)
    assert found == [name]


@pytest.mark.parametrize(
    "url",
    [
        'http://provision.lab.voip:8088/"; evil',
        "http://provision.lab.voip/\nx",
        "http://provision.lab.voip/{x}",
        "http://prov ision.lab.voip/",
        "gopher://provision.lab.voip/",
        "http:///nohost",
        "http://user:pw@provision.lab.voip/",
        "http://provision.lab.voip/a,b",
        "http://provision.lab.voip:99999/",
    ],
)
def test_hostile_url(url: str) -> None:
    with pytest.raises(ValueError, match="provisioning_url"):
        render_network(lab_plan(provisioning_url=url))


@pytest.mark.parametrize(
    "changes",
    [
        {"time_servers": ("mytimeserver.lab.voip",)},
        {"time_servers": ("10.0.0.1;",)},
        {"time_offset": 100000},
        {"sip_port_udp": 70000},
        {"sip_port_tcp": -1},
        {"voice_vlan": 5000},
        {"provisioning_host_address": "10.0.0.999"},
        {"default_boot_file": "../etc/passwd"},
        {"default_boot_file": "a/b.img"},
        {"servers": ()},
        {"servers": (NetServer("vm40ic1.lab.local", "10.0.0.1"),)},
        {"servers": (NetServer("a", "10.0.0.1"), NetServer("A", "10.0.0.2"))},
        {"phones": (NetPhone("p", "00:90:8f:60:2a:ac", None, "x"),)},
        {"phones": (NetPhone("p", "00908F602AAC", None, "x"),)},
        {
            "phones": (
                NetPhone("p", "00908f602aac", None, "x"),
                NetPhone("q", "00908f602aac", None, "x"),
            )
        },
        {"domain": "voip"},
        {"domain": "-bad.voip"},
        {"zone_serial": 0},
    ],
)
def test_invalid_values(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        render_network(lab_plan(**changes))


@pytest.mark.parametrize(
    ("args"),
    [
        ("bad name", "/srv/www", "/srv/up", "80"),
        ("a;b", "/srv/www", "/srv/up", "80"),
        ("prov", "/srv/www; root /", "/srv/up", "80"),
        ("prov", "srv/www", "/srv/up", "80"),
        ("prov", "/srv/$www", "/srv/up", "80"),
        ("prov", "/srv/www", "/srv/../etc", "80"),
        ("prov", "/srv/www", '/srv/"up', "80"),
        ("prov", "/srv/www", "/srv/up", "80; evil"),
        ("prov", "/srv/www", "/srv/up", "80 default_server"),
        ("prov", "/srv/www", "/srv/up", "99999"),
        ("prov", "/srv/{www}", "/srv/up", "80"),
        ("prov", "/srv/www\n", "/srv/up", "80"),
    ],
)
def test_hostile_nginx(args: tuple[str, str, str, str]) -> None:
    with pytest.raises(ValueError):
        render_nginx(*args)


@pytest.mark.parametrize(
    "central",
    [
        "http://central/path/",
        "ftp://central/",
        "http://cen tral/",
        "http://central/?a=b",
        "http://c;x/",
    ],
)
def test_hostile_nginx_cache(central: str) -> None:
    with pytest.raises(ValueError):
        render_nginx_cache("branch", central, "/var/cache/mipc", "80")


def test_error_message_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"servers\[0\]\.name 'vm40 ic1'.*' '"):
        render_network(lab_plan(servers=(NetServer("vm40 ic1", "10.250.1.151"),)))
