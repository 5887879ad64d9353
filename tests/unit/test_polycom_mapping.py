"""The Polycom mapping data: the shipped file loads, and an inventory's file extends it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipc.inventory.files import gather_files
from mipc.render.polycom.mapping import MappingError, load_mapping
from mipc.render.templating import Overrides, overrides


def write(tmp_path: Path, text: str) -> Overrides | None:
    """The overrides of an inventory whose ``vendor_templates/polycom/mapping.yaml`` is
    ``text``, as the load step gathers them."""
    folder = tmp_path / "vendor_templates" / "polycom"
    folder.mkdir(parents=True)
    (folder / "mapping.yaml").write_text(text, encoding="utf-8")
    return overrides(str(tmp_path), gather_files(str(tmp_path), None))


def test_the_shipped_mapping_loads_once() -> None:
    data = load_mapping()
    assert data is load_mapping(None)
    assert data.max_servers == 3 and data.default_generation == data.generations[-1]
    assert data.generations[0].stock_files == ("phone1.cfg", "sip.cfg")
    assert [r.option for r in data.options][:2] == [("dial_plan",), ("one_touch_voicemail",)]


def test_an_entry_replaces_every_shipped_entry_of_its_path_in_place(tmp_path: Path) -> None:
    data = load_mapping(
        write(
            tmp_path,
            "options:\n"
            "  - {option: syslog.server, params: [device.syslog.serverName]}\n"
            "  - {option: ring_volume, params: [voice.ringerVolume]}\n"
            "tables:\n  ether_modes: {auto: AUTO}\n",
        )
    )
    shipped = load_mapping()
    paths = [r.option for r in data.options]
    assert paths.count(("syslog", "server")) == 1  # prependMac's entry went with it
    assert paths.index(("syslog", "server")) == [r.option for r in shipped.options].index(
        ("syslog", "server")
    )
    assert paths[-1] == ("ring_volume",)
    lan = next(r for r in data.options if r.option == ("lan_port_mode",))
    assert lan.table is not None and lan.table["auto"] == "AUTO" and lan.table["10HD"] == "10HD"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_servers: 2\n", "max_servers cannot be overridden"),
        ("generations: []\n", "generations cannot be overridden"),
        ("by_firmware:\n  - {param: a.b, from: '3.1'}\n", "must each be a generation"),
        ("by_firmware:\n  - {param: a.b, from: 3.2}\n", "not a firmware version"),
        ("options:\n  - {option: no_such_option, params: [a.b]}\n", "not an option"),
        ("options:\n  - {option: dial_plan, params: ['bad key']}\n", "not a Polycom parameter"),
        ("options:\n  - {option: dial_plan, params: [a], transform: table}\n", "needs `table`"),
        ("options: [3]\n", "needs an option path"),
        ("- a list\n", "is not a mapping"),
    ],
)
def test_a_malformed_override_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        load_mapping(write(tmp_path, text))
