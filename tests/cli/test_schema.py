"""``mipc schema``, the schemas ``mipc init`` writes and the modelines that name them.

The parts (one file of a split inventory each) are generated from the inventory schema and
shipped beside it; ``python -m mipc.cli.commands.schema`` rewrites them when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from mipc.cli import main
from mipc.cli.commands.init import MODELINE, modeline, with_modeline
from mipc.cli.commands.schema import ALL_SCHEMAS, PARTS, generated_parts, schema_text
from mipc.diagnostics import Diagnostics
from mipc.inventory.load import parse_yaml
from mipc.inventory.schema import coerce_document
from mipc.resources import schemas_dir

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def modeline_schema(path: Path) -> Path:
    """The schema the first line of YAML file ``path`` names, resolved from the file."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), path
    return (path.parent / first.removeprefix(MODELINE)).resolve()


def check_against_modeline(path: Path) -> None:
    """``path`` is valid against the schema its modeline names (as an editor would check)."""
    diags = Diagnostics()
    doc = parse_yaml(path.read_text(encoding="utf-8"), path.name, diags)
    assert doc is not None and not diags.items, diags.items
    coerce_document(doc)  # plain scalars typed as the schema wants, as mipc reads them
    schema = json.loads(modeline_schema(path).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc.data)


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_schema_prints_the_packaged_schema(name: str) -> None:
    result = run("schema", "--part", name)
    assert result.exit_code == 0
    assert result.stdout == (schemas_dir() / f"{name}.schema.json").read_text(encoding="utf-8")


def test_schema_defaults_to_the_inventory_and_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "editor" / "inventory.schema.json"
    result = run("schema", "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == f"wrote {target}\n"
    assert target.read_text(encoding="utf-8") == schema_text("inventory")


def test_schema_json_holds_the_schema() -> None:
    result = run("schema", "--part", "phones", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["part"] == "phones"
    assert doc["schema"] == json.loads(schema_text("phones"))


def test_schema_cannot_write_exits_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    result = run("schema", "-o", str(tmp_path / "file" / "x.json"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_shipped_parts_are_generated_from_the_inventory_schema() -> None:
    parts = generated_parts(schema_text("inventory"))
    assert sorted(parts) == sorted(PARTS)
    for part, text in parts.items():
        assert schema_text(part) == text, (
            f"schemas/{part}.schema.json is stale: run python -m mipc.cli.commands.schema"
        )


def test_parts_refuse_keys_of_other_files() -> None:
    schema = json.loads(schema_text("templates"))
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"templates": {}})
    assert not validator.is_valid({"templates": {}, "site": {}})
    assert not jsonschema.Draft202012Validator(json.loads(schema_text("site"))).is_valid({})


def test_init_writes_schemas_and_modelines_that_validate(tmp_path: Path) -> None:
    target = tmp_path / "lab"
    assert run("init", str(target)).exit_code == 0
    for name in ("inventory", *PARTS):
        written = target / ".mipc" / "schemas" / f"{name}.schema.json"
        assert written.read_text(encoding="utf-8") == schema_text(name)
    yaml_files = sorted(target.rglob("*.yaml"))
    assert yaml_files
    for path in yaml_files:
        assert modeline_schema(path).is_relative_to(target / ".mipc" / "schemas")
        check_against_modeline(path)


def test_init_gives_split_files_their_part(tmp_path: Path) -> None:
    line = modeline(tmp_path / "inv" / "templates.yaml", tmp_path / "inv")
    assert line == MODELINE + ".mipc/schemas/templates.schema.json"
    nested = modeline(tmp_path / "inv" / "more" / "x.yaml", tmp_path / "inv")
    assert nested == MODELINE + "../.mipc/schemas/inventory.schema.json"
    assert with_modeline("templates: {}\n", line) == f"{line}\ntemplates: {{}}\n"
    assert with_modeline(f"{MODELINE}old\nphones: []\n", line) == f"{line}\nphones: []\n"


@pytest.mark.parametrize(
    "path", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").rglob("*.yaml"))
)
def test_example_modelines_name_a_schema_that_validates_them(path: str) -> None:
    check_against_modeline(ROOT / path)


def test_packaged_lab_modeline_names_the_packaged_schema() -> None:
    lab = ROOT / "mipc" / "inventory" / "lab" / "mipc.yaml"
    assert modeline_schema(lab).read_bytes() == schema_text("inventory").encode()
