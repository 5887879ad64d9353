"""Tests for the Polycom renderer: well-formed files, first-file-wins as a phone reads them,
escaping, secrets kept out of the shared default master, determinism and template errors."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from mipc.artifacts import Artifacts, addressed
from mipc.catalog.models import Firmware, load_catalog
from mipc.catalog.timezones import lookup
from mipc.inventory.files import with_files
from mipc.model import (
    Appearance,
    EffectivePhone,
    Inventory,
    Plan,
    Qos,
    Registration,
    Secret,
    TimeSettings,
)
from mipc.render.polycom import (
    CA_FILE,
    DEFAULT_MASTER,
    SETUP_FILE,
    PolycomError,
    PolycomRenderer,
    iter_params,
    phone_guid,
    safe_segment,
)
from mipc.render.stage import renderers
from mipc.render.templating import TemplateError
from tests.builders import bare_inventory, by_stem, lab_site


def linked(name: str) -> bool:
    """Firmware images and Polycom's stock files: linked from the store, not written."""
    return name.startswith("firmware/")


HOSTILE = 'R&D "Lab" <1>'
SECRET = "s3cr&t<pw>"
EXT_SECRET = "partner-pw"

UDP = (
    Registration(1, "line", "10.250.1.151", 8060, "udp"),
    Registration(1, "line", "10.250.1.152", 8060, "udp"),
)
TLS = (
    Registration(1, "line", "10.250.1.151", 8061, "tls"),
    Registration(1, "line", "10.250.1.152", 8061, "tls"),
)
SRV = (Registration(1, "dns_srv", "lab.voip", None, "tcp"),)
FOUR = (
    *UDP,
    Registration(2, "managed_proxy", "proxy.branch.lab.voip", 5060, "udp"),
    Registration(3, "manual", "10.9.9.9", 5070, "tcp"),
)
PARTNER = (Registration(1, "manual", "pbx.partner.example", 5060, "udp"),)


def _firmware(model_id: str, version: str | None = None) -> Firmware:
    catalog = load_catalog()
    fw = catalog.find_firmware(model_id, version) if version else catalog.latest_firmware(model_id)
    assert fw is not None
    return fw


def _app(index: int, extension: str, label: str, **kw: Any) -> Appearance:
    values: dict[str, Any] = {
        "index": index,
        "kind": "private",
        "station": f"station {extension}",
        "extension": extension,
        "label": label,
        "display_name": label,
        "user": extension,
        "auth_user": None,
        "auth_password": None,
        "line_keys": 1,
        "calls_per_line_key": 4,
        "registration_group": "<Default Registration Group>",
        "registrations": (),
    }
    values.update(kw)
    return Appearance(**values)


def _phone(name: str, model: str, mac: str | None, **kw: Any) -> EffectivePhone:
    found = load_catalog().find_model(model, "Polycom")
    assert found is not None
    values: dict[str, Any] = {
        "name": name,
        "model": found,
        "type": "workstation",
        "mac": mac,
        "computer_name": None,
        "template": None,
        "location": "<Default Location>",
        "registration_group": "<Default Registration Group>",
        "registrations": UDP,
        "secure": False,
        "audio_protocol": "rtp",
        "firmware": _firmware(found.id),
        "language": "English_United_States",
        "time": TimeSettings(lookup("America/New_York"), ("10.250.1.151",), False),
        "qos": Qos(46, 24),
        "appearances": (_app(1, "7001", name),),
        "options": {},
        "extra": {},
        "config_files": (),
        "admin_password": None,
        "settings": {},
        "digest": "0" * 64,
    }
    values.update(kw)
    return EffectivePhone(**values)


