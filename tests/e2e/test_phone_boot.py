"""Phones boot from a real nginx serving a built release, through the generated site config.

Each test builds an example with ``mipc build``, serves ``OUT/current/www`` with the
``network/nginx-site.conf`` the build wrote (only its listen address changed to a free
loopback port), then requests files the way each family's phone does.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.artifacts import stem_of
from mipc.cli import main
from tests.builders import edit, settle
from tests.e2e.conftest import NginxLauncher
from tests.simulate_helpers import copy_example

ROOT = Path(__file__).resolve().parents[2]
STOCK = {"phone1.cfg", "sip.cfg"}  # Polycom's stock files, shipped from a firmware store


def _build(example: str, tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    inventory = tmp_path / example
    if not inventory.exists():
        copy_example(example, inventory)  # an open site: served to 127.0.0.1
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["build", str(inventory), "-o", str(out), "--server-root", str(out), *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return inventory, out


def _serve(nginx_server: NginxLauncher, out: Path) -> str:
    return nginx_server.serve_release(out)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def _put(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _polycom_boot(base: str, mac_upper: str) -> tuple[dict[str, str], list[str]]:
    """What a Polycom phone ends up with: master, then CONFIG_FILES, first file wins; the
    files by stem, each fetched under the content address of the bytes nginx gave."""
    status, body = _get(f"{base}/{mac_upper}.cfg")
    assert status == 200
    app = ET.fromstring(body)
    assert app.tag == "APPLICATION"
    files = [f.strip() for f in app.attrib["CONFIG_FILES"].split(",") if f.strip()]
    effective: dict[str, str] = {}
    stems: list[str] = []
    for name in files:
        status, data = _get(f"{base}/{name}")
        if name in STOCK and status == 404:
            stems.append(name)
            continue
        assert status == 200, name
        stem = stem_of(name, hashlib.sha256(data).hexdigest())
        assert name in STOCK or stem != name, name  # named by its content
        stems.append(stem)
        for element in ET.fromstring(data).iter():
            for key, value in element.attrib.items():
                effective.setdefault(key, value)  # first file that defines it wins
    firmware = app.attrib["APP_FILE_PATH"]
    assert re.fullmatch(r"firmware/polycom/[0-9.]+[A-Za-z.]*/[0-9-]+\.sip\.ld", firmware)
    return effective, stems


def _keyvalue(body: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in body.decode("ascii").split("\n"):
        if not line:
            continue
        key, sep, value = line.partition("=")
        assert sep and key and key == key.strip() and key not in out, line
        out[key] = value
    return out


def _server(effective: dict[str, str], reg: int, index: int) -> tuple[str, str, str]:
    def pick(suffix: str) -> str:
        own = effective.get(f"reg.{reg}.server.{index}.{suffix}")
        return own if own is not None else effective[f"voIpProt.server.{index}.{suffix}"]

    return pick("address"), pick("port"), pick("transport")


@pytest.mark.e2e
def test_lab_phones_boot_from_nginx(tmp_path: Path, nginx_server: NginxLauncher) -> None:
    _, out = _build("lab", tmp_path)
    base = _serve(nginx_server, out)

    agent, files = _polycom_boot(base, "0004F2001002")
    assert files[:3] == [files[0], "proxy/Branch-Survivable.cfg", "server/xic.cfg"]
    assert agent["reg.1.address"] == "7002"
    assert agent["reg.1.label"] == "Agent"
    assert _server(agent, 1, 1) == ("10.250.1.151", "8060", "UDPOnly")
    assert _server(agent, 1, 2) == ("10.250.1.152", "8060", "UDPOnly")
    assert _server(agent, 1, 3) == ("proxy.branch.lab.voip", "5060", "UDPOnly")
    assert agent["reg.2.type"] == "shared" and agent["reg.2.address"] == "7001"
    assert _server(agent, 3, 1) == ("pbx.partner.example", "5060", "UDPOnly")
    assert agent["reg.3.auth.password"] == "lab-only-partner-secret"
    assert agent["tcpIpApp.sntp.gmtOffset"] == "-21600"  # Branch: America/Chicago
    assert agent["qos.ip.rtp.dscp"] == "46" and agent["qos.ip.callControl.dscp"] == "24"

    lobby, _ = _polycom_boot(base, "0004f2001001")
    assert lobby["tcpIpApp.sntp.gmtOffset"] == "-18000"
    assert lobby["tcpIpApp.sntp.daylightSavings.start.month"] == "3"

    status, body = _get(f"{base}/00908F001006.cfg")
    assert status == 200
    audiocodes = _keyvalue(body)
    assert audiocodes["system/type"] == "420HD"
    assert audiocodes["voip/line/0/id"] == "7006"
    assert audiocodes["voip/signalling/sip/proxy_address"] == "10.250.1.151"
    assert audiocodes["voip/signalling/sip/proxy_port"] == "8060"
    assert audiocodes["voip/media/media_tos"] == "184"
    assert audiocodes["system/ntp/gmt_offset"] == "-05:00"

    status, body = _get(f"{base}/0026fd001004.cfg")
    assert status == 200 and _keyvalue(body)

    status, body = _get(f"{base}/AgentPC9.lab.local.i3sipcfg")
    assert status == 200
    assert ET.fromstring(body) is not None

    status, body = _get(f"{base}/000000000000.cfg")
    assert status == 200
    assert b"7001" not in body and b"lab-only-partner-secret" not in body
    assert b"PolycomLobby" not in body and b"10.250.1.151" not in body
    assert _get(f"{base}/0004f2999999.cfg")[0] == 404


@pytest.mark.e2e
def test_uploads_survive_rebuilds(tmp_path: Path, nginx_server: NginxLauncher) -> None:
    inventory, out = _build("lab", tmp_path)
    base = _serve(nginx_server, out)
    assert _put(f"{base}/logs/0004f2001002-boot.log", b"boot log\n") in (201, 204)
    assert _put(f"{base}/overrides/0004f2001002-phone.cfg", b"<x/>\n") in (201, 204)
    assert _put(f"{base}/0004f2001002.cfg", b"overwrite") in (403, 405)
    uploaded = out / "uploads" / "logs" / "0004f2001002-boot.log"
    assert uploaded.read_bytes() == b"boot log\n"
    for _ in range(3):
        _build("lab", tmp_path, "--force")
    assert uploaded.read_bytes() == b"boot log\n"
    assert (out / "uploads" / "overrides" / "0004f2001002-phone.cfg").read_bytes() == b"<x/>\n"
    # nginx follows the switched current symlink without a reload
    assert _get(f"{base}/0004f2001002.cfg")[0] == 200
    assert inventory.exists()


@pytest.mark.e2e
def test_campus_every_family_boots(tmp_path: Path, nginx_server: NginxLauncher) -> None:
    _, out = _build("campus", tmp_path)
    base = _serve(nginx_server, out)
    berlin, _ = _polycom_boot(base, "0004F2100007")
    assert berlin["tcpIpApp.sntp.gmtOffset"] == "3600"
    assert berlin["tcpIpApp.sntp.daylightSavings.start.dayOfWeek.lastInMonth"] == "1"
    assert berlin["lcl.ml.lang"] == "German_Germany"
    manager, files = _polycom_boot(base, "64167F100002")
    assert manager["sec.srtp.enable"] == "1"
    assert _server(manager, 1, 1)[2] == "TLS"
    assert any(f.startswith("server/cert/") for f in files)
    reception, files = _polycom_boot(base, "0004f2100001")
    assert reception["reg.1.label"] == 'R&D "Lab" <1>'
    assert reception["up.welcomeSoundEnabled"] == "0"  # custom [MACADDRESS]-extra.cfg
    for mac in ("00908f200004", "00908f300003", "0026fd400001", "0026fd400002"):
        status, body = _get(f"{base}/{mac.upper()}.cfg")
        assert status == 200, mac
        assert _keyvalue(body)
    status, body = _get(f"{base}/RemotePC1.campus.local.i3sipcfg")
    assert status == 200 and ET.fromstring(body) is not None


@pytest.mark.e2e
def test_built_network_files_pass_the_real_validators(tmp_path: Path) -> None:
    import subprocess

    from tests.tooling import require_tool

    _, out = _build("campus", tmp_path)
    network = out / "current" / "network"
    checks = [
        [require_tool("dhcpd"), "-t", "-cf", str(network / "dhcpd.conf")],
        [require_tool("kea-dhcp4"), "-t", str(network / "kea-dhcp4.json")],
        [require_tool("dnsmasq"), "--test", f"--conf-file={network / 'dnsmasq.conf'}"],
        [require_tool("named-checkzone"), "campus.voip", str(network / "campus.voip.zone")],
    ]
    for command in checks:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"


@pytest.mark.e2e
def test_incremental_rebuild_served(tmp_path: Path, nginx_server: NginxLauncher) -> None:
    """An extension changed: the build compiles that phone only, nginx serves its new file
    through the switched ``current``, every other phone gets the same bytes as before, and
    the previous release (kept for rollback) still holds the old file. (The AudioCodes phone:
    an ISS phone carries its template's factory-admin-password warning, and a phone that
    warns is always compiled in full.)"""
    inventory = tmp_path / "lab"
    site = copy_example("lab", inventory)
    with site.open("a", encoding="utf-8") as stream:
        stream.write("serving: {access: open}\n")  # chosen: served to 127.0.0.1
    settle(inventory)
    _, out = _build("lab", tmp_path)
    base = _serve(nginx_server, out)
    first = (out / "current").resolve()
    status, before = _get(f"{base}/00908f001006.cfg")
    assert status == 200 and _keyvalue(before)["voip/line/0/id"] == "7006"
    agent_before, _ = _polycom_boot(base, "0004F2001002")

    edit(inventory / "mipc.yaml", 'extension: "7006"', 'extension: "7666"')
    settle(inventory)
    result = CliRunner().invoke(
        main,
        ["build", str(inventory), "-o", str(out), "--server-root", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0 and "(changed phones only)" in result.output, result.output
    assert (out / "current").resolve() != first

    status, after = _get(f"{base}/00908F001006.cfg")
    assert status == 200 and _keyvalue(after)["voip/line/0/id"] == "7666"
    assert _polycom_boot(base, "0004F2001002")[0] == agent_before
    assert _keyvalue((first / "www" / "00908f001006.cfg").read_bytes()) == _keyvalue(before)
