"""The check stage: the rules no schema can say.

Takes the assembled inventory and the catalog (``check``: references, cycles, names,
registration group shape, uniqueness, addresses; the rules themselves live in
:mod:`mipc.rules.names` and :mod:`mipc.rules.references`), then the effective phones
(``check_phones``: vendor capabilities, where inherited values are known: SRTP, firmware,
languages, appearances, options). Gives diagnostics; every problem is collected, nothing stops
at the first. Never imports the resolve, render or release stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mipc.catalog.addresses import (
    is_computer_name,
    looks_like_mac,
    mac_problem,
    normalize_mac,
)
from mipc.catalog.models import Catalog, version_key
from mipc.diagnostics import Diagnostics, Position
from mipc.model import EffectivePhone, Inventory, PhoneSpec, Setting
from mipc.rules.names import (
    check_name,
    cycles,
    inherited,
    private_stations,
    unknown,
)
from mipc.rules.references import check_groups, check_layer_refs, check_pins, layers


def check(inventory: Inventory, catalog: Catalog, diags: Diagnostics) -> None:
    """Structural rules on the inventory."""
    inv = inventory
    for name, tmpl in inv.templates.items():
        check_name(diags, "template", name, tmpl.position)
        if tmpl.extends is not None and tmpl.extends not in inv.templates:
            unknown(diags, "template", tmpl.extends, inv.templates, tmpl.position)
    for name, group in inv.registration_groups.items():
        check_name(diags, "registration group", name, group.position)
    for loc in inv.locations.values():
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
    check_pins(inv, catalog, diags)
    # Each template's inherited manufacturer, looked up once rather than once per phone.
    makers = {name: inherited(inv, name, "manufacturer") for name in inv.templates}
    for layer, template in layers(inv):
        if layer:
            check_layer_refs(inv, catalog, layer, template, makers, diags)
    _check_phones(inv, makers, diags)


def _check_phones(inv: Inventory, makers: Mapping[str, Setting | None], diags: Diagnostics) -> None:
    names: dict[str, PhoneSpec] = {}
    addresses: dict[str, PhoneSpec] = {}
    extensions: dict[str, PhoneSpec] = {}
    stations: dict[str, PhoneSpec] = {}
    sharable: dict[str, PhoneSpec] = {}
    linking: list[PhoneSpec] = []  # phones with shared or external appearances
    for phone in inv.phones:
        pos = phone.position
        name = phone.name
        diags.subject = name
        template = phone.template
        private = private_stations(phone)
        if len(private) != len(phone.appearances):
            linking.append(phone)
        for station, app in private:
            if app.sharable:
                sharable[station] = phone
        check_name(diags, "phone", name, pos)
        if name in names:
            diags.error(
                "duplicate-phone",
                f"phone name {name!r} is used twice (also at {names[name].position}); rename one",
                pos,
            )
        else:
            names[name] = phone
        if template is not None and template not in inv.templates:
            unknown(diags, "template", template, inv.templates, pos)
        if phone.location is not None and phone.location not in inv.locations:
            unknown(diags, "location", phone.location, inv.locations, pos)
        if template is None and "model" not in phone.layer:
            diags.error(
                "no-model",
                f"phone {name!r} has neither a template nor a manufacturer and model; give one",
                pos,
            )
        address = phone.address
        if address is not None:
            key = normalize_mac(address)
            if key is None:
                if looks_like_mac(address) or not is_computer_name(address):
                    problem = (
                        mac_problem(address)
                        if looks_like_mac(address)
                        else f"{address!r} is neither a MAC address nor a computer name"
                    )
                    diags.error("bad-address", problem, phone.address_position or pos)
                    continue
                key = address.lower()
            if key in addresses:
                other = addresses[key]
                diags.error(
                    "duplicate-address",
                    f"address {address} of phone {name!r} is already used by phone"
                    f" {other.name!r} ({other.position}); each phone has its own",
                    phone.address_position or pos,
                )
            else:
                addresses[key] = phone
        maker = phone.layer.get("manufacturer")
        if maker is None and template is not None:
            maker = makers.get(template)
        if maker is not None and maker.value != "Polycom":
            for _, app in private:
                if app.label is not None:
                    diags.warning(
                        "label-not-polycom",
                        f"phone {name!r}: label {app.label!r} is ignored: labels are for"
                        f" Polycom phones only, and this phone is {maker.value}",
                        app.position or pos,
                    )
        for _, app in private:
            extension = app.extension
            if extension is None:
                continue
            if extension in extensions:
                other = extensions[extension]
                diags.error(
                    "duplicate-extension",
                    f"extension {extension} is already used by phone {other.name!r}"
                    f" ({other.position}); give each station its own extension",
                    app.position or pos,
                )
            else:
                extensions[extension] = phone
        for station, _ in private:
            if station in stations and stations[station].name != name:
                diags.error(
                    "duplicate-station",
                    f"station {station!r} is defined by phones {stations[station].name!r}"
                    f" and {name!r}; name the stations apart",
                    pos,
                )
            stations.setdefault(station, phone)
    for phone in linking:
        diags.subject = phone.name
        for app in phone.appearances:
            if app.kind == "shared" and app.shared is not None:
                if app.shared not in stations:
                    unknown(diags, "station", app.shared, stations, app.position)
                elif app.shared not in sharable:
                    diags.error(
                        "not-sharable",
                        f"station {app.shared!r} is not sharable; set sharable: true on its"
                        " appearance first",
                        app.position,
                    )
            if app.kind == "external" and app.registration_group is not None:
                group = inv.registration_groups.get(app.registration_group)
                if group is None:
                    unknown(
                        diags,
                        "registration group",
                        app.registration_group,
                        inv.registration_groups,
                        app.position,
                    )
                elif not group.external:
                    diags.error(
                        "not-external-group",
                        f"registration group {app.registration_group!r} is not external; an"
                        " external registration needs a group of type external",
                        app.position,
                    )
    diags.subject = ""


# --- rules on effective phones ------------------------------------------------------------

FAMILY_NAMES = {
    "polycom": "Polycom phones",
    "iss": "Interaction SIP Stations",
    "audiocodes": "AudioCodes and Genesys phones",
    "softphone": "the SIP Soft Phone",
}


def option_families(options_schema: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Which families use each option: the schema's ``x-families`` keyword on each option."""
    return {
        name: frozenset(node["x-families"])
        for name, node in options_schema.get("properties", {}).items()
        if "x-families" in node
    }