def _phones() -> tuple[EffectivePhone, ...]:
    lobby = _phone("PolycomLobby", "VVX 450", "0004f2001001")
    rnd = _phone(
        "R&D Phone",
        "VVX 411",
        "0004f2001002",
        registration_group="<Default Secure Registration Group>",
        registrations=TLS,
        secure=True,
        audio_protocol="srtp",
        firmware=_firmware("VVX411", "5.9.7.4477"),
        language="German_Germany",
        time=TimeSettings(lookup("Europe/London"), ("ntp.lab.voip",), True),
        qos=Qos(40, 26),
        appearances=(
            _app(
                1,
                "7002",
                HOSTILE,
                display_name=HOSTILE,
                auth_user="7002",
                auth_password=Secret(SECRET, "env:PW"),
                registration_group="<Default Secure Registration Group>",
            ),
            _app(2, "7001", "Lobby", kind="shared", calls_per_line_key=1),
            _app(
                3,
                "ext_reg",
                "Partner",
                kind="external",
                auth_user="ext_reg",
                auth_password=Secret(EXT_SECRET, "file:x"),
                registration_group="Partner PBX",
                registrations=PARTNER,
            ),
        ),
        options={
            "registration_expires": 600,
            "vlan": {"id": 20, "priority": 6, "lldp": True},
            "syslog": {"server": "syslog.lab.voip", "transport": "tcp", "level": 2},
            "dial_plan": "x.T",
            "emergency": {"location": "Bldg 1 -- Floor 2", "customer_name": "Lab"},
        },
        extra={"reg.1.ringType": "ringer8"},
        config_files=("[MACADDRESS]-config.cfg", "[MODEL]-model.cfg", "missing.cfg"),
        admin_password=Secret("admin<&>", "env:ADMIN"),
    )
    branch = _phone(
        "Branch IP550",
        "IP 550",
        "0004f2001003",
        registration_group="Remote SRV",
        registrations=SRV,
        time=TimeSettings(lookup("America/Chicago"), (), False),
        appearances=(_app(1, "7003", "Branch", registration_group="Remote SRV"),),
    )
    survivable = _phone(
        "Survivable",
        "VVX 601",
        "0004f2001004",
        registration_group="Branch Survivable",
        registrations=FOUR,
        time=TimeSettings(lookup("UTC"), (), False),
        appearances=(_app(1, "7004", "Surv", registration_group="Branch Survivable"),),
    )
    unplugged = _phone("No MAC yet", "VVX 450", None)
    return (lobby, rnd, branch, survivable, unplugged)


def _inventory(root: Path, store: str | None = "store") -> Inventory:
    return with_files(bare_inventory(root, lab_site(provisioning_address="10.250.1.151"), store))


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    custom = tmp_path / "custom_files" / "polycom"
    custom.mkdir(parents=True)
    (custom / "0004f2001002-config.cfg").write_text(
        '<?xml version="1.0"?><mb mb.idleDisplay.home="http://intranet/" reg.1.address="x"/>',
        encoding="utf-8",
    )
    (custom / "VVX411-model.cfg").write_text("<cfg/>", encoding="utf-8")
    store = tmp_path / "store" / "polycom"
    (store / "6.4.5.1251").mkdir(parents=True)
    (store / "6.4.5.1251" / "3111-48840-001.sip.ld").write_bytes(b"image")
    (store / "sip.cfg").write_text("<sip/>", encoding="utf-8")
    return tmp_path


@pytest.fixture()
def plan(root: Path) -> Plan:
    return Plan(inventory=_inventory(root), phones=_phones())


def render(plan: Plan) -> tuple[Artifacts, PolycomRenderer]:
    renderer = PolycomRenderer()
    phones = tuple(p for p in plan.phones if p.family == "polycom")
    out: Artifacts = {}
    for phone in phones:
        for path, artifact in renderer.render_phone(phone, plan).items():
            assert path not in out, path
            out[path] = artifact
    shared = renderer.render_shared(plan, phones)
    assert not set(shared) & set(out)
    out.update(shared)
    return by_stem(out), renderer  # under their stems: phone/<guid>.cfg, server/xic.cfg


