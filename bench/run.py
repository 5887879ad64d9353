"""The build benchmark: ``python bench/run.py [--sizes N,N] [--rounds R] [--steps a,b] [--out F]``.

For each size it generates an inventory (``bench/generate.py``), prepares what the steps
start from (untimed), then runs ``--rounds`` rounds; each round runs every step once, in an
order shuffled with a fixed seed. Every timed step writes into a fresh folder, and nothing is
deleted until all sizes and rounds are done. ``bench/report.py`` turns the runs into the
markdown of ``bench/RESULTS.md`` (medians, spreads, paired ratios, the targets). Progress
goes to standard error; ``--out`` writes the report (``make bench`` writes RESULTS.md).
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import csv_import, diskcheck, report
from bench.floor import Release, load_release, write_floor
from bench.generate import generate
from bench.measure import Result, run, timed
from bench.steps import (
    BY_KEY,
    PREPARED,
    STEPS,
    Step,
    change,
    copy_out,
    files_written,
    path_taken,
)
from mipc.release.ahead import settled
from mipc.release.ahead import start as start_ahead
from mipc.release.store import Out

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "NO_COLOR": "1"}
EXPECTED_CODE = {"diff": 1}  # diff(1): 1 is "changes"


@dataclass
class Sized:
    """One size's scratch: inventories, prepared OUTs, the release in memory, the runs."""

    size: int
    root: Path
    inventories: dict[str, Path] = field(default_factory=dict)
    prepared: dict[str, Path] = field(default_factory=dict)
    release: Release | None = None
    import_list: Path | None = None
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def fresh(self, name: str) -> Path:
        """A folder path no step used before (not created)."""
        return self.root / "runs" / f"{name}-{next(self.counter):03d}"

    def log(self) -> Path:
        """A new file for a command's standard output."""
        return self.root / "logs" / f"{next(self.counter):04d}.out"


def mipc(*args: str | Path) -> list[str]:
    """The command line of a fresh ``python -m mipc`` process."""
    return [sys.executable, "-m", "mipc", *map(str, args)]


def say(text: str) -> None:
    """Progress, on standard error."""
    print(text, file=sys.stderr, flush=True)


def untimed(command: list[str], out: Path | None = None) -> None:
    """Run a preparation command; fail loudly. ``out``: the OUT it builds into, whose
    link-ahead is waited for."""
    done = subprocess.run(command, cwd=REPO, env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stderr}")
    if out is not None:
        settled_ahead(out)


#: Longer than any link-ahead takes at the sizes measured: the run stops, it does not hang.
AHEAD_TIMEOUT = 600.0


def settled_ahead(out: Path) -> float:
    """Wait (untimed) for the link-ahead a build left running in ``out``
    (:func:`mipc.release.ahead.settled`), so that no step runs beside it; the seconds
    waited. Stops the run if it does not end within :data:`AHEAD_TIMEOUT`."""
    start = time.perf_counter()
    if not settled(out, AHEAD_TIMEOUT):
        raise SystemExit(f"{out}: the link-ahead did not end within {AHEAD_TIMEOUT:.0f} s")
    return time.perf_counter() - start


def linked_ahead(out: Path, files: int) -> None:
    """Link a copied OUT's release ahead, as the build that made it left its own (untimed)."""
    start_ahead(Out(out), files, "auto")
    settled_ahead(out)


def prepare(ctx: Sized, keys: set[str]) -> None:
    """Generate the inventories and build the prepared OUTs (untimed)."""
    base = ctx.inventories["base"] = ctx.root / "inv-base"
    generate(ctx.size, base)
    ctx.prepared["base"] = ctx.root / "out-base"
    untimed(mipc("build", base, "-o", ctx.prepared["base"]), ctx.prepared["base"])
    ctx.release = load_release(ctx.prepared["base"])
    variants = {BY_KEY[k].variant for k in keys} - {"base"}
    for variant in sorted(variants):
        inv = ctx.inventories[variant] = ctx.root / f"inv-{variant}"
        shutil.copytree(base, inv)
        if variant in PREPARED:
            out = ctx.prepared[variant] = ctx.root / f"out-{variant}"
            copy_out(ctx.prepared["base"], out)
            untimed(mipc("build", inv, "-o", out), out)  # records this folder's inputs
        change(variant, inv, ctx.size)
    if "import" in keys:
        ctx.import_list = ctx.root / "import.csv"
        ctx.import_list.write_text(csv_import.generate(ctx.size), encoding="utf-8")
    (ctx.root / "runs").mkdir()
    (ctx.root / "logs").mkdir()


def command_of(ctx: Sized, step: Step) -> list[str]:
    """Make what ``step`` starts from (untimed) and give the command it times."""
    inv = ctx.inventories[step.variant]
    if step.kind == "validate":
        return mipc("validate", inv)
    if step.kind == "cold":
        return mipc("build", inv, "-o", ctx.fresh(step.key))
    if step.kind == "copy":
        target = ctx.fresh(step.key)
        copy_out(ctx.prepared[step.variant], target)
        assert ctx.release is not None
        linked_ahead(target, len(ctx.release.files))
        return mipc("build", inv, "-o", target)
    if step.kind == "diff":
        return mipc("diff", inv, "--against", ctx.prepared[step.variant], "-q")
    if step.kind == "naive":
        return [sys.executable, str(REPO / "bench" / "naive.py"), str(inv), str(ctx.fresh("naive"))]
    if step.kind == "import":
        assert ctx.import_list is not None
        target = ctx.fresh("import")
        untimed(mipc("init", target))
        return mipc("import-csv", ctx.import_list, "-i", target)
    raise ValueError(f"unknown step kind {step.kind}")


