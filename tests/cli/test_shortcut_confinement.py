"""The no-op and incremental shortcuts open no input that now leads outside the inventory.

A build records its inputs (``OUT/inputs.json``); each test then replaces one of them (a phone
list, a ``{file: ...}`` secret, a custom file, a certificate) by a symbolic link to a FIFO
outside the inventory and builds again, first with the inventory otherwise unchanged (the
no-op check), then with a phone's label changed (the incremental check). Opening a FIFO for
reading blocks until a writer comes, and none does: a build that opened it would block until
the alarm ends the test. Each build must exit 1 with the ``outside-inventory`` error.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main

REPO = Path(__file__).resolve().parents[2]
RECORDED = [
    "lists/agents.csv",
    "secrets/manager.txt",
    "custom_files/polycom/site-directory.cfg",
    "certs/ca.pem",
]


class Blocked(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Blocked("the build blocked: it opened the FIFO")


@pytest.fixture
def alarm() -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _build(inventory: Path, out: Path) -> Result:
    signal.alarm(20)
    try:
        return CliRunner().invoke(main, ["build", str(inventory), "-o", str(out), "-q"])
    finally:
        signal.alarm(0)


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("recorded", RECORDED)
def test_a_recorded_input_linked_outside_is_never_opened(tmp_path: Path, recorded: str) -> None:
    campus = tmp_path / "campus"
    shutil.copytree(REPO / "examples" / "campus", campus)
    out = tmp_path / "out"
    assert _build(campus, out).exit_code == 0
    release = os.readlink(out / "current")
    fifo = tmp_path / "private" / "never-read"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    (campus / recorded).unlink()
    (campus / recorded).symlink_to(fifo)
    phones = campus / "phones.yaml"
    for edit in ("", "label: Desk 2"):  # the no-op check, then the incremental one
        if edit:
            phones.write_text(phones.read_text().replace("label: Reception 2", edit))
        built = _build(campus, out)
        assert not isinstance(built.exception, Blocked), recorded
        assert built.exit_code == 1, built.output
        assert "error[outside-inventory]" in built.output
        assert f"leads to {fifo}, outside" in built.output
        assert os.readlink(out / "current") == release
