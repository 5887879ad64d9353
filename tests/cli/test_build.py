"""``mipc build`` and ``mipc rollback`` through the command line, and a real SIGKILL mid-build."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipc.cli import main
from mipc.release.lock import Holder
from tests.builders import kill_at_marker, tree
from tests.faults import DRIVER

REPO = Path(__file__).parent.parent.parent


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    target = tmp_path / "lab"
    shutil.copytree(REPO / "examples" / "lab", target)
    return target


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def current(out: Path) -> str:
    return os.readlink(out / "current")


def test_two_builds_give_identical_trees(lab: Path, tmp_path: Path) -> None:
    code, stdout, _ = run("build", str(lab), "-o", str(tmp_path / "a"))
    assert code == 0, stdout
    assert "release " in stdout and "6 phones" in stdout and "written" in stdout
    # a second copy of the inventory elsewhere, built into another folder
    other = tmp_path / "elsewhere" / "lab"
    shutil.copytree(lab, other)
    assert run("build", str(other), "-o", str(tmp_path / "b"))[0] == 0
    assert current(tmp_path / "a") == current(tmp_path / "b")
    a, b = tree(tmp_path / "a" / "current"), tree(tmp_path / "b" / "current")
    assert a == b and "manifest.json" in a
    assert all(b"\r\n" not in data for path, data in a.items() if path != "manifest.json")


def test_no_op_force_and_rollback(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    first = current(out)
    code, stdout, _ = run("build", str(lab), "-o", str(out))
    assert code == 0 and "no changes" in stdout
    assert len(list((out / "releases").iterdir())) == 1
    code, stdout, _ = run("build", str(lab), "-o", str(out), "--force")
    assert code == 0 and current(out) != first
    assert len(list((out / "releases").iterdir())) == 2
    code, stdout, _ = run("rollback", str(out))
    assert code == 0 and current(out) == first
    code, _, stderr = run("rollback", str(out))
    assert code == 2 and "nothing to roll back" in stderr
    assert current(out) == first


def test_changed_inventory_then_rollback_then_rebuild(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    first = current(out)
    yaml = lab / "mipc.yaml"
    yaml.write_text(yaml.read_text().replace('extension: "7006"', 'extension: "7016"'))
    code, stdout, _ = run("build", str(lab), "-o", str(out))
    assert code == 0 and "unchanged" in stdout
    second = current(out)
    assert second != first
    assert run("rollback", str(out))[0] == 0 and current(out) == first
    # building the newer inventory again switches back to the identical release
    code, stdout, _ = run("build", str(lab), "-o", str(out))
    assert code == 0 and current(out) == second


def test_invalid_inventory_leaves_current(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    first = current(out)
    yaml = lab / "mipc.yaml"
    yaml.write_text(yaml.read_text().replace("address: 00908F001006", "address: 0004F2001001"))
    code, _, stderr = run("build", str(lab), "-o", str(out))
    assert code == 1 and "untouched" in stderr
    assert current(out) == first
    assert not list(out.glob(".staging-*"))


def test_strict_fails_on_render_warnings(tmp_path: Path) -> None:
    # an inventory whose rules raise nothing (the lab's ISS phones keep their admin logins)
    clean = REPO / "tests" / "cases" / "valid" / "minimal"
    out = tmp_path / "out"
    code, _, stderr = run("build", str(clean), "-o", str(out), "--strict")
    assert code == 1 and "warning[render]" in stderr and "warning[factory" not in stderr
    assert not (out / "current").exists()


def test_concurrent_build_is_refused(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    first = current(out)
    fd = os.open(out / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        code, _, stderr = run("build", str(lab), "-o", str(out), "--force")
        assert code == 2 and f"{out} is locked by a process that did not record" in stderr
        os.write(fd, Holder.me("build").to_bytes())  # as a running build says who it is
        code, _, stderr = run("build", str(lab), "-o", str(out), "--force")
        holder = f"build pid {os.getpid()} on host {socket.gethostname()} since 20"
        assert code == 2 and f"{out} is locked by {holder}" in stderr
        assert f"--wait SECONDS), or, if it is gone, mipc unlock {out}" in stderr
        assert len(stderr.splitlines()) == 1
    finally:
        os.close(fd)
    assert current(out) == first


def test_uploads_survive_ten_builds(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    uploads = {
        out / "uploads" / "logs" / "0004f2001001-app.log": b"log\n",
        out / "uploads" / "overrides" / "0004f2001001-phone.cfg": b"<o/>\n",
        out / "uploads" / "contacts" / "0004f2001001-directory.xml": b"<d/>\n",
    }
    for path, data in uploads.items():
        path.write_bytes(data)
    stats = {path: path.stat() for path in uploads}
    for _ in range(10):
        assert run("build", str(lab), "-o", str(out), "--force", "--keep", "2")[0] == 0
    for path, data in uploads.items():
        assert path.read_bytes() == data
        assert path.stat().st_ino == stats[path].st_ino
        assert path.stat().st_mtime_ns == stats[path].st_mtime_ns
    assert len(list((out / "releases").iterdir())) == 2


def test_sigkill_mid_build_leaves_the_old_release_serving(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    first = current(out)
    before = tree(out / "current")
    marker = tmp_path / "marker"

    def staged_and_writing() -> None:
        staged = list(out.glob(".staging-*"))
        assert staged and any(p.is_file() for p in staged[0].rglob("*"))

    # a build whose Polycom renderer signals, then sleeps: by then every phone's files are
    # in the staging folder
    slow = [DRIVER, "0", str(marker), "build", str(lab), "-o", str(out), "--force"]
    child = kill_at_marker(slow, marker, REPO, staged_and_writing)
    assert child.returncode == -signal.SIGKILL
    assert current(out) == first
    assert tree(out / "current") == before
    assert json.loads((out / "releases.json").read_text())["current"] == Path(first).name
    # the next build cleans the dead build's staging folder and proceeds
    code, stdout, _ = run("build", str(lab), "-o", str(out))
    assert code == 0 and "no changes" in stdout
    assert not list(out.glob(".staging-*"))


def test_network_file_refusal_leaves_current(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert run("build", str(lab), "-o", str(out))[0] == 0
    first = current(out)

    def refuse(*_args: object) -> dict[str, bytes]:
        raise ValueError("domain 'lab\"voip': only letters, digits, '-' and '.' are allowed")

    monkeypatch.setattr("mipc.pipeline.site.SiteInputs.files", refuse)
    (lab / "mipc.yaml").write_text(
        (lab / "mipc.yaml").read_text(encoding="utf-8").replace('"7001"', '"7091"', 1),
        encoding="utf-8",
    )
    code, _, stderr = run("build", str(lab), "-o", str(out))
    assert code == 1
    assert "cannot write the network files: domain" in stderr and "untouched" in stderr
    assert current(out) == first and not list(out.glob(".staging-*"))


def test_an_incremental_build_repeats_the_warnings_of_phones_it_reuses(
    lab: Path, tmp_path: Path
) -> None:
    text = (lab / "mipc.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "      one_touch_voicemail: true\n",
        "      one_touch_voicemail: true\n      syslog: {server: 10.0.0.9, port: 600}\n",
        1,
    )
    (lab / "mipc.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, _, first = run("build", str(lab), "-o", str(out))
    assert code == 0 and "port 600 is not written" in first
    # change a phone of another family: the Polycom phones are reused, not rendered
    (lab / "mipc.yaml").write_text(text.replace('"7005"', '"7095"', 1), encoding="utf-8")
    code, stdout, again = run("build", str(lab), "-o", str(out))
    assert code == 0 and "0 written" not in stdout
    assert sorted(again.splitlines()) == sorted(first.splitlines())


def test_render_warnings_annotate_the_phones_entry(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from the inventory's folder, as CI runs from the checkout: paths as the PR has them."""
    monkeypatch.chdir(lab)
    text = (lab / "mipc.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "      one_touch_voicemail: true\n",
        "      one_touch_voicemail: true\n      syslog: {server: 10.0.0.9, port: 600}\n",
        1,
    )
    (lab / "mipc.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("  - name: PolycomAgent") + 1
    out = tmp_path / "out"
    code, _, stderr = run("build", ".", "-o", str(out), "--format", "github")
    assert code == 0
    assert (
        f"::warning file=mipc.yaml,line={line},col=5,title=render::PolycomAgent: Polycom phones"
        " send syslog to port 514; port 600 is not written"
    ) in stderr.splitlines()
    # the same annotation when nothing changed (the record keeps where it was)
    assert run("build", ".", "-o", str(out), "--format", "github")[2] == stderr


def test_an_incremental_build_repeats_warnings_about_a_reused_phones_own_files(
    lab: Path, tmp_path: Path
) -> None:
    text = (lab / "mipc.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    model: 420HD\n", '    model: 420HD\n    config_files: ["[MACADDRESS]-local.cfg"]\n', 1
    )
    text += (
        "  - name: Agent420HD-Two\n    template: My Agent 420HD Template\n"
        '    address: 00908F001007\n    appearances:\n      - {extension: "7007"}\n'
    )
    (lab / "mipc.yaml").write_text(text, encoding="utf-8")
    custom = lab / "custom_files" / "AudioCodes"
    custom.mkdir(parents=True)
    (custom / "00908f001006-local.cfg").write_text(
        "voip/codec/codec_info/0/ptime=20\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    code, _, first = run("build", str(lab), "-o", str(out))
    assert code == 0 and "phone Agent420HD-Two: custom file 00908f001007-local.cfg" in first
    # a Polycom phone changes (its file, so its master's CONFIG_FILES names the new one);
    # both AudioCodes phones are reused
    (lab / "mipc.yaml").write_text(text.replace("label: Lobby,", "label: Front,", 1))
    code, stdout, again = run("build", str(lab), "-o", str(out))
    assert code == 0 and "2 written" in stdout
    assert sorted(again.splitlines()) == sorted(first.splitlines())


def test_quiet_build_prints_diagnostics_but_no_summary(lab: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run("build", str(lab), "-o", str(out), "-q")
    assert code == 0 and (out / "current").is_symlink()
    assert stdout == ""
    assert "warning[render]" in stderr  # the lab has no firmware store: still said
    code, stdout, _ = run("build", str(lab), "-o", str(out), "--quiet")
    assert code == 0 and stdout == ""


def test_the_summary_counts_every_warning_it_printed(lab: Path, tmp_path: Path) -> None:
    """The lab warns at validation (its ISS templates keep their factory login) and at render
    (no firmware store): the summary's count is the lines printed, on a new release and on a
    build that finds its inputs unchanged."""
    out = tmp_path / "out"
    for expect in ("release ", "its inputs are unchanged"):
        code, stdout, stderr = run("build", str(lab), "-o", str(out))
        assert code == 0 and expect in stdout
        printed = [line for line in stderr.splitlines() if "warning[" in line]
        kinds = {line.split("warning[", 1)[1].split("]", 1)[0] for line in printed}
        assert {"render", "factory-admin-password"} <= kinds
        assert stdout.rstrip().endswith(f", {len(printed)} warnings"), stdout
