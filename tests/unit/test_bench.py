"""The benchmark (bench/): its report's rows and paired ratios, and a smoke run at a tiny size.

Nothing here is timed: the smoke run checks that the steps ran and wrote what they claim,
and that the naive peer carries mipc's parameters for every Polycom phone.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from pathlib import Path

import pytest

from bench import report, run
from bench.measure import Result
from bench.steps import STEPS, copy_out
from mipc.artifacts import stem_of
from mipc.release.ahead import LOCK as AHEAD_LOCK

PARAM = re.compile(r'([\w.]+)="([^"]*)"')


def _runs(seconds: dict[str, list[float]]) -> report.SizeRuns:
    size = report.SizeRuns(size=1000, files=1500, bytes=3_000_000, rounds=3)
    for key, values in seconds.items():
        for r, value in enumerate(values):
            size.add(key, r, report.Run(Result(value, value / 2, 10.0 * (r + 1), 0), ""))
    return size


def test_paired_ratios_are_taken_within_each_round() -> None:
    # the medians are cold 2, floor 2 (ratio of medians 1.0); per round 1/4, 2/1, 3/2
    size = _runs({"cold": [1.0, 2.0, 3.0], "floor": [4.0, 1.0, 2.0]})
    assert size.paired("cold", "floor") == [0.25, 2.0, 1.5]
    table = "\n".join(report.target_table(size))
    assert (
        "| cold build / floor | 1.50× (0.25×–2.00×) | 1.50× (0.25×–2.00×) | ≤ 2× | met |" in table
    )


def test_the_report_has_every_row() -> None:
    size = _runs({s.key: [1.0, 1.0, 1.0] for s in STEPS})
    text = "\n".join(report.section(size))
    for step in STEPS:
        assert f"| {step.label} |" in text
    for row, *_ in report.PAIRED:
        assert f"| {row} |" in text
    for row in ("CPU per phone, cold build", "import-csv of 1,000 rows", "peak PSS"):
        assert f"| {row}" in text
    assert "30 MiB" in text  # the peak PSS over every step and round
    assert "| n/a |" not in text


def test_without_runs_the_report_says_nothing_was_measured() -> None:
    text = report.document([], "a machine", "python bench/run.py")
    assert "not yet measured with this method" in text
    assert "| step | median s |" not in text


def test_a_tiny_run_writes_what_it_claims(tmp_path: Path) -> None:
    steps = "cold,naive,floor2"
    code = run.main(
        [
            "--sizes",
            "120",
            "--rounds",
            "1",
            "--steps",
            steps,
            "--scratch",
            str(tmp_path),
            "--keep",
            "--out",
            str(tmp_path / "report.md"),
        ]
    )
    assert code == 0
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| cold build |" in text and "| floor (two writers) |" in text
    assert "Fewer than 3 rounds" in text
    (root,) = tmp_path.glob("mipc-bench-*")
    runs = root / "n120" / "runs"
    (cold,) = runs.glob("cold-*")
    (floor,) = runs.glob("floor2-*")
    (naive,) = runs.glob("naive-*")
    mine = sorted(p.relative_to(cold / "current") for p in (cold / "current").rglob("*"))
    assert mine == sorted(p.relative_to(floor / "current") for p in (floor / "current").rglob("*"))
    phones = sorted((cold / "current" / "www" / "phone").glob("*.cfg"))
    assert len(phones) == 72  # the Polycom phones: 6 kinds in 10
    for path in phones:
        ours = PARAM.findall(path.read_text(encoding="utf-8").split("<polycomConfig>")[1])
        stem = stem_of(f"phone/{path.name}", hashlib.sha256(path.read_bytes()).hexdigest())
        peer = (naive / stem).read_text(encoding="utf-8")  # the peer writes it by its stem
        assert dict(ours) == dict(PARAM.findall(peer.split("<polycomConfig>")[1])), path.name


def test_the_template_of_a_few_phones_takes_the_changed_phones_path(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    args = ["--sizes", "600", "--rounds", "1", "--steps", "template1", "--scratch"]
    assert run.main([*args, str(tmp_path), "--out", str(out)]) == 0
    (line,) = [
        t
        for t in out.read_text(encoding="utf-8").splitlines()
        if t.startswith("| template change (1% of phones) |")
    ]
    # 6 "Polycom Lobby" phones (every hundredth), two files each; the path the step claims
    assert line.endswith("| changed phones only (12 written) |"), line


def test_a_copied_out_leaves_the_spares_out(tmp_path: Path) -> None:
    """A copy of a prepared OUT holds its releases (as hard links) and what is beside them,
    but not its link-ahead spares and trash, whose stamps name the other OUT's folders."""
    source = tmp_path / "out"
    (source / "releases" / "r1" / "www").mkdir(parents=True)
    (source / "releases" / "r1" / "www" / "a.cfg").write_text("a")
    (source / ".next-r1" / "www").mkdir(parents=True)
    (source / ".next-r1.stamps").write_text("{}")
    (source / ".trash-1-2").mkdir()
    (source / "state.bin").write_bytes(b"s")
    (source / "current").symlink_to("releases/r1")
    copy_out(source, tmp_path / "copy")
    assert sorted(os.listdir(tmp_path / "copy")) == ["current", "releases", "state.bin"]
    copied = tmp_path / "copy" / "releases" / "r1" / "www" / "a.cfg"
    assert copied.stat().st_ino == (source / "releases" / "r1" / "www" / "a.cfg").stat().st_ino


def test_waiting_for_a_link_ahead_that_never_ends_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link-ahead that keeps its lock stops the run with a message, not a hang."""
    monkeypatch.setattr(run, "AHEAD_TIMEOUT", 0.2)
    with open(tmp_path / AHEAD_LOCK, "wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(SystemExit, match="did not end"):
            run.settled_ahead(tmp_path)
    assert run.settled_ahead(tmp_path) < 0.2  # let go of: no waiting


def test_a_build_that_took_another_path_than_its_step_claims_is_flagged() -> None:
    size = report.SizeRuns(size=1000, files=1500, bytes=3_000_000, rounds=2)
    for r, taken in enumerate(("changed phones only", "full")):
        size.add("yaml", r, report.Run(Result(1.0, 0.5, 1.0, 0), taken, 1 + r * 1499))
    (row,) = [line for line in report.step_table(size) if line.startswith("| one YAML")]
    assert "changed phones only (1 written), full (1500 written)" in row
    assert "**expected: changed phones only**" in row
