"""Which families take each option: the schema's ``x-families``, read by the rules."""

from __future__ import annotations

import re

from mipc.inventory.schema import load_schema
from mipc.rules.checks import FAMILY_NAMES, option_families

OPTIONS = load_schema()["$defs"]["options"]


def test_every_option_names_known_families() -> None:
    families = option_families(OPTIONS)
    assert set(families) == set(OPTIONS["properties"])
    assert all(names and names <= set(FAMILY_NAMES) for names in families.values())
    assert families["speed_dial_1"] == {"iss"}
    assert families["sip_port"] == set(FAMILY_NAMES)


def test_the_prose_says_what_x_families_says() -> None:
    """The description's closing sentence (what docs/inventory.md shows) agrees."""
    for name, node in OPTIONS["properties"].items():
        found = re.search(r"Families: ([a-z, ]+)\.", node["description"])
        if found is None:
            assert node["x-families"] == ["iss"], name  # "Interaction SIP Station I only"
            continue
        said = found.group(1).strip()
        expected = set(FAMILY_NAMES) if said == "all" else {f.strip() for f in said.split(",")}
        assert set(node["x-families"]) == expected, name
