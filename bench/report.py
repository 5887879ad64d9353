"""The benchmark's report: the runs of each size as medians, spreads, paired ratios, targets.

A paired ratio is computed within a round (the two steps ran minutes apart at most, under
the same load), then the median of the rounds' ratios is given with their min–max.
:func:`document` writes the whole of ``bench/RESULTS.md``: how the figures were made
(:data:`METHOD`), the machine, the command, and one section per size; with no runs, a
placeholder that says nothing was measured with this method yet.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import Result
from bench.steps import BY_KEY, EXPECTED_PATH, STEPS


@dataclass(frozen=True)
class Run:
    """One run of a step: the measure and, for builds into a copy, the path the build took."""

    result: Result
    taken: str  # the build path ("" for other steps)
    written: int | None = None  # the files the build wrote, by its summary
    ahead: float | None = None  # builds: seconds its link-ahead ran on after it (untimed)


@dataclass
class SizeRuns:
    """Every run at one size: ``runs[key][round]`` (None: not run in that round)."""

    size: int
    files: int
    bytes: int
    rounds: int
    runs: dict[str, list[Run | None]] = field(default_factory=dict)

    def add(self, key: str, round_: int, run: Run) -> None:
        """Record ``run`` of step ``key`` in round ``round_``."""
        self.runs.setdefault(key, [None] * self.rounds)[round_] = run

    def values(self, key: str, of: Callable[[Result], float | None]) -> list[float]:
        """``of`` of every measured run of ``key``."""
        found = [of(r.result) for r in self.runs.get(key, []) if r is not None]
        return [v for v in found if v is not None]

    def paired(
        self, a: str, b: str, of: Callable[[Result], float] = lambda r: r.seconds
    ) -> list[float]:
        """``a / b`` within each round where both ran."""
        pairs = zip(self.runs.get(a, []), self.runs.get(b, []), strict=False)
        return [of(x.result) / of(y.result) for x, y in pairs if x is not None and y is not None]


def seconds(r: Result) -> float:
    """A run's wall-clock seconds."""
    return r.seconds


def cpu(r: Result) -> float:
    """A run's CPU seconds (user + system, the process tree)."""
    return r.cpu


def _med(values: list[float], fmt: str = "{:.2f}") -> str:
    return fmt.format(statistics.median(values)) if values else "n/a"


def _spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return ""
    return f"{fmt.format(min(values))}–{fmt.format(max(values))}"


def _ratio(values: list[float], percent: bool) -> str:
    if not values:
        return "n/a"
    fmt = "{:.0%}" if percent else "{:.2f}×"
    return f"{fmt.format(statistics.median(values))} ({_spread(values, fmt)})"


def _verdict(values: list[float], limit: float | None, strict: bool = False) -> str:
    if limit is None:
        return ""
    if not values:
        return "n/a"
    value = statistics.median(values)
    return "met" if (value < limit if strict else value <= limit) else "missed"


