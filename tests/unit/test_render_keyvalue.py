"""Tests of the key=value renderers (AudioCodes / Genesys, Interaction SIP Station I/II).

Phones are built by hand (EffectivePhone / Plan), so the tests do not depend on the resolve
stage; one test also renders ``examples/lab`` through the real pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from mipc.artifacts import Artifact
from mipc.catalog.models import load_catalog
from mipc.catalog.timezones import lookup
from mipc.inventory.files import with_files
from mipc.model import (
    Appearance,
    EffectivePhone,
    Inventory,
    InventoryFiles,
    Plan,
    Qos,
    Registration,
    Secret,
    Setting,
    TimeSettings,
)
from mipc.render.keyvalue import (
    AudioCodesRenderer,
    IssRenderer,
    KeyValueRenderer,
    ProfileError,
    RenderError,
    load_profile,
)
from mipc.render.stage import renderers
from tests.builders import bare_inventory, lab_site

LAB = Path(__file__).resolve().parents[2] / "examples" / "lab" / "mipc.yaml"


# --- a strict key=value parser ----------------------------------------------------------


def parse_kv(data: bytes) -> dict[str, str]:
    """One ``=`` split per line, no duplicate or blank key, no spaces around ``=``, LF only,
    ASCII, no BOM, a final newline."""
    assert not data.startswith(b"\xef\xbb\xbf"), "BOM"
    assert b"\r" not in data, "CR"
    text = data.decode("ascii")
    assert text.endswith("\n")
    result: dict[str, str] = {}
    for line in text.split("\n")[:-1]:
        assert "=" in line, f"no '=' in {line!r}"
        key, value = line.split("=", 1)
        assert key, f"blank key in {line!r}"
        assert key == key.strip() and not key.endswith(" "), f"space around '=' in {line!r}"
        assert not value.startswith(" "), f"space around '=' in {line!r}"
        assert key not in result, f"duplicate key {key}"
        result[key] = value
    return result


# --- hand-built phones -----------------------------------------------------------------


def make_inventory(root: Path, store: str | None = None) -> Inventory:
    """An inventory at ``root`` with the files already there (custom files, the store's)."""
    site = lab_site(provisioning_url="http://provision.lab.voip:8088")
    return with_files(bare_inventory(root, site, store))


def reg(
    address: str, port: int | None = 8060, transport: str = "udp", kind: str = "line"
) -> Registration:
    return Registration(entry=1, kind=kind, address=address, port=port, transport=transport)


def appearance(
    extension: str, index: int = 1, label: str | None = None, password: str | None = None
) -> Appearance:
    return Appearance(
        index=index,
        kind="private",
        station=f"Station{extension}",
        extension=extension,
        label=label if label is not None else f"Line {extension}",
        display_name=f"Agent {extension}",
        user=extension,
        auth_user=None,
        auth_password=Secret(password, "env:TEST") if password is not None else None,
        line_keys=1,
        calls_per_line_key=1,
        registration_group="<Default Registration Group>",
        registrations=(),
    )


def make_phone(
    model_id: str,
    name: str,
    mac: str,
    *,
    appearances: tuple[Appearance, ...] | None = None,
    registrations: tuple[Registration, ...] = (reg("10.250.1.151"),),
    zone: str = "America/New_York",
    rtp_dscp: int = 46,
    sip_dscp: int = 24,
    options: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    config_files: tuple[str, ...] = (),
    firmware: str | None = None,
) -> EffectivePhone:
    catalog = load_catalog()
    model = catalog.models[model_id]
    fw = (
        catalog.find_firmware(model_id, firmware) if firmware else catalog.latest_firmware(model_id)
    )
    opts = dict(options or {})
    settings = {f"options.{key}": Setting(value, "phone", None) for key, value in opts.items()}
    return EffectivePhone(
        name=name,
        model=model,
        type="workstation",
        mac=mac,
        computer_name=None,
        template=None,
        location="<Default Location>",
        registration_group="<Default Registration Group>",
        registrations=registrations,
        secure=False,
        audio_protocol="rtp",
        firmware=fw,
        language="English_United_States",
        time=TimeSettings(lookup(zone), ("10.250.1.151", "10.250.1.152"), False),
        qos=Qos(rtp_dscp, sip_dscp),
        appearances=appearances if appearances is not None else (appearance("7006"),),
        options=MappingProxyType(opts),
        extra=MappingProxyType(dict(extra or {})),
        config_files=config_files,
        admin_password=None,
        settings=MappingProxyType(settings),
        digest="0" * 64,
    )


def render(
    renderer: KeyValueRenderer, phone: EffectivePhone, plan: Plan
) -> tuple[str, dict[str, str]]:
    artifacts = renderer.render_phone(phone, plan)
    assert list(artifacts) == [f"{phone.mac}.cfg"]
    art = artifacts[f"{phone.mac}.cfg"]
    assert art.phones == (phone.name,)
    assert art.link is None
    return art.data.decode("ascii"), parse_kv(art.data)


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return Plan(inventory=make_inventory(tmp_path), phones=())


# --- registration --------------------------------------------------------------------------


def test_registered_for_both_families() -> None:
    table = renderers()
    assert table["audiocodes"] is AudioCodesRenderer
    assert table["iss"] is IssRenderer
    assert AudioCodesRenderer().family == "audiocodes"
    assert IssRenderer().family == "iss"


# --- the effective values, for several phones -----------------------------------------------

CASES = [
    # model, mac, registration, zone, dscp (rtp, sip), expected gmt offset, TOS (rtp, sip)
    ("AC420HD", "00908f001006", reg("10.250.1.151", 8060, "udp"), "America/New_York",
     (46, 24), "-05:00", ("184", "96")),
    ("GEN420HD", "00908f001007", reg("ic.lab.voip", 8061, "tls"), "Europe/Berlin",
     (46, 24), "+01:00", ("184", "96")),
    ("AC440HD", "00908f001008", reg("proxy.branch.lab.voip", 5060, "tcp"), "Asia/Kolkata",
     (34, 26), "+05:30", ("136", "104")),
    ("ISS1", "0026fd001004", reg("10.250.1.152", 8060, "tcp"), "America/Chicago",
     (46, 24), "-06:00", ("184", "96")),
    ("ISS2", "0026fd001005", reg("10.250.1.151", 8060, "udp"), "Australia/Sydney",
     (46, 24), "+10:00", ("184", "96")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model_id", "mac", "registration", "zone", "dscp", "offset", "tos"), CASES
)
def test_effective_values(
    plan: Plan,
    model_id: str,
    mac: str,
    registration: Registration,
    zone: str,
    dscp: tuple[int, int],
    offset: str,
    tos: tuple[str, str],
) -> None:
    phone = make_phone(
        model_id,
        f"Phone-{model_id}",
        mac,
        registrations=(registration,),
        zone=zone,
        rtp_dscp=dscp[0],
        sip_dscp=dscp[1],
        appearances=(appearance("7100"),),
    )
    renderer = renderers()[phone.family]()
    text, kv = render(renderer, phone, plan)  # type: ignore[arg-type]
    system_type = {"AC420HD": "420HD", "GEN420HD": "420HD", "AC440HD": "440HD"}
    assert text.startswith(
        f"system/type={system_type.get(model_id, 'SIP' + model_id[-1] + '00')}\n"
    )
    assert kv["voip/line/0/enabled"] == "1"
    assert kv["voip/line/0/id"] == "7100"
    assert kv["voip/signalling/sip/proxy_address"] == registration.address
    assert kv["voip/signalling/sip/proxy_port"] == str(registration.port)
    assert kv["voip/signalling/sip/transport_protocol"] == registration.transport.upper()
    assert kv["system/ntp/gmt_offset"] == offset
    assert kv["voip/media/media_tos"] == tos[0]
    assert kv["voip/signalling/sip/tos"] == tos[1]
    assert kv["provisioning/configuration/url"] == f"http://provision.lab.voip:8088/{mac}.cfg"
    assert kv["voip/signalling/sip/redundant_proxy/enabled"] == "0"


def test_tos_bytes_for_default_dscp(plan: Plan) -> None:
    _, kv = render(AudioCodesRenderer(), make_phone("AC405", "P", "00908f000001"), plan)
    assert (kv["voip/media/media_tos"], kv["voip/signalling/sip/tos"]) == ("184", "96")


def test_dst_rules_and_zone_without_dst(plan: Plan) -> None:
    _, kv = render(AudioCodesRenderer(), make_phone("AC420HD", "P", "00908f000001"), plan)
    assert kv["system/daylight_saving/activate"] == "ENABLE"
    assert kv["system/daylight_saving/mode"] == "DayOfWeek"
    # America/New_York: second Sunday of March 02:00 to first Sunday of November 02:00
    assert [kv[f"system/daylight_saving/start_date/{f}"] for f in
            ("month", "week", "day", "hour", "minute")] == ["3", "2", "1", "2", "0"]  # fmt: skip
    assert [kv[f"system/daylight_saving/end_date/{f}"] for f in
            ("month", "week", "day", "hour", "minute")] == ["11", "1", "1", "2", "0"]  # fmt: skip
    assert kv["system/daylight_saving/offset"] == "60"
    phone = make_phone("AC420HD", "Q", "00908f000002", zone="Asia/Kolkata")
    _, kv = render(AudioCodesRenderer(), phone, plan)
    assert kv["system/daylight_saving/activate"] == "DISABLE"
    assert not any(key.startswith("system/daylight_saving/start") for key in kv)


def test_backup_proxy_from_second_registration(plan: Plan) -> None:
    phone = make_phone(
        "AC420HD",
        "P",
        "00908f000001",
        registrations=(reg("10.250.1.151"), reg("10.250.1.152", 8062)),
    )
    _, kv = render(AudioCodesRenderer(), phone, plan)
    assert kv["voip/signalling/sip/redundant_proxy/enabled"] == "1"
    assert kv["voip/signalling/sip/redundant_proxy/address"] == "10.250.1.152"
    assert kv["voip/signalling/sip/redundant_proxy/port"] == "8062"


def test_dns_srv_registration_writes_no_port(plan: Plan) -> None:
    phone = make_phone(
        "ISS1", "P", "0026fd000001", registrations=(reg("lab.voip", None, "tcp", "dns_srv"),)
    )
    _, kv = render(IssRenderer(), phone, plan)
    assert kv["voip/signalling/sip/proxy_address"] == "lab.voip"
    assert "voip/signalling/sip/proxy_port" not in kv


# --- lines ------------------------------------------------------------------------------------


def test_430hd_writes_lines_0_to_5(plan: Plan) -> None:
    phone = make_phone(
        "AC430HD",
        "P",
        "00908f000001",
        appearances=(appearance("7001", 1), appearance("7002", 2)),
    )
    _, kv = render(AudioCodesRenderer(), phone, plan)
    assert [kv[f"voip/line/{n}/enabled"] for n in range(6)] == ["1", "1", "0", "0", "0", "0"]
    assert "voip/line/6/enabled" not in kv
    assert kv["voip/line/1/id"] == "7002"
    assert kv["voip/line/0/extension_display"] == "Line 7001"
    assert kv["voip/line/0/line_mode"] == "PRIVATE"


def test_two_line_models_write_two_lines(plan: Plan) -> None:
    for model_id in ("AC405", "AC405HD", "AC420HD", "GEN405", "GEN405HD", "GEN420HD"):
        _, kv = render(AudioCodesRenderer(), make_phone(model_id, "P", "00908f000001"), plan)
        assert kv["voip/line/1/enabled"] == "0"
        assert "voip/line/2/enabled" not in kv


def test_too_many_appearances_is_an_error(plan: Plan) -> None:
    phone = make_phone(
        "AC420HD",
        "P",
        "00908f000001",
        appearances=tuple(appearance(str(7000 + i), i) for i in range(1, 4)),
    )
    with pytest.raises(RenderError, match="has 2 line"):
        AudioCodesRenderer().render_phone(phone, plan)


def test_password_and_auth_name(plan: Plan) -> None:
    phone = make_phone(
        "AC420HD", "P", "00908f000001", appearances=(appearance("7001", password="s3cret"),)
    )
    _, kv = render(AudioCodesRenderer(), phone, plan)
    assert kv["voip/line/0/auth_name"] == "7001"
    assert kv["voip/line/0/auth_password"] == "s3cret"


# --- hostile and over-long values -----------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "a\nvoip/line/0/auth_password=x",
        "a\rvoip/line/0/auth_password=x",
        "a\r\nvoip/line/0/auth_password=x",
        "a\x00b",
        "a\u2028voip/line/0/auth_password=x",
        "Caf\u00e9",
        "a=b",
    ],
)
def test_hostile_label_never_adds_a_key(plan: Plan, label: str) -> None:
    phone = make_phone(
        "AC420HD", "P", "00908f000001", appearances=(appearance("7001", label=label),)
    )
    with pytest.raises(RenderError, match="extension_display"):
        AudioCodesRenderer().render_phone(phone, plan)


