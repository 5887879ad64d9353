"""The validate stage: JSON Schema (draft 2020-12) on the loaded inventory.

Plain YAML scalars arrive as text. ``coerce`` walks the document beside the schema and turns
plain text into an integer or a boolean only where the schema wants one, so that ``0123`` stays
``"0123"`` in an extension and ``port: 5060`` becomes 5060. Then jsonschema-rs decides quickly
whether the document is valid; only when it is not does the reference ``jsonschema`` validator
run, to explain every failure with its source position and JSON path.

Takes a loaded :class:`mipc.inventory.load.Document`; gives it coerced in place, and the
diagnostics of every failure. Never imports the model, the catalog or the later stages.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.load import Document, JsonPath, PlainStr, json_path
from mipc.resources import schemas_dir

if TYPE_CHECKING:  # the reference validator is imported when a document is invalid
    import jsonschema

Schema = dict[str, Any]

_INT = re.compile(r"[-+]?[0-9]+\Z")
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})


@cache
def load_schema(name: str = "inventory") -> Schema:
    """The named schema of ``mipc/schemas`` (read once)."""
    with (schemas_dir() / f"{name}.schema.json").open(encoding="utf-8") as fh:
        schema: Schema = json.load(fh)
    return schema


@cache
def _fast_validator(name: str) -> Any:
    return jsonschema_rs.validator_for(load_schema(name))


@cache
def _reference_validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema  # about 40 ms: imported only to explain a problem

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


#: Longer digit strings stay text (the schema then refuses them): Python will not read an
#: integer of more than 4300 digits, and no field wants one near that.
MAX_INT_DIGITS = 4000


def _scalar(value: str, node: Schema, root: Schema) -> Any:
    types = _types(node)
    for raw in node.get("oneOf", ()) or node.get("anyOf", ()):
        types |= _types(_resolve(raw, root))
    if "string" in types and "integer" not in types and "boolean" not in types:
        return str(value)
    low = value.lower()
    if "integer" in types and _INT.match(value) and len(value) <= MAX_INT_DIGITS:
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
    """Drop the nulls of a document and type its plain scalars as the schema wants."""
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


#: How much of a value a message echoes.
SHOWN = 60


def _shown(value: Any) -> str:
    """A value as a message quotes it: its repr, a long one cut to its start and its size."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) <= SHOWN + 20:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} digits"
    return f"{text[:SHOWN]}... ({size})"


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return f"the text {_shown(value)}"
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
        return f"{_shown(instance)} is {size} characters; give at least {limit}"
    return f"{_shown(instance)} is {size} characters; at most {limit} are allowed here"


@dataclass(frozen=True)
class _Failure:
    """One validation error, with where it is and what its schema node says."""

    error: jsonschema.ValidationError
    doc: Document
    diags: Diagnostics
    root: Schema

    @property
    def path(self) -> JsonPath:
        """The JSON path of the failing value."""
        return tuple(self.error.absolute_path)

    @property
    def where(self) -> str:
        """The JSON path as diagnostics show it."""
        return json_path(self.path)

    @property
    def pos(self) -> Position | None:
        """The source position of the failing value."""
        return self.doc.position(self.path)

    @property
    def schema(self) -> Schema:
        """The schema node that failed."""
        return self.error.schema if isinstance(self.error.schema, dict) else {}

    def report(self, code: str, message: str) -> None:
        """An error at the failing value."""
        self.diags.error(code, message, self.pos, self.where)

    def explain(self, sub: jsonschema.ValidationError) -> None:
        """Explain an error under this one."""
        _explain(sub, self.doc, self.diags, self.root)


def _explain(
    error: jsonschema.ValidationError, doc: Document, diags: Diagnostics, root: Schema
) -> None:
    """One validation error as diagnostics saying what to do."""
    failure = _Failure(error, doc, diags, root)
    explainer = _EXPLAINERS.get(str(error.validator))
    if explainer is not None:
        explainer(failure)
    else:
        failure.report("schema", error.message)


