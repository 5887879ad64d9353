"""``mipc export-csv``: write an inventory's phones (YAML and CSV lists) as a CSV phone list.

The guide's template layout needs each phone's template; the TMM layout takes type,
manufacturer, model and proxy group from the phone or, failing that, from its template chain,
so the list stands on its own. Whatever a CSV row cannot hold (more appearances, location,
options) is named in a warning. Exporting and importing again gives the same phones.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import TextIO

from mipc.diagnostics import Diagnostics, render
from mipc.inventory.csvlists import LAYOUTS, Layout, write_phone_list
from mipc.inventory.importer import write_files
from mipc.model import Inventory, PhoneSpec, Setting

__all__ = ["export_phones", "run_export"]

_CARRIED = ("type", "manufacturer", "model", "registration_group")


def _inherited(inv: Inventory, template: str | None, key: str) -> Setting | None:
    seen: set[str] = set()
    while template is not None and template in inv.templates and template not in seen:
        seen.add(template)
        entry = inv.templates[template]
        if key in entry.layer:
            return entry.layer[key]
        template = entry.extends
    return None


def export_phones(inv: Inventory, layout: Layout, diags: Diagnostics) -> list[PhoneSpec]:
    """The phones to write in ``layout``; phones the layout cannot express are errors."""
    out: list[PhoneSpec] = []
    for phone in inv.phones:
        lost = [key for key in phone.layer if key not in _CARRIED]
        private = [a for a in phone.appearances if a.kind == "private"]
        if len(phone.appearances) > 1 or (phone.appearances and not private):
            lost.append("appearances after the first private one")
        if private and (private[0].display_name or private[0].station or private[0].sharable):
            lost.append("appearance display_name/station/sharable")
        if phone.location:
            lost.append("location")
        if lost:
            diags.warning(
                "not-exported",
                f"phone {phone.name!r}: a CSV row cannot hold {', '.join(sorted(lost))};"
                " they are left out",
                phone.position,
            )
        if layout == "template" and phone.template is None:
            diags.error(
                "no-template",
                f"phone {phone.name!r} has no template, so the template layout cannot hold it;"
                " use --layout tmm",
                phone.position,
            )
            continue
        layer = {k: v for k, v in phone.layer.items() if k in _CARRIED}
        if layout == "tmm":
            for key in _CARRIED:
                if key not in layer:
                    setting = _inherited(inv, phone.template, key)
                    if setting is not None:
                        layer[key] = setting
            # The built-in default type (mipc/data/defaults.json), as CIC's.
            layer.setdefault("type", Setting("workstation", "defaults", None))
            missing = [k for k in ("type", "manufacturer", "model") if k not in layer]
            if missing:
                diags.error(
                    "incomplete-phone",
                    f"phone {phone.name!r} has no {', '.join(missing)}, so the TMM layout"
                    " cannot hold it",
                    phone.position,
                )
                continue
        out.append(replace(phone, layer=MappingProxyType(layer)))
    return out


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
    from mipc.pipeline import load_model

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