def test_hostile_password_is_rejected(plan: Plan) -> None:
    phone = make_phone(
        "ISS2",
        "P",
        "0026fd000001",
        appearances=(appearance("7001", password="x\nvoip/line/0/id=666"),),
    )
    with pytest.raises(RenderError, match="auth_password"):
        IssRenderer().render_phone(phone, plan)


def test_hostile_extra_value_is_rejected(plan: Plan) -> None:
    phone = make_phone("AC420HD", "P", "00908f000001", extra={"voip/foo": "1\nvoip/line/0/id=666"})
    with pytest.raises(RenderError, match="voip/foo"):
        AudioCodesRenderer().render_phone(phone, plan)


def test_over_long_line_id_raises(plan: Plan) -> None:
    long_ext = "1" * 31
    phone = make_phone("AC420HD", "P", "00908f000001", appearances=(appearance(long_ext),))
    with pytest.raises(RenderError, match=r"voip/line/0/id is 31 characters.*at most 30"):
        AudioCodesRenderer().render_phone(phone, plan)
    ok = make_phone("AC420HD", "P", "00908f000001", appearances=(appearance("1" * 30),))
    AudioCodesRenderer().render_phone(ok, plan)


def test_over_long_password_raises(plan: Plan) -> None:
    phone = make_phone(
        "AC420HD", "P", "00908f000001", appearances=(appearance("7001", password="p" * 36),)
    )
    with pytest.raises(RenderError, match="auth_password is 36 characters"):
        AudioCodesRenderer().render_phone(phone, plan)


