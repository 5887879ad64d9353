"""The incremental compile (``mipc.incremental.delta``): a build that compiles only the changed
phones makes the very release a full build makes, and it is used only when it can.

Each case edits the campus example after a first build, builds again into the same OUT, and
compares the release, byte for byte, and what was reported, with a full build of the edited
inventory into a fresh OUT. ``incremental`` says whether the shortcut must have been taken.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.incremental.state import State, file_identity
from mipc.network import dhcp
from mipc.network import plan as network_plan
from mipc.network.checks import Checked
from tests.builders import edit, example_copy, kill_at_marker, settle

REPO = Path(__file__).parent.parent.parent
SHORTCUT = "(changed phones only)"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def tree_bytes(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = oct(path.stat().st_mode).encode() + b" " + path.read_bytes()
    return out


def served(release: Path) -> dict[str, bytes | str]:
    """A release's files but those it keeps of the release before it (its retained.json
    lists them: the content-addressed files a phone that read the old masters may ask for)."""
    kept = release / "retained.json"
    listed = set(json.loads(kept.read_bytes())) if kept.exists() else set()
    assert all((release / p).is_file() for p in listed), listed
    return {
        k: v for k, v in tree_bytes(release).items() if k != "retained.json" and k not in listed
    }


def figures(summary: str) -> tuple[str, ...]:
    """Phones, files and warnings of a build's summary line."""
    found = re.search(r"(\d+) phones(?: \([^)]*\))?, (\d+) files: .* (\d+) warnings", summary)
    assert found, summary
    return found.groups()


def rebuilt_as_full(campus: Path, out: Path, full: Path, *, shortcut: bool = True) -> None:
    """Build ``campus`` into ``out`` through the shortcut (or, ``shortcut`` False, not); its
    release is a full build's (into ``full``)."""
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and (SHORTCUT in stdout) is shortcut, stdout
    assert run("build", str(campus), "-o", str(full))[0] == 0
    assert served((out / "current").resolve()) == tree_bytes((full / "current").resolve())


def built_then_edited(campus: Path, out: Path) -> tuple[str, dict[str, bytes | str]]:
    """Build ``campus`` into ``out``, then change one phone's extension (settled): the
    release that was current, and its files."""
    assert run("build", str(campus), "-o", str(out))[0] == 0
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    return os.readlink(out / "current"), tree_bytes((out / "current").resolve())


@pytest.fixture
def campus(tmp_path: Path) -> Path:
    return example_copy("campus", tmp_path)


def phones(c: Path) -> Path:
    return c / "phones.yaml"


def agents(c: Path) -> Path:
    return c / "lists" / "agents.csv"


def add_phone(c: Path, mac: str, model: str = "VVX 150", location: str = "Kolkata") -> None:
    """Add a phone at the end of the YAML phones (by default, the twin of Kolkata Desk)."""
    phones(c).write_text(
        phones(c).read_text()
        + f"  - name: Extra1\n    template: Polycom Base\n    model: {model}\n"
        + f"    location: {location}\n    address: {mac}\n"
        + '    appearances: [{extension: "8018"}]\n'
    )


def add_row(c: Path, name: str, address: str) -> None:
    """Add a Polycom Base row at the end of the agents' list."""
    agents(c).write_text(agents(c).read_text() + f"{name},Polycom Base,,9006,,,{address}\n")


def _template_and_location(c: Path) -> None:
    """A template changed, and a location's network too: the context changed otherwise."""
    edit(
        c / "templates.yaml",
        "    manufacturer: Genesys\n",
        "    manufacturer: Genesys\n    options: {vlan: {id: 300}}\n",
    )
    edit(c / "locations.yaml", "networks: [10.23.0.0/16]", "networks: [10.23.0.0/17]")


