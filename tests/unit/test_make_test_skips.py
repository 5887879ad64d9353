"""``make test`` as a non-root user without the servers: the install step and the e2e skips.

``scripts/install-system-deps.sh`` installs nothing when not root and not in CI and says so
(exit 0); the end-to-end fixtures skip a test whose tool is missing, with the package to
install, except under ``CI=true``, where both fail. The tools are hidden by running the
script with only a fake ``id`` on PATH and no sbin folders.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import tests.tooling
from tests.e2e.conftest import NginxLauncher

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-system-deps.sh"


def run_script(tmp_path: Path, uid: int, ci: str | None) -> subprocess.CompletedProcess[str]:
    """The script as user ``uid`` (a fake ``id``) with no system tool to be found."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n", encoding="utf-8")
    (bin_dir / "id").chmod(0o755)
    env = {"PATH": str(bin_dir), "MIPC_SBIN_DIRS": str(tmp_path / "none")}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )


def test_not_root_outside_ci_skips_the_install(tmp_path: Path) -> None:
    done = run_script(tmp_path, 1000, None)
    assert done.returncode == 0, done.stderr
    assert "missing: nginx isc-dhcp-server kea-dhcp4-server dnsmasq bind9-utils" in done.stdout
    assert "nothing installed" in done.stdout and "skipped" in done.stdout


@pytest.mark.parametrize("ci", ["true", "TRUE"])
def test_not_root_in_ci_fails(tmp_path: Path, ci: str) -> None:
    done = run_script(tmp_path, 1000, ci)
    assert done.returncode == 1
    assert "run this script as root" in done.stderr


def test_makefile_lists_the_skips() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m pytest -q -n auto -rs" in makefile


def test_nginx_fixture_skips_outside_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tests.tooling, "find_tool", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install nginx"):
        NginxLauncher(tmp_path)


def test_nginx_fixture_fails_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tests.tooling, "find_tool", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="'nginx' not found"):
        NginxLauncher(tmp_path)
