"""The check stage's rules on the inventory's settings, registration groups and pins.

Takes the inventory and the catalog; gives diagnostics for settings that name an unknown
model, manufacturer, language or registration group, for the shape of registration groups
and for firmware pins; and the firmware each pinned model uses. Every problem is collected;
nothing stops at the first. Never imports the resolve, render or release stages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mipc.catalog.models import Catalog
from mipc.diagnostics import Diagnostics
from mipc.model import Inventory, Setting
from mipc.rules.names import did_you_mean, unknown

MAX_GROUP_ENTRIES = 4


def layers(inv: Inventory) -> Iterable[tuple[Mapping[str, Setting], str | None]]:
    """Every settings layer, with the template whose chain lies below it."""
    yield inv.defaults, None
    for loc in inv.locations.values():
        yield loc.layer, None
    for tmpl in inv.templates.values():
        yield tmpl.layer, tmpl.extends
    for phone in inv.phones:
        yield phone.layer, phone.template


def check_layer_refs(
    inv: Inventory,
    catalog: Catalog,
    layer: Mapping[str, Setting],
    below: str | None,
    makers: Mapping[str, Setting | None],
    diags: Diagnostics,
) -> None:
    """``makers``: the manufacturer each template inherits (None for none)."""
    group = layer.get("registration_group")
    if group is not None:
        name = str(group.value)
        if name not in inv.registration_groups:
            unknown(diags, "registration group", name, inv.registration_groups, group.position)
        elif inv.registration_groups[name].external:
            diags.error(
                "external-main-group",
                f"registration group {name!r} is external: it serves external registrations"
                " on one line, never as a phone's main group",
                group.position,
            )
    model = layer.get("model")
    if model is not None:
        manufacturer = layer.get("manufacturer")
        if manufacturer is None and below is not None:
            manufacturer = makers.get(below)
        maker = str(manufacturer.value) if manufacturer is not None else None
        found = catalog.find_model(str(model.value), maker)
        if found is None:
            hint = catalog.suggest_models(str(model.value), maker)
            more = f"; did you mean {hint[0]!r}?" if hint else ""
            diags.error(
                "unknown-model",
                f"model {model.value!r}"
                + (f" of {maker}" if maker else "")
                + f" is not in the catalog{more}",
                model.position,
            )
    for key in ("qos.rtp_dscp", "qos.sip_dscp"):
        setting = layer.get(key)
        if setting is not None:
            check_dscp(setting, diags)
    language = layer.get("language")
    if language is not None and catalog.language_id(str(language.value)) is None:
        diags.error(
            "unknown-language",
            f"language {language.value!r} is not known"
            f"{did_you_mean(str(language.value), catalog.languages)}",
            language.position,
        )


def pinned_models(inv: Inventory, catalog: Catalog) -> dict[str, str]:
    """firmware.pins by catalog model id (a pin may name the model by any alias)."""
    out: dict[str, str] = {}
    for name, version in inv.firmware_pins.items():
        model = catalog.find_model(name)
        if model is not None:
            out[model.id] = version
    return out


def check_pins(inv: Inventory, catalog: Catalog, diags: Diagnostics) -> None:
    """Firmware pins: each names a known model and a version listed for it."""
    for name, version in sorted(inv.firmware_pins.items()):
        position = inv.firmware_pin_positions.get(name)
        model = catalog.find_model(name)
        if model is None:
            hint = catalog.suggest_models(name)
            more = f"; did you mean {hint[0]!r}?" if hint else ""
            diags.error(
                "unknown-model",
                f"firmware pin for {name!r}: no such model in the catalog (or the name is"
                f" used by two manufacturers: use the catalog id){more}",
                position,
            )
            continue
        if catalog.find_firmware(model.id, version) is None:
            known = ", ".join(f.version for f in catalog.firmware_for(model.id)) or "none"
            diags.error(
                "unknown-firmware",
                f"firmware {version!r} is not listed for the {model.display} (known: {known})",
                position,
            )


#: The DSCP code points with a name (RFC 2474 class selectors, RFC 2597 assured forwarding,
#: RFC 3246 expedited forwarding, RFC 5865 voice admit).
NAMED_DSCP = frozenset(
    (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56)
)
_HEX_TOS = re.compile(r"(?:0[xX])?([0-9A-Fa-f]{1,2})[hH]?")


def dscp_value(value: Any) -> int | None:
    """DSCP from a DSCP integer, or from a TOS byte written in hex as the guide writes it
    ("B8", the Interaction Administrator form) or as "0xB8" or "B8h"; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 63 else None
    match = _HEX_TOS.fullmatch(str(value).strip())
    if match is None:
        return None
    tos = int(match.group(1), 16)
    if tos & 0b11:
        return None
    return tos >> 2


