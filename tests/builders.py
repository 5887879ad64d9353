"""Helpers for the tests: hand-built model objects (an inventory with only a site), a tree's
files, a child process killed at a marker."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mipc.artifacts import Artifact, stem_of
from mipc.model import Inventory, Server, Site

LAB_SITE = Site(
    domain="lab.voip",
    provisioning_url="http://provision.lab.voip:8088/",
    servers=(Server("vm40ic1", "10.250.1.151"), Server("vm40ic2", "10.250.1.152")),
    provisioning_address="provision.lab.voip",
    tftp_server="10.250.1.151",
    voicemail_number="*86",
)


def lab_site(**changes: Any) -> Site:
    """The lab's site, with the fields a test needs changed."""
    return replace(LAB_SITE, **changes)


def bare_inventory(root: Path, site: Site = LAB_SITE, store: str | None = None) -> Inventory:
    """An inventory of one site and nothing else (renderers get their phones directly)."""
    empty: Any = MappingProxyType({})
    return Inventory(
        root=str(root),
        site=site,
        lines=empty,
        managed_proxies=empty,
        registration_groups=empty,
        locations=empty,
        templates=empty,
        defaults=empty,
        phones=(),
        firmware_store=store,
        firmware_pins=empty,
        digest="0" * 64,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (relative POSIX path: bytes), in sorted order."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def served_tree(release: Path) -> dict[str, bytes]:
    """:func:`tree` of a release without what it keeps of the release before it (its
    ``retained.json`` and the files that lists): what a phone booting from it gets."""
    found = tree(release)
    listed = set(json.loads(found.pop("retained.json", b"[]")))
    return {path: data for path, data in found.items() if path not in listed}


def settle(root: Path) -> None:
    """Every file and folder below ``root`` last modified an hour ago: a build records its
    inputs only if none changed while it ran."""
    past = time.time() - 3600
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past), follow_symlinks=False)


def example_copy(name: str, into: Path) -> Path:
    """A copy of ``examples/<name>`` in folder ``into``, settled (see :func:`settle`)."""
    target = into / name
    shutil.copytree(Path(__file__).parent.parent / "examples" / name, target)
    settle(target)
    return target


def edit(path: Path, *pairs: str) -> None:
    """Replace the first ``old`` by ``new`` for each (old, new) pair."""
    text = path.read_text(encoding="utf-8")
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert old in text, f"{old!r} not in {path}"
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def kill_at_marker(
    args: list[str], marker: Path, cwd: Path, before_kill: Callable[[], None] = lambda: None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -c`` ``args`` until it writes ``marker``, call ``before_kill``, then SIGKILL
    it (a real kill, as a crash or an operator would); its end is returned."""
    child = subprocess.Popen(
        [sys.executable, "-c", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never reached the marker"
            time.sleep(0.05)
        before_kill()
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        stdout, stderr = child.communicate()
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def by_stem(files: Mapping[str, bytes] | Mapping[str, Artifact]) -> dict[str, Any]:
    """``files`` (path → bytes or artifact) under their stems: the names without the content
    address a file a Polycom master names is served under (``phone/<guid>.1a2b3c4d.cfg`` →
    ``phone/<guid>.cfg``)."""
    return {
        _stem(path, value.data if isinstance(value, Artifact) else value): value
        for path, value in files.items()
    }


def served_path(www: Path, stem: str) -> Path:
    """The file of ``www`` served for ``stem`` (``server/xic.cfg`` →
    ``www/server/xic.25521c91.cfg``): the one whose name without its content address is
    ``stem``."""
    folder = (www / stem).parent
    found = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file() and _stem(p.relative_to(www).as_posix(), p.read_bytes()) == stem
    ]
    if len(found) != 1:
        raise FileNotFoundError(f"{stem}: {len(found)} files in {folder} have that stem")
    return found[0]


def _stem(path: str, data: bytes) -> str:
    return stem_of(path, hashlib.sha256(data).hexdigest())
