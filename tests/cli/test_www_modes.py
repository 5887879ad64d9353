"""Files of ``www/`` that hold a secret are mode 0640 and of nginx's group; the rest 0644.

The campus, with an admin password on every phone (so each family's own files hold one), is
built as root with ``serving.nginx_group: nogroup``; which files hold a secret is found here
from the bytes (a secret's text, or its XML escaping), independently of mipc. A group change
gives the new release's secret files the new group and leaves the older release's alone; a
build that cannot give the group still succeeds, with one warning naming the count and the
command.
"""

from __future__ import annotations

import errno
import grp
import json
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main
from tests.tooling import require_root

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "adm<in>&'pw\"7"  # escaped in XML attributes: both forms are looked for


@pytest.fixture
def as_root() -> None:
    require_root("giving a file a group")


@pytest.fixture(autouse=True)
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _campus(tmp_path: Path, group: str) -> Path:
    campus = tmp_path / "campus"
    shutil.copytree(ROOT / "examples" / "campus", campus)
    (campus / "secrets" / "admin.txt").write_text(ADMIN + "\n", encoding="utf-8")
    _group(campus, group)
    return campus


def _group(campus: Path, group: str) -> None:
    """The campus's nginx group (its defaults already give every phone the admin password)."""
    site = campus / "site.yaml"
    text = site.read_text(encoding="utf-8")
    serving = re.search(r"^serving: \{access: networks(?:, nginx_group: [\w-]+)?\}$", text, re.M)
    assert serving is not None, "the campus's serving section moved"
    line = f"serving: {{access: networks, nginx_group: {group}}}"
    site.write_text(text[: serving.start()] + line + text[serving.end() :], encoding="utf-8")


def _build(campus: Path, out: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["build", str(campus), "-o", str(out), *extra])


def _secrets(campus: Path) -> list[bytes]:
    values = [p.read_text(encoding="utf-8").strip() for p in (campus / "secrets").iterdir()]
    escaped = [v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for v in values]
    escaped = [v.replace('"', "&quot;").replace("'", "&apos;") for v in escaped]
    return [v.encode() for v in values + escaped]


def _files(release: Path) -> dict[str, os.stat_result]:
    return {
        p.relative_to(release).as_posix(): p.lstat()
        for p in sorted((release / "www").rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _holding(release: Path, secrets: list[bytes]) -> set[str]:
    """The files of ``release``'s manifest holding a secret (not those it keeps of the release
    before it: links to that release's files, with their mode and group)."""
    manifest = json.loads((release / "manifest.json").read_bytes())["files"]
    return {
        rel
        for rel in _files(release)
        if rel in manifest and any(s in (release / rel).read_bytes() for s in secrets)
    }


def _built(tmp_path: Path, group: str) -> tuple[Result, Path, set[str]]:
    """The campus built with ``group``: the result, the release, its files holding secrets."""
    campus = _campus(tmp_path, group)
    built = _build(campus, tmp_path / "out")
    assert built.exit_code == 0, built.output
    release = (tmp_path / "out" / "current").resolve()
    return built, release, _holding(release, _secrets(campus))


@pytest.mark.usefixtures("as_root")
@pytest.mark.parametrize("workers", [False, True], ids=["serial", "workers"])
def test_secret_files_are_0640_of_nginx_group_and_the_rest_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: bool
) -> None:
    if workers:  # render (and write) in worker processes, even for the campus's 24 phones
        monkeypatch.setattr("mipc.render.pool.PARALLEL_THRESHOLD", 1)
        monkeypatch.setattr("mipc.render.pool.CHUNK_SIZE", 2)
    built, release, holding = _built(tmp_path, "nogroup")
    assert len(holding) >= 10, sorted(holding)
    assert any(r.startswith("www/phone/") for r in holding), holding  # Polycom's own files
    assert any(r.startswith("www/00908f") for r in holding), holding  # an AudioCodes file
    nogroup = grp.getgrnam("nogroup").gr_gid
    for rel, st in _files(release).items():
        if rel in holding:
            assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o640, nogroup), rel
        else:
            assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o644, os.getgid()), rel
    assert "www-group" not in built.output


@pytest.mark.usefixtures("as_root")
def test_a_new_group_is_given_without_touching_the_older_release(tmp_path: Path) -> None:
    campus = _campus(tmp_path, "nogroup")
    out = tmp_path / "out"
    assert _build(campus, out).exit_code == 0
    first = (out / "current").resolve()
    _group(campus, "www-data")
    phones = campus / "phones.yaml"
    phones.write_text(phones.read_text().replace("label: Reception 2", "label: Desk 2"))
    assert _build(campus, out).exit_code == 0
    second = (out / "current").resolve()
    assert second != first
    holding = _holding(second, _secrets(campus))
    www_data, nogroup = grp.getgrnam("www-data").gr_gid, grp.getgrnam("nogroup").gr_gid
    assert {_files(second)[rel].st_gid for rel in holding} == {www_data}
    assert {_files(first)[rel].st_gid for rel in _holding(first, _secrets(campus))} == {nogroup}
    assert {stat.S_IMODE(_files(second)[rel].st_mode) for rel in holding} == {0o640}


def test_a_group_the_build_cannot_give_is_a_warning(tmp_path: Path) -> None:
    built, release, holding = _built(tmp_path, "no-such-group-mipc")
    out = tmp_path / "out"
    lines = [line for line in built.output.splitlines() if "warning[www-group]" in line]
    assert len(lines) == 1, built.output
    assert lines[0].startswith(f"warning[www-group]: {len(holding)} files holding secrets")
    assert "no group no-such-group-mipc on this machine" in lines[0]
    assert f"chgrp -R no-such-group-mipc {out}/current/www" in lines[0]
    assert {stat.S_IMODE(_files(release)[rel].st_mode) for rel in holding} == {0o640}


def test_a_build_user_outside_the_group_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refused)
    built, _, holding = _built(tmp_path, "nogroup")
    assert f"warning[www-group]: {len(holding)} files holding secrets" in built.output
    assert "the build user is neither root nor a member of nogroup" in built.output
    assert "chgrp -R nogroup" in built.output
