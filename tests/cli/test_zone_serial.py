"""The zones' SOA serial across builds into one OUT: 1 for the first release, unchanged (and
the zone's bytes with it) while the records are, one more than the highest serial OUT keeps
when they change; a full build over the same previous release gives the same bytes as the
build that made it, and ``mipc diff`` shows the serial the next build would write."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.builders import edit, settle
from tests.cli.test_incremental import SHORTCUT, campus, run, tree_bytes

__all__ = ["campus"]  # the fixture: a copy of examples/campus

ZONE = "network/campus.voip.zone"


def serial(out: Path, zone: str = ZONE) -> int:
    found = re.search(r" SOA \S+ \S+ \( (\d+) ", (out / "current" / zone).read_text())
    assert found
    return int(found.group(1))


def change_zone(campus: Path, port: str) -> None:
    """Move the TLS line to ``port``: its _sips._tcp records change."""
    text = (campus / "site.yaml").read_text()
    current = re.search(r"Stations-TLS: \{transport: tls, port: (\d+)\}", text)
    assert current
    edit(campus / "site.yaml", f"port: {current.group(1)}}}", f"port: {port}}}")
    settle(campus)


def test_serial_increases_with_each_release_that_changes_the_zone(
    campus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    assert serial(out) == 1
    first_zone = (out / "current" / ZONE).read_bytes()
    # A phone's change (the incremental path) leaves the zone as it was.
    edit(campus / "phones.yaml", '"8005"', '"8095"')
    settle(campus)
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT in stdout
    assert (out / "current" / ZONE).read_bytes() == first_zone
    # A changed zone: serial 2, as a full build over the same previous release gives it.
    before = tmp_path / "before"
    shutil.copytree(out, before, symlinks=True)
    change_zone(campus, "5061")
    code, diff_out, _ = run("diff", str(campus), "--against", str(out), "--files")
    assert code == 1
    assert "-@ IN SOA cic-a.campus.voip. hostmaster.campus.voip. ( 1 " in diff_out
    assert "+@ IN SOA cic-a.campus.voip. hostmaster.campus.voip. ( 2 " in diff_out
    assert run("build", str(campus), "-o", str(out))[0] == 0
    assert serial(out) == 2
    assert run("build", str(campus), "-o", str(before), "--force")[0] == 0
    assert tree_bytes((out / "current").resolve()) == tree_bytes((before / "current").resolve())
    # The reverse zone's records did not change: nor did its serial.
    assert serial(out, "network/0.20.10.in-addr.arpa.zone") == 1
    # A fresh OUT starts again at 1: only the SOA line differs.
    fresh = tmp_path / "fresh"
    assert run("build", str(campus), "-o", str(fresh))[0] == 0
    new, old = ((o / "current" / ZONE).read_text().splitlines() for o in (out, fresh))
    assert [(a, b) for a, b in zip(new, old, strict=True) if a != b] == [
        (
            "@ IN SOA cic-a.campus.voip. hostmaster.campus.voip. ( 2 3600 900 1209600 300 )",
            "@ IN SOA cic-a.campus.voip. hostmaster.campus.voip. ( 1 3600 900 1209600 300 )",
        )
    ]


def test_after_a_rollback_a_change_still_increases(campus: Path, tmp_path: Path) -> None:
    """Secondary servers saw release 2's serial: the next change gets 3, not 2 again."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    change_zone(campus, "5061")
    assert run("build", str(campus), "-o", str(out))[0] == 0 and serial(out) == 2
    assert run("rollback", str(out))[0] == 0 and serial(out) == 1
    change_zone(campus, "5062")
    assert run("build", str(campus), "-o", str(out))[0] == 0 and serial(out) == 3
    # A forced rebuild of the same inventory: the current release's serial, not a new one.
    assert run("build", str(campus), "-o", str(out), "--force")[0] == 0 and serial(out) == 3


def test_zone_serial_overrides(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    edit(
        campus / "site.yaml",
        "  voicemail_number:",
        "  zone_serial: 2026120101\n  voicemail_number:",
    )
    settle(campus)
    assert run("build", str(campus), "-o", str(out))[0] == 0
    assert serial(out) == 2026120101
    assert serial(out, "network/0.20.10.in-addr.arpa.zone") == 2026120101
    # The records change but the serial the inventory gives does not: said, in one line.
    change_zone(campus, "5061")
    code, _, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and serial(out) == 2026120101
    said = [line for line in stderr.splitlines() if line.startswith("warning: campus.voip")]
    assert said == [
        "warning: campus.voip.zone: its records changed, but its serial 2026120101"
        " (site.zone_serial) is not above 2026120101, the highest of OUT's releases: secondary"
        " DNS servers will not transfer it; raise site.zone_serial above 2026120101, or remove"
        " it (the default serial increases by itself)"
    ]
    # Raised with the next change: nothing to say.
    edit(campus / "site.yaml", "zone_serial: 2026120101", "zone_serial: 2026120102")
    change_zone(campus, "5062")
    code, _, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and serial(out) == 2026120102 and "(site.zone_serial)" not in stderr
