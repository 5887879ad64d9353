"""Generate docs/inventory.md from the inventory schema (``python -m mipc.inventory.docgen``).

The schema is the authority; the page is derived, and a test fails when it is out of date.
Which families or models take an option is said from its ``x-families`` and ``x-models``
keywords (:mod:`mipc.inventory.options`), not copied from the schema's prose.

Takes the inventory schema; gives the Markdown page. Never imports the model, the loader or
the other stages.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mipc.inventory.options import with_sentences
from mipc.inventory.schema import Schema, load_schema

HEADER = """# Inventory reference

Generated from `schemas/inventory.schema.json` by `python -m mipc.inventory.docgen`; do not edit by
hand.
Every key below is also described in the schema, so editors with a YAML language server show
this help as you type (the examples start with a `yaml-language-server: $schema=` line).

Values that look like numbers stay text where the schema wants text (`0123` stays `0123`);
secrets are `{env: NAME}` or `{file: path}` and are read at build time.
"""


def _deref(node: Schema, root: Schema) -> tuple[Schema, str | None]:
    ref = node.get("$ref")
    if ref is None:
        return node, None
    name = ref.rsplit("/", 1)[-1]
    target = root["$defs"][name]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return merged, name


def _type(node: Schema, root: Schema) -> str:
    node, ref = _deref(node, root)
    if ref in ("secret", "dscp", "transport", "name"):
        return {
            "secret": "secret",
            "dscp": "DSCP or TOS",
            "transport": "udp, tcp or tls",
            "name": "name",
        }[ref]
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "oneOf" in node:
        return " or ".join(_type(b, root) for b in node["oneOf"])
    t = node.get("type", "any")
    if isinstance(t, list):
        return " or ".join(t)
    if t == "integer" and ("minimum" in node or "maximum" in node):
        return f"integer {node.get('minimum', '')}–{node.get('maximum', '')}"
    if t == "array":
        items = node.get("items")
        return f"list of {_type(items, root)}" if isinstance(items, dict) else "list"
    return str(t)


def _rows(node: Schema, root: Schema, prefix: str, out: list[str]) -> None:
    node, _ = _deref(node, root)
    props: dict[str, Any] = node.get("properties", {})
    required = set(node.get("required", ()))
    for key in props:
        child, _ = _deref(props[key], root)
        desc = str(props[key].get("description") or child.get("description", "")).replace(
            "|", "\\|"
        )
        req = " (required)" if key in required else ""
        out.append(f"| `{prefix}{key}` | {_type(props[key], root)}{req} | {desc} |")
        if child.get("type") == "object" and "properties" in child:
            _rows(child, root, f"{prefix}{key}.", out)


_TABLE_HEAD = "\n| key | type | description |\n|---|---|---|\n"
_SHARED = ("options", "appearance", "registration", "secret", "dscp", "auth", "emergency")


def _table(node: Schema, root: Schema) -> str:
    """The key table of an object node ("" when it has no keys)."""
    rows: list[str] = []
    _rows(node, root, "", rows)
    return _TABLE_HEAD + "\n".join(rows) + "\n" if rows else ""


def _section(section: str, node: Schema, root: Schema) -> str:
    """The part of the page on one top-level key: its description and its entries' keys."""
    node_d, _ = _deref(node, root)
    parts = [f"\n## `{section}`\n\n{node_d.get('description', '')}\n"]
    entry = node_d
    if node_d.get("type") == "object" and isinstance(node_d.get("additionalProperties"), dict):
        entry, _ = _deref(node_d["additionalProperties"], root)
        parts.append(f"Each entry, by name: {entry.get('description', '')}\n")
    elif node_d.get("type") == "array" and isinstance(node_d.get("items"), dict):
        entry, _ = _deref(node_d["items"], root)
        parts.append(f"Each item: {entry.get('description', '')}\n")
    parts.append(_table(entry, root))
    return "".join(parts)


def _definition(name: str, root: Schema) -> str:
    """The part of the page on a shared definition (each of its forms, if it has several)."""
    node = root["$defs"][name]
    parts = [f"\n## `{name}` (shared definition)\n\n{node.get('description', '')}\n"]
    if "oneOf" in node:
        for branch in node["oneOf"]:
            b, _ = _deref(branch, root)
            parts.append(f"\n{b.get('description', '')}\n")
            parts.append(_table(b, root))
    else:
        parts.append(_table(node, root))
    return "".join(parts)


def generate() -> str:
    """The text of docs/inventory.md (each option's closing sentence from its keywords)."""
    root = with_sentences(load_schema())
    parts = [HEADER]
    for section, node in root["properties"].items():
        if section != "$schema":
            parts.append(_section(section, node, root))
    parts.extend(_definition(name, root) for name in _SHARED)
    return "".join(parts)


def main() -> None:
    """Write the page (to the path given, else docs/inventory.md)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/inventory.md")
    target.write_text(generate(), encoding="utf-8")


if __name__ == "__main__":
    main()