def play(artifacts: Artifacts, mac: str) -> tuple[dict[str, str], list[str]]:
    """What a phone ends up with: its master, then CONFIG_FILES left to right, first wins."""
    master = ET.fromstring(artifacts[f"{mac}.cfg"].data)
    assert master.tag == "APPLICATION"
    stems = {addressed(stem, art.data): stem for stem, art in artifacts.items()}
    files = [stems.get(f.strip(), f.strip()) for f in master.attrib["CONFIG_FILES"].split(",")]
    effective: dict[str, str] = {}
    for name in files:
        if linked(name):
            continue  # Polycom's stock files (linked from the store, not ours)
        for key, value in iter_params(artifacts[name].data):
            effective.setdefault(key, value)
    return effective, files


def server(effective: dict[str, str], reg: int, m: int, what: str) -> str | None:
    """A line's server setting as the phone resolves it: ``reg.N.server.M.*``, or, when the
    line names no server, the phone-wide ``voIpProt.server.M.*``."""
    if f"reg.{reg}.server.1.address" in effective:
        return effective.get(f"reg.{reg}.server.{m}.{what}")
    return effective.get(f"voIpProt.server.{m}.{what}")


# --------------------------------------------------------------------------------- tests


def test_registered_for_the_family() -> None:
    assert renderers()["polycom"] is PolycomRenderer


def test_every_file_is_well_formed_utf8_xml(plan: Plan) -> None:
    artifacts, _ = render(plan)
    for path, artifact in artifacts.items():
        if artifact.link is not None or path.startswith("custom/"):
            continue
        text = artifact.data.decode("utf-8")
        assert text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'), path
        assert "\r" not in text
        ET.fromstring(artifact.data)  # raises on malformed XML and on duplicate attributes


def test_file_set(plan: Plan) -> None:
    artifacts, _ = render(plan)
    guid = phone_guid("R&D Phone")
    for path in (
        "0004f2001001.cfg",
        "0004f2001002.cfg",
        f"phone/{guid}.cfg",
        "proxy/_3CDefault-Registration-Group_3E.cfg",
        "proxy/_3CDefault-Secure-Registration-Group_3E.cfg",
        "proxy/Remote-SRV.cfg",
        "server/xic.cfg",
        CA_FILE,
        DEFAULT_MASTER,
        "custom/0004f2001002-config.cfg",
        "custom/VVX411-model.cfg",
    ):
        assert path in artifacts, path
    # a phone without a MAC gets no master and no per-phone file
    assert f"phone/{phone_guid('No MAC yet')}.cfg" not in artifacts
    assert artifacts["0004f2001002.cfg"].phones == ("R&D Phone",)


@pytest.mark.parametrize(
    ("mac", "reg1", "servers", "gmt", "rtp", "sip"),
    [
        (
            "0004f2001001",
            "7001",
            [("10.250.1.151", "8060", "UDPOnly"), ("10.250.1.152", "8060", "UDPOnly")],
            "-18000",
            "46",
            "24",
        ),
        (
            "0004f2001002",
            "7002",
            [("10.250.1.151", "8061", "TLS"), ("10.250.1.152", "8061", "TLS")],
            "0",
            "40",
            "26",
        ),
        ("0004f2001003", "7003", [("lab.voip", "0", "TCPOnly")], "-21600", "46", "24"),
        (
            "0004f2001004",
            "7004",
            [
                ("10.250.1.151", "8060", "UDPOnly"),
                ("10.250.1.152", "8060", "UDPOnly"),
                ("proxy.branch.lab.voip", "5060", "UDPOnly"),
            ],
            "0",
            "46",
            "24",
        ),
    ],
)
def test_plays_the_phone(
    plan: Plan,
    mac: str,
    reg1: str,
    servers: list[tuple[str, str, str]],
    gmt: str,
    rtp: str,
    sip: str,
) -> None:
    artifacts, _ = render(plan)
    effective, files = play(artifacts, mac)
    assert not [f for f in files if linked(f)]  # UC Software 4+ has no stock files
    assert effective["reg.1.address"] == reg1
    for m, (address, port, transport) in enumerate(servers, start=1):
        assert server(effective, 1, m, "address") == address
        assert server(effective, 1, m, "port") == port
        assert server(effective, 1, m, "transport") == transport
    # a Polycom phone uses the first 3 entries only
    assert server(effective, 1, len(servers) + 1, "address") is None
    assert effective["tcpIpApp.sntp.gmtOffset"] == gmt
    assert effective["qos.ip.rtp.dscp"] == rtp
    assert effective["qos.ip.callControl.dscp"] == sip


