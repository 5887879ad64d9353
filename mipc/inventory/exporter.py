"""Export: an inventory's phones (YAML and CSV lists) as the rows of a CSV phone list.

The guide's template layout needs each phone's template; the TMM layout takes type,
manufacturer, model and proxy group from the phone or, failing that, from its template chain,
so the list stands on its own. A phone's location and every private appearance go in mipc's
extension columns (``Location``, ``Extension 2``, ...; :mod:`mipc.inventory.csv_columns`).
Whatever else a phone holds that no column can (options, shared or external appearances, an
appearance's display name, station, sharable flag, ...) is an error naming the phone and what,
and nothing is written; with ``lossy`` it is a warning and left out. Exporting and importing
again gives the same phones.

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


def _lost(phone: PhoneSpec) -> list[str]:
    """What of ``phone`` no column of a list holds (every private appearance's extension,
    identification address and label, and the location, are held)."""
    lost = [key for key in phone.layer if key not in _CARRIED]
    if any(a.kind != "private" for a in phone.appearances):
        lost.append("shared or external appearances")
    for number, app in enumerate(phone.appearances, start=1):
        if app.kind != "private":
            continue
        extra = {
            "display_name": app.display_name,
            "station": app.station,
            "sharable": app.sharable,
            "auth": app.auth_user or app.auth_password,
            "registration_group": app.registration_group,
            "line_keys": app.line_keys != 1,
        }
        lost.extend(f"appearance {number}'s {key}" for key, held in extra.items() if held)
    return lost


def _tmm_layer(inv: Inventory, phone: PhoneSpec, layer: dict[str, Setting]) -> list[str]:
    """Complete ``layer`` for the TMM layout from the phone's template chain; what is missing."""
    for key in _CARRIED:
        if key not in layer:
            setting = _inherited(inv, phone.template, key)
            if setting is not None:
                layer[key] = setting
    # The built-in default type (mipc/data/defaults.json), as CIC's.
    layer.setdefault("type", Setting("workstation", "defaults", None))
    return [k for k in ("type", "manufacturer", "model") if k not in layer]


def export_phones(
    inv: Inventory, layout: Layout, diags: Diagnostics, lossy: bool = False
) -> list[PhoneSpec]:
    """The phones to write in ``layout``; a phone the layout cannot express is an error (a
    warning, the rest left out, with ``lossy``), its name the diagnostic's subject."""
    out: list[PhoneSpec] = []
    try:
        for phone in inv.phones:
            diags.subject = phone.name
            exported = _export_one(inv, phone, layout, diags, lossy)
            if exported is not None:
                out.append(exported)
    finally:
        diags.subject = ""
    return out


def _export_one(
    inv: Inventory, phone: PhoneSpec, layout: Layout, diags: Diagnostics, lossy: bool
) -> PhoneSpec | None:
    """The phone as ``layout`` holds it, or None when it cannot."""
    lost = _lost(phone)
    if lost:
        report = diags.warning if lossy else diags.error
        tail = "; they are left out" if lossy else "; use --lossy to leave them out"
        report(
            "not-exported",
            f"phone {phone.name!r}: a CSV row cannot hold {', '.join(sorted(lost))}{tail}",
            phone.position,
        )
    if layout == "template" and phone.template is None:
        diags.error(
            "no-template",
            f"phone {phone.name!r} has no template, so the template layout cannot hold it;"
            " use --layout tmm",
            phone.position,
        )
        return None
    layer = {k: v for k, v in phone.layer.items() if k in _CARRIED}
    missing = _tmm_layer(inv, phone, layer) if layout == "tmm" else []
    if missing:
        diags.error(
            "incomplete-phone",
            f"phone {phone.name!r} has no {', '.join(missing)}, so the TMM layout cannot hold it",
            phone.position,
        )
        return None
    return replace(phone, layer=MappingProxyType(layer))
