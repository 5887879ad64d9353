"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by pre-commit itself.

A temporary Git repository holds the hook definitions and the package (the checkout as it is
now, committed); another holds an inventory (a copy of ``examples/lab``) and a
``.pre-commit-config.yaml`` naming the first by its path and commit, as an adopter names this
repository by URL and tag. pre-commit clones it and installs mipc into the hook's own
environment (dependencies from the package index, as for any adopter).

pre-commit comes from the dev extras; without it, one is installed from the package index into a
temporary environment. If that fails the test skips, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: What ``pip install .`` of the package needs from the checkout.
PACKAGE = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    ".pre-commit-hooks.yaml",
    "mipc",
    "schemas",
    "vendor_templates",
)
TIMEOUT = 600  # the first run installs mipc into the hook's environment
GIT_ID = ["-c", "user.name=mipc tests", "-c", "user.email=tests@example.invalid"]


def hooks() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in loaded}


def test_hook_definitions() -> None:
    defined = hooks()
    assert set(defined) == {"mipc-validate", "mipc-diff"}
    for hook in defined.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert re.search(hook["files"], "phones/list.csv")
        assert re.search(hook["files"], "mipc.yaml")
        assert re.search(hook["files"], "site.yml")
        assert not re.search(hook["files"], "README.md")
    assert defined["mipc-validate"]["entry"] == "mipc validate"
    assert defined["mipc-diff"]["entry"] == "mipc diff -q"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *GIT_ID, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _pre_commit_command(base: Path) -> list[str]:
    probe = subprocess.run([sys.executable, "-m", "pre_commit", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pre_commit"]
    env_dir = base / "pre-commit-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = str(env_dir / "bin" / "python")
    try:
        subprocess.run(
            [py, "-m", "pip", "install", "--quiet", "pre-commit"],
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        message = f"pre-commit could not be installed from the package index: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return [py, "-m", "pre_commit"]


class Hooks:
    """A hook repository made from the checkout, and the pre-commit that runs its hooks."""

    def __init__(self, base: Path) -> None:
        self.command = _pre_commit_command(base)
        self.home = base / "pre-commit-home"
        self.repo = base / "hook-repo"
        self.repo.mkdir()
        for name in PACKAGE:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    self.repo / name,
                    symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
            else:
                shutil.copy2(source, self.repo / name)
        _git(self.repo, "init", "-q")
        _git(self.repo, "add", "-A")
        _git(self.repo, "commit", "-q", "-m", "hooks")
        self.rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=self.repo, capture_output=True, text=True, check=True
        ).stdout.strip()

    def run(self, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """``pre-commit run ARGS`` in ``project``; its output in ``.stdout``."""
        env = {**os.environ, "PRE_COMMIT_HOME": str(self.home), "NO_COLOR": "1"}
        env.pop("GITHUB_ACTIONS", None)
        return subprocess.run(
            [*self.command, "run", "--color", "never", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Hooks:
    return Hooks(tmp_path_factory.mktemp("precommit"))


def project(base: Path, hook_repo: Hooks, configured: list[dict[str, Any]]) -> Path:
    """A Git repository with the lab under ``phones/`` and the given hooks configured."""
    repo = base / "project"
    shutil.copytree(ROOT / "examples" / "lab", repo / "phones")
    (repo / "notes.txt").write_text("not an inventory file\n", encoding="utf-8")
    config = {"repos": [{"repo": str(hook_repo.repo), "rev": hook_repo.rev, "hooks": configured}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    return repo


def edit_lab(repo: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the lab's ``mipc.yaml``, and stage it."""
    path = repo / "phones" / "mipc.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _git(repo, "add", "-A")


@pytest.mark.e2e
def test_validate_hook_passes_then_fails_with_the_diagnostic(
    tmp_path: Path, hook_repo: Hooks
) -> None:
    repo = project(tmp_path, hook_repo, [{"id": "mipc-validate", "args": ["phones"]}])
    good = hook_repo.run(repo, "--all-files")
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"mipc validate\.+Passed", good.stdout), good.stdout
    untouched = hook_repo.run(repo, "--files", "notes.txt")
    assert untouched.returncode == 0, untouched.stdout
    assert re.search(r"mipc validate\.+\(no files to check\)Skipped", untouched.stdout)
    # PolycomAgent takes PolycomLobby's MAC
    edit_lab(repo, "address: 0004F2001002", "address: 00:04:f2:00:10:01")
    bad = hook_repo.run(repo, "--all-files")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"mipc validate\.+Failed", bad.stdout), bad.stdout
    assert re.search(r"phones/mipc\.yaml:\d+:\d+: error\[duplicate-address\]: ", bad.stdout)


@pytest.mark.e2e
def test_diff_hook_fails_when_the_release_is_out_of_date(tmp_path: Path, hook_repo: Hooks) -> None:
    out = tmp_path / "out"
    args = ["phones", "--against", str(out)]
    repo = project(tmp_path, hook_repo, [{"id": "mipc-diff", "args": args}])
    built = subprocess.run(
        [Path(sys.executable).parent / "mipc", "build", "phones", "-o", str(out), "-q"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert built.returncode == 0, built.stderr
    same = hook_repo.run(repo, "--all-files")
    assert same.returncode == 0, same.stdout + same.stderr
    assert re.search(r"mipc diff \(the release in OUT is up to date\)\.+Passed", same.stdout)
    edit_lab(repo, "label: Agent}", "label: Agents}")
    changed = hook_repo.run(repo, "--all-files")
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "Failed" in changed.stdout
    assert "exit code: 1" in changed.stdout