def _one_of(f: _Failure) -> None:
    """A value that matches no branch: explained against the branch it is meant for."""
    error, root = f.error, f.root
    branches = f.schema.get("oneOf", ())
    chosen = _branch_for(error.instance, branches, root)
    if chosen is not None and isinstance(error.instance, dict):
        index = next(i for i, b in enumerate(branches) if _resolve(b, root) == chosen)
        for sub in error.context or ():
            if sub.relative_schema_path and sub.relative_schema_path[0] == index:
                f.explain(sub)
        return
    if not isinstance(error.instance, dict) and _scalar_branch(f, branches):
        return
    keys = sorted({k for b in branches for k in _resolve(b, root).get("required", ())})
    f.report("schema-shape", f"expected a mapping with one of the keys {', '.join(keys)}")


def _scalar_branch(f: _Failure, branches: Iterable[Schema]) -> bool:
    """Explain a scalar under oneOf against the branch of the value's own type; whether
    there was such a branch with errors."""
    own_type = "integer" if isinstance(f.error.instance, int) else "string"
    for i, raw in enumerate(branches):
        if own_type in _types(_resolve(raw, f.root)):
            subs = [
                e
                for e in f.error.context or ()
                if e.relative_schema_path and e.relative_schema_path[0] == i
            ]
            for sub in subs:
                f.explain(sub)
            if subs:
                return True
    return False


def _additional(f: _Failure) -> None:
    """Each unknown key, with the closest allowed one or the allowed ones."""
    instance = f.error.instance
    if not isinstance(instance, dict):
        f.report("schema", f.error.message)
        return
    path = f.path
    allowed = sorted(f.schema.get("properties", {}))
    for key in sorted(instance):
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
        f.diags.error(
            "unknown-key",
            f"unknown key {key!r}{suggestion}",
            f.doc.key_positions.get((*path, key), f.pos),
            json_path((*path, key)),
        )


def _required(f: _Failure) -> None:
    missing = re.findall(r"'([^']+)' is a required property", f.error.message)
    name = missing[0] if missing else f.error.message
    f.report("missing-key", f"required key {name!r} is missing")


def _type(f: _Failure) -> None:
    wanted: Any = f.error.validator_value
    wanted_list = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
    words = " or ".join(_WANTS.get(w, w) for w in wanted_list)
    f.report("wrong-type", f"expected {words}, got {_type_name(f.error.instance)}")


def _enum(f: _Failure) -> None:
    values: Any = f.error.validator_value
    allowed = [str(v) for v in values]
    options = ", ".join(allowed)
    hint = difflib.get_close_matches(str(f.error.instance), allowed, n=1)
    more = f"; did you mean {hint[0]!r}?" if hint else ""
    f.report("not-allowed", f"{_shown(f.error.instance)} is not one of: {options}{more}")


def _range(f: _Failure) -> None:
    lo = f.schema.get("minimum")
    hi = f.schema.get("maximum")
    rng = (
        f"{lo} to {hi}"
        if lo is not None and hi is not None
        else f"{f.error.validator} {f.error.validator_value}"
    )
    f.report("out-of-range", f"{_shown(f.error.instance)} is out of range ({rng})")


def _pattern(f: _Failure) -> None:
    desc = f.schema.get("description", "")
    f.report(
        "bad-format",
        f"{_shown(f.error.instance)} is not in the expected form"
        + (f": {desc}" if desc else f" (pattern {f.error.validator_value})"),
    )


def _size(f: _Failure) -> None:
    kind = str(f.error.validator)
    f.report("bad-size", _size_message(kind, f.error.validator_value, f.error.instance))


_EXPLAINERS: dict[str, Callable[[_Failure], None]] = {
    "oneOf": _one_of,
    "additionalProperties": _additional,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "minimum": _range,
    "maximum": _range,
    "pattern": _pattern,
    "minLength": _size,
    "maxLength": _size,
    "minItems": _size,
    "maxItems": _size,
}
