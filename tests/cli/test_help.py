"""``--help`` of ``mipc`` and of each verb, compared exactly with ``tests/cli/help/<verb>.txt``.

``MIPC_REGEN_HELP=1`` rewrites the snapshots (review the diff before committing). The
terminal is 80 columns wide, so the text does not depend on the one running the tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main

HELP = Path(__file__).resolve().parent / "help"
REGEN = os.environ.get("MIPC_REGEN_HELP") == "1"
VERBS = sorted(main.commands)


def help_text(*verb: str) -> str:
    result = CliRunner().invoke(
        main, [*verb, "--help"], prog_name="mipc", terminal_width=80, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(autouse=True)
def _columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


@pytest.mark.parametrize("verb", ["mipc", *VERBS])
def test_help_snapshot(verb: str) -> None:
    text = help_text() if verb == "mipc" else help_text(verb)
    snapshot = HELP / f"{verb}.txt"
    if REGEN:
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")


def test_every_verb_has_a_snapshot_and_no_other() -> None:
    assert sorted(p.stem for p in HELP.glob("*.txt")) == sorted(["mipc", *VERBS])


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_takes_format(verb: str) -> None:
    assert "--format [text|json|github]" in help_text(verb)


@pytest.mark.parametrize("verb", ["init", "validate", "explain", "rollback", "diff"])
def test_quiet(verb: str) -> None:
    assert "-q, --quiet" in help_text(verb)
