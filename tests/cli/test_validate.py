"""``mipc validate`` and ``mipc init``: exit codes, output formats, the lab scaffold."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc import __version__
from mipc.cli import main
from mipc.cli.commands.init import MODELINE
from mipc.cli.commands.schema import EDITOR_SCHEMAS

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = ROOT / "tests" / "cases"
LAB = ROOT / "examples" / "lab"
PACKAGED_LAB = ROOT / "mipc" / "inventory" / "lab"
#: The notice the lab's ISS and soft phones bring (tests/cli/test_profile_notice.py).
LAB_NOTE = (
    "note: the iss and softphone files are mipc's documented profiles, not a published vendor"
    " format; see docs/keyvalue-and-softphone.md\n"
)


#: The lab's two Interaction SIP Station templates keep the factory admin login: mipc cannot
#: write an admin password for that family (every other family takes defaults: admin_password).
LAB_WARNINGS = 2


def _only_iss_admin_warnings(stderr: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == LAB_WARNINGS, stderr
    assert all("warning[factory-admin-password]" in x and "(family iss)" in x for x in lines)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _as_init_writes(tree: dict[str, bytes]) -> dict[str, bytes]:
    """The lab's files as ``mipc init`` writes them: each YAML file's modeline names the
    schema in the inventory's ``.mipc/schemas/``."""
    line = (MODELINE + ".mipc/schemas/inventory.schema.json").encode()
    return {
        name: line + data[data.index(b"\n") :] if name.endswith(".yaml") else data
        for name, data in tree.items()
    }


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_valid_inventory_exits_0() -> None:
    result = run("validate", str(LAB))
    assert result.exit_code == 0, result.output
    summary = f"{LAB}: valid: 6 phones, 0 errors, {LAB_WARNINGS} warnings\n"
    assert result.stdout == f"{LAB_NOTE}{summary}"
    _only_iss_admin_warnings(result.stderr)


def test_invalid_inventory_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    case = CASES / "invalid" / "srtp-udp-group"
    result = run("validate", str(case))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    # the file relative to the current directory, so that it can be opened from there
    assert lines[0].startswith(
        "tests/cases/invalid/srtp-udp-group/mipc.yaml:16:21: error[srtp-needs-tls]: "
    )
    assert lines[-1] == f"{case}: invalid: 1 phones, 1 errors, 0 warnings"


def test_default_inventory_is_mipc_yaml_in_the_current_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(LAB)
    result = run("validate")
    assert result.exit_code == 0
    summary = f"{Path.cwd() / 'mipc.yaml'}: valid: 6 phones, 0 errors, {LAB_WARNINGS} warnings\n"
    assert result.stdout == LAB_NOTE + summary


def test_usage_error_exits_2() -> None:
    result = run("validate", "--format", "xml")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_missing_inventory_is_reported_without_traceback(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "absent"))
    assert result.exit_code == 2  # usage trouble, not an invalid inventory
    assert "error[no-inventory]" in result.stderr
    assert "Traceback" not in result.output
    for args in (
        ["build", str(tmp_path / "absent"), "-o", str(tmp_path / "out")],
        ["explain", "Phone1", str(tmp_path / "absent")],
    ):
        result = run(*args)
        assert result.exit_code == 2, args
        assert "error[no-inventory]" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_json_format_counts() -> None:
    result = run("validate", str(CASES / "invalid" / "srtp-ip601"), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["errors"], doc["warnings"]) == (2, 1)
    assert len(doc["diagnostics"]) == 3
    assert [d["code"] for d in doc["diagnostics"]] == [
        "end-of-life",
        "srtp-unsupported",
        "tls-unsupported",
    ]
    first = doc["diagnostics"][1]
    assert first == {
        "severity": "error",
        "code": "srtp-unsupported",
        "message": "template 'Agent': the SoundPoint IP 601 does not support SRTP;"
        " use audio_protocol: rtp",
        "file": "mipc.yaml",
        "line": 16,
        "column": 21,
        "path": None,
    }


def test_json_format_on_a_valid_inventory() -> None:
    result = run("validate", str(LAB), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["errors"], doc["warnings"]) == (0, LAB_WARNINGS)
    assert {d["code"] for d in doc["diagnostics"]} == {"factory-admin-password"}


def test_github_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("validate", str(CASES / "invalid" / "srtp-ip601"), "--format", "github")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)
    # files relative to the checkout, so that GitHub puts the annotations on the PR's lines
    where = "file=tests/cases/invalid/srtp-ip601/mipc.yaml"
    assert lines[0].startswith(f"::warning {where},line=15,col=12,title=end-of-life::")
    assert lines[1].startswith(f"::error {where},line=16,col=21,title=srtp-unsupported::")


def test_strict_turns_warnings_into_failure() -> None:
    case = str(CASES / "valid" / "end-of-life")
    lenient = run("validate", case)
    assert lenient.exit_code == 0
    assert "warning[end-of-life]" in lenient.stderr
    strict = run("validate", case, "--strict")
    assert strict.exit_code == 1
    assert "warning[end-of-life]" in strict.stderr
    assert strict.stderr.splitlines()[-1].endswith(": invalid: 1 phones, 0 errors, 1 warnings")


def test_strict_on_a_clean_inventory_still_passes() -> None:
    assert run("validate", str(CASES / "valid" / "minimal"), "--strict").exit_code == 0
    assert run("validate", str(LAB), "--strict").exit_code == 1  # the ISS admin logins


# --- mipc init ------------------------------------------------------------------------------


def test_init_writes_the_lab(tmp_path: Path) -> None:
    target = tmp_path / "site"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"next: mipc validate {target}"
    written = _tree(target)
    schemas = {name for name in written if name.startswith(".mipc/schemas/")}
    assert {n: b for n, b in written.items() if n not in schemas} == _as_init_writes(_tree(LAB))
    assert schemas == {f".mipc/schemas/{n}.schema.json" for n in EDITOR_SCHEMAS}
    check = run("validate", str(target))
    assert check.exit_code == 0, check.output
    assert f": valid: 6 phones, 0 errors, {LAB_WARNINGS} warnings" in check.stdout


def test_init_into_an_empty_folder(tmp_path: Path) -> None:
    result = run("init", str(tmp_path))
    assert result.exit_code == 0, result.output
    written = {"mipc.yaml": (tmp_path / "mipc.yaml").read_bytes()}
    assert written == _as_init_writes({"mipc.yaml": (LAB / "mipc.yaml").read_bytes()})


def test_init_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = run("init", str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("mipc init: ") and "not empty" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "mipc.yaml"
    target.write_text("mipc: 1\n", encoding="utf-8")
    result = run("init", str(target))
    assert result.exit_code == 1
    assert target.read_text(encoding="utf-8") == "mipc: 1\n"


def test_example_and_packaged_lab_are_identical() -> None:
    assert _tree(LAB) == _tree(PACKAGED_LAB)
    comparison = filecmp.dircmp(LAB, PACKAGED_LAB)
    assert not comparison.left_only and not comparison.right_only