def check_phones(
    phones: Iterable[EffectivePhone],
    inv: Inventory,
    catalog: Catalog,
    families: Mapping[str, frozenset[str]],
    diags: Diagnostics,
) -> None:
    """Vendor rules on effective phones; positions come from each value's provenance."""
    seen_combos: set[tuple[str, str | None]] = set()
    try:
        for phone in phones:
            diags.subject = phone.name
            _check_phone(phone, inv, catalog, families, diags, seen_combos)
    finally:
        diags.subject = ""


def _check_phone(
    phone: EffectivePhone,
    inv: Inventory,
    catalog: Catalog,
    families: Mapping[str, frozenset[str]],
    diags: Diagnostics,
    seen_combos: set[tuple[str, str | None]],
) -> None:
    model = phone.model
    family = model.family

    def where(key: str, phone: EffectivePhone = phone) -> Position | None:
        setting = phone.settings.get(key)
        return setting.position if setting is not None else None

    # Rules whose inputs come from template/location layers are reported once per
    # combination, not once per phone made from the same template.
    combo = (phone.profile or phone.digest, phone.template)
    fresh = combo not in seen_combos
    seen_combos.add(combo)
    if fresh:
        _vendor_rules(phone, inv, families, diags, where)
    if phone.mac is not None:
        prefix = phone.mac[:6]
        if model.mac_prefixes and prefix not in model.mac_prefixes:
            makers = catalog.manufacturer_of_prefix(phone.mac)
            owner = f" (the {'/'.join(makers)} range)" if makers else ""
            diags.warning(
                "mac-vendor",
                f"phone {phone.name!r}: MAC {phone.mac} starts {prefix}{owner}, but"
                f" {model.manufacturer} phones start "
                + " or ".join(model.mac_prefixes)
                + "; check the address",
                where("address") or phone_pos(inv, phone),
            )
        minimum = model.min_firmware.get(prefix)
        if (
            minimum is not None
            and phone.firmware is not None
            and version_key(phone.firmware.version) < version_key(minimum)
        ):
            diags.error(
                "firmware-too-old",
                f"phone {phone.name!r}: MACs in {prefix[:2]}:{prefix[2:4]}:{prefix[4:]}"
                f" need firmware {minimum} or later on the {model.display};"
                f" {phone.firmware.version} is pinned",
                where("firmware") or phone_pos(inv, phone),
            )
    if family != "polycom":
        for app in phone.appearances:
            if app.kind != "private":
                diags.error(
                    "polycom-only",
                    f"phone {phone.name!r}: {app.kind} appearances are for Polycom phones"
                    f" only, not the {model.display}",
                    phone_pos(inv, phone),
                )
    for reg in phone.registrations:
        if reg.kind != "managed_proxy":
            continue
        proxy = next((p for p in inv.managed_proxies.values() if p.address == reg.address), None)
        if proxy is not None and proxy.location not in (None, phone.location):
            diags.error(
                "proxy-location",
                f"phone {phone.name!r} is in location {phone.location!r}, but managed proxy"
                f" {proxy.name!r} serves {proxy.location!r}; use a group for its location",
                where("registration_group") or phone_pos(inv, phone),
            )
    if family == "softphone" and phone.mac is not None:
        diags.error(
            "softphone-address",
            f"phone {phone.name!r} is a SIP Soft Phone: its address is the full computer"
            " name (AgentPC1.lab.local), not a MAC",
            phone_pos(inv, phone),
        )
    if family != "softphone" and phone.computer_name is not None:
        diags.error(
            "hardware-address",
            f"phone {phone.name!r} ({model.display}) is addressed by MAC, not by the"
            f" computer name {phone.computer_name!r}",
            phone_pos(inv, phone),
        )
    if family == "polycom":
        return
    if len(phone.appearances) > max(model.line_keys, 1):
        diags.error(
            "too-many-appearances",
            f"phone {phone.name!r}: the {model.display} has {model.line_keys} line(s), the"
            f" phone has {len(phone.appearances)} appearances; remove"
            f" {len(phone.appearances) - model.line_keys} or choose a model with more lines",
            phone_pos(inv, phone),
        )
    if not any(a.kind == "private" for a in phone.appearances):
        diags.warning(
            "no-appearance",
            f"phone {phone.name!r} has no station appearance; it will not register",
            phone_pos(inv, phone),
        )


