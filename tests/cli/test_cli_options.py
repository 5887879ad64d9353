"""Each verb's options reach its command function as one options object.

The command function is replaced by a recorder (mkdocs' habit), so these tests say what the
click layer parses and nothing else: one test per verb and flag.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.cli.commands import (
    build,
    completion,
    diff,
    explain,
    init,
    rollback,
    schema,
    simulate,
    validate,
)
from mipc.cli.commands import export_csv as exporter
from mipc.cli.commands import import_csv as importer
from mipc.cli.commands.build import BuildOptions
from mipc.cli.commands.completion import CompletionOptions
from mipc.cli.commands.diff import DiffOptions
from mipc.cli.commands.explain import ExplainOptions
from mipc.cli.commands.export_csv import ExportCommand
from mipc.cli.commands.import_csv import ImportCommand
from mipc.cli.commands.init import InitOptions
from mipc.cli.commands.rollback import RollbackOptions
from mipc.cli.commands.schema import SchemaOptions
from mipc.cli.commands.simulate import SimulateOptions
from mipc.cli.commands.validate import ValidateOptions

Call = tuple[tuple[Any, ...], dict[str, Any]]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default inventory is the current folder


def received(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, args: list[str]
) -> Call:
    """Run ``mipc ARGS`` with ``module.name`` recording its arguments; the one call."""
    calls: list[Call] = []

    def record(*a: Any, **k: Any) -> int:
        calls.append((a, k))
        return 0

    monkeypatch.setattr(module, name, record)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [call] = calls
    return call


def only_options(call: Call) -> object:
    (opts,), kwargs = call
    assert kwargs == {}
    return opts


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["d"], InitOptions(Path("d"))),
        (["d", "--format", "json"], InitOptions(Path("d"), fmt="json")),
        (["d", "--format", "github"], InitOptions(Path("d"), fmt="github")),
        (["d", "-q"], InitOptions(Path("d"), quiet=True)),
        (["d", "--quiet"], InitOptions(Path("d"), quiet=True)),
    ],
)
def test_init(monkeypatch: pytest.MonkeyPatch, args: list[str], expected: InitOptions) -> None:
    assert only_options(received(monkeypatch, init, "run_init", ["init", *args])) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ValidateOptions()),
        (["inv"], ValidateOptions(Path("inv"))),
        (["--format", "json"], ValidateOptions(fmt="json")),
        (["--format", "github"], ValidateOptions(fmt="github")),
        (["-q"], ValidateOptions(quiet=True)),
        (["--quiet"], ValidateOptions(quiet=True)),
        (["--strict"], ValidateOptions(strict=True)),
    ],
)
def test_validate(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: ValidateOptions
) -> None:
    call = received(monkeypatch, validate, "run_validate", ["validate", *args])
    assert only_options(call) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["P"], ExplainOptions("P")),
        (["P", "inv"], ExplainOptions("P", Path("inv"))),
        (["P", "--only", "qos.*"], ExplainOptions("P", only="qos.*")),
        (["P", "--layer", "template*"], ExplainOptions("P", layer="template*")),
        (["P", "--format", "json"], ExplainOptions("P", fmt="json")),
        (["P", "--format", "github"], ExplainOptions("P", fmt="github")),
        (["P", "-q"], ExplainOptions("P", quiet=True)),
        (["P", "--quiet"], ExplainOptions("P", quiet=True)),
        (["P", "--show-secrets"], ExplainOptions("P", show_secrets=True)),
    ],
)
def test_explain(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: ExplainOptions
) -> None:
    call = received(monkeypatch, explain, "run_explain", ["explain", *args])
    assert only_options(call) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["o"], RollbackOptions(Path("o"))),
        (["o", "--to", "r1"], RollbackOptions(Path("o"), to="r1")),
        (["o", "--format", "json"], RollbackOptions(Path("o"), fmt="json")),
        (["o", "--format", "github"], RollbackOptions(Path("o"), fmt="github")),
        (["o", "-q"], RollbackOptions(Path("o"), quiet=True)),
        (["o", "--quiet"], RollbackOptions(Path("o"), quiet=True)),
    ],
)
def test_rollback(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: RollbackOptions
) -> None:
    call = received(monkeypatch, rollback, "run_rollback", ["rollback", *args])
    assert only_options(call) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["p", "--tree", "o"], SimulateOptions("p", tree=Path("o"))),
        (["p", "--url", "http://h/"], SimulateOptions("p", url="http://h/")),
        (
            ["p", "--url", "u", "--manifest", "o"],
            SimulateOptions("p", url="u", manifest=Path("o")),
        ),
        (
            ["p", "--url", "u", "--user", "a", "--password-env", "PW"],
            SimulateOptions("p", url="u", user="a", password_env="PW"),
        ),
        (
            ["p", "--url", "u", "--cacert", "ca.pem"],
            SimulateOptions("p", url="u", cacert=Path("ca.pem")),
        ),
        (
            ["p", "--tree", "o", "--show-secrets"],
            SimulateOptions("p", tree=Path("o"), show_secrets=True),
        ),
        (
            ["p", "--tree", "o", "--format", "json"],
            SimulateOptions("p", tree=Path("o"), fmt="json"),
        ),
        (
            ["p", "--tree", "o", "--format", "github"],
            SimulateOptions("p", tree=Path("o"), fmt="github"),
        ),
        (["p", "--tree", "o", "-q"], SimulateOptions("p", tree=Path("o"), quiet=True)),
        (["p", "--tree", "o", "--quiet"], SimulateOptions("p", tree=Path("o"), quiet=True)),
    ],
)
def test_simulate(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: SimulateOptions
) -> None:
    call = received(monkeypatch, simulate, "run_simulate", ["simulate", *args])
    assert only_options(call) == expected


OUT = Path("o")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], BuildOptions(OUT)),
        (["--out", "o"], BuildOptions(OUT)),
        (["--keep", "2"], BuildOptions(OUT, keep=2)),
        (["--force"], BuildOptions(OUT, force=True)),
        (["-j", "3"], BuildOptions(OUT, workers=3)),
        (["--jobs", "3"], BuildOptions(OUT, workers=3)),
        (["--server-root", "/web"], BuildOptions(OUT, server_root="/web")),
        (["--progress"], BuildOptions(OUT, progress=True)),
        (["--no-progress"], BuildOptions(OUT, progress=False)),
        (["--format", "json"], BuildOptions(OUT, fmt="json")),
        (["--format", "github"], BuildOptions(OUT, fmt="github")),
        (["--strict"], BuildOptions(OUT, strict=True)),
        (["-q"], BuildOptions(OUT, quiet=True)),
        (["--quiet"], BuildOptions(OUT, quiet=True)),
    ],
)
def test_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], expected: BuildOptions
) -> None:
    call = received(monkeypatch, build, "run_build", ["build", "-o", "o", *args])
    assert call == ((tmp_path, expected), {})


def test_build_inventory_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    call = received(monkeypatch, build, "run_build", ["build", "inv", "-o", "o"])
    assert call == ((Path("inv"), BuildOptions(OUT)), {})


@pytest.mark.parametrize(
    ("args", "target", "expected"),
    [
        ([], None, DiffOptions()),
        (["inv"], Path("inv"), DiffOptions()),
        (["--against", "o"], None, DiffOptions(against=OUT)),
        (["--between", "a", "b"], None, DiffOptions(between=(Path("a"), Path("b")))),
        (["--files"], None, DiffOptions(files=True)),
        (["--changed-macs"], None, DiffOptions(changed_macs=True)),
        (["--show-secrets"], None, DiffOptions(show_secrets=True)),
        (["-q"], None, DiffOptions(quiet=True)),
        (["--quiet"], None, DiffOptions(quiet=True)),
        (["--server-root", "/web"], None, DiffOptions(server_root="/web")),
        (["--format", "json"], None, DiffOptions(fmt="json")),
        (["--format", "github"], None, DiffOptions(fmt="github")),
    ],
)
def test_diff(
    monkeypatch: pytest.MonkeyPatch, args: list[str], target: Path | None, expected: DiffOptions
) -> None:
    assert received(monkeypatch, diff, "run_diff", ["diff", *args]) == ((target, expected), {})


def test_diff_between_refuses_an_inventory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff, "run_diff", lambda *a: pytest.fail("run_diff was called"))
    result = CliRunner().invoke(main, ["diff", "inv", "--between", "a", "b"])
    assert result.exit_code == 2
    assert result.stderr.startswith("mipc diff: --between compares two releases")


IMPORT_DEFAULTS: dict[str, Any] = {
    "inventory": None,
    "dry_run": False,
    "on_conflict": "fail",
    "into": None,
    "as_format": "csv",
    "strict": False,
    "fmt": "text",
    "quiet": False,
}


@pytest.mark.parametrize(
    ("args", "changed"),
    [
        ([], {}),
        (["-i", "inv"], {"inventory": Path("inv")}),
        (["--inventory", "inv"], {"inventory": Path("inv")}),
        (["--dry-run"], {"dry_run": True}),
        (["--on-conflict", "skip"], {"on_conflict": "skip"}),
        (["--on-conflict", "replace"], {"on_conflict": "replace"}),
        (["--into", "lists/x.csv"], {"into": Path("lists/x.csv")}),
        (["--as", "yaml"], {"as_format": "yaml"}),
        (["--format", "json"], {"fmt": "json"}),
        (["--format", "github"], {"fmt": "github"}),
        (["--strict"], {"strict": True}),
        (["-q"], {"quiet": True}),
        (["--quiet"], {"quiet": True}),
    ],
)
def test_import_csv(
    monkeypatch: pytest.MonkeyPatch, args: list[str], changed: dict[str, Any]
) -> None:
    (command,), kwargs = received(
        monkeypatch, importer, "run_import", ["import-csv", "a.csv", "b.csv", *args]
    )
    assert set(kwargs) == {"out", "err"}
    expected = {**IMPORT_DEFAULTS, **changed}
    assert command == ImportCommand([Path("a.csv"), Path("b.csv")], **expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ExportCommand()),
        (["inv"], ExportCommand(Path("inv"))),
        (["--layout", "template"], ExportCommand(layout="template")),
        (["--layout", "normalised"], ExportCommand(layout="normalised")),
        (["-o", "x.csv"], ExportCommand(output=Path("x.csv"))),
        (["--output", "x.csv"], ExportCommand(output=Path("x.csv"))),
        (["--format", "json"], ExportCommand(fmt="json")),
        (["--format", "github"], ExportCommand(fmt="github")),
        (["-q"], ExportCommand(quiet=True)),
        (["--quiet"], ExportCommand(quiet=True)),
    ],
)
def test_export_csv(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: ExportCommand
) -> None:
    (command,), kwargs = received(monkeypatch, exporter, "run_export", ["export-csv", *args])
    assert set(kwargs) == {"out", "err"}
    assert command == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], SchemaOptions()),
        (["--part", "site"], SchemaOptions("site")),
        (["--part", "locations"], SchemaOptions("locations")),
        (["--part", "templates"], SchemaOptions("templates")),
        (["--part", "phones"], SchemaOptions("phones")),
        (["--part", "manifest"], SchemaOptions("manifest")),
        (["--part", "diff"], SchemaOptions("diff")),
        (["-o", "s.json"], SchemaOptions(output=Path("s.json"))),
        (["--output", "s.json"], SchemaOptions(output=Path("s.json"))),
        (["--format", "json"], SchemaOptions(fmt="json")),
        (["--format", "github"], SchemaOptions(fmt="github")),
        (["-q"], SchemaOptions(quiet=True)),
        (["--quiet"], SchemaOptions(quiet=True)),
    ],
)
def test_schema(monkeypatch: pytest.MonkeyPatch, args: list[str], expected: SchemaOptions) -> None:
    assert only_options(received(monkeypatch, schema, "run_schema", ["schema", *args])) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bash"], CompletionOptions("bash")),
        (["zsh"], CompletionOptions("zsh")),
        (["fish"], CompletionOptions("fish")),
        (["bash", "--format", "json"], CompletionOptions("bash", fmt="json")),
        (["bash", "--format", "github"], CompletionOptions("bash", fmt="github")),
        (["bash", "-q"], CompletionOptions("bash", quiet=True)),
        (["bash", "--quiet"], CompletionOptions("bash", quiet=True)),
    ],
)
def test_completion(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: CompletionOptions
) -> None:
    call = received(monkeypatch, completion, "run_completion", ["completion", *args])
    assert only_options(call) == expected
