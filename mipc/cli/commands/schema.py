"""``mipc schema [--part PART] [-o FILE]``: the JSON Schemas of the installed mipc, for editors.

A *part* is the schema of one file of a split inventory (``site.yaml``, ``locations.yaml``,
``templates.yaml``, ``phones.yaml``): the top-level keys that file holds, each as the inventory
schema gives it, with the inventory schema's ``$defs`` (one file, so an editor resolves every
reference without fetching anything). The parts are generated from
``schemas/inventory.schema.json``, the one source, and shipped beside it;
``python -m mipc.cli.commands.schema`` rewrites them after the inventory schema changed
(a test says when they are stale). Takes a :class:`SchemaOptions`; gives the exit code (0
written, 2 the file cannot be written). Never parses argv; never imports the pipeline.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mipc.cli.report import reporter
from mipc.diagnostics import MipcError
from mipc.inventory.atomic import write_files
from mipc.resources import schemas_dir

#: Each part: the top-level keys its file may hold, and those it must.
PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "site": (
        (
            "mipc",
            "site",
            "lines",
            "managed_proxies",
            "registration_groups",
            "firmware",
            "phone_lists",
            "defaults",
            "serving",
        ),
        ("site",),
    ),
    "locations": (("mipc", "locations", "defaults"), ()),
    "templates": (("mipc", "templates"), ()),
    "phones": (("mipc", "phones", "phone_lists"), ()),
}
#: The schemas an inventory's files name in their modelines: the whole, then each part.
EDITOR_SCHEMAS = ("inventory", *PARTS)
#: Every schema ``mipc schema`` writes: the editor's, then those of mipc's JSON outputs.
ALL_SCHEMAS = (*EDITOR_SCHEMAS, "manifest", "diff")


@dataclass(frozen=True)
class SchemaOptions:
    """What ``mipc schema`` was asked."""

    part: str = "inventory"
    output: Path | None = None
    fmt: str = "text"
    quiet: bool = False


def part_schema(inventory: dict[str, Any], part: str) -> dict[str, Any]:
    """The schema of ``part``'s file, made from the inventory schema."""
    keys, required = PARTS[part]
    properties = inventory["properties"]
    doc: dict[str, Any] = {
        "$schema": inventory["$schema"],
        "$id": inventory["$id"].replace("inventory.schema.json", f"{part}.schema.json"),
        "title": f"mipc inventory: {part}.yaml",
        "description": (
            f"One file of a split inventory ({part}.yaml): {', '.join(keys)}. Generated from"
            " inventory.schema.json by python -m mipc.cli.commands.schema; do not edit."
        ),
        "type": "object",
        "additionalProperties": False,
        "properties": {k: properties[k] for k in ("$schema", *keys)},
        "$defs": inventory["$defs"],
    }
    if required:
        doc["required"] = list(required)
    return doc


def schema_json(doc: dict[str, Any]) -> str:
    """A schema as the files in ``schemas/`` hold it."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_parts(inventory_text: str) -> dict[str, str]:
    """Every part's file text, from the inventory schema's text."""
    inventory = json.loads(inventory_text)
    return {part: schema_json(part_schema(inventory, part)) for part in PARTS}


def schema_text(name: str) -> str:
    """The shipped schema ``name`` (see :data:`ALL_SCHEMAS`)."""
    return (schemas_dir() / f"{name}.schema.json").read_text(encoding="utf-8")


def run_schema(opts: SchemaOptions) -> int:
    """Write the schema to ``opts.output`` or stdout; report; the exit code."""
    text = schema_text(opts.part)
    with reporter("schema", opts.fmt, quiet=opts.quiet) as out:
        if opts.output is None:
            if opts.fmt == "json":
                out.result({"part": opts.part, "schema": json.loads(text)}, "")
            else:
                sys.stdout.write(text)
            return out.code
        try:
            write_files({opts.output: text})
        except OSError as exc:
            raise MipcError(f"cannot write {opts.output}: {exc.strerror or exc}") from exc
        out.result({"part": opts.part, "output": str(opts.output)}, f"wrote {opts.output}")
    return out.code


def main() -> None:
    """Rewrite the parts in ``schemas/`` (the folder given, else ./schemas)."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas")
    inventory = (folder / "inventory.schema.json").read_text(encoding="utf-8")
    for part, text in generated_parts(inventory).items():
        (folder / f"{part}.schema.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