# --- ISS options ------------------------------------------------------------------------------


def test_speed_dials_on_iss1_only(plan: Plan) -> None:
    options = {"speed_dial_1": "911", "speed_dial_2": "*", "speed_dial_hold_ms": 1500}
    _, kv1 = render(IssRenderer(), make_phone("ISS1", "A", "0026fd000001", options=options), plan)
    assert kv1["personal_settings/speed_dial/1/number"] == "911"
    assert kv1["personal_settings/speed_dial/2/number"] == "*"
    assert kv1["personal_settings/speed_dial/hold_duration"] == "1500"
    _, kv2 = render(IssRenderer(), make_phone("ISS2", "B", "0026fd000002"), plan)
    assert not any("speed_dial" in key for key in kv2)
    assert kv1["system/type"] == "SIP100"
    assert kv2["system/type"] == "SIP200"


def test_iss_options_tab_and_advanced_options(plan: Plan) -> None:
    options: dict[str, Any] = {
        "ring_always": True,
        "inband_call_waiting_tone": True,
        "sip_port": 5070,
        "media_port_start": 5000,
        "lan_port_mode": "100FD",
        "pc_port_mode": "disabled",
        "ring_volume": 7,
        "enable_pickup": False,
        "emergency": {"location": "Bldg 1, Floor 2", "calling_party_number": "3175551000"},
        "syslog": {"server": "syslog.lab.voip", "level": 2},
        "gains": {"handset": 3, "speaker": -2},
        "vlan": {"id": 100, "priority": 6, "lldp": True},
        "registration_expires": 600,
    }
    _, kv = render(IssRenderer(), make_phone("ISS2", "B", "0026fd000002", options=options), plan)
    expected = {
        "voip/services/ring_always": "1",
        "voip/services/inband_call_waiting_tone": "1",
        "voip/signalling/sip/port": "5070",
        "voip/media/media_port": "5000",
        "network/lan/port_mode": "100FD",
        "network/pc/port_mode": "DISABLED",
        "personal_settings/ring_volume": "7",
        "voip/services/pickup/enabled": "0",
        "emergency/location": "Bldg 1, Floor 2",
        "emergency/calling_party_number": "3175551000",
        "system/syslog/mode": "UDP",
        "system/syslog/server_address": "syslog.lab.voip",
        "system/syslog/server_port": "514",
        "system/syslog/level": "2",
        "voip/audio/gain/handset": "3",
        "voip/audio/gain/speaker": "-2",
        "network/lan/vlan/mode": "MANUAL",
        "network/lan/vlan/id": "100",
        "network/lan/vlan/priority": "6",
        "network/lan/vlan/lldp": "1",
        "voip/signalling/sip/proxy_timeout": "600",
        "provisioning/method": "STATIC",
        "provisioning/firmware/url": (
            "http://provision.lab.voip:8088/firmware/iss/2.0.4.15.7/sip200.img"
        ),
    }
    assert {key: kv.get(key) for key in expected} == expected
    assert "emergency/description" not in kv
    assert "voip/audio/gain/headset" not in kv


