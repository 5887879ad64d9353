"""Which families and models take each option: the schema's ``x-families`` and ``x-models``,
read by the rules and the renderers; the descriptions' closing sentences are made from them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mipc.catalog.models import load_catalog
from mipc.inventory.options import (
    applies_to,
    main,
    model_names,
    option_families,
    option_models,
    schema_text,
    with_sentences,
)
from mipc.inventory.schema import load_schema
from mipc.resources import schemas_dir

OPTIONS = load_schema()["$defs"]["options"]
FAMILIES = {m.family for m in load_catalog().models.values()}


def test_every_option_names_known_families() -> None:
    families = option_families(OPTIONS)
    assert set(families) == set(OPTIONS["properties"])
    assert all(names and names <= FAMILIES for names in families.values())
    assert families["speed_dial_1"] == {"iss"}
    assert families["sip_port"] == FAMILIES


def test_model_only_options_name_models_of_their_families() -> None:
    models = load_catalog().models
    only = option_models()
    assert set(only) == {"speed_dial_1", "speed_dial_2", "speed_dial_hold_ms"}
    assert set(only.values()) == {frozenset({"ISS1"})}  # the renderer reads speed_dial_1's
    families = option_families(OPTIONS)
    assert all({models[m].family for m in ids} <= families[o] for o, ids in only.items())
    assert model_names(["ISS1"]) == "Interaction SIP Station I"


def test_the_sentence_is_made_from_the_keywords() -> None:
    props = OPTIONS["properties"]
    assert applies_to(props["sip_port"]) == "Families: all."
    assert applies_to(props["lan_port_mode"]) == "Families: iss, polycom, audiocodes."
    assert applies_to(props["speed_dial_1"]) == "Interaction SIP Station I only."
    assert applies_to({"description": "x"}) == ""
    for node in props.values():
        assert node["description"].endswith(" " + applies_to(node))


def test_the_schema_file_is_current() -> None:
    """``python -m mipc.inventory.options`` leaves the shipped schema as it is."""
    path = schemas_dir() / "inventory.schema.json"
    text = path.read_text(encoding="utf-8")
    assert schema_text(with_sentences(json.loads(text))) == text


def test_the_rewrite_replaces_a_stale_sentence() -> None:
    schema = json.loads(json.dumps(load_schema()))
    node = schema["$defs"]["options"]["properties"]["ring_volume"]
    node["x-families"] = ["iss", "softphone"]
    node["description"] = "Ring Volume, 0-9 (default 5). Families: iss."
    redone = with_sentences(schema)["$defs"]["options"]["properties"]["ring_volume"]
    assert redone["description"] == "Ring Volume, 0-9 (default 5). Families: iss, softphone."
    node["x-models"] = ["ISS1"]
    redone = with_sentences(schema)["$defs"]["options"]["properties"]["ring_volume"]
    assert redone["description"] == "Ring Volume, 0-9 (default 5). Interaction SIP Station I only."


def test_main_rewrites_the_file_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = json.loads(json.dumps(load_schema()))
    schema["$defs"]["options"]["properties"]["sip_port"]["description"] = "SIP Receive Port."
    target = tmp_path / "inventory.schema.json"
    target.write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["options", str(target)])
    main()
    rewritten = json.loads(target.read_text(encoding="utf-8"))
    assert rewritten == with_sentences(schema)
    sip_port = rewritten["$defs"]["options"]["properties"]["sip_port"]
    assert sip_port["description"] == "SIP Receive Port. Families: all."
