"""nginx, its workers running as ``nobody`` in group ``www-data``, serves a release whose files
holding secrets are mode 0640 of that group, and every other file; given another group, those
files are refused (403) while the rest are still served: the mode is what guards them."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from tests.e2e.conftest import NginxLauncher
from tests.simulate_helpers import copy_example
from tests.tooling import require_root

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("as_root")]


@pytest.fixture
def as_root() -> None:
    require_root("nginx's workers change user only as root")


ROOT = Path(__file__).resolve().parents[2]
SECRET = b"partner"  # the lab's external registration password file starts so


@pytest.fixture
def base() -> Iterator[Path]:
    """A folder ``nobody`` may enter (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="mipc-www-group-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _serve(nginx_server: NginxLauncher, base: Path, group: str) -> tuple[str, Path]:
    lab = base / f"lab-{group}"
    source = copy_example("lab", lab)  # an open site: served to 127.0.0.1
    text = source.read_text(encoding="utf-8")
    source.write_text(text + f"\nserving: {{access: open, nginx_group: {group}}}\n")
    out = base / f"out-{group}"
    previous = os.umask(0o022)
    try:
        command = ["build", str(lab), "-o", str(out), "--server-root", str(out), "-q"]
        built = CliRunner().invoke(main, command)
    finally:
        os.umask(previous)
    assert built.exit_code == 0, built.output
    site = (out / "current" / "network" / "nginx-site.conf").read_bytes()

    def render(listen: str) -> bytes:
        return re.sub(rb"listen [^;]+;", f"listen {listen};".encode(), site)

    return nginx_server.start_site(render, user="nobody www-data"), out / "current" / "www"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _files(www: Path) -> tuple[list[str], list[str]]:
    """The release's files (relative), those holding one of the lab's secrets and the others."""
    secrets = [p.read_bytes().strip() for p in (ROOT / "examples" / "lab" / "secrets").iterdir()]
    files = sorted(p for p in www.rglob("*") if p.is_file())

    def holds(path: Path) -> bool:
        return any(secret in path.read_bytes() for secret in secrets)

    holding = [p.relative_to(www).as_posix() for p in files if holds(p)]
    others = [p.relative_to(www).as_posix() for p in files if not holds(p)]
    return holding, others


def test_nginx_in_the_group_serves_the_secret_files(
    nginx_server: NginxLauncher, base: Path
) -> None:
    url, www = _serve(nginx_server, base, "www-data")
    holding, others = _files(www)
    assert holding and others
    assert {rel: _status(f"{url}/{rel}") for rel in holding + others} == {
        rel: 200 for rel in holding + others
    }


def test_nginx_outside_the_group_is_refused_them(nginx_server: NginxLauncher, base: Path) -> None:
    url, www = _serve(nginx_server, base, "nogroup")
    holding, others = _files(www)
    assert {_status(f"{url}/{rel}") for rel in holding} == {403}
    assert {_status(f"{url}/{rel}") for rel in others} == {200}
