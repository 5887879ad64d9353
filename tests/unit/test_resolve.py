"""The resolve stage: layer order, provenance, and the concrete values renderers need."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipc.catalog.models import load_catalog
from mipc.catalog.timezones import Transition, dhcp_option2
from mipc.diagnostics import Diagnostics, Position
from mipc.incremental.fingerprints import render_epoch
from mipc.inventory.assemble import flatten_settings
from mipc.inventory.sources import read_secret
from mipc.model import (
    AppearanceSpec,
    EffectivePhone,
    Inventory,
    Location,
    PhoneSpec,
    Registration,
    SecretRef,
    Setting,
    Template,
)
from mipc.pipeline import Result, load_model, validate
from mipc.resolve.resolver import Resolver, catalog_layer, resolve_plan

CASES = Path(__file__).resolve().parent.parent / "cases"

INVENTORY = """\
mipc: 1
site:
  domain: test.voip
  provisioning_url: http://provision.test.voip/
  servers:
    - {name: ic1, address: 10.0.0.1}
    - {name: ic2, address: 10.0.0.2}
lines:
  Stations-UDP: {transport: udp, port: 8060}
  Stations-TCP: {transport: tcp, port: 8062}
  Stations-TLS: {transport: tls, port: 8061}
managed_proxies:
  Branch Proxy: {address: proxy.branch.test.voip, port: 5070, transport: tcp, location: Branch}
registration_groups:
  <Default Registration Group>:
    registrations: [{line: Stations-UDP}]
  Secure:
    registrations: [{line: Stations-TLS}]
  Survivable:
    registrations:
      - {line: Stations-TCP}
      - {managed_proxy: Branch Proxy}
      - {manual: {address: sbc.test.voip, port: 5080, transport: tcp}}
  Remote SRV:
    registrations: [{dns_srv: {transport: tls}}]
  Partner SRV:
    registrations: [{dns_srv: {domain: sip.partner.example, transport: tcp}}]
locations:
  <Default Location>:
    time_zone: America/New_York
    sntp_server: ic-server
    options: {sip_port: 5062, registration_expires: 600, nat_keepalive: 30}
    config_files: [location.cfg]
  Region:
    parent: <Default Location>
    time_zone: Europe/Berlin
    options: {nat_keepalive: 31}
  Branch:
    parent: Region
    sntp_server: ntp.branch.test.voip
defaults:
  options: {sip_port: 5061, one_touch_voicemail: true}
  qos: {rtp_dscp: "0xB8", sip_dscp: 60h}
templates:
  Base:
    manufacturer: Polycom
    model: VVX450
    options: {registration_expires: 1200}
    config_files: [base-1.cfg, base-2.cfg]
  Middle:
    extends: Base
    options: {registration_expires: 1800, sip_port: 5063}
  Leaf:
    extends: Middle
    options: {registration_expires: 2400}
    time_zone: Asia/Kolkata
  No Zone:
    extends: Middle
    time_zone: null
    options: {nat_keepalive: null}
  Back To Base:
    extends: Leaf
    options: {registration_expires: null}
  Survivable Desk:
    extends: Base
    registration_group: Survivable
  Remote Desk:
    extends: Base
    registration_group: Remote SRV
  Partner Desk:
    extends: Base
    registration_group: Partner SRV
phones:
  - name: Plain
    template: Base
    address: 00:04:f2:00:00:01
    appearances: [{extension: "7001"}]
  - name: Chained
    template: Leaf
    address: 00:04:f2:00:00:02
    location: Branch
    config_files: [phone.cfg]
    appearances: [{extension: "7002"}]
  - name: Override
    template: Leaf
    address: 00:04:f2:00:00:03
    time_zone: null
    options: {registration_expires: 3000, sip_port: null}
    appearances: [{extension: "7003"}]
  - name: Restored
    template: No Zone
    address: 00:04:f2:00:00:04
    location: Region
    appearances: [{extension: "7004"}]
  - name: Based
    template: Back To Base
    address: 00:04:f2:00:00:08
    appearances: [{extension: "7008"}]
  - name: Survivor
    template: Survivable Desk
    location: Branch
    address: 00:04:f2:00:00:05
    appearances: [{extension: "7005"}]
  - name: Remote
    template: Remote Desk
    address: 00:04:f2:00:00:06
    appearances: [{extension: "7006"}]
  - name: Partner
    template: Partner Desk
    address: 00:04:f2:00:00:07
    appearances: [{extension: "7007"}]