def test_audiocodes_options_and_unwritable_option_warns(plan: Plan) -> None:
    options: dict[str, Any] = {
        "nat_keepalive": 30,
        "voicemail_number": "*99",
        "gains": {"handset": 2},
        "syslog": {"server": "10.0.0.9", "port": 1514, "transport": "tcp"},
    }
    renderer = AudioCodesRenderer()
    _, kv = render(renderer, make_phone("AC420HD", "P", "00908f000001", options=options), plan)
    assert kv["voip/signalling/sip/registrar_ka/enabled"] == "1"
    assert kv["voip/signalling/sip/registrar_ka/timeout"] == "40"
    assert kv["voip/services/msg_waiting_ind/voice_mail_number"] == "*99"
    assert kv["system/syslog/server_port"] == "1514"
    assert kv["personal_settings/language"] == "ENGLISH"
    assert not any("gain" in key for key in kv)
    assert any("option gains" in w for w in renderer.warnings)
    assert any("transport tcp replaced by UDP" in w for w in renderer.warnings)
    # warnings are not repeated for the next phone
    count = len(renderer.warnings)
    render(renderer, make_phone("AC420HD", "Q", "00908f000002", options=options), plan)
    assert len(renderer.warnings) == count


def test_site_voicemail_is_the_default(plan: Plan) -> None:
    _, kv = render(AudioCodesRenderer(), make_phone("AC420HD", "P", "00908f000001"), plan)
    assert kv["voip/services/msg_waiting_ind/voice_mail_number"] == "*86"


