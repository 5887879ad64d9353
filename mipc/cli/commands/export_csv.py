"""``mipc export-csv``: write an inventory's phones as a CSV phone list, and say what was lost.

Takes the command's options (:class:`ExportCommand`); loads the model through the pipeline,
hands it to :func:`mipc.inventory.exporter.export_phones`, writes the list and prints the
diagnostics and, when the list went to a file, the summary (not with ``quiet``: a list on
stdout is the output, never chatter). Gives the exit code.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from mipc.diagnostics import Diagnostics, render
from mipc.inventory.atomic import write_files
from mipc.inventory.csv_columns import LAYOUTS
from mipc.inventory.csv_write import write_phone_list
from mipc.inventory.exporter import export_phones
from mipc.pipeline import default_inventory, load_model

__all__ = ["ExportCommand", "run_export"]


@dataclass(frozen=True)
class ExportCommand:
    """What ``mipc export-csv`` was asked: the inventory (None: the default one), the layout,
    the file to write (None: stdout) and how to report."""

    inventory: Path | None = None
    layout: str = "tmm"
    output: Path | None = None
    fmt: str = "text"
    quiet: bool = False
    lossy: bool = False


def run_export(command: ExportCommand, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``mipc export-csv``: 0 ok, 1 invalid inventory or phones the layout cannot hold
    (nothing written), 2 I/O trouble. The list goes to ``command.output`` (atomically) or to
    ``out``."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    layout, output = command.layout, command.output
    if layout not in LAYOUTS:
        err.write(f"mipc export-csv: layout {layout!r} is not one of {', '.join(LAYOUTS)}\n")
        return 2
    target = command.inventory if command.inventory is not None else default_inventory()
    inv, diags = load_model(target)
    if inv is None:
        err.write(render(diags, command.fmt) + "\n")
        return 2 if diags.trouble else 1
    phones = export_phones(inv, layout, diags, command.lossy)
    text = write_phone_list(phones, layout)
    if diags.items:
        err.write(render(diags, command.fmt) + "\n")
    if diags.errors:
        err.write(f"mipc export-csv: nothing written: {_failed(diags)}\n")
        return 1
    if output is None:
        out.write(text)
        return 1 if diags.errors else 0
    try:
        write_files({output: text})
    except OSError as exc:
        err.write(f"mipc export-csv: cannot write {output}: {exc}\n")
        return 2
    if command.fmt == "text" and not command.quiet:
        out.write(f"{len(phones)} phone(s) exported ({layout} layout); file written: {output}\n")
    return 0


def _failed(diags: Diagnostics) -> str:
    """The phones the layout cannot express, named once each, or what else went wrong."""
    names = sorted({d.subject for d in diags.errors if d.subject})
    if not names:
        return "the inventory has errors"
    return f"{len(names)} phone(s) cannot be expressed in the list: {', '.join(names)}"