"""


def _validate(tmp_path: Path, text: str) -> Result:
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    return validate(tmp_path)


def _phones(tmp_path: Path, text: str = INVENTORY) -> dict[str, EffectivePhone]:
    result = _validate(tmp_path, text)
    # The phones here keep their factory admin logins (a rule of its own, tested elsewhere).
    shown = [d.text() for d in result.diagnostics if d.code != "factory-admin-password"]
    assert shown == []
    assert result.plan is not None
    return {p.name: p for p in result.plan.phones}


def _line_of(text: str, needle: str) -> int:
    [line] = [i for i, row in enumerate(text.splitlines(), start=1) if needle in row]
    return line


def _where(setting: Setting) -> tuple[str, str | None]:
    return setting.layer, str(setting.position) if setting.position else None


@pytest.fixture
def phones(tmp_path: Path) -> dict[str, EffectivePhone]:
    return _phones(tmp_path)


# --- layer order ---------------------------------------------------------------------------


def test_template_beats_location(phones: dict[str, EffectivePhone]) -> None:
    plain = phones["Plain"].settings
    assert plain["options.registration_expires"].value == 1200
    assert plain["options.registration_expires"].layer == "template Base"
    chained = phones["Chained"].settings
    assert chained["time_zone"].value == "Asia/Kolkata"
    assert chained["time_zone"].layer == "template Leaf"


def test_phone_beats_template(phones: dict[str, EffectivePhone]) -> None:
    setting = phones["Override"].settings["options.registration_expires"]
    assert (setting.value, setting.layer) == (3000, "phone")
    assert phones["Override"].options["registration_expires"] == 3000


def test_location_beats_defaults_and_defaults_beat_catalog(
    phones: dict[str, EffectivePhone],
) -> None:
    plain = phones["Plain"].settings
    assert (plain["options.sip_port"].value, plain["options.sip_port"].layer) == (
        5062,
        "location <Default Location>",
    )
    voicemail = plain["options.one_touch_voicemail"]
    assert (voicemail.value, voicemail.layer) == (True, "defaults")
    assert catalog_layer("polycom", "VVX450")["options.one_touch_voicemail"].value is False


def test_catalog_defaults_are_the_weakest_layer(phones: dict[str, EffectivePhone]) -> None:
    plain = phones["Plain"].settings
    media = plain["options.media_port_start"]
    assert (media.value, media.layer, media.position) == (2222, "catalog", None)
    assert plain["audio_protocol"].layer == "catalog"
    for key, setting in catalog_layer("polycom", "VVX450").items():
        if plain[key].layer == "catalog":
            assert plain[key].value == setting.value
    # every catalog key a higher layer sets is shadowed
    assert catalog_layer("polycom", "VVX450")["options.sip_port"].value == 5060
    assert plain["options.sip_port"].value != 5060


def test_null_on_the_phone_returns_to_the_template_value(
    phones: dict[str, EffectivePhone],
) -> None:
    override = phones["Override"].settings
    assert _where(override["time_zone"])[0] == "template Leaf"
    assert override["time_zone"].value == "Asia/Kolkata"
    assert (override["options.sip_port"].value, override["options.sip_port"].layer) == (
        5063,
        "template Middle",
    )


def test_null_in_a_template_restores_the_location_value(
    phones: dict[str, EffectivePhone],
) -> None:
    restored = phones["Restored"]
    assert restored.settings["time_zone"].value == "Europe/Berlin"
    assert restored.settings["time_zone"].layer == "location Region"
    assert restored.time.zone.name == "Europe/Berlin"
    keepalive = restored.settings["options.nat_keepalive"]
    assert (keepalive.value, keepalive.layer) == (31, "location Region")


def test_null_in_an_extending_template_returns_to_the_template_below(
    phones: dict[str, EffectivePhone],
) -> None:
    expires = phones["Based"].settings["options.registration_expires"]
    assert (expires.value, expires.layer) == (2400, "template Leaf")


def test_a_list_is_replaced_whole(phones: dict[str, EffectivePhone]) -> None:
    assert phones["Plain"].config_files == ("base-1.cfg", "base-2.cfg")
    assert phones["Plain"].settings["config_files"].layer == "template Base"
    assert phones["Chained"].config_files == ("phone.cfg",)
    assert phones["Chained"].settings["config_files"].layer == "phone"


def test_three_level_extends_chain(phones: dict[str, EffectivePhone]) -> None:
    chained = phones["Chained"].settings
    assert _where(chained["model"])[0] == "template Base"
    assert _where(chained["options.sip_port"])[0] == "template Middle"
    assert chained["options.sip_port"].value == 5063
    assert _where(chained["options.registration_expires"])[0] == "template Leaf"
    assert chained["options.registration_expires"].value == 2400


def test_location_parent_chain(phones: dict[str, EffectivePhone]) -> None:
    chained = phones["Chained"]
    assert chained.location == "Branch"
    s = chained.settings
    assert (s["sntp_server"].value, s["sntp_server"].layer) == (
        "ntp.branch.test.voip",
        "location Branch",
    )
    assert (s["options.nat_keepalive"].value, s["options.nat_keepalive"].layer) == (
        31,
        "location Region",
    )
    assert chained.time.sntp_servers == ("ntp.branch.test.voip",)
    # Region's time zone is beaten by the template; <Default Location> is the chain's root
    restored = phones["Restored"].settings
    assert restored["sntp_server"].layer == "location <Default Location>"
    assert phones["Plain"].time.sntp_servers == ("10.0.0.1", "10.0.0.2")


def test_provenance_names_the_file_and_line(phones: dict[str, EffectivePhone]) -> None:
    s = phones["Chained"].settings
    for key, needle in (
        ("options.registration_expires", "options: {registration_expires: 2400}"),
        ("options.sip_port", "options: {registration_expires: 1800, sip_port: 5063}"),
        ("options.nat_keepalive", "options: {nat_keepalive: 31}"),
        ("sntp_server", "sntp_server: ntp.branch.test.voip"),
        ("config_files", "config_files: [phone.cfg]"),
    ):
        position = s[key].position
        assert position is not None, key
        assert position.file == "mipc.yaml"
        assert position.line == _line_of(INVENTORY, needle), key
        assert position.col > 0


def test_csv_row_layer_is_above_the_template(tmp_path: Path) -> None:
    result = _validate(tmp_path, INVENTORY)
    assert result.inventory is not None
    inv = result.inventory
    row = Position("lists/agents.csv", 3, column_name="Registration Expires")
    spec = PhoneSpec(
        name="FromCsv",
        template="Leaf",
        location=None,
        address="0004F2000099",
        appearances=(AppearanceSpec(kind="private", extension="7099"),),
        layer=MappingProxyType({"options.registration_expires": Setting(4000, "csv", row)}),
        position=Position("lists/agents.csv", 3, column_name="Name"),
        origin="csv",
        address_position=Position("lists/agents.csv", 3, column_name="Address"),
    )
    diags = Diagnostics()
    phone = Resolver(inv, load_catalog(), diags, render_epoch(inv)).phone(spec)
    assert phone is not None and not diags.items
    setting = phone.settings["options.registration_expires"]
    assert (setting.value, setting.layer) == (4000, "csv")
    assert str(setting.position) == "lists/agents.csv:3:Registration Expires"
    assert phone.settings["name"].layer == "csv"
    assert str(phone.settings["address"].position) == "lists/agents.csv:3:Address"
    assert phone.settings["options.sip_port"].layer == "template Middle"
    assert phone.mac == "0004f2000099"


# --- concrete values ------------------------------------------------------------------------


def test_line_entry_takes_every_site_server(phones: dict[str, EffectivePhone]) -> None:
    assert phones["Plain"].registrations == (
        Registration(1, "line", "10.0.0.1", 8060, "udp"),
        Registration(1, "line", "10.0.0.2", 8060, "udp"),
    )
    assert phones["Plain"].registration_group == "<Default Registration Group>"
    assert not phones["Plain"].secure


def test_line_proxy_and_manual_entries_in_order(phones: dict[str, EffectivePhone]) -> None:
    survivor = phones["Survivor"]
    assert survivor.registration_group == "Survivable"
    assert survivor.registrations == (
        Registration(1, "line", "10.0.0.1", 8062, "tcp"),
        Registration(1, "line", "10.0.0.2", 8062, "tcp"),
        Registration(2, "managed_proxy", "proxy.branch.test.voip", 5070, "tcp"),
        Registration(3, "manual", "sbc.test.voip", 5080, "tcp"),
    )
    assert survivor.appearances[0].registrations == survivor.registrations


def test_dns_srv_entry_yields_the_domain(phones: dict[str, EffectivePhone]) -> None:
    assert phones["Remote"].registrations == (Registration(1, "dns_srv", "test.voip", None, "tls"),)
    assert phones["Remote"].secure
    assert phones["Partner"].registrations == (
        Registration(1, "dns_srv", "sip.partner.example", None, "tcp"),
    )


def test_firmware_latest_comes_from_the_catalog(phones: dict[str, EffectivePhone]) -> None:
    catalog = load_catalog()
    latest = catalog.latest_firmware("VVX450")
    assert latest is not None
    firmware = phones["Plain"].firmware
    assert firmware is not None and firmware.version == latest.version == "6.4.5.1251"


def test_firmware_pins_and_explicit_versions(tmp_path: Path) -> None:
    text = (
        INVENTORY.replace(
            "  Middle:\n    extends: Base\n",
            "  Middle:\n    extends: Base\n    firmware: 6.4.5.1210\n",
        )
        + "firmware:\n  pins: {VVX450: 5.9.7.4477}\n"
    )
    phones = _phones(tmp_path, text)
    pinned = phones["Plain"].firmware
    assert pinned is not None and pinned.version == "5.9.7.4477"
    chosen = phones["Chained"].firmware
    assert chosen is not None and chosen.version == "6.4.5.1210"
    assert phones["Chained"].settings["firmware"].layer == "template Middle"


def test_unknown_firmware_pin_is_reported_at_the_pin(tmp_path: Path) -> None:
    text = INVENTORY + "firmware:\n  pins: {VVX450: 1.2.3}\n"
    result = _validate(tmp_path, text)
    assert len(result.diagnostics.errors) == 1, [d.text() for d in result.diagnostics]
    [diag] = result.diagnostics.errors
    assert diag.code == "unknown-firmware"
    assert "'1.2.3'" in diag.message
    assert diag.position is not None
    assert diag.position.file == "mipc.yaml"
    assert diag.position.line == _line_of(text, "pins: {VVX450: 1.2.3}")


def test_a_pin_may_name_the_model_by_an_alias(tmp_path: Path) -> None:
    text = INVENTORY + 'firmware:\n  pins: {"VVX 450": 5.9.7.4477}\n'
    plain = _phones(tmp_path, text)["Plain"]
    assert plain.firmware is not None and plain.firmware.version == "5.9.7.4477"


def test_a_pin_for_an_unknown_model_is_an_error_at_the_pin(tmp_path: Path) -> None:
    text = INVENTORY + "firmware:\n  pins: {NoSuchModel: 5.9.7.4477}\n"
    result = _validate(tmp_path, text)
    [diag] = result.diagnostics.errors
    assert diag.code == "unknown-model"
    assert "'NoSuchModel'" in diag.message
    assert diag.position is not None
    assert diag.position.line == _line_of(text, "NoSuchModel")


def test_secrets_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIPC_TEST_ADMIN_PW", "s3cret env")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "line.txt").write_text("line pw\n", encoding="utf-8")
    text = INVENTORY.replace(
        "  Leaf:\n", "  Leaf:\n    admin_password: {env: MIPC_TEST_ADMIN_PW}\n"
    ).replace(
        '    appearances: [{extension: "7001"}]',
        '    appearances:\n      - extension: "7001"\n'
        "        auth: {user: u7001, password: {file: secrets/line.txt}}",
    )
    result = _validate(tmp_path, text)
    # The passwords sit in files an open site serves to anyone; the other templates keep
    # their factory admin logins.
    codes = [d.code for d in result.diagnostics]
    assert "open-site-passwords" in codes
    assert set(codes) == {"open-site-passwords", "factory-admin-password"}
    assert result.plan is not None
    phones = {p.name: p for p in result.plan.phones}
    admin = phones["Chained"].admin_password
    assert admin is not None and admin.value == "s3cret env"
    assert str(admin) == "<redacted>" and "s3cret" not in repr(admin)
    assert phones["Plain"].admin_password is None
    line = phones["Plain"].appearances[0]
    assert line.auth_password is not None and line.auth_password.value == "line pw"
    assert line.auth_user == "u7001"


def test_missing_env_secret_names_the_variable_and_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIPC_TEST_MISSING_PW", raising=False)
    text = INVENTORY.replace(
        "  Leaf:\n", "  Leaf:\n    admin_password: {env: MIPC_TEST_MISSING_PW}\n"
    )
    result = _validate(tmp_path, text)
    [diag] = result.diagnostics.errors
    assert diag.code == "missing-secret"
    assert "MIPC_TEST_MISSING_PW" in diag.message
    assert "'Leaf'" in diag.message
    assert diag.position is not None
    assert diag.position.line == _line_of(text, "MIPC_TEST_MISSING_PW")


def test_missing_file_secret_names_the_file_and_phone(tmp_path: Path) -> None:
    text = INVENTORY.replace(
        '    appearances: [{extension: "7002"}]',
        '    appearances:\n      - extension: "7002"\n'
        "        auth: {password: {file: secrets/absent.txt}}",
    )
    result = _validate(tmp_path, text)
    [diag] = result.diagnostics.errors
    assert diag.code == "missing-secret"
    assert "secrets/absent.txt" in diag.message and "'Chained'" in diag.message


def test_secrets_are_read_by_the_load_step_not_by_resolve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIPC_TEST_ADMIN_PW", "read at load")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "line.txt").write_text("line pw\r\n", encoding="utf-8")
    text = INVENTORY.replace(
        "  Leaf:\n", "  Leaf:\n    admin_password: {env: MIPC_TEST_ADMIN_PW}\n"
    ).replace(
        '    appearances: [{extension: "7001"}]',
        '    appearances:\n      - extension: "7001"\n'
        "        auth: {password: {file: secrets/line.txt}}",
    )
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    inventory, diags = load_model(tmp_path)
    assert inventory is not None and not diags.errors
    assert inventory.secrets.values[SecretRef(env="MIPC_TEST_ADMIN_PW")] == "read at load"
    assert inventory.secrets.values[SecretRef(file="secrets/line.txt")] == "line pw"
    monkeypatch.delenv("MIPC_TEST_ADMIN_PW")
    (tmp_path / "secrets" / "line.txt").unlink()
    diags = Diagnostics()
    plan = resolve_plan(inventory, load_catalog(), diags, render_epoch(inventory))
    assert not diags.items
    phones = {p.name: p for p in plan.phones}
    admin = phones["Chained"].admin_password
    assert admin is not None and admin.value == "read at load"
    line = phones["Plain"].appearances[0].auth_password
    assert line is not None and line.value == "line pw"


def test_read_secrets_says_why_a_secret_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIPC_TEST_MISSING_PW", raising=False)
    assert read_secret(SecretRef(env="MIPC_TEST_MISSING_PW"), tmp_path) == (
        None,
        "environment variable MIPC_TEST_MISSING_PW is not set; export it before the build",
    )
    value, problem = read_secret(SecretRef(file="absent.txt"), tmp_path)
    assert value is None and problem == (
        "cannot read secret file absent.txt: No such file or directory"
    )
    assert read_secret(SecretRef(), tmp_path) == (None, None)


@pytest.mark.parametrize(
    ("zone", "name", "offset", "start", "end"),
    [
        (
            "America/New_York",
            "America/New_York",
            -18000,
            Transition(3, 2, 0, 7200),
            Transition(11, 1, 0, 7200),
        ),
        (
            '"(UTC-05:00) Eastern Time (US & Canada)"',
            "America/New_York",
            -18000,
            Transition(3, 2, 0, 7200),
            Transition(11, 1, 0, 7200),
        ),
        (
            "Europe/Berlin",
            "Europe/Berlin",
            3600,
            Transition(3, 5, 0, 7200),
            Transition(10, 5, 0, 10800),
        ),
        ("Asia/Kolkata", "Asia/Kolkata", 19800, None, None),
        (
            "Australia/Sydney",
            "Australia/Sydney",
            36000,
            Transition(10, 1, 0, 7200),
            Transition(4, 1, 0, 10800),
        ),
    ],
)
def test_time_zone_through_the_resolved_phone(
    tmp_path: Path,
    zone: str,
    name: str,
    offset: int,
    start: Transition | None,
    end: Transition | None,
) -> None:
    text = INVENTORY.replace("time_zone: America/New_York", f"time_zone: {zone}")
    zone_info = _phones(tmp_path, text)["Plain"].time.zone
    assert zone_info.name == name
    assert zone_info.std_offset == offset
    assert (zone_info.dst_start, zone_info.dst_end) == (start, end)
    assert zone_info.has_dst == (start is not None)


def test_option_2_of_new_york() -> None:
    assert dhcp_option2(-18000) == "FFFFB9B0"


def test_qos_from_the_tos_byte_form(phones: dict[str, EffectivePhone]) -> None:
    qos = phones["Plain"].qos
    assert (qos.rtp_dscp, qos.sip_dscp) == (46, 24)
    assert (qos.rtp_tos, qos.sip_tos) == (0xB8, 0x60)
    assert phones["Plain"].settings["qos.rtp_dscp"].value == "0xB8"
    assert phones["Plain"].settings["qos.rtp_dscp"].layer == "defaults"


def test_appearance_labels_default_to_the_phone_name(phones: dict[str, EffectivePhone]) -> None:
    [app] = phones["Plain"].appearances
    assert (app.index, app.kind, app.station, app.label, app.extension) == (
        1,
        "private",
        "Plain",
        "Plain",
        "7001",
    )
    assert app.calls_per_line_key == 4


def test_resolution_is_deterministic(tmp_path: Path) -> None:
    first = _phones(tmp_path)
    second = _phones(tmp_path)
    assert {n: p.digest for n, p in first.items()} == {n: p.digest for n, p in second.items()}
    assert len({p.digest for p in first.values()}) == len(first)


# --- the merge, as properties ----------------------------------------------------------------

LEAVES: dict[str, st.SearchStrategy[Any]] = {
    "time_zone": st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"]),
    "sntp_server": st.sampled_from(["ic-server", "ntp1.test.voip", "ntp2.test.voip"]),
    "language": st.sampled_from(["English_United_States", "German_Germany", "French_France"]),
    "firmware": st.sampled_from(["latest", "6.4.5.1210", "5.9.7.4477"]),
    "audio_protocol": st.just("rtp"),
    "options.sip_port": st.integers(1, 65535),
    "options.registration_expires": st.integers(60, 7200),
    "options.emergency.customer_name": st.text(min_size=1, max_size=8),
    "qos.rtp_dscp": st.integers(0, 63),
    "config_files": st.lists(st.sampled_from(["a.cfg", "b.cfg", "c.cfg"]), max_size=3),
}
LAYERS = ("defaults", "location <Default Location>", "template Base", "template Leaf", "phone")

FlatData = dict[str, Any]
layer_strategy = st.dictionaries(
    st.sampled_from(sorted(LEAVES)),
    st.none(),
    max_size=len(LEAVES),
).flatmap(
    lambda keys: st.fixed_dictionaries(
        {k: (st.none() | LEAVES[k]) if v is None else LEAVES[k] for k, v in keys.items()}
    )
)


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


@cache
def _base() -> Inventory:
    result = validate(CASES / "valid" / "minimal")
    assert result.inventory is not None
    return result.inventory


def _resolve(layers: list[FlatData], shuffle: random.Random | None = None) -> EffectivePhone:
    """Resolve one phone whose five layers hold the given flat data (explicit None = null)."""
    flat = []
    for name, data in zip(LAYERS, layers, strict=True):
        items = list(_nest(data).items())
        if shuffle is not None:
            shuffle.shuffle(items)
        flat.append(MappingProxyType(flatten_settings(dict(items), name, None, ())))
    defaults, location, base, leaf, own = flat
    identity = {
        "manufacturer": Setting("Polycom", "template Base", None),
        "model": Setting("VVX450", "template Base", None),
    }
    inv = dataclasses.replace(
        _base(),
        defaults=defaults,
        locations=MappingProxyType(
            {"<Default Location>": Location("<Default Location>", None, location, None)}
        ),
        templates=MappingProxyType(
            {
                "Base": Template("Base", None, MappingProxyType({**base, **identity}), None),
                "Leaf": Template("Leaf", "Base", leaf, None),
            }
        ),
    )
    spec = PhoneSpec(
        name="P",
        template="Leaf",
        location=None,
        address="0004f2aabbcc",
        appearances=(AppearanceSpec(kind="private", extension="7001"),),
        layer=own,
        position=None,
    )
    diags = Diagnostics()
    phone = Resolver(inv, load_catalog(), diags, render_epoch(inv)).phone(spec)
    assert phone is not None, [d.text() for d in diags]
    return phone


def _expected(layers: list[FlatData], key: str, start: int = 0) -> tuple[Any, str] | None:
    """The reference: the value of the strongest layer that sets key (not to null).

    layers are LAYERS[start:start + len(layers)].
    """
    names = LAYERS[start : start + len(layers)]
    for name, data in reversed(list(zip(names, layers, strict=True))):
        if data.get(key) is not None:
            value = data[key]
            return (tuple(value) if isinstance(value, list) else value), name
    return None


def _catalog_value(key: str) -> tuple[Any, str] | None:
    setting = catalog_layer("polycom", "VVX450").get(key)
    return (setting.value, "catalog") if setting is not None else None


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(st.lists(layer_strategy, min_size=5, max_size=5))
def test_the_strongest_layer_that_sets_a_key_wins(layers: list[FlatData]) -> None:
    phone = _resolve(layers)
    for key in LEAVES:
        want = _expected(layers, key) or _catalog_value(key)
        got = phone.settings.get(key)
        assert (None if got is None else (got.value, got.layer)) == want, key


@PROPERTY_SETTINGS
@given(st.lists(layer_strategy, min_size=4, max_size=4), layer_strategy)
def test_the_phone_layer_always_wins(lower: list[FlatData], own: FlatData) -> None:
    phone = _resolve([*lower, own])
    for key, value in own.items():
        if value is None:
            continue
        got = phone.settings[key]
        assert got.layer == "phone"
        assert got.value == (tuple(value) if isinstance(value, list) else value)


@PROPERTY_SETTINGS
@given(st.lists(layer_strategy, min_size=5, max_size=5), st.data())
def test_removing_a_key_exposes_the_next_lower_value(
    layers: list[FlatData], data: st.DataObject
) -> None:
    candidates = [
        (i, k) for i, layer in enumerate(layers) for k, v in layer.items() if v is not None
    ]
    if not candidates:
        return
    index, key = data.draw(st.sampled_from(candidates))
    before = _resolve(layers).settings[key]
    stripped = [dict(layer) for layer in layers]
    del stripped[index][key]
    after = _resolve(stripped).settings.get(key)
    lower = _expected(layers[:index], key) or _catalog_value(key)
    upper = _expected(layers[index + 1 :], key, index + 1)
    if upper is not None:  # a stronger layer still decides: nothing changes
        assert after == before
    else:
        assert (None if after is None else (after.value, after.layer)) == lower


@PROPERTY_SETTINGS
@given(st.lists(layer_strategy, min_size=5, max_size=5), st.integers(0, 2**32))
def test_resolution_is_deterministic_whatever_the_key_order(
    layers: list[FlatData], seed: int
) -> None:
    first = _resolve(layers)
    again = _resolve(layers, random.Random(seed))
    assert again.digest == first.digest
    assert dict(again.settings) == dict(first.settings)


# --- the lab ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> dict[str, EffectivePhone]:
    result = validate(Path(__file__).resolve().parent.parent.parent / "examples" / "lab")
    assert result.plan is not None and not result.diagnostics.errors
    return {p.name: p for p in result.plan.phones}


def test_lab_appearances_in_key_order(lab: dict[str, EffectivePhone]) -> None:
    own, shared, external = lab["PolycomAgent"].appearances
    assert [a.index for a in (own, shared, external)] == [1, 2, 3]
    assert (own.kind, own.station, own.extension, own.label) == (
        "private",
        "PolycomAgent",
        "7002",
        "Agent",
    )
    assert (shared.kind, shared.station, shared.extension, shared.label) == (
        "shared",
        "PolycomLobby",
        "7001",
        "Lobby",
    )
    assert shared.calls_per_line_key == 1 and own.calls_per_line_key == 4
    assert own.registrations == lab["PolycomAgent"].registrations
    assert external.registration_group == "Partner PBX"
    assert external.registrations == (
        Registration(1, "manual", "pbx.partner.example", 5060, "udp"),
    )
    assert (external.user, external.auth_user) == ("ext_reg", "ext_reg")


def test_lab_srtp_phone_uses_its_tls_group(lab: dict[str, EffectivePhone]) -> None:
    ssp = lab["AgentSSP-Lab"]
    assert ssp.audio_protocol == "srtp" and ssp.secure
    assert ssp.registrations == (Registration(1, "dns_srv", "lab.voip", None, "tls"),)
    assert ssp.mac is None and ssp.computer_name == "AgentPC9.lab.local"
    assert ssp.firmware is None


def test_lab_label_defaults_to_the_phone_name(lab: dict[str, EffectivePhone]) -> None:
    [app] = lab["Agent420HD-Lab"].appearances
    assert app.label == "Agent420HD-Lab"
