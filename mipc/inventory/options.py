"""Which families and models take each option: the schema's ``x-families`` and ``x-models``.

The two keywords on each option of ``schemas/inventory.schema.json`` are the one source. The
rules warn from them, the key=value renderers write model-only keys from them, and the sentence
that closes each option's description ("Families: iss, softphone." or "Interaction SIP Station
I only.") is generated from them: editors with a YAML language server show the description and
know nothing of the keywords, so the schema keeps the sentence, and
``python -m mipc.inventory.options`` rewrites it (a test fails when it is out of date).

Takes the schema and the catalog's models; gives mappings, sentences and the rewritten schema.
Never imports the model, the loader or the later stages.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from mipc.catalog.models import load_catalog
from mipc.inventory.schema import Schema, load_schema

__all__ = [
    "applies_to",
    "model_names",
    "option_families",
    "option_models",
    "schema_text",
    "with_sentences",
]

#: The generated closing sentence of an option's description, as the rewrite finds it.
_SENTENCE = re.compile(r" (?:Families: [a-z, ]+|[^.]+ only)\.\Z")


def option_families(options_schema: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Which families use each option: the schema's ``x-families`` keyword on each option."""
    return {
        name: frozenset(node["x-families"])
        for name, node in options_schema.get("properties", {}).items()
        if "x-families" in node
    }


@cache
def option_models() -> Mapping[str, frozenset[str]]:
    """The options only some models take (the schema's ``x-models``), with those model ids."""
    return {
        name: frozenset(node["x-models"])
        for name, node in load_schema()["$defs"]["options"]["properties"].items()
        if "x-models" in node
    }


def model_names(ids: Iterable[str]) -> str:
    """The catalog's fullest names of these models, in id order ("Interaction SIP Station I")."""
    models = load_catalog().models
    return " or ".join(models[i].full_name for i in sorted(ids))


def applies_to(node: Mapping[str, Any]) -> str:
    """The sentence saying which models or families take an option ("" when unsaid)."""
    if "x-models" in node:
        return f"{model_names(node['x-models'])} only."
    if "x-families" not in node:
        return ""
    every = {m.family for m in load_catalog().models.values()}
    said = node["x-families"]
    return "Families: " + ("all" if set(said) == every else ", ".join(said)) + "."


def with_sentences(schema: Schema) -> Schema:
    """The schema with each option's description closed by the sentence of its keywords."""
    out = copy.deepcopy(schema)
    for node in out["$defs"]["options"]["properties"].values():
        sentence = applies_to(node)
        base = _SENTENCE.sub("", node.get("description", ""))
        node["description"] = f"{base} {sentence}" if sentence else base
    return out


def schema_text(schema: Schema) -> str:
    """The schema file's text: sorted keys, two-space indents, a closing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Rewrite the sentences in the schema (the path given, else schemas/inventory.schema.json)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas/inventory.schema.json")
    schema = json.loads(target.read_text(encoding="utf-8"))
    target.write_text(schema_text(with_sentences(schema)), encoding="utf-8")


if __name__ == "__main__":
    main()
