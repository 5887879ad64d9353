"""Measuring one step: wall seconds, CPU seconds of the process tree, peak PSS of the tree.

:func:`run` starts a command and, until it ends, samples every ~50 ms the proportional set
size (``Pss`` of ``/proc/<pid>/smaps_rollup``) of the process and all its descendants
(found through ``/proc/<pid>/task/<tid>/children``) and keeps the peak of their sum. CPU is
user + system time of the whole tree: the ``RUSAGE_CHILDREN`` delta around the run, which
counts every descendant the command waited for (mipc's render workers, its ``cp``).
:func:`timed` measures a function run in this process (the floors), CPU as the
``RUSAGE_SELF`` + ``RUSAGE_CHILDREN`` delta (the floor's forked writers).
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Result:
    """One timed run: wall and CPU seconds, peak PSS (MiB; None when not sampled), the exit
    code and what it printed on standard output."""

    seconds: float
    cpu: float
    pss_mib: float | None
    code: int
    stdout: str = ""


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (those that are still there)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children", encoding="ascii") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                continue
    return found


def pss_kib(pid: int) -> int:
    """The ``Pss`` of one process in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def tree_pss_kib(pid: int) -> int:
    """The summed ``Pss`` of ``pid`` and its descendants, in KiB."""
    return sum(pss_kib(p) for p in descendants(pid))


def run(command: Sequence[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> Result:
    """Run ``command`` in ``cwd``; its standard output goes to ``log`` (a new file, kept until
    the benchmark's cleanup: nothing is deleted while measuring) and into the result, its
    standard error is dropped."""
    cpu_before = _cpu(resource.RUSAGE_CHILDREN)
    with open(log, "x+b") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(command), cwd=cwd, stdout=sink, stderr=subprocess.DEVNULL, env=env
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_pss_kib(proc.pid))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - start
        sink.seek(0)
        out = sink.read().decode("utf-8", "replace")
    cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu_before
    return Result(seconds, cpu, peak / 1024, proc.returncode, out)


def timed(func: Callable[[], object]) -> Result:
    """Run ``func`` in this process: wall and CPU seconds (its forked children included)."""
    cpu_before = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    cpu = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - cpu_before
    return Result(seconds, cpu, None, 0)
