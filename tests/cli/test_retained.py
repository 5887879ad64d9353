"""What a release keeps of the one before it (``mipc.release.retain``): the content-addressed
files its masters no longer name, as hard links beside its own, listed in ``retained.json``
and not in its manifest; one release back only; also when a build or a rollback switches to
a release that exists already."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.artifacts import stem_of
from mipc.cli import main
from tests.builders import settle
from tests.faults import verify_current

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def label(lab: Path, text: str) -> None:
    path = lab / "mipc.yaml"
    path.write_text(
        re.sub(
            r'\{extension: "7002", label: [^}]*\}',
            f'{{extension: "7002", {text}}}',
            path.read_text(),
        )
    )
    settle(lab)


def release(out: Path) -> Path:
    return (out / "current").resolve()


def manifest(folder: Path) -> dict[str, dict[str, object]]:
    files: dict[str, dict[str, object]] = json.loads((folder / "manifest.json").read_bytes())[
        "files"
    ]
    return files


def addressed_files(folder: Path) -> set[str]:
    return {p for p, e in manifest(folder).items() if stem_of(p, str(e["sha256"])) != p}


def retained(folder: Path) -> list[str]:
    listed: list[str] = json.loads((folder / "retained.json").read_bytes())
    return listed


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    inventory = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", inventory)
    settle(inventory)
    return inventory


@pytest.mark.parametrize("force", [False, True])
def test_a_release_keeps_the_files_the_one_before_named(
    lab: Path, tmp_path: Path, force: bool
) -> None:
    out = tmp_path / "out"
    run("build", str(lab), "-o", str(out))
    first = release(out)
    assert not (first / "retained.json").exists()  # nothing before it
    label(lab, "label: Second")
    run("build", str(lab), "-o", str(out), *(["--force"] if force else []))
    second = release(out)
    gone = sorted(addressed_files(first) - set(manifest(second)))
    assert gone and all(p.startswith("www/phone/") for p in gone)  # PolycomAgent's own file
    assert retained(second) == gone
    for path in gone:  # links to the same bytes, not in the manifest
        assert os.stat(second / path).st_ino == os.stat(first / path).st_ino
        assert path not in manifest(second)
    assert verify_current(out)
    # one release back only: the third keeps the second's, not the first's
    label(lab, "label: Third")
    run("build", str(lab), "-o", str(out), *(["--force"] if force else []))
    third = release(out)
    assert retained(third) == sorted(addressed_files(second) - set(manifest(third)))
    assert not any((third / p).exists() for p in gone)
    assert verify_current(out)


def test_switching_back_to_a_release_gives_it_the_files_of_the_one_left(
    lab: Path, tmp_path: Path
) -> None:
    """A rollback, and a build that finds its release made already, switch to an existing
    folder: the files of the release left are linked into it first; its manifest (its id)
    does not change."""
    out = tmp_path / "out"
    run("build", str(lab), "-o", str(out))
    first = release(out)
    sha = hashlib.sha256((first / "manifest.json").read_bytes()).hexdigest()
    label(lab, "label: Second")
    run("build", str(lab), "-o", str(out))
    second = release(out)
    run("rollback", str(out))
    assert release(out) == first
    wanted = sorted(addressed_files(second) - set(manifest(first)))
    assert wanted and retained(first) == wanted
    assert hashlib.sha256((first / "manifest.json").read_bytes()).hexdigest() == sha
    assert verify_current(out)
    run("rollback", str(out), "--to", second.name)
    label(lab, "label: Agent")  # back to the first release's inventory: switched to it
    run("build", str(lab), "-o", str(out))
    assert release(out) == first
    assert set(wanted) <= set(retained(first))
    assert verify_current(out)