CASES: dict[str, tuple[Callable[[Path], object], bool]] = {
    "extension": (lambda c: edit(phones(c), '"8005"', '"8095"'), True),
    "label": (lambda c: edit(phones(c), "label: Lobby}", 'label: Front <Desk> & "Co"}'), True),
    "two phones": (lambda c: edit(phones(c), '"8005"', '"8095"', '"8006"', '"8096"'), True),
    "list row": (
        lambda c: edit(agents(c), "Agent 9002,Polycom Base,,9002", "Agent 9002,Polycom Base,,9092"),
        True,
    ),
    "comment only": (lambda c: edit(phones(c), "phones:\n", "# a note\nphones:\n"), False),
    "trailing comment": (
        lambda c: phones(c).write_text(phones(c).read_text() + "# end\n"),
        True,
    ),
    "mac changed": (lambda c: edit(phones(c), "0004f2-100005", "0004f2-100095"), False),
    "location changed": (
        lambda c: edit(
            phones(c),
            "    location: Chicago\n    address: 0004f2-100005",
            "    location: Sydney\n    address: 0004f2-100005",
        ),
        False,
    ),
    "phone added": (lambda c: add_phone(c, "0004f2100018"), True),
    "phone added, a model no phone has": (
        lambda c: add_phone(c, "0004f2aa0001", model="VVX 501", location="Chicago"),
        False,
    ),
    "phone added, its address taken": (lambda c: add_phone(c, "0004f2100008"), False),
    "phone removed, the last of its model": (
        lambda c: edit(
            phones(c),
            "  - name: Kolkata Desk\n    template: Polycom Base\n    model: VVX 150\n"
            "    location: Kolkata\n    address: 0004f2100008\n    appearances:\n"
            '      - {extension: "8008"}\n',
            "",
        ),
        False,
    ),
    "row removed": (
        lambda c: agents(c).write_text("\n".join(agents(c).read_text().splitlines()[:-1]) + "\n"),
        True,
    ),
    "row removed, the rows after it moved": (
        lambda c: edit(agents(c), "Agent 9001,Polycom Base,,9001,,Agent 9001,0004f2900001\n", ""),
        False,  # a warning names a row below it
    ),
    "row removed, a row after it moved": (
        lambda c: edit(
            agents(c), "Agent 9004,Genesys Agent,,9004,sip:9004@10.20.0.11:5060,,00908f900004\n", ""
        ),
        True,
    ),
    "row added": (lambda c: add_row(c, "Agent 9006", "0004f2900006"), True),
    "rows added and removed": (
        lambda c: agents(c).write_text(
            "\n".join(agents(c).read_text().splitlines()[:-1])
            + "\nAgent 9006,Polycom Base,,9006,,,0004f2900006\n"
            + "Agent 9007,Polycom Base,,9007,,,0004f2900007\n"
        ),
        True,
    ),
    "row renamed": (
        lambda c: edit(
            agents(c), "Agent 9002,Polycom Base,,9002,", "Agent 9012,Polycom Base,,9002,"
        ),
        True,
    ),
    "row added, a name the YAML has": (lambda c: add_row(c, "Kolkata Desk", "0004f2900006"), False),
    "row renamed, another row's name in capitals": (
        lambda c: edit(
            agents(c), "Agent 9002,Polycom Base,,9002,", "AGENT 9001,Polycom Base,,9002,"
        ),
        False,  # the list refuses it: read whole, the build fails as a full one does
    ),
    "row added, a MAC another row has": (lambda c: add_row(c, "Agent 9006", "0004f2900002"), False),
    "row added, an extension another row has": (
        lambda c: agents(c).write_text(
            agents(c).read_text() + "Agent 9006,Polycom Base,,9001,,,0004f2900006\n"
        ),
        False,
    ),
    "two rows changed": (
        lambda c: edit(
            agents(c),
            "Agent 9002,Polycom Base,,9002",
            "Agent 9002,Polycom Base,,9092",
            "Agent 9001,Polycom Base,,9001,,Agent 9001",
            "Agent 9001,Polycom Base,,9091,,Agent 9001",
        ),
        True,
    ),
    "row added without an address": (lambda c: add_row(c, "Agent 9006", ""), False),
    "voice VLAN": (  # most phones that read option 132 now have another VLAN: network/ changes
        lambda c: edit(
            phones(c),
            'model: "405", address: 00908f200001,',
            'model: "405", options: {vlan: {id: 300}}, address: 00908f200001,',
            "model: 405HD, address: 00908f200002,",
            "model: 405HD, options: {vlan: {id: 300}}, address: 00908f200002,",
            "model: 420HD, address: 00908f200003,",
            "model: 420HD, options: {vlan: {id: 300}}, address: 00908f200003,",
        ),
        True,
    ),
    "shared station": (lambda c: edit(phones(c), '"8002"', '"8092"'), False),
    "template": (
        lambda c: edit(
            c / "templates.yaml", "volume_persistence: true", "volume_persistence: false"
        ),
        False,
    ),
    "template of a few phones, YAML and list": (  # the VLAN of AudioCodes phones: network/
        lambda c: edit(
            c / "templates.yaml",
            "options: {vlan: {id: 200}}\n    config_files: [t",
            "options: {vlan: {id: 201}}\n    config_files: [t",
        ),
        True,
    ),
    "template line added, the templates below it moved": (
        lambda c: edit(
            c / "templates.yaml",
            "    manufacturer: Genesys\n",
            "    manufacturer: Genesys\n    language: Spanish_Spain\n",
        ),
        True,
    ),
    "template of a phone that warned": (
        lambda c: edit(c / "templates.yaml", "ring_always: true", "ring_always: false"),
        False,
    ),
    "template's manufacturer": (
        lambda c: edit(c / "templates.yaml", "manufacturer: Genesys", "manufacturer: AudioCodes"),
        False,
    ),
    "template and a location": (_template_and_location, False),
    "template's warning about the defaults answered": (  # said of locations.yaml, not here
        lambda c: edit(
            c / "templates.yaml",
            "    options: {ring_volume: 7,",
            "    admin_password_changed_by_hand: true\n    options: {ring_volume: 7,",
        ),
        False,
    ),
    "template renamed, its phones name it still": (
        lambda c: edit(c / "templates.yaml", "  Genesys Agent:", "  Genesys Agents:"),
        False,
    ),
    "password": (
        lambda c: edit(phones(c), "{file: secrets/line8104.txt}", "{file: secrets/manager.txt}"),
        True,
    ),
    "secret file": (lambda c: (c / "secrets" / "line8104.txt").write_text("new secret\n"), False),
    "new warning": (
        lambda c: edit(
            agents(c), "Agent 9003,ISS II Agent,,9003,,,", "Agent 9003,ISS II Agent,,9003,,Desk,"
        ),
        False,
    ),
    "extension taken": (lambda c: edit(phones(c), '"8005"', '"8006"'), False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_incremental_build_is_the_full_build(case: str, campus: Path, tmp_path: Path) -> None:
    change, shortcut = CASES[case]
    out = tmp_path / "out"
    code, _, _ = run("build", str(campus), "-o", str(out))
    assert code == 0
    assert State.read(out) is not None
    before = os.readlink(out / "current")
    change(campus)
    settle(campus)
    over = tmp_path / "over"  # the same OUT, for a full build over the same release
    shutil.copytree(out, over, symlinks=True)
    code, stdout, stderr = run("build", str(campus), "-o", str(out))
    full_code, full_out, full_err = run("build", str(campus), "-o", str(tmp_path / "full"))
    assert code == full_code
    assert (SHORTCUT in stdout) is shortcut, stdout + stderr
    assert stderr == full_err.replace(str(tmp_path / "full"), str(out))
    if code != 0:
        assert os.readlink(out / "current") == before
        return
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )
    # what it keeps of the release before is what a full build over that release keeps
    assert run("build", str(campus), "-o", str(over), "--force")[0] == 0
    assert tree_bytes((out / "current").resolve()) == tree_bytes((over / "current").resolve())
    # the same summary but for how the files were made
    assert figures(stdout) == figures(full_out)
    # and the next build knows nothing changed
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and "its inputs are unchanged" in stdout


def test_a_list_row_change_reads_that_row_only(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One row of a list changed: the build reads (parses and checks) that row alone, and
    makes a full build's release; its state keeps the list's rows for the next one."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    from mipc.inventory import csvlists

    read: list[int] = []
    real = csvlists._Rows.read_row

    def counting(self: csvlists._Rows, record: list[str], row: int) -> None:
        read.append(row)
        real(self, record, row)

    monkeypatch.setattr(csvlists._Rows, "read_row", counting)
    for i, (old, new) in enumerate((("9002", "9092"), ("9092", "9082"))):
        edit(agents(campus), f"Agent 9002,Polycom Base,,{old}", f"Agent 9002,Polycom Base,,{new}")
        settle(campus)
        read.clear()
        code, stdout, _ = run("build", str(campus), "-o", str(out))
        assert code == 0 and SHORTCUT in stdout, stdout
        assert read == [3], read  # the list's third record, Agent 9002's
        monkeypatch.undo()
        assert run("build", str(campus), "-o", str(tmp_path / f"full{i}"))[0] == 0
        monkeypatch.setattr(csvlists._Rows, "read_row", counting)
        assert served((out / "current").resolve()) == tree_bytes(
            (tmp_path / f"full{i}" / "current").resolve()
        )


def test_a_list_row_change_does_not_read_the_yaml_files_again(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The YAML files are those the last build read: the state's frame of them is used (see
    mipc.incremental.frame), and the release is the full build's all the same."""
    import mipc.incremental.yaml_phones

    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0

    def refuse(target: Path) -> None:
        raise AssertionError(f"{target} read again")

    monkeypatch.setattr(mipc.incremental.yaml_phones, "load_inventory", refuse)
    edit(agents(campus), "Agent 9002,Polycom Base,,9002", "Agent 9002,Polycom Base,,9092")
    settle(campus)
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT in stdout
    edit(agents(campus), "Agent 9002,Polycom Base,,9092", "Agent 9002,Polycom Base,,9093")
    settle(campus)  # the frame the shortcut kept serves the next one too
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT in stdout
    monkeypatch.undo()
    assert run("build", str(campus), "-o", str(tmp_path / "full"))[0] == 0
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )
    edit(phones(campus), '"8005"', '"8095"')  # a YAML file changed: read, and still right
    settle(campus)
    rebuilt_as_full(campus, out, tmp_path / "full2")


def test_chain_of_incremental_builds(campus: Path, tmp_path: Path) -> None:
    """Each incremental build leaves a state the next one can use; the old releases stay as
    they were (the new files replace the links, never write through them)."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    first = (out / "current").resolve()
    snapshot = tree_bytes(first)
    for i, ext in enumerate(("8095", "8096", "8097")):
        edit(phones(campus), f'"{"8005" if i == 0 else str(int(ext) - 1)}"', f'"{ext}"')
        settle(campus)
        code, stdout, _ = run("build", str(campus), "-o", str(out))
        assert code == 0 and SHORTCUT in stdout, stdout
        full = tmp_path / f"full{i}"
        assert run("build", str(campus), "-o", str(full))[0] == 0
        assert served((out / "current").resolve()) == tree_bytes((full / "current").resolve())
    assert tree_bytes(first) == snapshot


def test_the_state_knows_its_manifest_file_and_a_changed_one_is_read_again(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every state names the manifest file it indexes (full and incremental builds), so the
    next build need not hash the manifest while that file is the same; a manifest rewritten
    in place with other bytes of the same size is hashed, found different, and the build
    compiles in full, as a full build would."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    hashed: list[int] = []
    real = hashlib.sha256

    def counting(data: bytes = b"", **kwargs: object) -> object:
        hashed.append(len(data))
        return real(data, **kwargs)  # type: ignore[arg-type]

    for step in range(2):
        state = State.read(out)
        assert state is not None
        manifest = (out / "current").resolve() / "manifest.json"
        assert state.manifest and state.manifest == file_identity(manifest), step
        edit(phones(campus), f'"{8005 + step * 90}"', f'"{8095 + step}"')
        settle(campus)
        with monkeypatch.context() as patched:
            patched.setattr("mipc.incremental.delta.hashlib.sha256", counting)
            code, stdout, _ = run("build", str(campus), "-o", str(out))
        assert code == 0 and SHORTCUT in stdout, stdout
        assert manifest.stat().st_size not in hashed  # the same file: not hashed
    data = bytearray(manifest.read_bytes())
    at = data.index(b'"sha256":"') + 10
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    manifest.chmod(0o644)
    manifest.write_bytes(bytes(data))  # in place: the same inode, another time
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT not in stdout, stdout
    assert run("build", str(campus), "-o", str(tmp_path / "full"))[0] == 0
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )


def test_strict_with_warnings_builds_in_full(campus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before, _ = built_then_edited(campus, out)
    code, _, stderr = run("build", str(campus), "-o", str(out), "--strict")
    assert code == 1 and "warning" in stderr
    assert os.readlink(out / "current") == before


def test_rollback_then_change_builds_in_full(campus: Path, tmp_path: Path) -> None:
    """The state names its release: after a rollback it is not taken for the current one."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    assert SHORTCUT in run("build", str(campus), "-o", str(out))[1]
    assert run("rollback", str(out))[0] == 0
    edit(phones(campus), '"8095"', '"8096"')
    settle(campus)
    rebuilt_as_full(campus, out, tmp_path / "full", shortcut=False)


#: Cases whose phones come or go, or whose network files change: the incremental build
#: applies, the diff compares in full.
FULL_DIFF = {
    "phone added",
    "row removed",
    "row added",
    "rows added and removed",
    "row renamed",
    "row removed, a row after it moved",
    "voice VLAN",
    "template of a few phones, YAML and list",
}


@pytest.mark.parametrize(
    "case", sorted(c for c, (_, shortcut) in CASES.items() if shortcut and c not in FULL_DIFF)
)
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_incremental_diff_is_the_full_diff(
    case: str, fmt: str, campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``diff --against OUT`` through the shortcut reports what comparing with the release
    folder (which has no state: the full compare) reports."""
    import mipc.cli.commands.diff as diff_command
    import mipc.pipeline.compare

    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    CASES[case][0](campus)
    settle(campus)
    answered: list[bool] = []
    shortcut = mipc.pipeline.compare.incremental_report

    def spy(*args: object, **kwargs: object) -> object:
        report = shortcut(*args, **kwargs)  # type: ignore[arg-type]
        answered.append(report is not None)
        return report

    monkeypatch.setattr(diff_command, "incremental_report", spy)
    args = ["--format", fmt, "--files", *(["--show-secrets"] if fmt == "json" else [])]
    quick = run("diff", str(campus), "--against", str(out), *args)
    assert answered == [True]
    release = (out / "current").resolve()
    full = run("diff", str(campus), "--against", str(release), *args)
    assert answered == [True, False]  # a release folder is compared in full
    assert quick == full
    assert quick[0] == (0 if case == "trailing comment" else 1)
    assert run("diff", str(campus), "--against", str(out), "--changed-macs") == run(
        "diff", str(campus), "--against", str(release), "--changed-macs"
    )


def test_failing_incremental_build_leaves_current(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while the manifest is spliced: exit 2, the old release still current, no
    staging folder left, the old release's files untouched (they were linked, not written)."""
    import mipc.release.delta

    out = tmp_path / "out"
    before, snapshot = built_then_edited(campus, out)

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mipc.release.delta, "splice", full_disk)
    code, _, stderr = run("build", str(campus), "-o", str(out))
    assert code == 2 and "no space left" in stderr
    assert os.readlink(out / "current") == before
    assert not list(out.glob(".staging-*"))
    assert tree_bytes((out / "current").resolve()) == snapshot


def test_without_gnu_cp_the_build_is_full(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where ``cp -al`` cannot link (no GNU cp), the build falls back to the full path and
    makes the same release."""
    import subprocess

    out = tmp_path / "out"
    built_then_edited(campus, out)

    def no_cp(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        raise FileNotFoundError("cp")

    monkeypatch.setattr(subprocess, "Popen", no_cp)
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT not in stdout
    assert not list(out.glob(".staging-*"))
    monkeypatch.undo()
    assert run("build", str(campus), "-o", str(tmp_path / "full"))[0] == 0
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )


_KILLED_BUILD = """
import sys, time
from pathlib import Path
import mipc.release.delta

def stalled(*args, **kwargs):
    Path(sys.argv[3]).write_text("linked and written")
    time.sleep(60)

mipc.release.delta.splice = stalled
from mipc.cli import main
main(["build", sys.argv[1], "-o", sys.argv[2]])
"""


def test_sigkill_mid_incremental_build(campus: Path, tmp_path: Path) -> None:
    """Killed after linking the release and writing the changed files, before the manifest:
    the old release still serves, unchanged (the new files replaced links, never wrote
    through them), and the next build cleans up and makes the right release."""
    import signal

    out = tmp_path / "out"
    first, before = built_then_edited(campus, out)
    marker = tmp_path / "marker"
    killed = kill_at_marker(
        [_KILLED_BUILD, str(campus), str(out), str(marker)],
        marker,
        REPO,
        lambda: None if list(out.glob(".staging-*")) else pytest.fail("no staging folder"),
    )
    assert killed.returncode == -signal.SIGKILL
    assert os.readlink(out / "current") == first
    assert tree_bytes((out / "current").resolve()) == before
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT in stdout
    assert not list(out.glob(".staging-*"))
    assert run("build", str(campus), "-o", str(tmp_path / "full"))[0] == 0
    assert served((out / "current").resolve()) == tree_bytes(
        (tmp_path / "full" / "current").resolve()
    )


def test_diff_falls_back_when_the_shortcut_cannot_render(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renderer that refuses the changed phone: the diff compares in full, which reports it
    as it always has, instead of failing in the shortcut."""
    out = tmp_path / "out"
    built_then_edited(campus, out)
    expected = run("diff", str(campus), "--against", str(out))

    def refuse(delta: object) -> None:
        raise ValueError("a value the renderer cannot write")

    monkeypatch.setattr("mipc.pipeline.compare.render_delta", refuse)
    assert run("diff", str(campus), "--against", str(out)) == expected


def test_the_pipeline_says_which_way_a_build_went_and_prints_nothing(
    campus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mipc.pipeline.build import BuildPath, BuildSettings, build

    out = tmp_path / "out"
    settings = BuildSettings(out=out)
    full = build(campus, settings)
    assert full.path is BuildPath.FULL and full.code == 0 and full.emitted is not None
    assert full.diagnostics is not None and not full.error
    settle(campus)
    same = build(campus, settings)
    assert same.path is BuildPath.NO_OP and same.code == 0 and same.emitted is None
    assert same.record is not None and same.record.release == full.emitted.release
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    changed = build(campus, settings)
    assert changed.path is BuildPath.CHANGED and changed.emitted is not None
    assert changed.emitted.incremental and changed.code == 0
    edit(phones(campus), '"8095"', '"8095')  # unterminated: not YAML
    broken = build(campus, settings)
    assert broken.path is BuildPath.FULL and broken.code == 1 and "is invalid" in broken.error
    assert broken.emitted is None
    assert os.readlink(out / "current") == f"releases/{changed.emitted.release}"
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("access", ["phone", "basic"])
@pytest.mark.parametrize(
    ("case", "shortcut"),
    [
        ("row added", True),
        ("row renamed", True),
        # a warning counts the phones of the families whose files carry no credentials:
        ("row removed, a row after it moved", False),  # Genesys phones: the audiocodes family
        ("row removed", False),  # a soft phone
    ],
)
def test_phones_come_and_go_with_credentials(
    case: str, shortcut: bool, access: str, campus: Path, tmp_path: Path
) -> None:
    """With ``serving.access`` phone (or basic) the network files hold each phone's user
    (the htpasswd file, the nginx site's map of whose files are whose): made from the facts
    the state keeps, they are the full build's. A phone of a family that cannot carry them
    changes a warning that counts those phones: compiled in full."""
    (campus / "secrets" / "site.txt").write_text("a site secret\n")
    user = ", user: provisioner" if access == "basic" else ""
    edit(
        campus / "site.yaml",
        "serving: {access: networks}",
        f"serving: {{access: {access}, password: {{file: secrets/site.txt}}{user}}}",
    )
    settle(campus)
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    CASES[case][0](campus)
    settle(campus)
    code, stdout, stderr = run("build", str(campus), "-o", str(out))
    assert code == 0 and (SHORTCUT in stdout) is shortcut, stdout + stderr
    assert run("build", str(campus), "-o", str(tmp_path / "full"))[0] == 0
    release = served((out / "current").resolve())
    assert release == tree_bytes((tmp_path / "full" / "current").resolve())
    if access == "phone" and case == "row added":
        assert b"0004f2900006:" in release["network/htpasswd"]
        assert b"/0004f2900006.cfg" in release["network/nginx-site.conf"]
    # a second change on the state the first one left
    edit(agents(campus), "Polycom Base,,9001,", "Polycom Base,,9091,")
    settle(campus)
    rebuilt_as_full(campus, out, tmp_path / "full2")


def test_a_phone_entry_edit_reads_only_that_entry(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edits inside the YAML phone entries (one changed, one added at the end, it removed
    again) read only the entries they touch (mipc.incremental.yaml_phones): the YAML files
    are never read whole, and each release is the full build's."""
    import mipc.incremental.yaml_phones

    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    original = phones(campus).read_text()

    def refuse(target: Path) -> None:
        raise AssertionError(f"{target} read whole")

    monkeypatch.setattr(mipc.incremental.yaml_phones, "load_inventory", refuse)
    steps: list[Callable[[], object]] = [
        lambda: edit(phones(campus), '"8005"', '"8095"'),
        lambda: add_phone(campus, "0004f2100018"),
        lambda: phones(campus).write_text(original.replace('"8005"', '"8095"')),
        lambda: edit(phones(campus), "label: Lobby}", "label: Front Lobby}"),
    ]
    for i, step in enumerate(steps):
        step()
        settle(campus)
        code, stdout, stderr = run("build", str(campus), "-o", str(out))
        assert code == 0 and SHORTCUT in stdout, stdout + stderr
        # (a full build reads the files through the pipeline's load_model, not refused)
        assert run("build", str(campus), "-o", str(tmp_path / f"full{i}"))[0] == 0
        assert served((out / "current").resolve()) == tree_bytes(
            (tmp_path / f"full{i}" / "current").resolve()
        )


def test_a_change_beyond_the_phone_entries_links_nothing(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template changed (a YAML file edited beyond its phone entries): the build knows it
    from the text alone and goes the full way without starting the release's linking."""
    import mipc.pipeline.build

    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0

    def refuse(*_args: object) -> None:
        raise AssertionError("the incremental path started")

    monkeypatch.setattr(mipc.pipeline.build, "Prelink", refuse)
    edit(campus / "templates.yaml", "volume_persistence: true", "volume_persistence: false")
    settle(campus)
    rebuilt_as_full(campus, out, tmp_path / "full", shortcut=False)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``kea`` for each time the DHCP files are made (not taken from a release)."""
    calls: list[str] = []
    real = dhcp.render_kea

    def counted(checked: Checked) -> bytes:
        calls.append("kea")
        return real(checked)

    monkeypatch.setattr(network_plan, "render_kea", counted)
    return calls


def test_the_dhcp_files_are_made_again_only_when_their_plan_changes(
    campus: Path, tmp_path: Path, made: list[str]
) -> None:
    """A Polycom phone added (no recovery image, no DHCP line): the incremental build takes
    the DHCP files from the current release instead of making them; an ISS II phone added
    (its recovery image is in every DHCP file): they are made again. Each release is what a
    full build writes."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    first = State.read(out)
    assert made and first is not None and first.dhcp
    iss_row = "Agent 9099,ISS II Agent,,9099,,,0026fd900099\n"
    for n in range(2):
        if n == 0:
            add_phone(campus, "0004f2-100088")
        else:
            agents(campus).write_text(agents(campus).read_text() + iss_row)
        settle(campus)
        made.clear()
        code, stdout, _ = run("build", str(campus), "-o", str(out))
        assert code == 0 and SHORTCUT in stdout, stdout
        assert made == ([] if n == 0 else ["kea"])
        full = tmp_path / f"full{n}"
        assert run("build", str(campus), "-o", str(full))[0] == 0
        assert served((out / "current").resolve()) == tree_bytes((full / "current").resolve())
        ours, theirs = State.read(out), State.read(full)
        assert ours is not None and theirs is not None and ours.dhcp == theirs.dhcp


def test_a_state_whose_phones_are_damaged_builds_and_diffs_in_full(
    campus: Path, tmp_path: Path
) -> None:
    """The state's phones are read only when the shortcut needs them: damaged, the build and
    the diff take the full path, and say nothing of it."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    (base,) = out.glob("state-phones-*.bin")  # the phones, read when first needed
    base.write_bytes(marshal.dumps(((b"\x00 damaged",) * 256, (b"",) * 4)))
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    code, stdout, stderr = run("diff", str(campus), "--against", str(out))
    assert code == 1 and "8095" in stdout and not stderr, stdout + stderr  # 1: it differs
    rebuilt_as_full(campus, out, tmp_path / "full", shortcut=False)


def test_a_full_build_over_a_release_takes_its_dhcp_files_while_they_stay(
    campus: Path, tmp_path: Path, made: list[str]
) -> None:
    """A template change builds in full; its DHCP files are the current release's (not made
    again), and the release is what a build into a new OUT writes; with --force they are
    made again."""
    out = tmp_path / "out"
    assert run("build", str(campus), "-o", str(out))[0] == 0
    edit(
        campus / "templates.yaml",
        "one_touch_voicemail: true, vlan",
        "one_touch_voicemail: false, vlan",
    )
    settle(campus)
    made.clear()
    code, stdout, _ = run("build", str(campus), "-o", str(out))
    assert code == 0 and SHORTCUT not in stdout and made == [], stdout
    fresh = tmp_path / "fresh"
    assert run("build", str(campus), "-o", str(fresh))[0] == 0 and made == ["kea"]
    assert served((out / "current").resolve()) == tree_bytes((fresh / "current").resolve())
    made.clear()
    assert run("build", str(campus), "-o", str(out), "--force")[0] == 0 and made == ["kea"]
