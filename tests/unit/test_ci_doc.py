"""docs/ci.md: its YAML parses; both pipelines run validate → diff → build → publish.

It also installs mipc as it can be installed (never ``pip install mipc``: mipc is not on a
package index), and its pre-commit example names the hooks ``.pre-commit-hooks.yaml`` defines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent.parent.parent
DOC = ROOT / "docs" / "ci.md"


def blocks() -> list[Any]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)]


def block_with(key: str, inner: str = "") -> Any:
    found = [b for b in blocks() if isinstance(b, dict) and key in b and inner in str(b[key])]
    assert len(found) == 1, f"one YAML block with {key!r} holding {inner!r}"
    return found[0]


def order(commands: str) -> list[int]:
    steps = ("mipc validate", "mipc diff --against", "mipc build -o", "rsync -aH", "mv -T")
    return [commands.index(step) for step in steps]


def test_yaml_blocks() -> None:
    assert len(blocks()) == 4


def test_github_actions() -> None:
    gh = block_with("jobs", "'release'")
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
    gl = block_with("stages")
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
    assert "mipc diff --against deployed --format json > diff.json" in commands
    assert gl["diff"]["artifacts"]["paths"] == ["diff.txt", "diff.json"]


def test_github_action_example() -> None:
    steps = block_with("jobs", "mipc@")["jobs"]["check"]["steps"]
    uses = next(s for s in steps if "mipc@" in s.get("uses", ""))
    declared = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
    assert set(uses["with"]) <= set(declared)
    doc = DOC.read_text(encoding="utf-8")
    for name in declared:
        assert f"| `{name}` |" in doc


def test_installs_from_the_repository_never_from_an_index() -> None:
    for path in (DOC, ROOT / "README.md"):
        text = path.read_text(encoding="utf-8")
        code = "\n".join(re.findall(r"```\w*\n(.*?)```", text, re.DOTALL))
        assert "pip install" in code or path.name == "README.md"
        assert not re.search(r"pip install (--quiet )?mipc\b", code), path
    doc = DOC.read_text(encoding="utf-8")
    assert 'pip install "git+${{ vars.MIPC_REPO_URL }}@v' in doc
    assert 'pip install --quiet "git+$MIPC_REPO_URL@v' in doc


def test_pre_commit_example_names_the_defined_hooks() -> None:
    config = block_with("repos")
    defined = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    ids = {hook["id"] for hook in defined}
    used = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert used == ids