def step_table(s: SizeRuns) -> list[str]:
    """One row per step: median and spread of seconds, CPU, peak PSS, the build paths."""
    lines = [
        "| step | median s | min–max s | CPU s (median) | peak PSS MiB |"
        " link-ahead after, s | build path per round (files written) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for step in STEPS:
        if step.key not in s.runs:
            continue
        secs, cpus = s.values(step.key, seconds), s.values(step.key, cpu)
        pss = s.values(step.key, lambda r: r.pss_mib)
        done = [r for r in s.runs[step.key] if r is not None and r.taken]
        taken = [r.taken for r in done]
        path = ", ".join(f"{r.taken} ({r.written} written)" for r in done)
        expected = EXPECTED_PATH.get(step.key, "full" if step.kind == "copy" else "")
        if taken and any(t != expected for t in taken):
            path += f" (**expected: {expected}**)"
        after = [r.ahead for r in s.runs[step.key] if r is not None and r.ahead is not None]
        lines.append(
            f"| {step.label} | {_med(secs)} | {_spread(secs)} | {_med(cpus)} |"
            f" {f'{max(pss):.0f}' if pss else 'n/a'} | {_med(after) if after else ''} | {path} |"
        )
    return lines


def _peak(s: SizeRuns) -> tuple[list[float], str]:
    best, where = 0.0, ""
    for key in s.runs:
        for value in s.values(key, lambda r: r.pss_mib):
            if value > best:
                best, where = value, BY_KEY[key].label
    return ([best] if where else []), where


#: Paired ratios: (row, step a, step b, as percent, target, strictly below).
PAIRED: tuple[tuple[str, str, str, bool, float | None, bool], ...] = (
    ("cold build / floor", "cold", "floor", False, 2.0, False),
    ("cold build / two-writer floor", "cold", "floor2", False, None, False),
    ("validate / floor", "validate", "floor", False, 0.5, False),
    ("add one phone / cold", "add", "cold", True, 0.10, False),
    ("remove one phone / cold", "remove", "cold", True, 0.10, False),
    ("one CSV row change / cold", "csv", "cold", True, 0.10, False),
    ("one YAML change / cold", "yaml", "cold", True, 0.08, False),
    ("template change touching 40% of the phones / cold", "template40", "cold", True, 0.5, False),
    ("template change touching 1% of the phones / cold", "template1", "cold", True, None, False),
    ("`defaults:` change / cold", "defaults", "cold", True, None, False),
    ("no-op build / cold", "noop", "cold", True, None, False),
    ("diff (one YAML change) / cold", "diff", "cold", True, None, False),
    ("override template / built-in (both cold builds)", "override", "cold", False, 1.3, False),
    (
        "mipc per phone / naive peer per phone (cold build / peer)",
        "cold",
        "naive",
        False,
        1.0,
        True,
    ),
)


def _bound(percent: bool, limit: float | None, strict: bool) -> str:
    if limit is None:
        return ""
    return f"{'<' if strict else '≤'} {f'{limit:.0%}' if percent else f'{limit:g}×'}"


def _unit(text: str, unit: str) -> str:
    return text if text == "n/a" else f"{text} {unit}"


def target_table(s: SizeRuns) -> list[str]:
    """The issue's table: each measure (wall clock; the same ratio of CPU seconds beside it,
    less sensitive to a loaded machine, for reading only), its target and met/missed."""
    n = s.size
    rows = [
        (
            row,
            _ratio(s.paired(a, b), pct),
            _ratio(s.paired(a, b, cpu), pct),
            _bound(pct, lim, strict),
            _verdict(s.paired(a, b), lim, strict),
        )
        for row, a, b, pct, lim, strict in PAIRED
    ]
    per_phone = [c / n * 1e6 for c in s.values("cold", cpu)]
    peak, where = _peak(s)
    rows[2:2] = [
        (
            "CPU s (user+sys, process tree): cold build, floor",
            "",
            f"{_med(s.values('cold', cpu))}, {_med(s.values('floor', cpu))}",
            "",
            "",
        ),
        (
            "CPU per phone, cold build",
            "",
            f"{_med(per_phone, '{:.0f}')} µs ({_spread(per_phone, '{:.0f}')})",
            "≤ 100 µs",
            _verdict(per_phone, 100.0),
        ),
    ]
    rows += [
        (f"import-csv of {n:,} rows", _unit(_med(s.values("import", seconds)), "s"), "", "", ""),
        (
            f"peak PSS, all processes{f' ({where})' if where else ''}",
            _unit(_med(peak, "{:.0f}"), "MiB"),
            "",
            "≤ 1024 MiB",
            _verdict(peak, 1024.0),
        ),
    ]
    lines = [
        "| measure | wall clock: median (min–max over rounds) | the same in CPU seconds"
        " | target | status |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows]
    cold, naive = s.values("cold", seconds), s.values("naive", seconds)
    if cold and naive:
        mine = _med([c / n * 1e3 for c in cold], "{:.3f}")
        peer = _med([c / n * 1e3 for c in naive], "{:.3f}")
        lines += ["", f"Per phone (wall): mipc {mine} ms, naive peer {peer} ms."]
    return lines


def section(s: SizeRuns) -> list[str]:
    """The report of one size."""
    return [
        f"## {s.size:,} phones ({s.files:,} files, {s.bytes / 1e6:.1f} MB in a release;"
        f" {s.rounds} rounds)",
        "",
        *(
            ["**Fewer than 3 rounds: a trial of the benchmark, not a measurement.**", ""]
            if s.rounds < 3
            else []
        ),
        *step_table(s),
        "",
        "Ratios: within each round, then the median of the rounds' ratios (min–max).",
        "",
        *target_table(s),
        "",
    ]


def _fs_type(path: Path) -> str:
    real, best, kind = os.path.realpath(path), "", "unknown"
    with open("/proc/mounts", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            mount = parts[1]
            inside = real == mount or real.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best):
                best, kind = mount, f"{parts[2]} ({parts[0]} on {mount}, {parts[3]})"
    return kind


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine(scratch: Path) -> str:
    """The machine in one line: CPUs, kernel, Python, the scratch folder's file system."""
    return (
        f"nproc {len(os.sched_getaffinity(0))} ({os.cpu_count()} CPUs, {_cpu_model()}),"
        f" {platform.system()} {platform.release()} {platform.machine()},"
        f" Python {platform.python_version()}; scratch {scratch}: {_fs_type(scratch)}"
    )


METHOD_FILE = Path(__file__).with_name("METHOD.md")


def document(results: list[SizeRuns], machine_line: str, command: str) -> str:
    """The whole of ``bench/RESULTS.md``."""
    lines = ["# mipc build benchmark", "", METHOD_FILE.read_text(encoding="utf-8").rstrip(), ""]
    lines += [f"Machine: {machine_line}", "", f"Command: `{command}`", ""]
    if not results:
        lines += [
            "## Figures: not yet measured with this method",
            "",
            "No figure has been measured with this benchmark yet; run `make bench` on a quiet",
            "machine (no other work on it) and commit the RESULTS.md it writes.",
            "",
        ]
    for s in results:
        lines += section(s)
    return "\n".join(lines).rstrip("\n") + "\n"