# --- extra and custom files ---------------------------------------------------------------


def test_extra_comes_last_and_clashes_raise(plan: Plan) -> None:
    phone = make_phone(
        "AC420HD",
        "P",
        "00908f000001",
        extra={"voip/codec/codec_info/0/name": "G722", "management/telnet/enabled": False},
    )
    text, _ = render(AudioCodesRenderer(), phone, plan)
    assert text.splitlines()[-2:] == [
        "voip/codec/codec_info/0/name=G722",
        "management/telnet/enabled=0",
    ]
    clash = make_phone("AC420HD", "P", "00908f000001", extra={"voip/line/1/enabled": 1})
    with pytest.raises(RenderError, match=r"phone P: extra key voip/line/1/enabled"):
        AudioCodesRenderer().render_phone(clash, plan)


def test_custom_config_files(tmp_path: Path) -> None:
    folder = tmp_path / "custom_files" / "Genesys"
    folder.mkdir(parents=True)
    (folder / "tones.cfg").write_text(
        "; call progress tones\nvoip/regional_settings/selected_country=UK\n"
        "voip/signalling/sip/tos= 104\n\n",
        encoding="utf-8",
    )
    (folder / "420HD-00908f000001.cfg").write_text("management/telnet/enabled=0\n")
    plan = Plan(inventory=make_inventory(tmp_path), phones=())
    phone = make_phone(
        "GEN420HD",
        "P",
        "00908f000001",
        config_files=("tones.cfg", "[MODEL]-[MACADDRESS].cfg", "missing.cfg"),
        extra={"management/telnet/enabled": True},
    )
    renderer = AudioCodesRenderer()
    text, kv = render(renderer, phone, plan)
    lines = text.splitlines()
    assert lines[0] == "system/type=420HD"
    assert lines[1] == "voip/regional_settings/selected_country=UK"  # before mipc's keys
    assert kv["voip/signalling/sip/tos"] == "96"  # mipc's value wins
    assert kv["management/telnet/enabled"] == "1"  # extra wins over a custom file
    assert any("missing.cfg not found" in w for w in renderer.warnings)
    assert any("tones.cfg sets voip/signalling/sip/tos" in w for w in renderer.warnings)
    shared = renderer.render_shared(plan, (phone,))
    assert shared["Genesys/tones.cfg"].phones == ("P",)
    assert shared["Genesys/tones.cfg"].data.startswith(b"; call progress tones")
    assert "Genesys/420HD-00908f000001.cfg" in shared
    assert "Genesys/missing.cfg" not in shared


