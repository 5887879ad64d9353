"""Golden trees: building each example gives exactly the committed bytes.

``MIPC_REGEN=1 pytest tests/cli/test_golden_trees.py`` rewrites ``tests/golden/trees/`` after
a deliberate change; review the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "trees"
REGEN = os.environ.get("MIPC_REGEN") == "1"


def _tree(base: Path) -> dict[str, bytes]:
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("example", ["lab", "campus", "polycom-generations"])
def test_example_builds_to_its_golden_tree(example: str, tmp_path: Path) -> None:
    inventory = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, inventory)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["build", str(inventory), "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    release = (out / "current").resolve()
    built = _tree(release)
    golden_dir = GOLDEN / example
    if REGEN:
        shutil.rmtree(golden_dir, ignore_errors=True)
        for name, data in built.items():
            (golden_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / name).write_bytes(data)
    golden = _tree(golden_dir)
    assert sorted(built) == sorted(golden)
    for name in sorted(golden):
        assert built[name] == golden[name], f"{example}: {name} differs from the golden tree"
    for name, data in built.items():
        assert b"\r\n" not in data, name
