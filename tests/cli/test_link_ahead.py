"""Linking ahead (``mipc.release.ahead``): after a build, the release is hard-linked into a
spare folder of OUT in the background; the next incremental build starts from it instead of
linking, and makes the very release a full build makes. A spare that is stale, half made or
another release's is never taken, and is removed in the background.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import time
import typing
from pathlib import Path
from typing import Any

import pytest

from mipc.cli.options import LINK_AHEAD
from mipc.release import ahead
from mipc.release.ahead import LOCK, LinkAhead, take
from mipc.release.delta import Prelink
from mipc.release.linker import TRASH
from mipc.release.store import Out
from tests.builders import edit, example_copy, settle
from tests.cli.test_incremental import SHORTCUT, agents, phones, run, served, tree_bytes


@pytest.fixture
def campus(tmp_path: Path) -> Path:
    return example_copy("campus", tmp_path)


def settled(out: Path, timeout: float = 30) -> list[str]:
    """Wait for the link-ahead a build left running to end; OUT's spares and trash then."""
    assert ahead.settled(out, timeout), os.listdir(out)
    return sorted(n for n in os.listdir(out) if n.startswith((".next-", TRASH)))


def build(campus: Path, out: Path, *more: str) -> str:
    code, stdout, stderr = run("build", str(campus), "-o", str(out), *more)
    assert code == 0, stdout + stderr
    return stdout


