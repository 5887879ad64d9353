"""A release switch under load: a real nginx serves OUT through the generated site while a
phone boots again and again (its master, then every file the master lists, in order) and
``mipc build`` makes new releases of a changing inventory.

What is guaranteed, and checked here: every file a phone gets is whole and from one release
(``current`` is renamed over atomically and nginx resolves it at each request), and every
boot gets one release, even one that straddles a switch: the files a master names carry
their content in their names, and the release switched to keeps those of the release before
it (``mipc.release.retain``), so a phone that read the old master gets the old files. What is
*not*: a boot that spans two switches (the files of two releases back are gone); the last
test shows that limit.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from tests.builders import settle
from tests.e2e.conftest import NginxLauncher
from tests.simulate_helpers import copy_example

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
MAC = "0004f2001002"  # the lab's PolycomAgent
STOCK = {"phone1.cfg", "sip.cfg"}  # Polycom's stock files: not served without a firmware store
GROUPS = ("Branch Survivable", "<Default Registration Group>")


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, b""


def boot(base: str) -> list[tuple[str, int, bytes]]:
    """The requests of one Polycom boot: ``(path, status, body)`` of the master, then of each
    file its CONFIG_FILES lists, in order (stock files it may lack are skipped)."""
    status, body = get(f"{base}/{MAC}.cfg")
    fetched = [(f"{MAC}.cfg", status, body)]
    if status != 200:
        return fetched
    listed = ET.fromstring(body).attrib["CONFIG_FILES"]
    for name in (f.strip() for f in listed.split(",") if f.strip()):
        if name not in STOCK:
            fetched.append((name, *get(f"{base}/{name}")))
    return fetched


def lab_version(inventory: Path, version: int) -> None:
    """Version ``version`` of the lab: PolycomAgent's label says it, and its group alternates
    (so its master's CONFIG_FILES, its own file and a group file change with each release)."""
    path = inventory / "mipc.yaml"
    text = path.read_text()
    text = re.sub(
        r'\{extension: "7002", label: [^}]*\}', f'{{extension: "7002", label: V{version}}}', text
    )
    text = re.sub(
        r"(    location: Branch\n    registration_group: )[^\n]+",
        lambda m: m.group(1) + GROUPS[version % 2],
        text,
    )
    path.write_text(text)
    settle(inventory)


def build(inventory: Path, out: Path) -> str:
    """Build into ``out`` (served from where it is); the release made current."""
    result = CliRunner().invoke(
        main,
        ["build", str(inventory), "-o", str(out), "--server-root", str(out), "--keep", "20"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return (out / "current").resolve().name


def release_files(out: Path, release: str) -> dict[str, str]:
    """``www/`` path (without the prefix) → sha256 of release ``release``'s files."""
    manifest = json.loads((out / "releases" / release / "manifest.json").read_bytes())
    return {p.removeprefix("www/"): e["sha256"] for p, e in manifest["files"].items()}


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    inventory = tmp_path / "lab"
    copy_example("lab", inventory)  # an open site: served to 127.0.0.1
    lab_version(inventory, 0)
    return inventory


@dataclass
class Phone:
    """A phone booting in a loop in a thread: each boot with its start and end."""

    base: str
    boots: list[tuple[float, float, list[tuple[str, int, bytes]]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            start = time.monotonic()
            fetched = boot(self.base)
            self.boots.append((start, time.monotonic(), fetched))


def owners(fetched: list[tuple[str, int, bytes]], releases: dict[str, dict[str, str]]) -> set[str]:
    """The releases every file of a boot belongs to (by content; none if one was missing)."""
    found = set(releases)
    for path, status, body in fetched:
        if status != 200:
            return set()
        sha = hashlib.sha256(body).hexdigest()
        found &= {r for r, files in releases.items() if files.get(path) == sha}
    return found


def test_each_file_is_whole_and_a_boot_between_switches_is_one_release(
    lab: Path, tmp_path: Path, nginx_server: NginxLauncher
) -> None:
    out = tmp_path / "out"
    first = build(lab, out)
    phone = Phone(nginx_server.serve_release(out))
    client = threading.Thread(target=phone.run, daemon=True)
    # Each build: (started, ended, the release it made current); quiet windows in between.
    builds: list[tuple[float, float, str]] = [(0.0, time.monotonic(), first)]
    client.start()
    try:
        for version in range(1, 5):
            time.sleep(0.4)  # a quiet window: boots that start and end within it
            lab_version(lab, version)
            started = time.monotonic()
            release = build(lab, out)
            builds.append((started, time.monotonic(), release))
        time.sleep(0.4)
    finally:
        phone.stop.set()
        client.join(timeout=30)
    releases = {r: release_files(out, r) for _s, _e, r in builds}
    assert len(releases) == 5  # every version a release of its own
    windows = [
        (end, nxt[0] if nxt else float("inf"), release)
        for (_s, end, release), nxt in zip(builds, [*builds[1:], None], strict=True)
    ]
    clean_per_window = dict.fromkeys(range(len(windows)), 0)
    straddling = 0
    for start, end, fetched in phone.boots:
        # Whatever the timing: every file there, whole, and all of one release.
        assert all(status == 200 for _p, status, _b in fetched), fetched
        assert owners(fetched, releases), [p for p, _s, _b in fetched]
        quiet = [
            i for i, (w_start, w_end, _r) in enumerate(windows) if w_start < start and end < w_end
        ]
        if not quiet:
            straddling += 1
            continue
        # Between two switches: exactly the release current then.
        (i,) = quiet
        assert owners(fetched, releases) >= {windows[i][2]}, (i, [p for p, _s, _b in fetched])
        assert {p for p, _s, _b in fetched} <= set(releases[windows[i][2]])
        clean_per_window[i] += 1
    assert all(count > 0 for count in clean_per_window.values()), clean_per_window
    assert len(phone.boots) > straddling
    print(f"{len(phone.boots)} boots, {straddling} during a build, none mixed")  # for -s


def test_a_boot_that_straddles_a_switch_gets_the_release_its_master_came_from(
    lab: Path, tmp_path: Path, nginx_server: NginxLauncher
) -> None:
    """The master of release 0, then the files it lists after release 1 is current: each is
    release 0's (its own file and its old group file, which release 1 keeps but does not
    list); after one more switch, release 0's files are gone."""
    out = tmp_path / "out"
    before = build(lab, out)
    base = nginx_server.serve_release(out)
    status, master = get(f"{base}/{MAC}.cfg")
    assert status == 200
    listed = [f.strip() for f in ET.fromstring(master).attrib["CONFIG_FILES"].split(",")]
    own, group = listed[0], listed[1]
    assert group.startswith("proxy/Branch-Survivable.") and group.endswith(".cfg")
    lab_version(lab, 1)  # the phone moves to <Default Registration Group>
    after = build(lab, out)
    old, new = release_files(out, before), release_files(out, after)
    assert own not in new and group not in new  # release 1 names other files
    for name in listed:
        if name not in STOCK:
            status, body = get(f"{base}/{name}")
            assert status == 200, name
            assert hashlib.sha256(body).hexdigest() == old[name], name
    _status, body = get(f"{base}/{own}")
    assert b"V0" in body and b"V1" not in body
    status, fresh = get(f"{base}/{MAC}.cfg")
    assert status == 200 and fresh != master
    lab_version(lab, 2)
    build(lab, out)
    assert get(f"{base}/{own}")[0] == 404  # two switches back: gone