@pytest.mark.parametrize("name", ["../secret.cfg", "a/b.cfg", "a\\b.cfg", ".."])
def test_custom_file_names_must_be_one_component(plan: Plan, name: str) -> None:
    phone = make_phone("AC420HD", "P", "00908f000001", config_files=(name,))
    with pytest.raises(RenderError, match="single file name"):
        AudioCodesRenderer().render_phone(phone, plan)


def test_malformed_custom_file_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "custom_files" / "AudioCodes"
    folder.mkdir(parents=True)
    (folder / "bad.cfg").write_text("just some text\n")
    plan = Plan(inventory=make_inventory(tmp_path), phones=())
    phone = make_phone("AC420HD", "P", "00908f000001", config_files=("bad.cfg",))
    with pytest.raises(RenderError, match=r"bad.cfg:1: not a key=value line"):
        AudioCodesRenderer().render_phone(phone, plan)


def test_custom_files_come_from_the_inventory_files_only(tmp_path: Path) -> None:
    rel = "custom_files/AudioCodes/tones.cfg"
    files = InventoryFiles(
        contents={rel: b"\xef\xbb\xbfvoip/regional_settings/selected_country=UK\r\n"}
    )
    plan = Plan(inventory=replace(make_inventory(tmp_path), files=files), phones=())
    phone = make_phone("AC420HD", "P", "00908f000001", config_files=("tones.cfg",))
    renderer = AudioCodesRenderer()
    text, _ = render(renderer, phone, plan)
    assert text.splitlines()[1] == "voip/regional_settings/selected_country=UK"  # no BOM, no CR
    shared = renderer.render_shared(plan, (phone,))
    assert shared["AudioCodes/tones.cfg"].data == files.contents[rel]  # published as read


@pytest.mark.parametrize(
    ("files", "cause"),
    [
        (InventoryFiles(problems={"custom_files/AudioCodes/t.cfg": "[Errno 13] no"}), "no"),
        (InventoryFiles(contents={"custom_files/AudioCodes/t.cfg": b"k=\xff\n"}), "'utf-8'"),
    ],
)
def test_an_unreadable_custom_file_is_an_error(
    tmp_path: Path, files: InventoryFiles, cause: str
) -> None:
    plan = Plan(inventory=replace(make_inventory(tmp_path), files=files), phones=())
    phone = make_phone("AC420HD", "P", "00908f000001", config_files=("t.cfg",))
    where = re.escape(str(tmp_path / "custom_files" / "AudioCodes" / "t.cfg"))
    with pytest.raises(RenderError, match=rf"custom file {where}: cannot be read \(.*{cause}"):
        AudioCodesRenderer().render_phone(phone, plan)


# --- firmware ---------------------------------------------------------------------------------


def test_firmware_links_and_missing_images_warn(tmp_path: Path) -> None:
    store = tmp_path / "firmware"
    (store / "audiocodes" / "2.2.16.643").mkdir(parents=True)
    (store / "audiocodes" / "2.2.16.643" / "420hd.img").write_bytes(b"img")
    (store / "audiocodes" / "2.2.16.408").mkdir(parents=True)
    (store / "audiocodes" / "2.2.16.408" / "430hd.img").write_bytes(b"img")
    plan = Plan(inventory=make_inventory(tmp_path, store="firmware"), phones=())
    phones = (
        make_phone("AC420HD", "A", "00908f000001"),
        make_phone("GEN420HD", "B", "00908f000002"),
        make_phone("AC430HD", "C", "00908f000003", firmware="2.2.16.408"),
        make_phone("ISS1", "D", "0026fd000004"),  # another family: ignored here
    )
    renderer = AudioCodesRenderer()
    _, kv = render(renderer, phones[2], plan)
    assert kv["provisioning/firmware/url"] == (
        "http://provision.lab.voip:8088/firmware/audiocodes/2.2.16.408/430hd.img"
    )
    shared = renderer.render_shared(plan, phones)
    assert sorted(shared) == [
        "420HD.img",  # what the phone asks for with factory settings
        "420hd.img",
        "firmware/audiocodes/2.2.16.408/430hd.img",
        "firmware/audiocodes/2.2.16.643/420hd.img",
    ]
    root = shared["420hd.img"]
    assert root == Artifact(
        data=b"", phones=("A", "B"), link=str(store / "audiocodes" / "2.2.16.643" / "420hd.img")
    )
    assert shared["420HD.img"] == root
    assert shared["firmware/audiocodes/2.2.16.408/430hd.img"].phones == ("C",)
    # the latest 430HD image (root 430hd.img) is not in the store
    assert any("audiocodes/2.2.16.643/430hd.img not found" in w for w in renderer.warnings)


