"""The validate stage: JSON Schema (draft 2020-12) on the loaded inventory.

Plain YAML scalars arrive as text. ``coerce`` walks the document beside the schema and turns
plain text into an integer or a boolean only where the schema wants one, so that ``0123`` stays
``"0123"`` in an extension and ``port: 5060`` becomes 5060. Then jsonschema-rs decides quickly
whether the document is valid; only when it is not does the reference ``jsonschema`` validator
run, to explain every failure with its source position and JSON path.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import jsonschema
import jsonschema_rs

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.load import Document, JsonPath, PlainStr, json_path
from mipc.resources import schemas_dir

Schema = dict[str, Any]

_INT = re.compile(r"[-+]?[0-9]+\Z")
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})


@cache
def load_schema(name: str = "inventory") -> Schema:
    with (schemas_dir() / f"{name}.schema.json").open(encoding="utf-8") as fh:
        schema: Schema = json.load(fh)
    return schema


@cache
def _fast_validator(name: str) -> Any:
    return jsonschema_rs.validator_for(load_schema(name))


@cache
def _reference_validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(name))


def _resolve(node: Schema, root: Schema) -> Schema:
    while "$ref" in node:
        ref = node["$ref"]
        target = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        merged = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **merged}
    return node


def _types(node: Schema) -> set[str]:
    t = node.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return set(t)
    return set()


def _branch_for(value: Any, branches: Iterable[Schema], root: Schema) -> Schema | None:
    """The oneOf branch an object value is meant for: the one whose required keys it has."""
    best: Schema | None = None
    best_score = -1
    for raw in branches:
        branch = _resolve(raw, root)
        if "object" not in _types(branch) or not isinstance(value, dict):
            continue
        required = set(branch.get("required", ()))
        props = set(branch.get("properties", {}))
        if required and not required <= value.keys():
            continue
        score = len(props & value.keys())
        if score > best_score:
            best, best_score = branch, score
    return best


def _scalar(value: str, node: Schema, root: Schema) -> Any:
    types = _types(node)
    for raw in node.get("oneOf", ()) or node.get("anyOf", ()):
        types |= _types(_resolve(raw, root))
    if "string" in types and "integer" not in types and "boolean" not in types:
        return str(value)
    low = value.lower()
    if "integer" in types and _INT.match(value):
        return int(value)
    if "boolean" in types and (low in _TRUE or low in _FALSE):
        return low in _TRUE
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    return str(value)


def coerce(value: Any, node: Schema | None, root: Schema) -> Any:
    """Return value with plain scalars typed as the schema wants; other values unchanged."""
    if node is not None:
        node = _resolve(node, root)
    if isinstance(value, PlainStr):
        return _scalar(value, node, root) if node is not None else str(value)
    if isinstance(value, dict):
        if node is not None and ("oneOf" in node or "anyOf" in node):
            node = _branch_for(value, node.get("oneOf", ()) or node.get("anyOf", ()), root)
        props: dict[str, Any] = node.get("properties", {}) if node else {}
        extra = node.get("additionalProperties") if node else None
        for key, child in value.items():
            child_node = props.get(key)
            if child_node is None and isinstance(extra, dict):
                child_node = extra
            value[key] = coerce(child, child_node, root)
        return value
    if isinstance(value, list):
        items = node.get("items") if node else None
        item_node = items if isinstance(items, dict) else None
        for i, child in enumerate(value):
            value[i] = coerce(child, item_node, root)
        return value
    return value


def drop_nulls(value: Any) -> Any:
    """Remove keys set to null: in a layer, null means "not set here" (the layer below wins)."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for child in value.values():
            drop_nulls(child)
    elif isinstance(value, list):
        for child in value:
            drop_nulls(child)
    return value


def coerce_document(doc: Document, name: str = "inventory") -> None:
    root = load_schema(name)
    drop_nulls(doc.data)
    coerce(doc.data, root, root)


def is_valid(data: Any, name: str = "inventory") -> bool:
    """The fast pass (jsonschema-rs)."""
    return bool(_fast_validator(name).is_valid(data))


def validate_document(doc: Document, diags: Diagnostics, name: str = "inventory") -> bool:
    """Coerce and validate; on failure, explain each problem into diags. True when valid."""
    coerce_document(doc, name)
    if is_valid(doc.data, name):
        return True
    for error in _reference_validator(name).iter_errors(doc.data):
        _explain(error, doc, diags, load_schema(name))
    if not diags.errors:  # the two validators disagree: report it rather than pass silently
        diags.error("schema", "the inventory does not match the schema", Position("inventory"))
    return False


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_WANTS = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "yes or no (true/false)",
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "number": "a number",
}


