"""The console script (``mipc``, ``python -m mipc``): the exit codes and the whole output of
the verbs, as the process ends at once without tearing its heap down (mipc.cli.run)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mipc.cli import main as cli_main
from mipc.cli import run

REPO = Path(__file__).resolve().parents[2]


def mipc(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python -m mipc ARGS`` in a fresh process."""
    env = {**os.environ, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "mipc", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_a_build_prints_all_it_says_and_exits_0(tmp_path: Path) -> None:
    """A build's JSON report reaches a pipe whole (flushed before the process ends), and the
    release is there."""
    done = mipc("build", REPO / "examples" / "lab", "-o", tmp_path / "out", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report and (tmp_path / "out" / "current" / "www").is_dir()


def test_the_exit_codes_are_the_verbs(tmp_path: Path) -> None:
    """1 for an invalid inventory, 2 for a missing one, 2 for a usage error: as before."""
    lab = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", lab)
    text = (lab / "mipc.yaml").read_text(encoding="utf-8")
    (lab / "mipc.yaml").write_text(text.replace("phones:", "phones:\n  - {}", 1), encoding="utf-8")
    invalid = mipc("validate", lab)
    assert invalid.returncode == 1 and "error" in invalid.stdout + invalid.stderr
    missing = mipc("validate", tmp_path / "none")
    assert missing.returncode == 2 and "does not exist" in missing.stdout + missing.stderr
    usage = mipc("nosuchverb")
    assert usage.returncode == 2 and "No such command" in usage.stderr
    assert mipc("--version").stdout.startswith("mipc, version ")


class _Ended(Exception):
    """What the patched os._exit raises."""


@pytest.mark.parametrize(
    ("said", "code", "printed"), [(None, 0, ""), (3, 3, ""), ("why", 1, "why")]
)
def test_run_ends_with_the_code_main_exits_with(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    said: object,
    code: int,
    printed: str,
) -> None:
    """run() ends the process with main's exit code; a text code is printed, and ends in 1,
    as the interpreter does."""
    ended: list[int] = []

    def fake_main() -> None:
        raise SystemExit(said)

    def fake_exit(status: int) -> None:
        ended.append(status)
        raise _Ended

    module = importlib.import_module("mipc.cli.main")  # not the group mipc.cli.main
    monkeypatch.setattr(module, "main", fake_main)
    monkeypatch.setattr(os, "_exit", fake_exit)
    with pytest.raises(_Ended):
        run()
    assert ended == [code]
    assert capsys.readouterr().err.strip() == printed
    assert cli_main is not fake_main  # the group itself is untouched
