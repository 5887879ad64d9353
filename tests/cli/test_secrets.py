"""Secrets: ``OUT/.inputs.key`` keys their recorded digests, and no value ever leaves mipc
outside the phones' files."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.incremental.inputs import KEY, KEY_BYTES, MIN_KEY_BYTES, secret_key

REPO = Path(__file__).parent.parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


# --- the key -------------------------------------------------------------------------------


def test_the_key_is_made_of_random_bytes_for_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        key = secret_key(tmp_path)
    finally:
        os.umask(old)
    path = tmp_path / KEY
    assert len(key) == KEY_BYTES
    assert path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(tmp_path) == key
    assert secret_key(tmp_path / ".." / tmp_path.name) == key
    other = tmp_path / "other"
    other.mkdir()
    assert secret_key(other) != key


def _one_line_error(code: int, stdout: str, stderr: str, verb: str) -> None:
    assert code == 2, stdout + stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"mipc {verb}: ")
    assert KEY in lines[0]
    assert "delete it" in lines[0]


@pytest.mark.parametrize("content", [b"", b"\n", b"x" * (MIN_KEY_BYTES - 1)])
def test_a_short_key_is_an_error_before_and_after_a_first_build(
    lab: Path, tmp_path: Path, content: bytes
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / KEY).write_bytes(content)
    _one_line_error(*run("build", str(lab), "-o", str(out), "--force"), "build")
    assert not (out / "inputs.json").exists()
    (out / KEY).unlink()
    assert run("build", str(lab), "-o", str(out))[0] == 0
    (out / KEY).write_bytes(content)
    _one_line_error(*run("build", str(lab), "-o", str(out)), "build")
    _one_line_error(*run("diff", str(lab), "--against", str(out / "current")), "diff")


def test_a_key_of_the_fewest_bytes_is_used(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / KEY).write_bytes(b"k" * MIN_KEY_BYTES)
    assert run("build", str(lab), "-o", str(out))[0] == 0
    assert (out / KEY).read_bytes() == b"k" * MIN_KEY_BYTES
    assert "unchanged" in run("build", str(lab), "-o", str(out))[1]
