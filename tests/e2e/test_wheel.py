"""The distributions built from the checkout: what they hold, and a wheel that works outside it.

One ``python -m build`` makes the sdist and, from it, the wheel (as a package index would get
them): both carry the LICENSE; the wheel carries the schemas and every vendor template.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 600


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from the checkout (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def only(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.e2e
def test_sdist_holds_the_license_and_changelog(dist: Path) -> None:
    with tarfile.open(only(dist, "mipc-*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
        top = sdist.getnames()[0].split("/", 1)[0]
        license_text = sdist.extractfile(sdist.getmember(f"{top}/LICENSE"))
        assert license_text is not None
        assert b"MIT License" in license_text.read()
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= names


@pytest.mark.e2e
def test_wheel_holds_license_schemas_and_templates(dist: Path) -> None:
    with zipfile.ZipFile(only(dist, "mipc-*.whl")) as wheel:
        names = set(wheel.namelist())
        licenses = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert len(licenses) == 1, sorted(n for n in names if ".dist-info/" in n)
        assert wheel.read(licenses[0]) == (ROOT / "LICENSE").read_bytes()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert b"License-Expression: MIT" in metadata
    assert b"License-File: LICENSE" in metadata
    schemas = {f"mipc/schemas/{p.name}" for p in (ROOT / "schemas").glob("*.json")}
    assert schemas
    assert schemas <= names
    templates = {
        f"mipc/vendor_templates/{p.relative_to(ROOT / 'vendor_templates').as_posix()}"
        for p in (ROOT / "vendor_templates").rglob("*")
        if p.is_file()
    }
    assert templates
    assert templates <= names


@pytest.mark.e2e
def test_wheel_installs_and_validates_the_lab(dist: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", str(only(dist, "mipc-*.whl"))],
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT,
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
