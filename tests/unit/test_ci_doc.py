"""docs/ci.md: both pipelines parse as YAML and run validate → diff → build → publish."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

DOC = Path(__file__).parent.parent.parent / "docs" / "ci.md"


def blocks() -> list[Any]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def order(commands: str) -> list[int]:
    steps = ("mipc validate", "mipc diff --against", "mipc build -o", "rsync -aH", "mv -T")
    return [commands.index(step) for step in steps]


def test_two_pipelines() -> None:
    assert len(blocks()) == 2


def test_github_actions() -> None:
    gh = blocks()[0]
    assert set(gh) >= {"name", "jobs"}
    assert True in gh or "on" in gh  # YAML 1.1 reads the key `on` as True
    steps = gh["jobs"]["release"]["steps"]
    assert all("run" in s or "uses" in s for s in steps)
    commands = "\n".join(str(s.get("run", "")) for s in steps)
    positions = order(commands)
    assert positions == sorted(positions)
    publish = next(s for s in steps if s.get("name") == "Publish and switch current")
    assert "refs/heads/main" in publish["if"]


def test_gitlab_ci() -> None:
    gl = blocks()[1]
    assert gl["stages"] == ["validate", "diff", "build", "publish"]
    for job in ("validate", "diff", "build", "publish"):
        assert gl[job]["stage"] == job
    commands = "\n".join(
        str(line) for job in ("validate", "diff", "build", "publish") for line in gl[job]["script"]
    )
    positions = order(commands)
    assert positions == sorted(positions)
    # the YAML anchor expanded into a nested list of shell lines
    assert any(isinstance(line, list) for line in gl["publish"]["script"])
