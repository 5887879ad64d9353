"""The wheel built from the checkout works outside it: schemas and templates ship inside."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_wheel_installs_and_validates_the_lab(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheels = sorted(dist.glob("mipc-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", str(wheels[0])],
        check=True,
        capture_output=True,
    )
    lab = tmp_path / "lab"
    shutil.copytree(ROOT / "examples" / "lab", lab)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run(
        [str(env_dir / "bin" / "mipc"), "validate", str(lab)],
        cwd=outside,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "valid: 6 phones" in done.stdout + done.stderr
    listing = subprocess.run(
        [
            str(py),
            "-c",
            "import mipc.resources as r; print(r.schemas_dir()); print(r.templates_dir())",
        ],
        cwd=outside,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in listing
    assert "site-packages/mipc/schemas" in listing
