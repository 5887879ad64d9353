"""The check stage: the rules no schema can say.

Takes the assembled inventory and the catalog (``check``: references, cycles, names,
registration group shape, uniqueness, addresses; the rules themselves live in
:mod:`mipc.rules.names`, :mod:`mipc.rules.references` and :mod:`mipc.rules.phones`), then the
effective phones (``check_phones``: vendor capabilities, where inherited values are known:
SRTP, firmware, languages, appearances, options; the rules in :mod:`mipc.rules.vendor`). Gives
diagnostics; every problem is collected, nothing stops at the first. Never imports the
resolve, render or release stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mipc.catalog.models import Catalog
from mipc.diagnostics import Diagnostics
from mipc.model import EffectivePhone, Inventory
from mipc.rules.names import check_name, check_printable, cycles, inherited, unknown
from mipc.rules.phones import check_phone_entries
from mipc.rules.references import (
    check_groups,
    check_layer_refs,
    check_pins,
    check_srv_lines,
    layers,
)
from mipc.rules.serving import check_serving, check_serving_phones
from mipc.rules.vendor import check_phone


def check(inventory: Inventory, catalog: Catalog, diags: Diagnostics) -> None:
    """Structural rules on the inventory."""
    inv = inventory
    for name, tmpl in inv.templates.items():
        check_name(diags, "template", name, tmpl.position)
        if tmpl.extends is not None and tmpl.extends not in inv.templates:
            unknown(diags, "template", tmpl.extends, inv.templates, tmpl.position)
    for name, group in inv.registration_groups.items():
        check_name(diags, "registration group", name, group.position)
    for name, loc in inv.locations.items():
        check_printable(diags, "location", name, loc.position)
        if loc.parent is not None and loc.parent not in inv.locations:
            unknown(diags, "location", loc.parent, inv.locations, loc.position)
    cycles(
        diags,
        "template",
        {n: t.extends for n, t in inv.templates.items()},
        {n: t.position for n, t in inv.templates.items()},
    )
    cycles(
        diags,
        "location",
        {n: loc.parent for n, loc in inv.locations.items()},
        {n: loc.position for n, loc in inv.locations.items()},
    )
    for proxy in inv.managed_proxies.values():
        if proxy.location is not None and proxy.location not in inv.locations:
            unknown(diags, "location", proxy.location, inv.locations, proxy.position)
    check_groups(inv, diags)
    check_srv_lines(inv, diags)
    check_pins(inv, catalog, diags)
    # Each template's inherited manufacturer, looked up once rather than once per phone.
    makers = {name: inherited(inv, name, "manufacturer") for name in inv.templates}
    for layer, template in layers(inv):
        if layer:
            check_layer_refs(inv, catalog, layer, template, makers, diags)
    check_phone_entries(inv, makers, diags)
    check_serving(inv, diags)


# --- rules on effective phones ------------------------------------------------------------


def check_phones(
    phones: Iterable[EffectivePhone],
    inv: Inventory,
    catalog: Catalog,
    families: Mapping[str, frozenset[str]],
    diags: Diagnostics,
) -> None:
    """Vendor rules on effective phones; positions come from each value's provenance."""
    seen_combos: set[tuple[str, str | None]] = set()
    phones = tuple(phones)
    try:
        for phone in phones:
            diags.subject = phone.name
            check_phone(phone, inv, catalog, families, diags, seen_combos)
    finally:
        diags.subject = ""
    check_serving_phones(phones, inv, catalog, diags)
