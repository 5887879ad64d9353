"""Unit tests for the locations' DHCP scopes, options 6 and 132, and the provision proxy."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mipc.network.checks import NetScope, NetworkPlan
from mipc.network.plan import network_files, network_plan, render_network
from mipc.pipeline import validate
from tests.unit.test_network import lab_plan

LAB = Path(__file__).resolve().parents[2] / "examples" / "lab"

BRANCH = NetScope(
    name="Branch",
    networks=("10.2.0.0/24", "10.2.1.0/24"),
    ranges=("10.2.0.100-10.2.0.200",),
    time_offset=-21600,
    time_servers=("10.2.0.5",),
    voice_vlan=120,
    provisioning_url="http://proxy.branch.lab.voip:8080/",
)


def plan(**changes: Any) -> NetworkPlan:
    """The lab plan with the Branch scope (and ``changes``)."""
    return lab_plan(**{"scopes": (BRANCH,), **changes})


def lab_inventory(tmp_path: Path, edit: dict[str, Any]) -> Path:
    """The lab example with ``edit`` merged into its locations and site."""
    shutil.copytree(LAB, tmp_path / "lab")
    path = tmp_path / "lab" / "mipc.yaml"
    data = yaml.safe_load(path.read_text())
    for name, keys in edit.get("locations", {}).items():
        data["locations"].setdefault(name, {}).update(keys)
    data["site"].update(edit.get("site", {}))
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_dhcpd_subnets() -> None:
    text = render_network(plan())["dhcpd.conf"].decode()
    blocks = re.findall(r"^subnet (\S+) netmask (\S+) \{\n(.*?)^\}", text, re.M | re.S)
    assert [(b[0], b[1]) for b in blocks] == [
        ("10.2.0.0", "255.255.255.0"),
        ("10.2.1.0", "255.255.255.0"),
    ]
    first, second = blocks[0][2], blocks[1][2]
    assert "range 10.2.0.100 10.2.0.200;" in first and "range" not in second
    wanted = {
        "option time-offset -21600;",
        "option ntp-servers 10.2.0.5;",
        'option mipc-voice-vlan "120";',
        'option mipc-provisioning-url "http://proxy.branch.lab.voip:8080/";',
    }
    for body in (first, second):
        assert wanted <= {line.strip() for line in body.splitlines()}
    # 132 is defined (and forced) although only the scope sends it.
    assert "option mipc-voice-vlan code 132 = text;" in text
    assert "dhcp-parameter-request-list, a0, 84);" in text


def test_kea_subnets() -> None:
    doc = json.loads(render_network(plan())["kea-dhcp4.json"])["Dhcp4"]
    subnets = doc["subnet4"]
    assert [(s["id"], s["subnet"]) for s in subnets] == [(1, "10.2.0.0/24"), (2, "10.2.1.0/24")]
    assert subnets[0]["pools"] == [{"pool": "10.2.0.100 - 10.2.0.200"}]
    assert subnets[1]["pools"] == []
    data = {o["name"]: o for o in subnets[0]["option-data"]}
    assert data["time-offset"]["data"] == "-21600"
    assert data["ntp-servers"]["data"] == "10.2.0.5"
    assert data["mipc-voice-vlan"] == {
        "name": "mipc-voice-vlan",
        "data": "120",
        "always-send": True,
    }
    assert data["mipc-provisioning-url"]["data"] == "http://proxy.branch.lab.voip:8080/"
    assert "boot-file-name" not in data  # a subnet's 67 would beat the recovery classes


def test_dnsmasq_scope_tags() -> None:
    lines = render_network(plan())["dnsmasq.conf"].decode().splitlines()
    tag = "tag:mipc-scope1"
    block = lines[lines.index("# Location Branch") + 1 :]
    assert block == [
        "dhcp-range=set:mipc-scope1,10.2.0.100,10.2.0.200,255.255.255.0,12h",
        "dhcp-range=set:mipc-scope1,10.2.1.0,static,255.255.255.0",
        f"dhcp-option={tag},2,-21600",
        f"dhcp-option={tag},option:ntp-server,10.2.0.5",
        f'dhcp-option-force={tag},132,"120"',
        f'dhcp-option-force={tag},160,"http://proxy.branch.lab.voip:8080/"',
        *block[6:],
    ]


@pytest.mark.parametrize(
    ("encoding", "dhcpd_def", "dhcpd_value", "dnsmasq_value"),
    [
        ("string", "text", '"120"', '"120"'),
        ("uint16", "unsigned integer 16", "120", "00:78"),
        ("uint32", "unsigned integer 32", "120", "00:00:00:78"),
    ],
)
def test_vlan_encodings(
    encoding: str, dhcpd_def: str, dhcpd_value: str, dnsmasq_value: str
) -> None:
    files = render_network(plan(vlan_encoding=encoding, voice_vlan=100))
    dhcpd = files["dhcpd.conf"].decode()
    assert f"option mipc-voice-vlan code 132 = {dhcpd_def};" in dhcpd
    assert f"option mipc-voice-vlan {dhcpd_value};" in dhcpd
    assert (
        f"dhcp-option-force=tag:mipc-scope1,132,{dnsmasq_value}"
        in files["dnsmasq.conf"].decode().splitlines()
    )
    kea = json.loads(files["kea-dhcp4.json"])["Dhcp4"]
    assert {d["code"]: d["type"] for d in kea["option-def"]}[132] == encoding


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        (dataclasses.replace(BRANCH, networks=("10.2.0.1/24",)), "CIDR"),
        (dataclasses.replace(BRANCH, networks=()), "at least one network"),
        (dataclasses.replace(BRANCH, ranges=("10.3.0.1-10.3.0.9",)), "inside one"),
        (dataclasses.replace(BRANCH, ranges=("10.2.0.9-10.2.0.1",)), "ascending"),
        (dataclasses.replace(BRANCH, ranges=("10.2.0.9",)), "FIRST-LAST"),
        (dataclasses.replace(BRANCH, voice_vlan=4095), "VLAN"),
        (dataclasses.replace(BRANCH, time_offset=90000), "time_offset"),
        (dataclasses.replace(BRANCH, provisioning_url='http://a"b/'), "provisioning_url"),
        (dataclasses.replace(BRANCH, name="a\nb"), "name"),
    ],
)
def test_invalid_scopes(scope: NetScope, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_network(plan(scopes=(scope,)))


def test_overlapping_networks_refused() -> None:
    other = NetScope(name="Other", networks=("10.2.1.128/25",))
    with pytest.raises(ValueError, match="overlaps"):
        render_network(plan(scopes=(BRANCH, other)))
    with pytest.raises(ValueError, match="vlan_encoding"):
        render_network(plan(vlan_encoding="int"))


def test_inventory_scopes_options_6_and_132(tmp_path: Path) -> None:
    path = lab_inventory(
        tmp_path,
        {
            "locations": {
                "Branch": {
                    "networks": ["10.2.0.0/24"],
                    "dhcp_ranges": ["10.2.0.100-10.2.0.199"],
                    "options": {"vlan": {"id": 120}},
                    "provision_proxy": {"address": "proxy.branch.lab.voip", "port": 8080},
                },
                "<Default Location>": {"networks": ["10.250.1.0/24"]},
            },
            "site": {"dns_servers": ["10.250.1.5"], "vlan_option_encoding": "uint16"},
        },
    )
    result = validate(path)
    assert result.plan is not None, result.diagnostics
    net = network_plan(result.plan)
    assert net.dns_servers == ("10.250.1.5",)
    assert net.vlan_encoding == "uint16"
    by_name = {s.name: s for s in net.scopes}
    assert set(by_name) == {"<Default Location>", "Branch"}
    branch, home = by_name["Branch"], by_name["<Default Location>"]
    # Each location its own offset: Chicago's standard offset, New York's.
    assert (branch.time_offset, home.time_offset) == (-21600, -18000)
    assert branch.voice_vlan == 120 and home.voice_vlan is None
    assert branch.provisioning_url == "http://proxy.branch.lab.voip:8080/"
    assert home.provisioning_url is None
    assert branch.ranges == ("10.2.0.100-10.2.0.199",)
    files = network_files(result.plan)
    assert "subnet 10.2.0.0 netmask 255.255.255.0 {" in files["dhcpd.conf"].decode()


def test_inventory_time_server_option(tmp_path: Path) -> None:
    """``site.time_server_option: 4`` moves the time servers from option 42 to option 4; a
    value the guide does not name is a schema error at its line."""
    edit = {"locations": {"Branch": {"networks": ["10.2.0.0/24"]}}}
    result = validate(lab_inventory(tmp_path, {**edit, "site": {"time_server_option": 4}}))
    assert result.plan is not None, result.diagnostics
    dhcpd = network_files(result.plan)["dhcpd.conf"].decode()
    assert re.search(r"^option time-servers \S", dhcpd, re.M)
    assert re.search(r"^  option time-servers \S", dhcpd, re.M)  # Branch's scope
    assert "ntp-servers" not in dhcpd
    default = validate(lab_inventory(tmp_path / "default", edit))
    assert default.plan is not None
    assert "time-servers" not in network_files(default.plan)["dhcpd.conf"].decode()
    bad = validate(lab_inventory(tmp_path / "bad", {"site": {"time_server_option": 43}}))
    assert bad.plan is None
    assert [(d.code, d.position is not None) for d in bad.diagnostics] == [("not-allowed", True)]


def test_option_6_defaults_to_the_servers(tmp_path: Path) -> None:
    result = validate(lab_inventory(tmp_path, {}))
    assert result.plan is not None
    net = network_plan(result.plan)
    assert net.dns_servers == ("10.250.1.151", "10.250.1.152")
    assert [(s.name, s.networks) for s in net.scopes] == [
        ("<Default Location>", ("10.250.0.0/16",))
    ]
    result = validate(lab_inventory(tmp_path / "empty", {"site": {"dns_servers": []}}))
    assert result.plan is not None
    assert network_plan(result.plan).dns_servers == ()


def test_provision_proxy_site(tmp_path: Path) -> None:
    proxy = {"networks": ["10.2.0.0/24"], "provision_proxy": {"address": "proxy.branch.lab.voip"}}
    result = validate(lab_inventory(tmp_path, {"locations": {"Branch": proxy}}))
    assert result.plan is not None
    files = network_files(result.plan)
    site = files["nginx-cache-proxy.branch.lab.voip.conf"].decode()
    assert "    listen 80;" in site and "server provision.lab.voip:8088;" in site
    assert "proxy_cache_use_stale error timeout updating" in site
    (scope,) = [s for s in network_plan(result.plan).scopes if s.name == "Branch"]
    assert scope.provisioning_url == "http://proxy.branch.lab.voip:80/"
    tftp = validate(
        lab_inventory(
            tmp_path / "tftp",
            {"locations": {"Branch": proxy}, "site": {"provisioning_url": "tftp://10.250.1.151/"}},
        )
    )
    assert tftp.plan is not None
    assert not [name for name in network_files(tftp.plan) if name.startswith("nginx")]
    assert [s.provisioning_url for s in network_plan(tftp.plan).scopes] == [None, None]