def test_plays_the_secure_phone(plan: Plan) -> None:
    artifacts, _ = render(plan)
    effective, files = play(artifacts, "0004f2001002")
    guid = phone_guid("R&D Phone")
    assert files[:4] == [
        CA_FILE,
        f"phone/{guid}.cfg",
        "proxy/_3CDefault-Secure-Registration-Group_3E.cfg",
        "server/xic.cfg",
    ]
    assert files[4:] == ["custom/0004f2001002-config.cfg", "custom/VVX411-model.cfg"]
    # the custom file's reg.1.address loses: the per-phone file came first
    assert effective["reg.1.address"] == "7002"
    assert effective["mb.idleDisplay.home"] == "http://intranet/"
    assert effective["reg.1.auth.password"] == SECRET
    assert effective["reg.1.type"] == "private"
    assert effective["reg.2.type"] == "shared"
    assert effective["reg.2.callsPerLineKey"] == "1"
    # the external line registers with its own server
    assert effective["reg.3.address"] == "ext_reg"
    assert server(effective, 3, 1, "address") == "pbx.partner.example"
    assert server(effective, 3, 1, "transport") == "UDPOnly"
    assert server(effective, 3, 1, "expires") == "600"
    assert effective["reg.3.auth.password"] == EXT_SECRET
    assert (effective["sec.srtp.enable"], effective["sec.srtp.require"]) == ("1", "1")
    assert effective["lcl.ml.lang"] == "German_Germany"
    assert effective["reg.1.ringType"] == "ringer8"
    assert effective["tcpIpApp.sntp.address"] == "ntp.lab.voip"
    assert effective["tcpIpApp.sntp.address.overrideDHCP"] == "1"
    assert effective["device.net.vlanId"] == "20"
    assert effective["device.syslog.transport"] == "2"
    assert effective["device.auth.localAdminPassword"] == "admin<&>"
    assert effective["qos.ethernet.rtp.user_priority"] == "6"
    assert effective["dialplan.digitmap"] == "x.T"  # the phone's own beats xic.cfg's


def test_dst_fields(plan: Plan) -> None:
    artifacts, _ = render(plan)
    ny, _ = play(artifacts, "0004f2001001")  # 2nd Sunday of March .. 1st Sunday of November
    dst = "tcpIpApp.sntp.daylightSavings"
    assert ny[f"{dst}.enable"] == "1"
    assert ny[f"{dst}.fixedDayEnable"] == "0"
    assert (ny[f"{dst}.start.month"], ny[f"{dst}.start.date"]) == ("3", "8")
    assert (ny[f"{dst}.start.dayOfWeek"], ny[f"{dst}.start.time"]) == ("1", "2")
    assert ny[f"{dst}.start.dayOfWeek.lastInMonth"] == "0"
    assert (ny[f"{dst}.stop.month"], ny[f"{dst}.stop.date"], ny[f"{dst}.stop.time"]) == (
        "11",
        "1",
        "2",
    )
    london, _ = play(artifacts, "0004f2001002")  # last Sunday of March 01:00 .. October 02:00
    assert london[f"{dst}.start.dayOfWeek.lastInMonth"] == "1"
    assert (london[f"{dst}.start.month"], london[f"{dst}.start.time"]) == ("3", "1")
    assert (london[f"{dst}.stop.month"], london[f"{dst}.stop.time"]) == ("10", "2")
    assert london[f"{dst}.stop.dayOfWeek"] == "1"
    utc, _ = play(artifacts, "0004f2001004")
    assert utc[f"{dst}.enable"] == "0"
    assert f"{dst}.start.month" not in utc
    for effective in (ny, london):
        for which in ("start", "stop"):
            assert 1 <= int(effective[f"{dst}.{which}.dayOfWeek"]) <= 7


