"""``mipc completion SHELL`` prints what click's own machinery gives (``_MIPC_COMPLETE``)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.cli.commands.completion import SHELLS


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_clicks_script(shell: str) -> None:
    runner = CliRunner()
    ours = runner.invoke(main, ["completion", shell], prog_name="mipc", catch_exceptions=False)
    clicks = runner.invoke(main, [], prog_name="mipc", env={"_MIPC_COMPLETE": f"{shell}_source"})
    assert ours.exit_code == 0 and clicks.exit_code == 0
    assert ours.stdout == clicks.stdout
    assert "_MIPC_COMPLETE" in ours.stdout


def test_completion_is_printed_under_quiet_and_as_json() -> None:
    runner = CliRunner()
    quiet = runner.invoke(main, ["completion", "bash", "-q"], prog_name="mipc")
    assert "_MIPC_COMPLETE" in quiet.stdout
    doc = json.loads(runner.invoke(main, ["completion", "fish", "--format", "json"]).stdout)
    assert doc["shell"] == "fish" and "_MIPC_COMPLETE" in doc["script"]


def test_completion_completes_verbs() -> None:
    env = {"_MIPC_COMPLETE": "bash_complete", "COMP_WORDS": "mipc sch", "COMP_CWORD": "1"}
    result = CliRunner().invoke(main, [], prog_name="mipc", env=env)
    assert "plain,schema" in result.stdout


def test_completion_refuses_other_shells() -> None:
    result = CliRunner().invoke(main, ["completion", "tcsh"])
    assert result.exit_code == 2
