"""The build benchmark: ``python bench/run.py [--sizes N,N,...] [--out FILE]``.

For each size it generates an inventory (``bench/generate.py``) and measures, each as a fresh
``python -m mipc`` process (so the figures include start-up, as CI sees them): validate, cold
build, no-op rebuild, rebuild after one phone changed, ``diff`` (when the command exists), and
the peak resident memory of the largest process (``wait4`` rusage, which covers the worker
processes). Two baselines are measured in the same run:

* the **floor**: a plain Python loop writing the same bytes to the same number of files;
* the **per-phone baseline**, the way other provisioning servers work: deep-merge three layers
  of settings dicts, render one Jinja2 template per phone, write it to a temp file and rename.

Timings are wall-clock seconds on a machine other sessions may be using: compare ratios.
The cold build, the floor and the baseline run ``--repeat`` times (default 3), interleaved;
the table gives their medians and the ratios of the medians. Every step starts after
``sync`` so none pays for the write-back of another's files.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

sys.path.insert(0, str(Path(__file__).parent.parent))
from bench.generate import generate

REPO = Path(__file__).parent.parent


def run_mipc(*args: str, output: Path | None = None) -> tuple[float, int, int]:
    """Run ``python -m mipc ARGS``: (seconds, exit code, peak RSS in MiB); its standard
    output goes to ``output`` if given."""
    start = time.perf_counter()
    sink = open(output, "wb") if output is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "mipc", *args],
        cwd=REPO,
        stdout=sink,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if output is not None:
        sink.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, proc.returncode, usage.ru_maxrss // 1024


def release_files(release: Path) -> list[tuple[str, bytes]]:
    return [
        (p.relative_to(release).as_posix(), p.read_bytes())
        for p in sorted(release.rglob("*"))
        if p.is_file()
    ]


def floor(files: list[tuple[str, bytes]], target: Path) -> float:
    """Seconds to write ``files`` with a plain loop (folders created as needed)."""
    start = time.perf_counter()
    made: set[str] = set()
    for rel, data in files:
        parent = os.path.dirname(rel)
        if parent not in made:
            os.makedirs(target / parent, exist_ok=True)
            made.add(parent)
        with open(target / rel, "wb") as fh:
            fh.write(data)
    return time.perf_counter() - start


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


BASELINE_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<!-- {{ name }} -->
<phone>
{%- for section, values in settings|dictsort %}
  <{{ section }}{% for k, v in values|dictsort %} {{ section }}.{{ k }}="{{ v }}"{% endfor %}/>
{%- endfor %}
</phone>
"""


def per_phone_baseline(count: int, target: Path) -> float:
    """Seconds for the classic way: merge three layers, one template per phone, write+rename."""
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    template = env.from_string(BASELINE_TEMPLATE)
    defaults = {f"section{s}": {f"key{k}": f"default-{s}-{k}" for k in range(10)} for s in range(8)}
    templates = [
        {f"section{s}": {f"key{k}": f"tmpl{t}-{s}-{k}" for k in range(0, 10, 3)} for s in range(8)}
        for t in range(7)
    ]
    target.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i in range(count):
        phone = {
            "section0": {"key1": f"Phone{i:06d}", "key2": str(100000 + i)},
            "section3": {"key4": f"Desk {i}"},
        }
        settings = deep_merge(deep_merge(defaults, templates[i % 7]), phone)
        text = template.render(name=f"Phone{i:06d}", settings=settings)
        tmp = target / f".{i:012x}.cfg.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target / f"{i:012x}.cfg")
    return time.perf_counter() - start


def change_one_phone(inventory: Path) -> None:
    """Give phone 0 an extension outside the generated range (100000 + i) so none collides."""
    yaml = inventory / "mipc.yaml"
    text = yaml.read_text(encoding="utf-8")
    yaml.write_text(text.replace('extension: "100000"', 'extension: "9100000"', 1), "utf-8")


def has_diff() -> bool:
    return run_mipc("diff", "--help")[1] == 0


def settle_disk() -> None:
    """Write back what earlier steps left dirty, so no step pays for another's writes."""
    os.sync()


