"""``mipc import-csv`` with rejected rows: nothing written by default, the good rows with
``--skip-errors``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.builders import tree
from tests.cli.test_import_cli import ROOT, run


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(ROOT / "examples" / "lab", target)
    return target


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A list of two good rows and two rejected ones (rows 3 and 5)."""
    path = tmp_path / "mixed.csv"
    path.write_text(
        "Name,Template,Extension,Address\n"
        "Good1,My Polycom SA Template,8101,0004F2AB0001\n"
        "Bad1,No Such Template,8102,0004F2AB0002\n"
        "Good2,My Polycom SA Template,8103,0004F2AB0003\n"
        ",My Polycom SA Template,8104,0004F2AB0004\n"
    )
    return path


def test_a_rejected_row_writes_nothing_and_lists_the_rows(lab: Path, mixed: Path) -> None:
    before = tree(lab)
    result = run("import-csv", "-i", lab, mixed)
    assert result.exit_code == 1
    assert tree(lab) == before
    shown = mixed.as_posix()
    assert f"{shown}:3:Template: error[unknown-template]" in result.stderr
    assert f"{shown}:5:Name: error[missing-name]" in result.stderr
    assert (
        f"mipc import-csv: nothing written: 2 rejected row(s) ({shown} rows 3, 5); fix them,"
        " or import the other rows with --skip-errors"
    ) in result.stderr
    assert result.stdout.startswith("0 imported,")
    assert "2 rejected row(s)," in result.stdout


def test_dry_run_with_a_rejected_row_shows_no_diff(lab: Path, mixed: Path) -> None:
    result = run("import-csv", "-i", lab, "--dry-run", mixed)
    assert result.exit_code == 1
    assert "+++" not in result.stdout


def test_skip_errors_writes_the_good_rows_and_says_how_many_were_left_out(
    lab: Path, mixed: Path
) -> None:
    result = run("import-csv", "-i", lab, "--skip-errors", mixed)
    assert result.exit_code == 1  # the list was not imported whole
    assert "nothing written" not in result.stderr
    assert result.stdout.startswith("2 imported, 0 unchanged")
    assert "2 rejected row(s) left out," in result.stdout
    written = (lab / "lists" / "mixed.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in written[1:]] == ["Good1", "Good2"]
    assert run("validate", lab).exit_code == 0


def test_skip_errors_does_not_override_conflicts(lab: Path, tmp_path: Path) -> None:
    clash = tmp_path / "clash.csv"
    clash.write_text(
        "Name,Template,Extension\nPolycomLobby,My Polycom SA Template,8201\nX,Nope,8202\n"
    )
    before = tree(lab)
    result = run("import-csv", "-i", lab, "--skip-errors", clash)
    assert result.exit_code == 1
    assert "error[conflict]" in result.stderr
    assert tree(lab) == before
