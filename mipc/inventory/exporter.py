"""Export: an inventory's phones (YAML and CSV lists) as the rows of a CSV phone list.

The guide's template layout needs each phone's template; the TMM layout takes type,
manufacturer, model and proxy group from the phone or, failing that, from its template chain,
so the list stands on its own. Whatever a CSV row cannot hold (more appearances, location,
options) is named in a warning. Exporting and importing again gives the same phones.

Takes the assembled inventory; gives the phones a layout can hold and the diagnostics. Prints
nothing (``mipc.cli.commands.export_csv`` does); never imports the pipeline, rules, resolve,
render or release stages.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from mipc.diagnostics import Diagnostics
from mipc.inventory.csv_columns import Layout
from mipc.model import Inventory, PhoneSpec, Setting

__all__ = ["export_phones"]

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
