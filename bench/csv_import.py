"""Benchmark: read a generated 100,000-row TMM phone list with ``read_phone_list``.

Run ``python bench/csv_import.py [ROWS]``; prints the seconds taken (target: well under 10 s).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from mipc.catalog import load_catalog
from mipc.csvlists import read_phone_list
from mipc.diagnostics import Diagnostics

MODELS = [
    ("Workstation", "Polycom", "VVX 450", "0004F2"),
    ("Stand-alone Phone", "Polycom", "VVX 601", "64167F"),
    ("Workstation", "AudioCodes", "420HD", "00908F"),
    ("Workstation", "ININ", "Interaction SIP Station II", "0026FD"),
]


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
            f"{100000 + i},sip:{100000 + i}@10.0.0.1:5060,{label},{prefix}{i:06X}"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    load_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        path.write_text(generate(rows), encoding="utf-8")
        diags = Diagnostics()
        start = time.perf_counter()
        phones = read_phone_list(path, "bench.csv", diags, doubts=True)
        elapsed = time.perf_counter() - start
    assert len(phones) == rows, (len(phones), diags.sorted()[:5])
    assert not diags.errors, diags.sorted()[:5]
    print(f"read_phone_list: {rows} rows in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