def run_step(ctx: Sized, step: Step) -> report.Run:
    """Run ``step`` once: untimed preparation, ``sync``, then the timed run."""
    if step.kind in ("floor", "floor2"):
        assert ctx.release is not None
        release, target = ctx.release, ctx.fresh(step.key)
        writers = 2 if step.kind == "floor2" else 1
        os.sync()
        return report.Run(timed(lambda: write_floor(release, target, writers)), "")
    command = command_of(ctx, step)
    os.sync()
    result: Result = run(command, REPO, ctx.log(), ENV)
    if result.code != EXPECTED_CODE.get(step.key, 0):
        raise SystemExit(
            f"{step.key}: {shlex.join(command)} exited {result.code}:\n{result.stdout[-2000:]}"
        )
    if step.kind == "import" and not result.stdout.startswith(f"{ctx.size} imported,"):
        raise SystemExit(f"import: not {ctx.size} rows imported: {result.stdout[:500]}")
    ahead = settled_ahead(Path(command[-1])) if step.kind in ("cold", "copy") else None
    if step.kind != "copy":
        return report.Run(result, "", ahead=ahead)
    taken = path_taken(result.stdout)
    return report.Run(result, taken, files_written(result.stdout), ahead)


def bench_size(ctx: Sized, keys: list[str], rounds: int, seed: int) -> report.SizeRuns:
    """Prepare, then run ``rounds`` rounds of the steps ``keys`` in shuffled orders."""
    start = time.perf_counter()
    say(f"[{ctx.size:,} phones] preparing (inventories, prepared OUTs; untimed)")
    prepare(ctx, set(keys))
    assert ctx.release is not None
    say(f"[{ctx.size:,} phones] prepared in {time.perf_counter() - start:.0f} s")
    release = diskcheck.measured_release(ctx.prepared["base"])
    say(diskcheck.refuse_if_short(ctx.root, diskcheck.size_need(ctx.size, rounds, keys, release)))
    runs = report.SizeRuns(ctx.size, len(ctx.release.files), ctx.release.size, rounds)
    for r in range(rounds):
        order = list(keys)
        random.Random(f"{seed}-{ctx.size}-{r}").shuffle(order)
        began = time.perf_counter()
        for n, key in enumerate(order, 1):
            done = run_step(ctx, BY_KEY[key])
            runs.add(key, r, done)
            say(
                f"[{ctx.size:,} r{r + 1}/{rounds} {n}/{len(order)}] {key}:"
                f" {done.result.seconds:.2f} s {done.taken}".rstrip()
            )
        left = (rounds - r - 1) * (time.perf_counter() - began)
        say(f"[{ctx.size:,}] round {r + 1} done; this size's rounds left: ~{left:.0f} s")
    return runs


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    add = parser.add_argument
    add("--sizes", default="10000,100000", help="comma-separated phone counts")
    add("--rounds", type=int, default=3, help="rounds (each runs every step once); at least 3")
    add("--steps", default=",".join(s.key for s in STEPS), help="comma-separated step keys")
    add("--seed", type=int, default=0, help="seed of the rounds' shuffled orders")
    add("--scratch", type=Path, default=Path(tempfile.gettempdir()), help="where to work")
    add("--out", type=Path, help="write the report (markdown) here, e.g. bench/RESULTS.md")
    add("--keep", action="store_true", help="keep the scratch folder (default: removed at end)")
    add("--method-only", action="store_true", help="write the report with no figures")
    args = parser.parse_args(argv)
    unknown = [k for k in args.steps.split(",") if k not in BY_KEY]
    if unknown:
        parser.error(f"unknown steps {unknown}; known: {', '.join(BY_KEY)}")
    return args


def byte_compile() -> None:
    """Compile mipc's modules to bytecode, as installing it does (see ``bench/METHOD.md``):
    an editable install under ``PYTHONDONTWRITEBYTECODE`` would compile them from source in
    every timed process."""
    if not compileall.compile_dir(REPO / "mipc", quiet=1):
        raise SystemExit("cannot byte-compile mipc (compileall failed)")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when it completed."""
    args = parse(argv)
    command = shlex.join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    if args.method_only:  # the committed RESULTS.md until a run on a quiet machine
        text = report.document([], "(the machine of the run)", "make bench")
        print(text) if args.out is None else args.out.write_text(text, encoding="utf-8")
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    keys = [s.key for s in STEPS if s.key in args.steps.split(",")]
    rounds = max(1, args.rounds)
    args.scratch.mkdir(parents=True, exist_ok=True)
    byte_compile()
    need = sum((diskcheck.size_need(n, rounds, keys) for n in sizes), diskcheck.Need(0, 0))
    say(diskcheck.refuse_if_short(args.scratch, need))
    root = Path(tempfile.mkdtemp(prefix="mipc-bench-", dir=args.scratch))
    say(f"scratch: {root} (removed at the end{' unless --keep' if not args.keep else ': kept'})")
    try:
        results = [bench_size(Sized(n, root / f"n{n}"), keys, rounds, args.seed) for n in sizes]
    finally:
        if not args.keep:
            say("cleaning up (after all rounds)")
            shutil.rmtree(root, ignore_errors=True)
    text = report.document(results, report.machine(args.scratch), command)
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