def test_every_listed_file_exists(plan: Plan) -> None:
    artifacts, renderer = render(plan)
    for phone in plan.phones:
        if phone.mac is None:
            continue
        _, files = play(artifacts, phone.mac)
        assert [f for f in files if f not in artifacts and not linked(f)] == []
    # the custom file the inventory does not hold is left out, with a warning
    assert any(
        "R&D Phone" in w and "missing.cfg" in w and "left out" in w for w in renderer.warnings
    )


def test_hostile_label_round_trips(plan: Plan) -> None:
    artifacts, _ = render(plan)
    raw = artifacts[f"phone/{phone_guid('R&D Phone')}.cfg"].data.decode("utf-8")
    assert HOSTILE not in raw
    assert "R&amp;D &quot;Lab&quot; &lt;1&gt;" in raw
    params = dict(iter_params(raw))
    assert params["reg.1.label"] == HOSTILE
    assert params["reg.1.displayName"] == HOSTILE
    assert params["reg.1.auth.password"] == SECRET
    # the emergency comment cannot be closed early by the inventory's text
    assert "Bldg 1 - - Floor 2" in raw


def test_no_attribute_twice(plan: Plan) -> None:
    artifacts, _ = render(plan)
    attr = re.compile(r'\s([A-Za-z_][\w.]*)="')
    for path, artifact in artifacts.items():
        if artifact.link is not None or path.startswith("custom/"):
            continue
        keys = [m.group(1) for m in attr.finditer(artifact.data.decode("utf-8"))]
        assert len(keys) == len(set(keys)), path


def test_extra_may_not_repeat_a_written_key(plan: Plan) -> None:
    phone = dataclasses.replace(plan.phones[0], extra={"reg.1.label": "again"})
    with pytest.raises(PolycomError, match=r"PolycomLobby.*reg\.1\.label"):
        PolycomRenderer().render_phone(phone, plan)


def test_extra_needs_a_polycom_name(plan: Plan) -> None:
    phone = dataclasses.replace(plan.phones[0], extra={"voip/codecs/x": "1"})
    with pytest.raises(PolycomError, match=r"PolycomLobby.*voip/codecs/x"):
        PolycomRenderer().render_phone(phone, plan)


def test_default_master_holds_nothing_private(plan: Plan) -> None:
    artifacts, _ = render(plan)
    shared = {p: a for p, a in artifacts.items() if p.startswith("000000000000")}
    setup = ET.fromstring(artifacts[DEFAULT_MASTER].data).attrib["CONFIG_FILES"]
    assert setup == addressed(SETUP_FILE, artifacts[SETUP_FILE].data)
    shared[setup] = artifacts[SETUP_FILE]
    assert artifacts[DEFAULT_MASTER].phones == ()
    forbidden = [SECRET, EXT_SECRET, "admin", "password", "auth", "10.250.", "lab.voip", "*86"]
    for phone in plan.phones:
        forbidden.append(phone.name)
        forbidden.extend(a.extension for a in phone.appearances)
        forbidden.extend(a.label for a in phone.appearances)
    for path, artifact in shared.items():
        text = artifact.data.decode("utf-8")
        for word in forbidden:
            assert word not in text, (path, word)
    params = dict(iter_params(artifacts[SETUP_FILE].data))
    assert params["reg.1.label"] == "Setup"
    assert not any(k.startswith("reg.2.") for k in params)
    master = ET.fromstring(artifacts[DEFAULT_MASTER].data)
    children = {child.tag: child.attrib for child in master}
    assert children["APPLICATION_VVX450"] == {
        "APP_FILE_PATH_VVX450": "firmware/polycom/6.4.5.1251/3111-48840-001.sip.ld"
    }


