"""The YAML loader's limits: nesting depth, and characters no phone file can hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.diagnostics import InputError
from mipc.inventory.load import MAX_DEPTH, load_inventory


def _codes(target: Path) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        load_inventory(target)
    return [(d.code, d.path) for d in caught.value.diagnostics.errors]


@pytest.mark.parametrize("flow", [True, False])
def test_a_thousand_nested_mappings_are_refused_without_recursion(
    tmp_path: Path, flow: bool
) -> None:
    n = 1000
    if flow:
        text = "mipc: 1\ndefaults:\n  options:\n    x: " + "{a: " * n + "1" + "}" * n + "\n"
    else:
        text = "mipc: 1\nsite:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(n))
        text += "  " * (n + 1) + "b: 1\n"
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    assert [code for code, _ in _codes(tmp_path)] == ["too-deep"]
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert f"nest more than {MAX_DEPTH} levels" in result.stderr
    assert "Traceback" not in result.output


def test_nesting_up_to_the_bound_reads(tmp_path: Path) -> None:
    depth = MAX_DEPTH - 2  # mipc: and site: hold the first two levels
    text = "mipc: 1\nsite:\n  x: " + "[" * depth + "]" * depth + "\n"
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    assert load_inventory(tmp_path).data["mipc"] == "1"


@pytest.mark.parametrize("char", ["\\uFFFE", "\\uFFFF", "\\x01", "\\x1b", "\\x7f\\x00"])
def test_characters_xml_cannot_hold_are_refused_with_the_field_named(
    tmp_path: Path, char: str
) -> None:
    text = (
        "mipc: 1\n"
        f'defaults:\n  options:\n    emergency: {{customer_name: "Lab{char}"}}\n'
        f'registration_groups:\n  "Group{char}":\n    registrations: [{{line: L}}]\n'
    )
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    found = _codes(tmp_path)
    assert {code for code, _ in found} == {"bad-character"}
    paths = {path for _, path in found}
    assert "$.defaults.options.emergency.customer_name" in paths
    assert any(p.startswith("$.registration_groups['Group") for p in paths)


def test_tabs_newlines_and_other_scripts_are_fine(tmp_path: Path) -> None:
    text = 'mipc: 1\nsite:\n  domain: "a\\tb\\nc\\r Zürich 東京 \\U0001F600 \\u0085"\n'
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    assert load_inventory(tmp_path).data["site"]["domain"].startswith("a\tb\nc\r Z")
