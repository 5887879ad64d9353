"""Tests of the SIP Soft Phone renderer (``<full computer name>.i3sipcfg``, mipc XML profile)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from mipc.catalog.defaults import builtin_defaults
from mipc.catalog.models import load_catalog
from mipc.catalog.timezones import lookup
from mipc.inventory.files import with_files
from mipc.model import (
    Appearance,
    EffectivePhone,
    Plan,
    Qos,
    Registration,
    Secret,
    Server,
    TimeSettings,
)
from mipc.render.base import RenderError
from mipc.render.keyvalue.profile import ProfileError
from mipc.render.softphone import SoftPhoneRenderer, load_softphone
from mipc.render.stage import renderers
from tests.builders import bare_inventory, lab_site

LAB = Path(__file__).resolve().parents[2] / "examples" / "lab" / "mipc.yaml"


def make_plan(root: Path) -> Plan:
    site = lab_site(
        provisioning_url="https://provision.lab.voip:8088/",
        servers=(Server("vm40ic1", "10.250.1.151"),),
        voicemail_number=None,
    )
    inventory = with_files(bare_inventory(root, site))  # with its vendor_templates/
    return Plan(inventory=inventory, phones=())


def make_phone(
    computer_name: str | None = "AgentPC1.lab.local",
    *,
    label: str = "Agent 7003",
    password: str | None = "pw&<1>",
    registrations: tuple[Registration, ...] = (
        Registration(1, "line", "10.250.1.151", 8060, "udp"),
        Registration(2, "dns_srv", "lab.voip", None, "tls"),
    ),
    options: Mapping[str, Any] | None = None,
) -> EffectivePhone:
    model = load_catalog().models["SoftPhone"]
    app = Appearance(
        index=1,
        kind="private",
        station="AgentSSP",
        extension="7003",
        label=label,
        display_name="Agent Seven",
        user="7003",
        auth_user="7003auth",
        auth_password=Secret(password, "env:X") if password is not None else None,
        line_keys=1,
        calls_per_line_key=1,
        registration_group="G",
        registrations=registrations,
    )
    return EffectivePhone(
        name="AgentSSP",
        model=model,
        type="workstation",
        mac=None,
        computer_name=computer_name,
        template=None,
        location="<Default Location>",
        registration_group="G",
        registrations=registrations,
        secure=True,
        audio_protocol="srtp",
        firmware=None,
        language="English_United_States",
        time=TimeSettings(lookup("America/New_York"), (), False),
        qos=Qos(46, 24),
        appearances=(app,),
        options=MappingProxyType(dict(options or {})),
        extra=MappingProxyType({}),
        config_files=(),
        admin_password=None,
        settings=MappingProxyType({}),
        digest="0" * 64,
    )


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return make_plan(tmp_path)


def render_xml(phone: EffectivePhone, plan: Plan) -> tuple[str, bytes, ET.Element]:
    artifacts = SoftPhoneRenderer().render_phone(phone, plan)
    assert len(artifacts) == 1
    ((path, art),) = artifacts.items()
    assert art.phones == (phone.name,)
    assert art.link is None
    return path, art.data, ET.fromstring(art.data)


def test_registered() -> None:
    assert renderers()["softphone"] is SoftPhoneRenderer


def test_file_name_and_registrations(plan: Plan) -> None:
    path, data, root = render_xml(make_phone(), plan)
    assert path == "AgentPC1.lab.local.i3sipcfg"
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert b"\r" not in data
    assert root.get("computerName") == "AgentPC1.lab.local"
    regs = root.findall("./Registrations/Registration")
    assert [(r.get("kind"), r.get("address"), r.get("port"), r.get("transport")) for r in regs] == [
        ("line", "10.250.1.151", "8060", "udp"),
        ("dns_srv", "lab.voip", None, "tls"),
    ]
    line = root.find("./Lines/Line")
    assert line is not None
    assert line.get("user") == "7003"
    assert line.get("authUser") == "7003auth"
    assert line.get("authPassword") == "pw&<1>"


def test_options_tab(plan: Plan) -> None:
    options = {
        "ring_always": True,
        "inband_call_waiting_tone": True,
        "sip_port": 5070,
        "qos_enabled": False,
        "diagnostic_capture": True,
        "local_adapter": {"network_id": "10.250.0.0", "subnet_mask": "255.255.0.0"},
        "port_ranges": {"start": 20000, "end": 20100},
        "emergency": {"location": 'Room 12 "East"', "customer_name": "R&D"},
    }
    _, _, root = render_xml(make_phone(options=options), plan)
    general = root.find("General")
    assert general is not None
    assert general.attrib == {
        "ringAlways": "true",
        "inbandCallWaitingTone": "true",
        "sipReceivePort": "5070",
        "registrationExpires": "3600",
    }
    audio = root.find("SoftPhoneAudio")
    assert audio is not None
    assert audio.get("qosEnabled") == "false"
    assert audio.get("diagnosticCaptureEnabled") == "true"
    assert (audio.get("rtpDscp"), audio.get("sipDscp")) == ("46", "24")
    adapter = root.find("LocalAdapterAddress")
    assert adapter is not None
    assert adapter.attrib == {"networkId": "10.250.0.0", "subnetMask": "255.255.0.0"}
    ports = root.find("PortRange")
    assert ports is not None
    assert ports.attrib == {"start": "20000", "end": "20100"}
    emergency = root.find("EmergencyInformation")
    assert emergency is not None
    assert emergency.get("location") == 'Room 12 "East"'
    assert emergency.get("customerName") == "R&D"
    assert emergency.get("description") == ""


def test_defaults_leave_optional_elements_out(plan: Plan) -> None:
    _, _, root = render_xml(make_phone(), plan)
    for tag in ("LocalAdapterAddress", "PortRange", "EmergencyInformation"):
        assert root.find(tag) is None
    general = root.find("General")
    assert general is not None
    assert general.get("ringAlways") == "false"
    assert general.get("sipReceivePort") == "5060"


def test_hostile_label_stays_one_attribute(plan: Plan) -> None:
    hostile = 'a\n"/><Registration address="evil"/><x y="'
    _, _, root = render_xml(make_phone(label=hostile), plan)
    lines = root.findall("./Lines/Line")
    assert len(lines) == 1
    assert lines[0].get("label") == hostile
    assert len(root.findall(".//Registration")) == 2


@pytest.mark.parametrize(
    "name", ["../AgentPC1", "a/b", "a\\b", "..", ".", "", None, "PC\n1", " PC1"]
)
def test_file_name_guard(plan: Plan, name: str | None) -> None:
    with pytest.raises(RenderError):
        SoftPhoneRenderer().render_phone(make_phone(name), plan)


def test_port_range_must_be_ordered(plan: Plan) -> None:
    phone = make_phone(options={"port_ranges": {"start": 30000, "end": 20000}})
    with pytest.raises(RenderError, match="port_ranges"):
        SoftPhoneRenderer().render_phone(phone, plan)


def test_no_shared_files_no_firmware(plan: Plan) -> None:
    renderer = SoftPhoneRenderer()
    assert renderer.render_shared(plan, (make_phone(),)) == {}
    assert renderer.warnings == []


def test_deterministic(plan: Plan) -> None:
    phone = make_phone()
    assert SoftPhoneRenderer().render_phone(phone, plan) == SoftPhoneRenderer().render_phone(
        phone, plan
    )


def test_broken_override_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "vendor_templates" / "softphone"
    folder.mkdir(parents=True)
    (folder / "phone.i3sipcfg.j2").write_text("<a><b></a>\n")
    with pytest.raises(RenderError, match="not well-formed XML"):
        SoftPhoneRenderer().render_phone(make_phone(), make_plan(tmp_path))


def test_lab_soft_phone() -> None:
    pipeline = pytest.importorskip("mipc.pipeline")
    lab_plan = pipeline.validate(LAB).plan
    assert lab_plan is not None
    phones = [p for p in lab_plan.phones if p.family == "softphone"]
    assert phones
    for phone in phones:
        artifacts = SoftPhoneRenderer().render_phone(phone, lab_plan)
        ((path, art),) = artifacts.items()
        assert path == f"{phone.computer_name}.i3sipcfg"
        root = ET.fromstring(art.data)
        assert len(root.findall("./Registrations/Registration")) == len(phone.registrations)


# --- the soft phone's data file --------------------------------------------------------------

SHIPPED = Path(__file__).resolve().parents[2] / "vendor_templates" / "softphone" / "defaults.yaml"


def test_shipped_data_file_holds_the_defaults() -> None:
    data = load_softphone()
    assert data.template == "phone.i3sipcfg.j2" and data.suffix == ".i3sipcfg"
    assert data.options["sip_port"] == 5060 and data.options["registration_expires"] == 3600
    assert data.options["qos_enabled"] is True and data.options["ring_always"] is False
    assert data.emergency == ("description", "location", "calling_party_number", "customer_name")
    assert data.local_adapter == ("network_id", "subnet_mask")
    assert data.source.endswith("softphone/defaults.yaml")


def test_the_data_agrees_with_the_catalog_defaults() -> None:
    """The renderer's fallbacks are the catalog's soft-phone defaults (resolve gives these)."""
    catalog = builtin_defaults()["families"]["softphone"]["options"]
    assert dict(load_softphone().options) == catalog


def override_data(root: Path, text: str) -> Plan:
    folder = root / "vendor_templates" / "softphone"
    folder.mkdir(parents=True)
    (folder / "defaults.yaml").write_text(text)
    return make_plan(root)


def test_inventory_data_file_overrides_the_shipped_one(tmp_path: Path) -> None:
    text = SHIPPED.read_text().replace("sip_port: 5060", "sip_port: 5070")
    text = text.replace("suffix: .i3sipcfg", "suffix: .xml")
    text = text.replace("[network_id, subnet_mask]", "[network_id]")
    plan = override_data(tmp_path, text)
    phone = make_phone(options={"local_adapter": {"network_id": "10.0.0.0"}})
    with pytest.raises(RenderError, match="subnet_mask"):  # the template still names it
        SoftPhoneRenderer().render_phone(phone, plan)
    path, _, root = render_xml(make_phone(), plan)
    assert path == "AgentPC1.lab.local.xml"
    general = root.find("General")
    assert general is not None and general.get("sipReceivePort") == "5070"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("template: phone.i3sipcfg.j2\n", ""), r"missing entries \['template'\]"),
        (("suffix:", "colour: red\nsuffix:"), r"unknown entries \['colour'\]"),
        (("suffix: .i3sipcfg", "suffix: ../x"), "suffix must be a file name"),
        (("  sip_port: 5060\n", ""), "options must give a value for each of"),
        (("ring_always: false", "ring_always: 0"), "options.ring_always must be true or false"),
        (("sip_port: 5060", "sip_port: '5060'"), "options.sip_port must be a whole number"),
        (("sip_port: 5060", "sip_port: 70000"), "options.sip_port must be a whole number"),
        (("[network_id, subnet_mask]", "[network_id, network_id]"), "local_adapter must list"),
        (("[description, location,", "[Description, location,"), "emergency must list"),
    ],
)
def test_a_bad_data_file_is_an_error_naming_it(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = SHIPPED.read_text()
    assert change[0] in text
    plan = override_data(tmp_path, text.replace(*change))
    with pytest.raises(ProfileError, match=message) as info:
        SoftPhoneRenderer().render_phone(make_phone(), plan)
    assert str(tmp_path / "vendor_templates" / "softphone" / "defaults.yaml") in str(info.value)
