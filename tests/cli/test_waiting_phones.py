"""Managed phones without an address yet: valid, explained, given no files, and counted.

The guide's own sample lists hold two such phones: an Interaction SIP Station whose 11-digit
MAC is refused on import, and a SIP Soft Phone with no computer name. CIC keeps them as managed
IP phones that are not provisioned yet; mipc does the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "csv"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    assert run("init", target).exit_code == 0
    return target


def _manifest(out: Path) -> dict[str, dict[str, object]]:
    data = json.loads((out / "current" / "manifest.json").read_text(encoding="utf-8"))
    phones: dict[str, dict[str, object]] = data["phones"]
    return phones


@pytest.mark.parametrize(
    ("lists", "waiting"),
    [
        (["guide-tmm.csv"], {"AgentISS1", "AgentSSP-PC2", "PolycomLobby2"}),
        (["guide-template.csv"], {"PolycomAgent1"}),
        # the template list's phones the TMM list has already are skipped
        (
            ["guide-tmm.csv", "guide-template.csv"],
            {"AgentISS1", "AgentSSP-PC2", "PolycomLobby2", "PolycomAgent1"},
        ),
    ],
)
def test_the_guides_lists_import_into_init_and_build(
    lab: Path, tmp_path: Path, lists: list[str], waiting: set[str]
) -> None:
    for name in lists:
        imported = run("import-csv", DATA / name, "-i", lab, "--on-conflict", "skip")
        assert imported.exit_code == 0, imported.output
    validated = run("validate", lab)
    assert validated.exit_code == 0, validated.output
    out = tmp_path / "out"
    built = run("build", lab, "-o", out)
    assert built.exit_code == 0, built.output
    phones = _manifest(out)
    waiting_now = {name for name, p in phones.items() if not p["address"]}
    # the lab itself has one phone of each family, all with addresses
    assert waiting_now == waiting
    for name in waiting:
        assert phones[name]["files"] == [], name
    them = "it" if len(waiting) == 1 else "them"
    said = f"({len(waiting)} waiting for an address, no files for {them})"
    assert said in built.stdout and said in validated.stdout


def test_a_waiting_phone_gets_no_files_and_shapes_no_shared_file(lab: Path, tmp_path: Path) -> None:
    """Removing a phone's address removes its own files and nothing else changes but the
    manifest, as if the phone had gone; giving it back restores the same release."""
    out = tmp_path / "out"
    assert run("build", lab, "-o", out).exit_code == 0
    before = (out / "current").resolve()
    text = (lab / "mipc.yaml").read_text(encoding="utf-8")
    line = "    address: 00-26-FD-00-10-04\n"
    assert line in text
    (lab / "mipc.yaml").write_text(text.replace(line, "", 1), encoding="utf-8")
    built = run("build", lab, "-o", out)
    assert built.exit_code == 0, built.output
    assert "(1 waiting for an address, no files for it)" in built.stdout
    after = (out / "current").resolve()
    old = {p.relative_to(before).as_posix() for p in before.rglob("*") if p.is_file()}
    new = {p.relative_to(after).as_posix() for p in after.rglob("*") if p.is_file()}
    assert old - new == {"www/0026fd001004.cfg"}
    assert new <= old
    explained = run("explain", "AgentISS-Lab", lab)
    assert "no address yet" in explained.stdout, explained.output
    again = run("build", lab, "-o", out)  # nothing changed since: the no-op path says it too
    assert "(1 waiting for an address, no files for it)" in again.stdout
    (lab / "mipc.yaml").write_text(text, encoding="utf-8")
    restored = run("build", lab, "-o", out)
    assert restored.exit_code == 0
    assert (out / "current").resolve().name == before.name