def check_dscp(setting: Setting, diags: Diagnostics) -> None:
    """A DSCP or TOS value: one mipc can read, and an integer that is not what the guide's
    hex TOS byte of the same digits would say (``60`` for the guide's "60 (hex)")."""
    value = setting.value
    dscp = dscp_value(value)
    if dscp is None:
        hint = ""
        if isinstance(value, str) and value.strip().isdigit():
            hint = (
                f"; a quoted value is the TOS byte in hex, as the guide writes it: for DSCP"
                f" {value.strip()} write it without quotes"
            )
        diags.error(
            "bad-dscp",
            f"{value!r} is not a DSCP value 0-63 nor a TOS byte in hex 00-FC (B8, 0xB8 or"
            f" B8h) whose two low bits are 0{hint}",
            setting.position,
        )
        return
    if isinstance(value, int) and not isinstance(value, bool) and dscp not in NAMED_DSCP:
        as_tos = dscp_value(f"{value:d}") if value >= 10 else None
        if as_tos is not None:
            diags.warning(
                "dscp-not-hex",
                f"{value} is read as DSCP {value}, which has no name; if it is the guide's"
                f' TOS byte in hex, write "{value}" (quoted: DSCP {as_tos})',
                setting.position,
            )


def check_groups(inv: Inventory, diags: Diagnostics) -> None:
    """Registration groups: their size, and the entries they may hold."""
    for name, group in inv.registration_groups.items():
        entries = group.entries
        if len(entries) > MAX_GROUP_ENTRIES:
            diags.error(
                "group-too-long",
                f"registration group {name!r} has {len(entries)} entries; CIC allows at"
                f" most {MAX_GROUP_ENTRIES}",
                group.position,
            )
        kinds = [e.kind for e in entries]
        for kind, word in (("line", "Line"), ("dns_srv", "DNS SRV")):
            count = kinds.count(kind)
            if count > 1:
                diags.error(
                    "group-shape",
                    f"registration group {name!r} has {count} {word} entries; at most one",
                    group.position,
                )
            elif count == 1 and kinds[0] != kind:
                diags.error(
                    "group-shape",
                    f"registration group {name!r}: a {word} entry must be the first entry",
                    entries[kinds.index(kind)].position,
                )
        if "line" in kinds and "dns_srv" in kinds:
            diags.error(
                "group-shape",
                f"registration group {name!r} has both a Line and a DNS SRV entry; one"
                " group holds one or the other",
                group.position,
            )
        for entry in entries:
            if group.external and entry.kind not in ("manual", "dns_srv"):
                diags.error(
                    "external-group-entry",
                    f"external registration group {name!r} can hold only manual and DNS SRV"
                    f" entries, not {entry.kind.replace('_', ' ')}",
                    entry.position,
                )
            if entry.kind == "line" and entry.ref not in inv.lines:
                unknown(diags, "line", str(entry.ref), inv.lines, entry.position)
            if entry.kind == "managed_proxy" and entry.ref not in inv.managed_proxies:
                unknown(diags, "managed proxy", str(entry.ref), inv.managed_proxies, entry.position)


def check_srv_lines(inv: Inventory, diags: Diagnostics) -> None:
    """A DNS SRV entry looking up the site's domain over a transport no line has: the zone
    mipc writes has no SRV record for it (the records carry a line's port)."""
    transports = {line.transport for line in inv.lines.values()}
    domain = inv.site.domain.lower().rstrip(".")
    for name, group in inv.registration_groups.items():
        for entry in group.entries:
            looked_up = (entry.address or domain).lower().rstrip(".")
            if entry.kind != "dns_srv" or entry.transport in transports or looked_up != domain:
                continue
            diags.warning(
                "srv-without-line",
                f"registration group {name!r}: DNS SRV over {entry.transport}, but no line has"
                f" transport {entry.transport}, so {domain}.zone gets no SRV record for it"
                f" (its port is a line's): add a {entry.transport} line to lines:",
                entry.position,
            )
