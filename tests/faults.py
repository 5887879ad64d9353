"""Helpers of the fault tests: a build in a child process (its own session and process group;
worker processes forced even for a small inventory; a renderer that stops mid-render), the
live processes of a group (from /proc), and a check that ``OUT/current`` is a whole release."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mipc.artifacts import stem_of

REPO = Path(__file__).resolve().parent.parent

DRIVER = """
import sys, time
from pathlib import Path
workers, slow = sys.argv[1], sys.argv[2]
if workers == "1":
    import mipc.render.pool as pool
    pool.PARALLEL_THRESHOLD = 1
    pool.CHUNK_SIZE = 2
if slow:
    import mipc.render.base as render
    from mipc.render.stage import renderers
    real = renderers()["polycom"]

    class Slow:
        def __init__(self):
            self.inner = real()
            self.family = self.inner.family
            self.warnings = self.inner.warnings

        def prepare(self, plan):
            self.prepared = True

        def render_phone(self, phone, plan):
            Path(slow).write_text("rendering")
            time.sleep(60)
            return self.inner.render_phone(phone, plan)

        def render_shared(self, plan, phones):
            return self.inner.render_shared(plan, phones)

    render._REGISTRY["polycom"] = Slow
from mipc.cli import main
main(sys.argv[3:])
"""


def child_build(
    inventory: Path, out: Path, *args: str, workers: bool, slow: Path | None = None
) -> subprocess.Popen[bytes]:
    """``mipc build INVENTORY -o OUT ARGS`` in a child process leading a new process group;
    ``workers``: render in worker processes; ``slow``: a Polycom phone's render writes this
    file, then sleeps a minute."""
    command = [sys.executable, "-c", DRIVER, "1" if workers else "0", str(slow or "")]
    return subprocess.Popen(
        [*command, "build", str(inventory), "-o", str(out), "-q", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def reached(child: subprocess.Popen[bytes], marker: Path) -> None:
    """Wait until ``child`` writes ``marker`` (it must not end first; at most 30 s)."""
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert child.poll() is None, "the build ended before it rendered"
        assert time.monotonic() < deadline, "the build never rendered"
        time.sleep(0.02)


def emptied(group: int, grace: float = 5) -> list[int]:
    """The processes of ``group`` still running after up to ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while alive_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive_in_group(group)


def alive_in_group(group: int) -> list[int]:
    """The processes of process group ``group`` that still run (zombies have ended: they
    only wait for their parent, or init, to reap them)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == group and fields[0] != b"Z":
            found.append(int(entry))
    return found


def end_group(child: subprocess.Popen[bytes], grace: float = 5) -> None:
    """Kill what is left of ``child``'s process group, and reap ``child``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.communicate(timeout=grace)
    emptied(child.pid, grace)


def _retained(release: Path) -> list[str]:
    """The files ``release`` keeps of the release before it: each must be named by its
    content (mipc.artifacts.addressed), and not in the manifest."""
    kept = release / "retained.json"
    names: list[str] = json.loads(kept.read_bytes()) if kept.exists() else []
    for rel in names:
        sha = hashlib.sha256((release / rel).read_bytes()).hexdigest()
        assert stem_of(rel, sha) != rel, rel
    return names


def verify_current(out: Path) -> bool:
    """Whether ``OUT/current`` resolves to ``releases/<id>`` whose manifest hashes to its id
    and lists exactly its files, each with its sha256 and size."""
    try:
        target = os.readlink(out / "current")
    except OSError:
        return False
    release = out / target
    if Path(target).parent != Path("releases") or not release.is_dir():
        return False
    try:
        data = (release / "manifest.json").read_bytes()
        manifest = json.loads(data)
    except (OSError, ValueError):
        return False
    if hashlib.sha256(data).hexdigest()[:16] != release.name.partition(".")[0]:
        return False
    listed = manifest.get("files", {})
    on_disk = {
        p.relative_to(release).as_posix()
        for p in release.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name not in ("manifest.json", "retained.json")
    }
    retained = set(_retained(release))
    if on_disk - retained != set(listed) or not retained <= on_disk:
        return False
    for rel, meta in listed.items():
        body = (release / rel).read_bytes()
        if hashlib.sha256(body).hexdigest() != meta["sha256"] or len(body) != meta["size"]:
            return False
    return True