def _size_message(kind: str, limit: Any, instance: Any) -> str:
    """A too short or too long text or list, said with what to do."""
    size = len(instance) if isinstance(instance, str | list | dict) else 0
    if kind == "minItems":
        if size == 0:
            return f"the list is empty; give at least {limit} entr{'y' if limit == 1 else 'ies'}"
        return f"the list has {size} entries; give at least {limit}"
    if kind == "maxItems":
        return f"the list has {size} entries; at most {limit} are allowed here"
    if kind == "minLength":
        if size == 0:
            return "the text is empty; give a value or remove the key"
        return f"{instance!r} is {size} characters; give at least {limit}"
    return f"{instance!r} is {size} characters; at most {limit} are allowed here"


def _explain(
    error: jsonschema.ValidationError, doc: Document, diags: Diagnostics, root: Schema
) -> None:
    path: JsonPath = tuple(error.absolute_path)
    where = json_path(path)
    pos = doc.position(path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "oneOf":
        branches = schema.get("oneOf", ())
        chosen = _branch_for(error.instance, branches, root)
        if chosen is not None and isinstance(error.instance, dict):
            index = next(i for i, b in enumerate(branches) if _resolve(b, root) == chosen)
            for sub in error.context or ():
                if sub.relative_schema_path and sub.relative_schema_path[0] == index:
                    _explain(sub, doc, diags, root)
            return
        if not isinstance(error.instance, dict):
            # A scalar under oneOf: explain against the branch of the value's own type.
            own_type = "integer" if isinstance(error.instance, int) else "string"
            for i, raw in enumerate(branches):
                if own_type in _types(_resolve(raw, root)):
                    subs = [
                        e
                        for e in error.context or ()
                        if e.relative_schema_path and e.relative_schema_path[0] == i
                    ]
                    for sub in subs:
                        _explain(sub, doc, diags, root)
                    if subs:
                        return
        keys = sorted(
            {k for b in schema.get("oneOf", ()) for k in _resolve(b, root).get("required", ())}
        )
        diags.error(
            "schema-shape",
            f"expected a mapping with one of the keys {', '.join(keys)}",
            pos,
            where,
        )
        return
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        for key in sorted(error.instance):
            if key in allowed:
                continue
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if hint:
                suggestion = f"; did you mean {hint[0]!r}?"
            elif len(allowed) <= 12:
                suggestion = f"; allowed here: {', '.join(allowed)}"
            else:
                section = f"#{path[0]}" if path and isinstance(path[0], str) else ""
                suggestion = (
                    f"; allowed here: {', '.join(allowed[:10])} and {len(allowed) - 10} more"
                    f" (every key: docs/inventory.md{section})"
                )
            diags.error(
                "unknown-key",
                f"unknown key {key!r}{suggestion}",
                doc.key_positions.get((*path, key), pos),
                json_path((*path, key)),
            )
        return
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        diags.error("missing-key", f"required key {name!r} is missing", pos, where)
        return
    if kind == "type":
        wanted: Any = error.validator_value
        wanted_list = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
        words = " or ".join(_WANTS.get(w, w) for w in wanted_list)
        diags.error("wrong-type", f"expected {words}, got {_type_name(error.instance)}", pos, where)
        return
    if kind == "enum":
        values: Any = error.validator_value
        allowed = [str(v) for v in values]
        options = ", ".join(allowed)
        hint = difflib.get_close_matches(str(error.instance), allowed, n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else ""
        diags.error(
            "not-allowed",
            f"{error.instance!r} is not one of: {options}{more}",
            pos,
            where,
        )
        return
    if kind in ("minimum", "maximum"):
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        rng = (
            f"{lo} to {hi}"
            if lo is not None and hi is not None
            else f"{kind} {error.validator_value}"
        )
        diags.error("out-of-range", f"{error.instance} is out of range ({rng})", pos, where)
        return
    if kind == "pattern":
        desc = schema.get("description", "")
        diags.error(
            "bad-format",
            f"{error.instance!r} is not in the expected form"
            + (f": {desc}" if desc else f" (pattern {error.validator_value})"),
            pos,
            where,
        )
        return
    if kind in ("minLength", "maxLength", "minItems", "maxItems"):
        diags.error(
            "bad-size", _size_message(kind, error.validator_value, error.instance), pos, where
        )
        return
    diags.error("schema", error.message, pos, where)