def bench(size: int, work: Path, diff: bool, repeat: int) -> dict[str, Any]:
    inv = work / f"inv-{size}"
    out = work / f"out-{size}"
    generate(size, inv)
    r: dict[str, Any] = {"size": size}
    settle_disk()
    r["validate"], code, r["rss_validate"] = run_mipc("validate", str(inv))
    assert code == 0, f"validate failed ({code})"
    settle_disk()
    cold, code, r["rss_cold"] = run_mipc("build", str(inv), "-o", str(out))
    assert code == 0, f"build failed ({code})"
    settle_disk()
    r["noop"], code, r["rss_noop"] = run_mipc("build", str(inv), "-o", str(out))
    files = release_files((out / "current").resolve())
    r["files"] = len(files)
    r["bytes"] = sum(len(d) for _, d in files)
    change_one_phone(inv)
    if diff:
        settle_disk()
        r["diff"], _, r["rss_diff"] = run_mipc("diff", str(inv), "--against", str(out), "-q")
    settle_disk()
    summary = work / f"one-{size}.txt"
    r["one"], code, r["rss_one"] = run_mipc("build", str(inv), "-o", str(out), output=summary)
    assert code == 0, f"one-phone build failed ({code})"
    # which path it took: a benchmark of the wrong one would say nothing
    r["one_path"] = (
        "changed phones only" if b"(changed phones only)" in summary.read_bytes() else "in full"
    )
    # The cold build, the floor and the baseline, interleaved and repeated: on a shared
    # machine one run of each can be off by half; their medians give the ratios.
    colds, floors, baselines = [cold], [], []
    for i in range(repeat):
        scratch = work / f"scratch-{size}"
        settle_disk()
        floors.append(floor(files, scratch))
        shutil.rmtree(scratch)
        if i:
            settle_disk()
            seconds, code, _ = run_mipc("build", str(inv), "-o", str(scratch))
            assert code == 0, f"cold build {i + 1} failed ({code})"
            colds.append(seconds)
            shutil.rmtree(scratch)
        settle_disk()
        baselines.append(per_phone_baseline(size, scratch))
        shutil.rmtree(scratch)
    r["cold"], r["colds"] = statistics.median(colds), colds
    r["floor"], r["floors"] = statistics.median(floors), floors
    r["baseline"], r["baselines"] = statistics.median(baselines), baselines
    for name in (f"out-{size}", f"inv-{size}"):
        shutil.rmtree(work / name, ignore_errors=True)
    return r


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}" if len(values) > 1 else ""


def report(r: Mapping[str, Any]) -> list[str]:
    n = r["size"]
    cold = r["cold"]
    peak = max(v for k, v in r.items() if k.startswith("rss_"))
    lines = [
        f"## {n:,} phones ({r['files']:,} files, {r['bytes'] / 1e6:.1f} MB)",
        "",
        "| measure | seconds | ratio |",
        "|---|---:|---|",
        f"| validate | {r['validate']:.2f} | |",
        f"| cold build | {cold:.2f} | {cold / r['floor']:.2f}x the floor"
        f" (runs: {_spread(r['colds'])}) |",
        f"| no-op rebuild | {r['noop']:.2f} | {r['noop'] / cold:.0%} of cold |",
        f"| one phone changed | {r['one']:.2f} | {r['one'] / cold:.0%} of cold ({r['one_path']}) |",
    ]
    if "diff" in r:
        lines.append(
            f"| diff, one phone changed | {r['diff']:.2f} | {r['diff'] / cold:.0%} of cold |"
        )
    else:
        lines.append("| diff | n/a | `mipc diff` not there yet |")
    lines += [
        f"| floor (plain write loop) | {r['floor']:.2f} | runs: {_spread(r['floors'])} |",
        f"| per-phone baseline | {r['baseline']:.2f} | mipc/baseline per phone: "
        f"{cold / r['baseline']:.2f} (runs: {_spread(r['baselines'])}) |",
        "",
        f"Per phone: mipc {cold / n * 1e3:.2f} ms, baseline {r['baseline'] / n * 1e3:.2f} ms."
        f" Peak RSS: {peak} MiB (cold build {r['rss_cold']} MiB).",
        "",
    ]
    return lines


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {platform.machine()},"
        f" {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated phone counts")
    parser.add_argument("--out", type=Path, help="also write the report (markdown) here")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the cold build, floor and baseline"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    diff = has_diff()
    lines = ["# mipc build benchmark", "", f"Machine: {machine()}", ""]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="mipc-bench-") as tmp:
        for size in sizes:
            block = report(bench(size, Path(tmp), diff, max(1, args.repeat)))
            print("\n".join(block), flush=True)
            lines += block
    if args.out:
        args.out.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