def test_firmware_paths_and_links(plan: Plan, root: Path) -> None:
    artifacts, renderer = render(plan)
    lobby = ET.fromstring(artifacts["0004f2001001.cfg"].data).attrib
    assert lobby["APP_FILE_PATH"] == "firmware/polycom/6.4.5.1251/3111-48840-001.sip.ld"
    assert lobby["LOG_FILE_DIRECTORY"] == "logs"
    assert lobby["OVERRIDES_DIRECTORY"] == "overrides"
    assert lobby["CONTACTS_DIRECTORY"] == "contacts"
    pinned = ET.fromstring(artifacts["0004f2001002.cfg"].data).attrib
    assert pinned["APP_FILE_PATH"] == "firmware/polycom/5.9.7.4477/3111-48450-001.sip.ld"
    image = artifacts["firmware/polycom/6.4.5.1251/3111-48840-001.sip.ld"]
    assert image.data == b""
    assert image.link == str(root / "store/polycom/6.4.5.1251/3111-48840-001.sip.ld")
    assert image.phones == ("PolycomLobby",)  # the phone without MAC fetches nothing
    assert "sip.cfg" not in artifacts  # UC Software 4+ has no stock files
    assert "firmware/polycom/5.9.7.4477/3111-48450-001.sip.ld" not in artifacts
    assert any(
        "firmware file missing" in w and "5.9.7.4477/3111-48450-001.sip.ld" in w
        for w in renderer.warnings
    )


def test_no_store_no_links(root: Path) -> None:
    plan = Plan(inventory=_inventory(root, store=None), phones=_phones())
    artifacts, renderer = render(plan)
    assert not any(a.link for a in artifacts.values())
    assert any("no firmware store" in w for w in renderer.warnings)


def test_custom_files_are_copied(plan: Plan, root: Path) -> None:
    artifacts, _ = render(plan)
    copied = artifacts["custom/0004f2001002-config.cfg"]
    source = root / "custom_files/polycom/0004f2001002-config.cfg"
    assert copied.data == source.read_bytes()
    assert copied.phones == ("R&D Phone",)


def test_ca_file_only_for_tls(plan: Plan, root: Path) -> None:
    artifacts, renderer = render(plan)
    assert artifacts[CA_FILE].phones == ("R&D Phone",)
    assert any("no CA certificate" in w for w in renderer.warnings)
    _, files = play(artifacts, "0004f2001001")
    assert CA_FILE not in files
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    (root / "certs").mkdir()
    (root / "certs" / "ca.pem").write_text(pem + "\n", encoding="utf-8")
    artifacts, _ = render(dataclasses.replace(plan, inventory=with_files(plan.inventory)))
    assert dict(iter_params(artifacts[CA_FILE].data))["sec.TLS.customCaCert.1"] == pem


def test_server_file_has_park_and_page(plan: Plan) -> None:
    artifacts, _ = render(plan)
    params = dict(iter_params(artifacts["server/xic.cfg"].data))
    actions = {v for k, v in params.items() if k.endswith(".action.string")}
    for code in ("*901", "*902", "*903", "*904"):
        assert any(a.startswith(code) for a in actions), code
    assert params["up.oneTouchVoiceMail"] == "1"


def test_guid_is_stable_and_independent_of_the_mac(plan: Plan) -> None:
    phone = plan.phones[0]
    moved = dataclasses.replace(phone, mac="0004f2ffffff")
    first = by_stem(PolycomRenderer().render_phone(phone, plan))
    second = by_stem(PolycomRenderer().render_phone(moved, plan))
    guid_path = f"phone/{phone_guid(phone.name)}.cfg"
    assert guid_path in first and guid_path in second
    assert first[guid_path].data == second[guid_path].data
    assert phone_guid("PolycomLobby") == "6bac2fda-f401-5f0f-a0bf-1cbae5720594"


def test_group_file_names_never_collide() -> None:
    names = ["a b", "a-b", "a_b", "a_2Db", "a.b", ".ab", "_2Eab", "<x>", "_3Cx_3E", "Ünï", ""]
    encoded = [safe_segment(n) for n in names]
    assert len(set(encoded)) == len(names)
    for text in encoded:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+", text) and not text.startswith(".")
    assert safe_segment("<Default Registration Group>") == "_3CDefault-Registration-Group_3E"