def _vendor_rules(
    phone: EffectivePhone,
    inv: Inventory,
    families: Mapping[str, frozenset[str]],
    diags: Diagnostics,
    where: Any,
) -> None:
    model = phone.model
    what = f"template {phone.template!r}" if phone.template else f"phone {phone.name!r}"
    if phone.type not in model.types:
        diags.error(
            "workstation-only",
            f"{what}: the {model.display} is a workstation phone only; set type: workstation",
            where("type") or phone_pos(inv, phone),
        )
    if model.eol:
        diags.warning(
            "end-of-life",
            f"{what}: the {model.display} is end of life; Genesys no longer supports its"
            " firmware or provisioning",
            where("model") or phone_pos(inv, phone),
        )
    if phone.audio_protocol == "srtp":
        if not model.srtp:
            diags.error(
                "srtp-unsupported",
                f"{what}: the {model.display} does not support SRTP; use audio_protocol: rtp",
                where("audio_protocol") or phone_pos(inv, phone),
            )
        elif not phone.secure:
            diags.error(
                "srtp-needs-tls",
                f"{what}: SRTP needs a TLS registration, but registration group"
                f" {phone.registration_group!r} has none; use a group with a TLS entry",
                where("audio_protocol") or phone_pos(inv, phone),
            )
    if phone.secure and not model.tls:
        diags.error(
            "tls-unsupported",
            f"{what}: the {model.display} does not support TLS; registration group"
            f" {phone.registration_group!r} uses TLS",
            where("registration_group") or phone_pos(inv, phone),
        )
    if phone.language not in model.languages:
        diags.error(
            "language-unsupported",
            f"{what}: the {model.display} does not support {phone.language}",
            where("language") or phone_pos(inv, phone),
        )
    if phone.family != "polycom" and phone.registrations:
        entries = {r.entry for r in phone.registrations}
        if len(entries) > 1:
            diags.error(
                "single-registration",
                f"{what}: the {model.display} takes a single registration, but group"
                f" {phone.registration_group!r} has {len(entries)} entries",
                where("registration_group") or phone_pos(inv, phone),
            )
    warned: set[str] = set()
    for key in sorted(phone.settings):
        if not key.startswith("options."):
            continue
        option = key.split(".")[1]
        layer = phone.settings[key].layer
        # defaults: and locations apply to every family; only a template or a phone that
        # names an option for a family that ignores it deserves a warning.
        if (
            option in warned
            or layer in ("catalog", "defaults", "site")
            or layer.startswith("location")
        ):
            continue
        warned.add(option)
        allowed = families.get(option)
        if allowed is not None and phone.family not in allowed:
            diags.warning(
                "option-unused",
                f"{what}: option {option!r} does not apply to the {model.display}; it is ignored",
                where(key),
            )
        if option.startswith("speed_dial") and model.id != "ISS1" and phone.family == "iss":
            diags.warning(
                "option-unused",
                f"{what}: speed dials exist on the Interaction SIP Station I only",
                where(key),
            )


def phone_pos(inv: Inventory, phone: EffectivePhone) -> Position | None:
    setting = phone.settings.get("name")
    return setting.position if setting is not None else None
