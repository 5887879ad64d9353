"""The generated network files pass the real validators (dhcpd, Kea, dnsmasq, BIND, nginx).

Each validator also gets a broken copy, to show that it really reads the file.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from mipc.network.checks import NetPhone, NetScope, NetServer, NetworkPlan
from mipc.network.nginx import render_nginx, render_nginx_cache
from mipc.network.plan import render_network
from tests.tooling import require_tool, write_nginx_prefix

pytestmark = pytest.mark.e2e

PLAN = NetworkPlan(
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
    phones=(
        NetPhone("PolycomLobby1", "0004f2aabbcc", None, "polycom"),
        NetPhone("Agent420", "00908f602aac", "420hd.img", "audiocodes"),
        NetPhone("Agent405", "00908f602aad", "405.img", "genesys"),
        NetPhone("Agent405HD", "00908f602aae", "405hd.img", "genesys"),
        NetPhone("Iss1", "000b82112233", "sip100.img", "iss"),
        NetPhone("Iss2", "000b82112234", "sip200.img", "iss"),
    ),
    default_boot_file="sip200.img",
    dns_servers=("10.250.1.5",),
    voice_vlan=100,
    nameserver=NetServer("ns1", "10.250.1.5"),
)

PLANS = {
    "lab": PLAN,
    "minimal": NetworkPlan(
        domain="voice.example.net",
        provisioning_url="https://prov.example.net/phones/",
        servers=(NetServer("ic1", "192.0.2.21"),),
        sip_port_udp=5060,
        sip_port_tcp=0,
        sip_port_tls=0,
        time_offset=3600,
        time_servers=(),
        tftp_server="",
        provisioning_host_address="192.0.2.21",
        phones=(),
        default_boot_file=None,
    ),
    # Locations with their own networks, pools, time, VLAN (as an integer) and proxy.
    "scoped": dataclasses.replace(
        PLAN,
        vlan_encoding="uint32",
        scopes=(
            NetScope("<Default Location>", ("10.250.1.0/24",), ("10.250.1.100-10.250.1.199",)),
            NetScope(
                "Branch",
                ("10.2.0.0/24", "10.2.2.0/23"),
                ("10.2.0.100-10.2.0.200", "10.2.2.10-10.2.3.250"),
                time_offset=-21600,
                time_servers=("10.2.0.5",),
                voice_vlan=120,
                provisioning_url="http://proxy.branch.lab.voip:8080/",
            ),
        ),
    ),
}
# The time servers in option 4 (site.time_server_option: 4), globally and in the scopes.
PLANS["time4"] = dataclasses.replace(PLANS["scoped"], time_server_option=4)


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)


def ok(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    result = run(cmd)
    assert result.returncode == 0, f"{cmd}: rc={result.returncode}\n{result.stdout}{result.stderr}"
    return result


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture(params=sorted(PLANS))
def files(request: pytest.FixtureRequest) -> dict[str, bytes]:
    return render_network(PLANS[request.param])


def test_dhcpd(tmp_path: Path, files: dict[str, bytes]) -> None:
    dhcpd = require_tool("dhcpd")
    conf = write(tmp_path, "dhcpd.conf", files["dhcpd.conf"])
    ok([dhcpd, "-t", "-cf", str(conf)])
    # The example subnet, uncommented, is valid too.
    text = files["dhcpd.conf"].decode()
    example = text[text.index("# subnet ") :]
    uncommented = "\n".join(line[2:] for line in example.splitlines())
    edited = write(tmp_path, "edited.conf", (text + uncommented + "\n").encode())
    ok([dhcpd, "-t", "-cf", str(edited)])
    broken = write(tmp_path, "broken.conf", files["dhcpd.conf"] + b"option mipc-nonexistent 1;\n")
    assert run([dhcpd, "-t", "-cf", str(broken)]).returncode != 0


def test_kea(tmp_path: Path, files: dict[str, bytes]) -> None:
    kea = require_tool("kea-dhcp4")
    conf = write(tmp_path, "kea-dhcp4.json", files["kea-dhcp4.json"])
    ok([kea, "-t", str(conf)])
    broken = files["kea-dhcp4.json"].replace(b'"time-offset"', b'"time-offzet"')
    assert run([kea, "-t", str(write(tmp_path, "broken.json", broken))]).returncode != 0


def test_dnsmasq(tmp_path: Path, files: dict[str, bytes]) -> None:
    dnsmasq = require_tool("dnsmasq")
    conf = write(tmp_path, "dnsmasq.conf", files["dnsmasq.conf"])
    result = ok([dnsmasq, "--test", f"--conf-file={conf}"])
    assert "syntax check OK" in result.stderr
    broken = write(tmp_path, "broken.conf", files["dnsmasq.conf"] + b"dhcp-option=option:nope,1\n")
    assert run([dnsmasq, "--test", f"--conf-file={broken}"]).returncode != 0


def test_option_4_instead_of_42(tmp_path: Path) -> None:
    """With ``time_server_option: 4`` every dialect sends the time servers in option 4 (the
    guide: 004 or 042, never both), globally and per scope; each file passes its daemon."""
    files = render_network(PLANS["time4"])
    dhcpd, kea, dnsmasq = (
        files[n].decode() for n in ("dhcpd.conf", "kea-dhcp4.json", "dnsmasq.conf")
    )
    assert dhcpd.count("option time-servers 10.250.1.5, 10.250.0.2;") == 1
    assert "option time-servers 10.2.0.5;" in dhcpd and "ntp-servers" not in dhcpd
    assert (
        kea.count('"name": "time-servers"') == 3
    )  # global, Branch's 2 networks and "ntp-servers" not in kea
    assert "dhcp-option=4,10.250.1.5,10.250.0.2" in dnsmasq
    assert "dhcp-option=tag:mipc-scope2,4,10.2.0.5" in dnsmasq and "ntp-server" not in dnsmasq
    ok([require_tool("dhcpd"), "-t", "-cf", str(write(tmp_path, "d.conf", files["dhcpd.conf"]))])
    ok([require_tool("kea-dhcp4"), "-t", str(write(tmp_path, "k.json", files["kea-dhcp4.json"]))])
    conf = write(tmp_path, "m.conf", files["dnsmasq.conf"])
    ok([require_tool("dnsmasq"), "--test", f"--conf-file={conf}"])


def test_bind_zone(tmp_path: Path, files: dict[str, bytes]) -> None:
    checkzone = require_tool("named-checkzone")
    compilezone = require_tool("named-compilezone")
    zones = sorted(name for name in files if name.endswith(".zone"))
    (forward,) = [name for name in zones if not name.endswith(".in-addr.arpa.zone")]
    domain = forward.removesuffix(".zone")
    for zone_name in zones:
        origin = zone_name.removesuffix(".zone")
        zone = write(tmp_path, zone_name, files[zone_name])
        result = ok([checkzone, "-S", "fail", origin, str(zone)])
        # named-checkzone only warns (rc 0) about targets without addresses: none wanted.
        assert "has no address records" not in result.stdout + result.stderr
        assert "loaded serial" in result.stdout
    expanded = ok([compilezone, "-q", "-o", "-", domain, str(tmp_path / forward)]).stdout
    srv = [line.split() for line in expanded.splitlines() if " SRV" in line]
    assert srv and all(fields[-1].endswith(f".{domain}.") for fields in srv)
    # Each NAPTR record (RFC 3263 4.1) leads to SRV records that exist, one per transport.
    naptr = [f for f in map(str.split, expanded.splitlines()) if f[3:4] == ["NAPTR"]]
    assert {f[-1] for f in naptr} == {f[0] for f in srv}
    assert all(f[0] == f"{domain}." and f[6] == '"S"' and f[8] == '""' for f in naptr)
    broken = write(tmp_path, "broken.zone", files[forward] + b"bad IN A 300.1.1.1\n")
    assert run([checkzone, domain, str(broken)]).returncode != 0


def test_reverse_zone_ptr(tmp_path: Path) -> None:
    compilezone = require_tool("named-compilezone")
    files = render_network(PLAN)
    zone = write(tmp_path, "r.zone", files["1.250.10.in-addr.arpa.zone"])
    expanded = ok([compilezone, "-q", "-o", "-", "1.250.10.in-addr.arpa", str(zone)]).stdout
    ptr = sorted(
        tuple(f[i] for i in (0, -1)) for f in map(str.split, expanded.splitlines()) if "PTR" in f
    )
    assert ptr == [
        ("151.1.250.10.in-addr.arpa.", "vm40ic1.lab.voip."),
        ("152.1.250.10.in-addr.arpa.", "vm40ic2.lab.voip."),
    ]


def test_named_conf_snippet(tmp_path: Path, files: dict[str, bytes]) -> None:
    checkconf = require_tool("named-checkconf")
    snippet = files["named.conf.snippet"].decode()
    for zone_name in [name for name in files if name.endswith(".zone")]:
        zone = write(tmp_path, zone_name, files[zone_name])
        assert f'"/etc/bind/{zone_name}"' in snippet
        snippet = snippet.replace(f"/etc/bind/{zone_name}", str(zone))
    ok([checkconf, "-z", str(write(tmp_path, "named.conf", snippet.encode()))])


def nginx_check(run_dir: Path, site: bytes) -> subprocess.CompletedProcess[str]:
    nginx = require_tool("nginx")
    main = write_nginx_prefix(run_dir, site)
    return run([nginx, "-t", "-q", "-p", f"{run_dir}/", "-c", str(main), "-e", "stderr"])


def test_nginx_site(tmp_path: Path) -> None:
    (tmp_path / "up").mkdir()
    site = render_nginx("provision.lab.voip", str(tmp_path / "www"), str(tmp_path / "up"), "8088")
    result = nginx_check(tmp_path / "run", site)
    assert result.returncode == 0, result.stderr
    broken = site.replace(b"autoindex off;", b"autoindex maybe;")
    assert nginx_check(tmp_path / "run2", broken).returncode != 0


def test_nginx_cache_site(tmp_path: Path) -> None:
    site = render_nginx_cache(
        "provision.branch.lab.voip", "http://127.0.0.1:8088/", str(tmp_path / "cache"), "8089"
    )
    result = nginx_check(tmp_path / "run", site)
    assert result.returncode == 0, result.stderr
