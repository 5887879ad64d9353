"""``mipc export-csv``: write an inventory's phones as a CSV phone list, and say what was lost.

Takes the inventory path, the layout and the output file; loads the model through the
pipeline, hands it to :func:`mipc.inventory.exporter.export_phones`, writes the list and
prints the diagnostics. Gives the exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from mipc.diagnostics import render
from mipc.inventory.atomic import write_files
from mipc.inventory.csv_columns import LAYOUTS
from mipc.inventory.csv_write import write_phone_list
from mipc.inventory.exporter import export_phones
from mipc.pipeline import load_model


def run_export(
    inventory: Path,
    layout: str,
    output: Path | None,
    *,
    fmt: str = "text",
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``mipc export-csv``: 0 ok, 1 invalid inventory or phones the layout cannot hold,
    2 I/O trouble. The list goes to ``output`` (atomically) or to ``out``."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if layout not in LAYOUTS:
        err.write(f"mipc export-csv: layout {layout!r} is not one of {', '.join(LAYOUTS)}\n")
        return 2
    inv, diags = load_model(inventory)
    if inv is None:
        err.write(render(diags, fmt) + "\n")
        return 2 if diags.trouble else 1
    phones = export_phones(inv, layout, diags)
    text = write_phone_list(phones, layout)
    if diags.items:
        err.write(render(diags, fmt) + "\n")
    if output is None:
        out.write(text)
    else:
        try:
            write_files({output: text})
        except OSError as exc:
            err.write(f"mipc export-csv: cannot write {output}: {exc}\n")
            return 2
    return 1 if diags.errors else 0
