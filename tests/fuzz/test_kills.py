"""SIGKILL at random points of cold, full and incremental builds of ``examples/campus``.

Each round starts a build (every other one rendering in worker processes, forced even for the
campus's 24 phones), kills it after a random delay (fixed seed), then checks: ``current`` is a
whole release (or, after a killed cold build, absent), no process of the killed build's
process group runs 5 s later, and the next build is not refused and leaves a whole release.
``MIPC_FUZZ_KILLS`` rounds (default 4, for ``make test``; ``make fuzz`` runs 200); the counts
are printed (``-s``) as ``kills=… broken=… refused=… orphans=…``.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.faults import REPO, child_build, emptied, end_group, verify_current

KILLS = int(os.environ.get("MIPC_FUZZ_KILLS", "4"))
SEED = 20261201
KINDS = ("cold", "full", "incremental")


def _build(inventory: Path, out: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "mipc", "build", str(inventory), "-o", str(out), "-q"]
    return subprocess.run([*command, *args], cwd=REPO, capture_output=True, timeout=120)


def _prepare(kind: str, inventory: Path, out: Path, turn: int) -> list[str]:
    """Set OUT up for a ``kind`` build; the arguments of the build to kill."""
    if kind == "cold":
        shutil.rmtree(out, ignore_errors=True)
        return []
    if not verify_current(out):
        assert _build(inventory, out).returncode == 0
    if kind == "full":
        return ["--force"]
    phones = inventory / "phones.yaml"
    text = re.sub(r"label: (Lobby|Hall\d+)\}", f"label: Hall{turn}}}", phones.read_text())
    phones.write_text(text, encoding="utf-8")
    return []


def test_random_kills(tmp_path: Path) -> None:
    inventory = tmp_path / "campus"
    shutil.copytree(REPO / "examples" / "campus", inventory)
    out = tmp_path / "out"
    rng = random.Random(SEED)
    counts = dict.fromkeys(("kills", "finished first", "broken", "refused", "orphans"), 0)
    for turn in range(KILLS):
        kind = KINDS[turn % len(KINDS)]
        args = _prepare(kind, inventory, out, turn)
        child = child_build(inventory, out, *args, workers=turn % 2 == 1)
        try:
            time.sleep(rng.uniform(0.05, 0.9))  # a build of the campus takes some 0.6 s
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
            counts["kills" if child.returncode == -signal.SIGKILL else "finished first"] += 1
            counts["orphans"] += bool(emptied(child.pid))
        finally:
            end_group(child)
        exists = os.path.lexists(out / "current")
        counts["broken"] += exists and not verify_current(out)
        after = _build(inventory, out)
        counts["refused"] += after.returncode != 0
        counts["broken"] += not verify_current(out)
    print("\n" + " ".join(f"{k.replace(' ', '_')}={v}" for k, v in counts.items()), f"seed={SEED}")
    assert counts["kills"] + counts["finished first"] == KILLS
    assert (counts["broken"], counts["refused"], counts["orphans"]) == (0, 0, 0), counts