def test_iss_root_images(tmp_path: Path) -> None:
    store = tmp_path / "fw"
    (store / "iss" / "2.0.4.15.7").mkdir(parents=True)
    for image in ("sip100.img", "sip200.img"):
        (store / "iss" / "2.0.4.15.7" / image).write_bytes(b"x")
    plan = Plan(inventory=make_inventory(tmp_path, store=str(store)), phones=())
    phones = (make_phone("ISS1", "A", "0026fd000001"), make_phone("ISS2", "B", "0026fd000002"))
    renderer = IssRenderer()
    shared = renderer.render_shared(plan, phones)
    assert sorted(shared) == [
        "firmware/iss/2.0.4.15.7/sip100.img",
        "firmware/iss/2.0.4.15.7/sip200.img",
        "sip100.img",
        "sip200.img",
    ]
    assert all(a.data == b"" and a.link for a in shared.values())
    assert renderer.warnings == []


def test_no_store_no_firmware_artifacts(plan: Plan) -> None:
    renderer = AudioCodesRenderer()
    assert renderer.render_shared(plan, (make_phone("AC420HD", "A", "00908f000001"),)) == {}
    assert renderer.warnings == []


# --- templates, determinism -------------------------------------------------------------------


def test_override_template_is_used_and_checked(tmp_path: Path) -> None:
    folder = tmp_path / "vendor_templates" / "audiocodes"
    folder.mkdir(parents=True)
    template = folder / "phone.cfg.j2"
    template.write_text(
        "{% for key, value in settings %}{{ key }}={{ value | kv }}\n{% endfor %}"
        "voip/custom/marker={{ system_type }}\n"
    )
    plan = Plan(inventory=make_inventory(tmp_path), phones=())
    _, kv = render(AudioCodesRenderer(), make_phone("AC420HD", "P", "00908f000001"), plan)
    assert kv["voip/custom/marker"] == "420HD"
    template.write_text(
        "{% for key, value in settings %}{{ key }}={{ value | kv }}\n{% endfor %}"
        "system/type=broken\n"
    )
    (tmp_path / "x" / "vendor_templates").mkdir(parents=True)
    (tmp_path / "x" / "vendor_templates" / "audiocodes").mkdir()  # a link out would be refused
    (tmp_path / "x" / "vendor_templates" / "audiocodes" / "phone.cfg.j2").write_bytes(
        template.read_bytes()
    )
    other = Plan(inventory=make_inventory(tmp_path / "x"), phones=())
    with pytest.raises(RenderError, match="system/type appears twice"):
        AudioCodesRenderer().render_phone(make_phone("AC420HD", "P", "00908f000001"), other)


# --- the family data files ------------------------------------------------------------------


def test_shipped_data_files_hold_the_family_facts() -> None:
    audiocodes, iss = load_profile("audiocodes"), load_profile("iss")
    assert audiocodes.system_types["AC405"] == "405" and iss.system_types["ISS2"] == "SIP200"
    assert audiocodes.keys["sip.proxy_address"] == iss.keys["sip.proxy_address"]
    assert "language" in audiocodes.keys and "language" not in iss.keys
    assert audiocodes.minimums["sip.keepalive_timeout"] == 40
    assert audiocodes.defaults["sip_port"] == 5060 and iss.syslog_modes["tls"] == "TLS"
    assert "extending" in audiocodes.source and audiocodes.source.endswith("common.yaml)")


def override_data(root: Path, family: str, text: str) -> Plan:
    folder = root / "vendor_templates" / family
    folder.mkdir(parents=True)
    (folder / "keys.yaml").write_text(text)
    return Plan(inventory=make_inventory(root), phones=())


