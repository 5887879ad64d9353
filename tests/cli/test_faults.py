"""Faults a build meets: OUT's lock (who holds it, waiting, a stale one, ``mipc unlock``), a
SIGKILLed build's workers, a read-only OUT, a full disk, SIGINT, a damaged manifest.

Every child process is started in a session of its own and its whole group is killed and
reaped before the test ends. The random kills of cold, full and incremental builds are in
``tests/cli/test_fault_kills.py``.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.release.lock import Holder
from tests.builders import tree
from tests.faults import (
    REPO,
    alive_in_group,
    child_build,
    emptied,
    end_group,
    reached,
    verify_current,
)


@pytest.fixture
def campus(tmp_path: Path) -> Path:
    target = tmp_path / "campus"
    shutil.copytree(REPO / "examples" / "campus", target)
    return target


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def built(campus: Path, out: Path) -> str:
    code, _, stderr = run("build", str(campus), "-o", str(out), "-q")
    assert code == 0, stderr
    return os.readlink(out / "current")


@pytest.fixture
def holder_process(tmp_path: Path) -> Iterator[Any]:
    """Start a process that holds ``OUT/.lock`` naming the holder it is given."""
    started: list[subprocess.Popen[bytes]] = []

    def start(out: Path, holder: Holder) -> subprocess.Popen[bytes]:
        ready = tmp_path / f"ready-{len(started)}"
        code = (
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.ftruncate(fd, 0); os.write(fd, sys.argv[2].encode())\n"
            "open(sys.argv[3], 'w').close()\n"
            "time.sleep(60)\n"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(out / ".lock"), holder.to_bytes().decode(), ready],
            start_new_session=True,
        )
        started.append(child)
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.02)
        return child

    yield start
    for child in started:
        end_group(child)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_the_refusal_names_the_holder_and_wait_waits(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = built(campus, out)
    fd = os.open(out / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    pid = os.getpid()  # a holder that runs
    os.write(fd, Holder(pid, socket.gethostname(), "2026-12-01T12:00:00Z").to_bytes())
    closed = threading.Event()

    def finished() -> None:
        os.close(fd)
        closed.set()

    finish = threading.Timer(0.5, finished)  # the holder finishes, later
    try:
        code, _, stderr = run("build", str(campus), "-o", str(out), "--force", "--wait", "0.3")
        assert code == 2 and len(stderr.splitlines()) == 1
        assert (
            f"mipc build: {out} is locked by build pid {pid} on host {socket.gethostname()}"
            " since 2026-12-01T12:00:00Z (waited 0.3 s); wait for it to finish" in stderr
        )
        finish.start()
        began = time.monotonic()
        code, _, stderr = run("build", str(campus), "-o", str(out), "--force", "--wait", "20")
        assert code == 0, stderr
        assert 0.4 < time.monotonic() - began < 15
    finally:
        finish.cancel()
        if finish.is_alive():
            finish.join()
        if not closed.is_set():
            os.close(fd)
    assert os.readlink(out / "current") != first
    assert (out / ".lock").read_bytes() == b""  # no one holds it: no one is named


def test_a_stale_lock_is_taken_over(campus: Path, tmp_path: Path, holder_process: Any) -> None:
    out = tmp_path / "out"
    built(campus, out)
    # the recorded holder is gone; some other process (an older mipc's worker) keeps the lock
    gone = Holder(dead_pid(), socket.gethostname(), "2026-12-01T12:00:00Z", ticks=1)
    keeper = holder_process(out, gone)
    code, _, stderr = run("build", str(campus), "-o", str(out), "--force")
    assert code == 0, stderr
    assert keeper.poll() is None  # untouched: only its lock file was replaced
    assert verify_current(out)
    # the next build finds a free lock
    assert run("build", str(campus), "-o", str(out), "-q")[0] == 0


def test_unlock(campus: Path, tmp_path: Path, holder_process: Any) -> None:
    out = tmp_path / "out"
    built(campus, out)
    code, stdout, _ = run("unlock", str(out))
    assert code == 0 and stdout == f"{out}: not locked; nothing to clear\n"
    me = Holder.me("build")  # a holder that runs: this very process
    keeper = holder_process(out, me)
    code, stdout, _ = run("unlock", str(out), "--format", "json")
    assert code == 2
    assert f"is locked by {me.describe()}, which is still running" in json.loads(stdout)["error"]
    assert run("build", str(campus), "-o", str(out), "--force")[0] == 2
    code, stdout, _ = run("unlock", str(out), "--force", "-q")
    assert code == 0 and stdout == ""
    assert run("build", str(campus), "-o", str(out), "--force", "-q")[0] == 0
    end_group(keeper)
    gone = Holder(dead_pid(), socket.gethostname(), "2026-12-01T12:00:00Z", ticks=1)
    holder_process(out, gone)
    code, stdout, _ = run("unlock", str(out))
    assert code == 0 and stdout == f"{out}: cleared the lock of {gone.describe()}, which is gone\n"
    code, stdout, _ = run("unlock", str(out), "--format", "json")
    doc = json.loads(stdout)
    assert code == 0 and doc["held"] is False and doc["cleared"] is False
    assert run("unlock", str(tmp_path / "nowhere"))[0] == 2


@pytest.mark.parametrize("workers", [False, True])
def test_a_sigkilled_build_leaves_no_process_and_no_lock(
    campus: Path, tmp_path: Path, workers: bool
) -> None:
    out = tmp_path / "out"
    first = built(campus, out)
    marker = tmp_path / "rendering"
    child = child_build(campus, out, "--force", workers=workers, slow=marker)
    try:
        reached(child, marker)
        if workers:
            assert len(alive_in_group(child.pid)) >= 2  # the build and its workers
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert emptied(child.pid) == []
    finally:
        end_group(child)
    assert os.readlink(out / "current") == first and verify_current(out)
    code, _, stderr = run("build", str(campus), "-o", str(out), "--force", "-q")
    assert code == 0, stderr  # not refused: nothing of the dead build holds the lock
    assert verify_current(out) and not list(out.glob(".staging-*"))


@pytest.mark.parametrize("workers", [False, True])
def test_sigint_stops_a_build_cleanly(campus: Path, tmp_path: Path, workers: bool) -> None:
    out = tmp_path / "out"
    first = built(campus, out)
    upload = out / "uploads" / "logs" / "phone.log"
    upload.write_bytes(b"log\n")
    marker = tmp_path / "rendering"
    child = child_build(campus, out, "--force", workers=workers, slow=marker)
    try:
        reached(child, marker)
        os.killpg(child.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
        _, stderr = child.communicate(timeout=30)
        assert child.returncode == 2
        assert stderr.decode().splitlines()[-1:] == [
            f"mipc build: interrupted; {out}/current is release {Path(first).name}, complete"
        ]
        assert "Traceback" not in stderr.decode()
        assert emptied(child.pid) == []
    finally:
        end_group(child)
    assert os.readlink(out / "current") == first and verify_current(out)
    assert upload.read_bytes() == b"log\n" and not list(out.glob(".staging-*"))
    assert run("build", str(campus), "-o", str(out), "--force", "-q")[0] == 0


def test_a_read_only_out_is_one_line_and_exit_2(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = built(campus, out)
    (out / "uploads" / "logs" / "phone.log").write_bytes(b"log\n")
    before = tree(out)
    for args in ([], ["--edit"], ["--force"]):  # nothing changed, one phone, all of them
        if args == ["--edit"]:
            edited = (campus / "phones.yaml").read_text().replace("label: Lobby}", "label: Hall}")
            (campus / "phones.yaml").write_text(edited)
            args = []
        command = [sys.executable, "-m", "mipc", "build", str(campus), "-o", str(out), *args]
        if os.geteuid() == 0:  # root writes through file modes: a read-only mount instead
            mount = f'mount --bind -o ro {out} {out} && exec "$@"'
            command = ["unshare", "-m", "sh", "-c", mount, "sh", *command]
        modes = {p: p.stat().st_mode for p in (out, *out.rglob("*")) if not p.is_symlink()}
        if os.geteuid() != 0:  # every folder and file read-only, the lock file included
            for path in modes:
                path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            done = subprocess.run(command, capture_output=True, timeout=60, cwd=REPO)
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        lines = done.stderr.decode().splitlines()
        assert done.returncode == 2, lines
        assert lines[-1].startswith(f"mipc build: cannot write {out}: ")
        assert "Traceback" not in done.stderr.decode()
    assert tree(out) == before and os.readlink(out / "current") == first
    assert run("build", str(campus), "-o", str(out), "-q")[0] == 0 and verify_current(out)


@pytest.mark.parametrize("where", ["files", "manifest"])
@pytest.mark.parametrize("force", [False, True])
def test_a_full_disk_is_one_line_and_exit_2(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, force: bool
) -> None:
    out = tmp_path / "out"
    first = built(campus, out)
    upload = out / "uploads" / "contacts" / "directory.xml"
    upload.write_bytes(b"<d/>\n")
    edited = (campus / "phones.yaml").read_text().replace("label: Lobby}", "label: Hall}")
    (campus / "phones.yaml").write_text(edited)

    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    real_write = os.write

    def write(fd: int, data: Any) -> int:  # full for OUT's files only
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(out)):
            return full()
        return real_write(fd, data)

    with monkeypatch.context() as patch:
        if where == "files":
            patch.setattr("mipc.release.staging.os.write", write)
            patch.setattr("mipc.release.delta._apply", full)
        else:
            patch.setattr("mipc.release.manifest._Writer.flush", full)
        code, stdout, stderr = run("build", str(campus), "-o", str(out), *(["--force"] * force))
    assert code == 2 and stdout == ""
    assert stderr.splitlines()[-1] == (
        f"mipc build: cannot write {out}: no space left on the device"
    ), stderr
    assert "Traceback" not in stderr
    assert os.readlink(out / "current") == first and verify_current(out)
    assert upload.read_bytes() == b"<d/>\n" and not list(out.glob(".staging-*"))
    assert run("build", str(campus), "-o", str(out), "-q")[0] == 0 and verify_current(out)


def _damage_a_reused_file_entry(out: Path) -> None:
    """Change one hex digit of a phone's own file in the current manifest (still JSON)."""
    path = out / "current" / "manifest.json"
    manifest = json.loads(path.read_bytes())
    phone = sorted(manifest["phones"])[-1]
    rel = manifest["phones"][phone]["files"][0]
    sha = manifest["files"][rel]["sha256"]
    damaged = ("1" if sha[0] == "0" else "0") + sha[1:]
    data = path.read_bytes().replace(sha.encode(), damaged.encode(), 1)
    path.unlink()  # a new file: the file system, not a link shared with another release
    path.write_bytes(data)


def test_a_damaged_manifest_is_not_trusted(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    built(campus, out)
    _damage_a_reused_file_entry(out)
    edited = (campus / "phones.yaml").read_text().replace("label: Lobby}", "label: Hall}")
    (campus / "phones.yaml").write_text(edited)
    code, stdout, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0, stderr
    assert "changed phones only" not in stdout  # the full path, not the shortcut
    fresh = tmp_path / "fresh"
    built(campus, fresh)
    assert tree(out / "current") == tree(fresh / "current")
    assert verify_current(out)