def files_of(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``root``: its inode and mode; every folder: its mode."""
    return {
        p.relative_to(root).as_posix(): (0 if p.is_dir() else p.stat().st_ino, p.stat().st_mode)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def linking(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The releases an incremental build linked for itself (not from a spare)."""
    linked: list[str] = []
    start_copies = Prelink._start_copies

    def spy(self: Prelink, old: Path) -> None:
        linked.append(old.name)
        start_copies(self, old)

    monkeypatch.setattr(Prelink, "_start_copies", spy)
    return linked


def test_a_build_links_its_release_ahead(campus: Path, tmp_path: Path) -> None:
    """The spare holds every file of the release's www/ and network/ as a hard link of it,
    and their folders with the same modes; nothing else."""
    out = tmp_path / "out"
    build(campus, out, "--link-ahead", "always")
    release = os.readlink(out / "current").rpartition("/")[2]
    assert settled(out) == [f".next-{release}", f".next-{release}.stamps"]
    spare, current = out / f".next-{release}", (out / "current").resolve()
    assert sorted(os.listdir(spare)) == ["network", "www"]
    for part in ("www", "network"):
        assert files_of(spare / part) == files_of(current / part)
        assert files_of(spare / part)  # not two empty folders


def test_the_next_build_starts_from_the_spare(
    campus: Path, tmp_path: Path, linking: list[str]
) -> None:
    """An incremental build takes the spare (it links nothing), makes the full build's
    release, leaves the release before it as it was, and links its own release ahead."""
    out, full = tmp_path / "out", tmp_path / "full"
    build(campus, out, "--link-ahead", "always")
    settled(out)
    first = (out / "current").resolve()
    before = tree_bytes(first)
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    assert SHORTCUT in build(campus, out, "--link-ahead", "always")
    assert linking == []
    build(campus, full)
    assert served((out / "current").resolve()) == tree_bytes((full / "current").resolve())
    assert tree_bytes(first) == before
    release = os.readlink(out / "current").rpartition("/")[2]
    assert settled(out) == [f".next-{release}", f".next-{release}.stamps"]
    assert not list(out.glob(".staging-*"))


def test_a_spare_taken_by_a_build_that_goes_on_in_full_is_trashed_not_removed(
    campus: Path, tmp_path: Path, linking: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change the incremental compile refuses once it has taken the spare (a new warning):
    the build goes on in full, and leaves the spare's links to the trash, which the linker
    it ends with empties, rather than removing them in its own time."""
    out, full = tmp_path / "out", tmp_path / "full"
    build(campus, out, "--link-ahead", "always")
    settled(out)
    removed: list[str] = []
    rmtree = shutil.rmtree

    def spy(path: str | Path, *args: Any, **kwargs: Any) -> None:
        if Path(path).name.startswith(".staging-") and Path(path).exists():
            removed.append(str(path))
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", spy)
    row = "Agent 9003,ISS II Agent,,9003,,"
    edit(agents(campus), f"{row},", f"{row}Desk,")
    settle(campus)
    assert SHORTCUT not in build(campus, out, "--link-ahead", "always")
    assert linking == []  # the incremental attempt took the spare
    assert removed == []
    release = os.readlink(out / "current").rpartition("/")[2]
    assert settled(out) == [f".next-{release}", f".next-{release}.stamps"]
    build(campus, full)
    assert served((out / "current").resolve()) == tree_bytes((full / "current").resolve())


def test_a_stale_spare_is_not_taken(campus: Path, tmp_path: Path, linking: list[str]) -> None:
    """A release folder changed since its spare was linked (a rollback's carry-over links
    files into one): the build links for itself, and the stale spare is removed."""
    out, full = tmp_path / "out", tmp_path / "full"
    build(campus, out, "--link-ahead", "always")
    settled(out)
    phone_folder = (out / "current").resolve() / "www" / "phone"
    (phone_folder / "carried.cfg").write_bytes(b"kept\n")
    (phone_folder / "carried.cfg").unlink()  # the folder's times changed, its files did not
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    assert SHORTCUT in build(campus, out, "--link-ahead", "always")
    assert len(linking) == 1
    build(campus, full)
    assert served((out / "current").resolve()) == tree_bytes((full / "current").resolve())
    release = os.readlink(out / "current").rpartition("/")[2]
    assert settled(out) == [f".next-{release}", f".next-{release}.stamps"]


def test_a_killed_linkers_half_spare_is_not_taken(
    campus: Path, tmp_path: Path, linking: list[str]
) -> None:
    """A spare left half made (``.part``) or without its stamps is never taken; the next
    link-ahead sets both aside and removes them, and what a killed linker left in the
    trash."""
    out = tmp_path / "out"
    build(campus, out, "--link-ahead", "always")
    settled(out)
    release = os.readlink(out / "current").rpartition("/")[2]
    (out / f".next-{release}.stamps").unlink()
    (out / f".next-{release}.part" / "www").mkdir(parents=True)
    (out / f"{TRASH}1-2-3" / "www").mkdir(parents=True)  # a linker killed while emptying
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    assert SHORTCUT in build(campus, out, "--link-ahead", "never")
    assert len(linking) == 1
    assert settled(out) == []


def test_a_spare_that_is_a_symbolic_link_is_not_taken(
    campus: Path, tmp_path: Path, linking: list[str]
) -> None:
    """OUT's spare replaced by a symbolic link to a folder elsewhere: the build links for
    itself and writes nothing there; the link is removed, not what it leads to."""
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    build(campus, out, "--link-ahead", "always")
    settled(out)
    release = os.readlink(out / "current").rpartition("/")[2]
    spare = out / f".next-{release}"
    spare.rename(elsewhere)
    spare.symlink_to(elsewhere)
    before = tree_bytes(elsewhere)
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    assert SHORTCUT in build(campus, out, "--link-ahead", "never")
    assert len(linking) == 1
    assert settled(out) == []
    assert tree_bytes(elsewhere) == before


@pytest.mark.parametrize("mode", ["auto", "never"])
def test_small_releases_and_never_link_nothing_ahead(
    mode: str, campus: Path, tmp_path: Path
) -> None:
    """``auto`` links ahead only releases of many files (the campus has a few dozen);
    neither leaves a spare, and both remove another release's (a full build leaves it)."""
    out = tmp_path / "out"
    build(campus, out, "--link-ahead", "always")
    settled(out)
    edit(phones(campus), '"8005"', '"8095"')
    settle(campus)
    assert SHORTCUT not in build(campus, out, "--force", "--link-ahead", mode)
    assert settled(out) == []
    assert (out / LOCK).exists()


def test_auto_links_ahead_from_its_size(
    campus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``auto`` links a release ahead once it holds ``AHEAD_FILES`` files."""
    out = tmp_path / "out"
    build(campus, out)
    files = len([p for p in (out / "current").resolve().rglob("*") if p.is_file()])
    monkeypatch.setattr(ahead, "AHEAD_FILES", files - 5)  # manifest and such are not linked
    build(campus, tmp_path / "other")
    release = os.readlink(out / "current").rpartition("/")[2]
    assert settled(tmp_path / "other") == [f".next-{release}", f".next-{release}.stamps"]


def test_a_build_waits_for_the_linker_still_at_work(campus: Path, tmp_path: Path) -> None:
    """While a linker holds the spares' lock, taking a spare waits for it to let go."""
    out = tmp_path / "out"
    build(campus, out, "--link-ahead", "always")
    settled(out)
    release = os.readlink(out / "current").rpartition("/")[2]
    held = open(out / LOCK, "rb")  # noqa: SIM115 (let go of by the thread)
    fcntl.flock(held, fcntl.LOCK_EX)
    threading.Timer(0.3, held.close).start()
    began = time.monotonic()
    with Out(out).locked():
        assert take(Out(out), release, out / ".staging-test")
    assert time.monotonic() - began >= 0.25
    assert sorted(os.listdir(out / ".staging-test")) == ["network", "www"]
    assert not (out / f".next-{release}").exists()


def test_the_command_line_offers_every_mode() -> None:
    """The option's choices are the modes the pipeline takes, the default first."""
    assert typing.get_args(LinkAhead) == LINK_AHEAD