def test_inventory_data_file_overrides_the_shipped_one(tmp_path: Path) -> None:
    plan = override_data(
        tmp_path,
        "iss",
        (Path(__file__).resolve().parents[2] / "vendor_templates" / "iss" / "keys.yaml")
        .read_text()
        .replace("personal_settings/ring_volume", "personal_settings/volume/ring")
        .replace("ISS1: SIP100", "ISS1: SIP100X"),
    )
    text, kv = render(IssRenderer(), make_phone("ISS1", "A", "0026fd000001"), plan)
    assert text.startswith("system/type=SIP100X\n")
    assert kv["personal_settings/volume/ring"] == "5"
    assert "personal_settings/ring_volume" not in kv


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("extends: keyvalue/common.yaml\ndisplay: [x\n", "not valid YAML"),
        ("- a list\n", "must hold a mapping"),
        ("extends: keyvalue/missing.yaml\n", "keyvalue/missing.yaml not found"),
        ("extends: keyvalue/common.yaml\n", "missing entry 'display'"),
        ("extends: keyvalue/common.yaml\ndisplay: X\nsystem_types: {AC405: 405}\n", "quote it"),
        ("extends: keyvalue/common.yaml\ndisplay: X\nsystem_types: {}\n", "no value for"),
        (
            "extends: keyvalue/common.yaml\ndisplay: X\nsystem_types: {NOPE: x}\n",
            "unknown catalog models",
        ),
        ("extends: keyvalue/common.yaml\ndisplay: X\nkeys: {sip.proxy_adress: a/b}\n", "concept"),
        ("extends: keyvalue/common.yaml\ndisplay: X\nkeys: {line.id: voip/line/id}\n", "{n}"),
        ("extends: keyvalue/common.yaml\ndisplay: X\nsections: [lines, dial]\n", "sections"),
        ("extends: keyvalue/common.yaml\ndisplay: X\ndefaults: {sip_prot: 1}\n", "['sip_prot']"),
        ("extends: keyvalue/common.yaml\ndisplay: X\nspeed_dial: []\n", "unknown entries"),
        (
            "extends: keyvalue/common.yaml\ndisplay: X\nhashes: {admin.password: sha1}\n",
            "unknown scheme 'sha1' (known: ['md5-crypt'])",
        ),
        (
            "extends: keyvalue/common.yaml\ndisplay: X\nhashes: {line.id: md5-crypt}\n",
            "hashes.line.id: only ['admin.password'] can be hashed",
        ),
    ],
)
def test_a_bad_data_file_is_an_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    models = "".join(f"  {m}: T{m}\n" for m in ("AC405", "AC405HD", "AC420HD", "AC430HD"))
    models += "".join(f"  {m}: T{m}\n" for m in ("AC440HD", "GEN405", "GEN405HD", "GEN420HD"))
    if "system_types" not in text and "display: X" in text:
        text += "system_types:\n" + models
    plan = override_data(tmp_path, "audiocodes", text)
    with pytest.raises(ProfileError, match=re.escape(message)) as caught:
        AudioCodesRenderer().render_phone(make_phone("AC420HD", "P", "00908f000001"), plan)
    assert str(tmp_path) in str(caught.value) or "not found" in str(caught.value)


def test_deterministic(plan: Plan) -> None:
    phones = [
        make_phone("AC440HD", "A", "00908f000001", appearances=(appearance("1"),)),
        make_phone("ISS1", "B", "0026fd000002"),
    ]
    for phone in phones:
        first = renderers()[phone.family]().render_phone(phone, plan)
        second = renderers()[phone.family]().render_phone(phone, plan)
        assert first == second


def test_a_phone_without_mac_is_an_error(plan: Plan) -> None:
    phone = make_phone("AC420HD", "P", "00908f000001")
    broken = replace(phone, mac=None)
    with pytest.raises(RenderError, match="needs a MAC"):
        AudioCodesRenderer().render_phone(broken, plan)


# --- the lab example through the real pipeline ----------------------------------------------


def test_lab_example_files_parse_strictly() -> None:
    pipeline = pytest.importorskip("mipc.pipeline")
    result = pipeline.validate(LAB)
    lab_plan = result.plan
    assert lab_plan is not None
    seen = set()
    for family in ("audiocodes", "iss"):
        renderer = renderers()[family]()
        phones = tuple(p for p in lab_plan.phones if p.family == family)
        for phone in phones:
            for path, art in renderer.render_phone(phone, lab_plan).items():
                kv = parse_kv(art.data)
                seen.add(kv["system/type"])
                assert path == f"{phone.mac}.cfg"
                assert kv["voip/line/0/id"] == phone.appearances[0].user
                assert kv["system/ntp/gmt_offset"] == "-05:00"
                assert kv["voip/media/media_tos"] == "184"
                assert kv["voip/signalling/sip/tos"] == "96"
        renderer.render_shared(lab_plan, phones)
    assert {"420HD", "SIP100", "SIP200"} <= seen
