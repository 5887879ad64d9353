"""docs/inventory.md is generated from the schema and must be current."""

from __future__ import annotations

import json
from pathlib import Path

from mipc.inventory.docgen import generate
from mipc.inventory.schema import load_schema

ROOT = Path(__file__).resolve().parents[2]


def test_inventory_reference_is_current() -> None:
    on_disk = (ROOT / "docs" / "inventory.md").read_text(encoding="utf-8")
    assert on_disk == generate(), "run: python -m mipc.inventory.docgen"


def test_every_schema_property_has_a_description() -> None:
    missing: list[str] = []
    defs = load_schema()["$defs"]

    def described(node: dict[str, object]) -> bool:
        ref = node.get("$ref")
        target = defs.get(str(ref).rsplit("/", 1)[-1], {}) if ref else {}
        return "description" in node or "description" in target

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, child in (node.get("properties") or {}).items():
                if key != "$schema" and not described(child):
                    missing.append(f"{path}.{key}")
                walk(child, f"{path}.{key}")
            for key in ("items", "additionalProperties"):
                if isinstance(node.get(key), dict):
                    walk(node[key], f"{path}[{key}]")
            for key in ("oneOf", "anyOf"):
                for i, branch in enumerate(node.get(key) or ()):
                    walk(branch, f"{path}.{key}[{i}]")
            for name, sub in (node.get("$defs") or {}).items():
                walk(sub, f"$defs.{name}")

    walk(load_schema(), "$")
    assert missing == []


def test_schema_file_is_sorted_and_ends_with_newline() -> None:
    text = (ROOT / "schemas" / "inventory.schema.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert "`options.ring_volume` | integer 0–9" in generate()