def test_group_with_differing_servers_gets_variants(plan: Plan) -> None:
    other = dataclasses.replace(
        plan.phones[0],
        name="Lobby 2",
        mac="0004f2001009",
        registrations=(Registration(1, "manual", "10.1.1.1", 5060, "udp"),),
    )
    plan2 = dataclasses.replace(plan, phones=(*plan.phones, other))
    artifacts, _ = render(plan2)
    _, files_a = play(artifacts, "0004f2001001")
    _, files_b = play(artifacts, "0004f2001009")
    assert files_a[1] != files_b[1]
    assert files_a[1].startswith("proxy/_3CDefault-Registration-Group_3E~")
    eff_b, _ = play(artifacts, "0004f2001009")
    assert eff_b["voIpProt.server.1.address"] == "10.1.1.1"


def test_deterministic(plan: Plan) -> None:
    first, _ = render(plan)
    second, _ = render(plan)
    assert first == second
    for artifact in first.values():
        assert b"\r" not in artifact.data


def test_missing_template_variable_names_the_template(plan: Plan, root: Path) -> None:
    folder = root / "vendor_templates" / "polycom"
    folder.mkdir(parents=True)
    (folder / "master.cfg.j2").write_text('<APPLICATION x="{{ no_such_value }}"/>\n')
    plan = dataclasses.replace(plan, inventory=with_files(plan.inventory))
    with pytest.raises(TemplateError, match=r"polycom/master\.cfg\.j2.*no_such_value"):
        PolycomRenderer().render_phone(plan.phones[0], plan)


def test_unknown_transport_is_an_error(plan: Plan) -> None:
    phone = dataclasses.replace(
        plan.phones[0],
        appearances=(
            _app(
                1,
                "1",
                "x",
                kind="external",
                registrations=(Registration(1, "manual", "h", 1, "sctp"),),
            ),
        ),
    )
    with pytest.raises(PolycomError, match="sctp"):
        PolycomRenderer().render_phone(phone, plan)


def _example_plan(target: str) -> Plan:
    from mipc.pipeline import validate

    result = validate(Path(__file__).resolve().parents[2] / "examples" / target)
    assert result.plan is not None, [d.text() for d in result.diagnostics.errors]
    return result.plan


def test_campus_example() -> None:
    plan = _example_plan("campus")
    artifacts, renderer = render(plan)
    assert not [w for w in renderer.warnings if "custom config file" in w]
    polycom = [p for p in plan.phones if p.family == "polycom" and p.mac is not None]
    assert len({p.model.id for p in polycom}) >= 5
    for phone in polycom:
        assert phone.mac is not None
        effective, files = play(artifacts, phone.mac)
        assert all(f in artifacts or linked(f) for f in files), phone.name
        assert effective["reg.1.address"] == phone.appearances[0].user
        first = phone.registrations[0]
        assert server(effective, 1, 1, "address") == first.address
        assert effective["qos.ip.rtp.dscp"] == str(phone.qos.rtp_dscp)
        assert effective["tcpIpApp.sntp.gmtOffset"] == str(phone.time.zone.std_offset)
    if any(p.secure for p in polycom):
        cert = dict(iter_params(artifacts[CA_FILE].data))["sec.TLS.customCaCert.1"]
        assert cert.startswith("-----BEGIN CERTIFICATE-----")


def test_lab_example() -> None:
    plan = _example_plan("lab/mipc.yaml")
    artifacts, _ = render(plan)
    for artifact in artifacts.values():
        if artifact.link is None:
            ET.fromstring(artifact.data)
    agent = next(p for p in plan.phones if p.name == "PolycomAgent")
    assert agent.mac is not None
    effective, files = play(artifacts, agent.mac)
    assert all(f in artifacts or linked(f) for f in files)
    assert effective["reg.1.address"] == "7002"
    assert effective["reg.2.type"] == "shared"
    assert server(effective, 1, 1, "address") == "10.250.1.151"
    assert server(effective, 1, 3, "address") == "proxy.branch.lab.voip"
    assert server(effective, 3, 1, "address") == "pbx.partner.example"
    assert effective["tcpIpApp.sntp.gmtOffset"] == "-21600"
