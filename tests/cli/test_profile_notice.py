"""``build`` and ``validate`` say, for a person, when files are mipc's profiles (ISS, soft phone).

The families whose formats are not published carry ``"profile": true`` in the catalog.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main
from mipc.cli.commands.validate import PROFILE_DOC, released_families

ROOT = Path(__file__).resolve().parents[2]
NOTICE = "note: the iss and softphone files are mipc's documented profiles"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def notices(result: Result) -> list[str]:
    """The notices of a command that went well (they print beside its summary, on stdout)."""
    assert "note: " not in result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("note: ")]


def test_validate_notes_the_profiles_once() -> None:
    result = run("validate", str(ROOT / "examples" / "lab"))
    assert result.exit_code == 0
    [line] = notices(result)
    assert line.startswith(NOTICE) and line.endswith(f"see {PROFILE_DOC}")
    assert (ROOT / PROFILE_DOC).is_file()


@pytest.mark.parametrize("args", [["-q"], ["--format", "json"], ["--format", "github"]])
def test_validate_notice_only_for_a_person(args: list[str]) -> None:
    assert notices(run("validate", str(ROOT / "examples" / "lab"), *args)) == []


def test_invalid_inventory_has_its_diagnostics_only() -> None:
    result = run("validate", str(ROOT / "tests" / "cases" / "invalid" / "iss-stand-alone"))
    assert result.exit_code == 1
    assert notices(result) == []


def test_no_notice_without_profile_families() -> None:
    assert notices(run("validate", str(ROOT / "examples" / "polycom-generations"))) == []


def test_build_notes_the_profiles_also_when_nothing_changed(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    shutil.copytree(ROOT / "examples" / "lab", lab)
    out = tmp_path / "out"
    first = run("build", str(lab), "-o", str(out))
    assert first.exit_code == 0, first.output
    assert [n[: len(NOTICE)] for n in notices(first)] == [NOTICE]
    again = run("build", str(lab), "-o", str(out))
    assert "no changes" in again.stdout
    assert [n[: len(NOTICE)] for n in notices(again)] == [NOTICE]
    assert notices(run("build", str(lab), "-o", str(out), "-q")) == []
    assert sorted(released_families(out)) == ["audiocodes", "iss", "polycom", "softphone"]


def test_build_of_polycom_only_has_no_notice(tmp_path: Path) -> None:
    inventory = tmp_path / "gen"
    shutil.copytree(ROOT / "examples" / "polycom-generations", inventory)
    result = run("build", str(inventory), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert notices(result) == []


def test_released_families_of_no_release(tmp_path: Path) -> None:
    assert released_families(tmp_path) == []
