"""Benchmark: a generated 100,000-row TMM phone list, read and imported.

Run ``python bench/csv_import.py [ROWS]``. It times

- ``read_phone_list`` alone (in this process), and
- a full ``mipc import-csv`` (a fresh process, as an administrator runs it) into a fresh
  ``mipc init`` inventory: load and validate the inventory, read the list, check conflicts,
  write the normalised list and ``phone-lists.yaml`` atomically,

and prints the seconds of each and their ratio to the 10 s target for 100,000 rows.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mipc.catalog.models import load_catalog
from mipc.diagnostics import Diagnostics
from mipc.inventory.csvlists import ReadOptions, read_phone_list

TARGET_SECONDS = 10.0
MODELS = [
    ("Workstation", "Polycom", "VVX 450", "0004F2"),
    ("Stand-alone Phone", "Polycom", "VVX 601", "64167F"),
    ("Workstation", "AudioCodes", "420HD", "00908F"),
    ("Workstation", "ININ", "Interaction SIP Station II", "0026FD"),
]
# MACs from here on stay clear of the lab phones of `mipc init` (00:90:8f:00:10:06, ...).
MAC_BASE = 0x100000


def generate(rows: int) -> str:
    """A TMM list of ``rows`` phones with unique names, MACs and extensions."""
    lines = [
        "Name,Type,Manufacturer,Model,Proxy Group,Extension,Identification Address,Label,Address"
    ]
    for i in range(rows):
        kind, maker, model, prefix = MODELS[i % len(MODELS)]
        label = f"Desk {i}" if maker == "Polycom" else ""
        lines.append(
            f"Phone{i:06d},{kind},{maker},{model},<Default Registration Group>,"
            f"{100000 + i},sip:{100000 + i}@10.0.0.1:5060,{label},{prefix}{MAC_BASE + i:06X}"
        )
    return "\n".join(lines) + "\n"


def mipc(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the mipc command line in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "mipc", *args], capture_output=True, text=True, check=False
    )


def report(what: str, rows: int, seconds: float) -> None:
    print(
        f"{what}: {rows} rows in {seconds:.2f} s"
        f" ({seconds / TARGET_SECONDS:.0%} of the {TARGET_SECONDS:.0f} s target)"
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    load_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        path.write_text(generate(rows), encoding="utf-8")

        diags = Diagnostics()
        start = time.perf_counter()
        phones = read_phone_list(path, "bench.csv", diags, ReadOptions(doubts=True))
        read_seconds = time.perf_counter() - start
        assert len(phones) == rows, (len(phones), diags.sorted()[:5])
        assert not diags.errors, diags.sorted()[:5]
        del phones

        inventory = Path(tmp) / "inventory"
        made = mipc("init", str(inventory))
        assert made.returncode == 0, made.stderr
        start = time.perf_counter()
        imported = mipc("import-csv", "-i", str(inventory), str(path))
        import_seconds = time.perf_counter() - start
        assert imported.returncode == 0, imported.stderr[-2000:]
        assert imported.stdout.startswith(f"{rows} imported,"), imported.stdout
        listed = (inventory / "lists" / "bench.csv").read_text(encoding="utf-8")
        assert listed.count("\n") == rows + 1
    report("read_phone_list", rows, read_seconds)
    report("mipc import-csv (fresh process, fresh mipc init inventory)", rows, import_seconds)


if __name__ == "__main__":
    main()
