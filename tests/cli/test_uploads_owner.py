"""The upload folders and nginx's user: ``mipc build`` warns (one line, with the command that
fixes it) while ``serving.nginx_user`` cannot write some of ``OUT/uploads/{logs,overrides,
contacts}``, says nothing for a user this machine does not have, and ``--uploads-owner USER``
(as root) hands the folders to that user."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.builders import settle
from tests.cli.test_incremental import run
from tests.tooling import missing, require_root

REPO = Path(__file__).parent.parent.parent
ROOT_ONLY = pytest.mark.usefixtures("as_root")


@pytest.fixture
def as_root() -> None:
    require_root("chown to another user")


def nobody() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        missing("this machine has no user nobody")


def lab(tmp_path: Path, user: str) -> Path:
    """The lab example whose nginx runs as ``user``."""
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    site = target / "mipc.yaml"
    text = site.read_text(encoding="utf-8")
    assert "serving: {access: networks}\n" in text, "the example's serving section moved"
    site.write_text(
        text.replace(
            "serving: {access: networks}\n", f"serving: {{access: networks, nginx_user: {user}}}\n"
        ),
        encoding="utf-8",
    )
    settle(target)
    return target


def notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: nginx's user")]


def test_warns_once_naming_the_folders_and_the_fix(tmp_path: Path) -> None:
    user = nobody().pw_name
    inventory, out = lab(tmp_path, user), tmp_path / "out"
    code, _, stderr = run("build", str(inventory), "-o", str(out))
    assert code == 0
    folders = f"{out}/uploads/{{contacts,logs,overrides}}"
    assert notices(stderr) == [
        f"warning: nginx's user {user} (serving.nginx_user) cannot write {folders}: the phones'"
        f" uploads there will fail with 500; run: chown {user}: {folders}"
        f" (or build with --uploads-owner {user} as root)"
    ]
    # A folder anyone may write (mode 1777) is fine: the warning names the two others, also
    # when nothing else changed (the no-op build).
    (out / "uploads" / "logs").chmod(0o1777)
    code, stdout, stderr = run("build", str(inventory), "-o", str(out))
    assert code == 0 and "its inputs are unchanged" in stdout
    assert [f"{out}/uploads/{{contacts,overrides}}" in n for n in notices(stderr)] == [True]
    for name in ("contacts", "overrides"):
        (out / "uploads" / name).chmod(0o1777)
    assert notices(run("build", str(inventory), "-o", str(out))[2]) == []


def test_a_user_this_machine_lacks_is_not_judged(tmp_path: Path) -> None:
    """The build machine is not the web server: nothing to say about its folders."""
    code, _, stderr = run(
        "build", str(lab(tmp_path, "mipc-no-such-user")), "-o", str(tmp_path / "o")
    )
    assert code == 0 and notices(stderr) == []


@ROOT_ONLY
def test_the_printed_command_fixes_it(tmp_path: Path) -> None:
    user = nobody()
    inventory, out = lab(tmp_path, user.pw_name), tmp_path / "out"
    (line,) = notices(run("build", str(inventory), "-o", str(out))[2])
    command = line.split("; run: ", 1)[1].split(" (or build", 1)[0]
    subprocess.run(["bash", "-c", command], check=True)
    for name in ("contacts", "logs", "overrides"):
        assert (out / "uploads" / name).stat().st_uid == user.pw_uid
    assert notices(run("build", str(inventory), "-o", str(out))[2]) == []


@ROOT_ONLY
def test_uploads_owner_chowns_the_folders(tmp_path: Path) -> None:
    user = nobody()
    inventory, out = lab(tmp_path, user.pw_name), tmp_path / "out"
    code, _, stderr = run("build", str(inventory), "-o", str(out), "--uploads-owner", user.pw_name)
    assert code == 0 and notices(stderr) == []
    for name in ("contacts", "logs", "overrides"):
        st = (out / "uploads" / name).stat()
        assert (st.st_uid, st.st_gid) == (user.pw_uid, user.pw_gid)
        assert stat.S_IMODE(st.st_mode) & 0o700 == 0o700
    # The release itself stays root's: only the upload folders change hands.
    assert (out / "current" / "manifest.json").stat().st_uid == os.geteuid()


def test_uploads_owner_refused_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory, out = lab(tmp_path, "www-data"), tmp_path / "out"
    code, _, stderr = run("build", str(inventory), "-o", str(out), "--uploads-owner", "mipc-nope")
    assert code == 2 and not out.exists()
    assert stderr == (
        "mipc build: --uploads-owner mipc-nope: no such user on this machine; nothing built\n"
    )
    user = nobody().pw_name
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code, _, stderr = run("build", str(inventory), "-o", str(out), "--uploads-owner", user)
    assert code == 2 and not out.exists()
    assert stderr.startswith(f"mipc build: --uploads-owner {user} needs root; nothing built")
