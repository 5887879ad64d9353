"""The vendor rules on an effective phone: what its model can do with the values it inherits.

Rules whose inputs come from template and location layers (type, end of life, SRTP and TLS,
language, registrations, options) are reported once per combination of profile and template,
not once per phone made from the same template; the rest (MAC range and firmware, appearance
kinds, managed proxy location, address kind, line count) for every phone.

Takes an effective phone, the inventory, the catalog and which families use each option;
gives diagnostics placed by each value's provenance. Never imports the resolve, render or
release stages.
"""

from __future__ import annotations

from collections.abc import Mapping

from mipc.catalog.models import Catalog, version_key
from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.options import model_names, option_models
from mipc.model import EffectivePhone, Inventory
from mipc.rules.advisories import check_advisories

__all__ = ["check_phone", "phone_pos"]

Combo = tuple[str, str | None]


def phone_pos(inv: Inventory, phone: EffectivePhone) -> Position | None:
    """Where the phone is defined (the position of its name)."""
    setting = phone.settings.get("name")
    return setting.position if setting is not None else None


def _where(phone: EffectivePhone, key: str) -> Position | None:
    """Where the phone's value of ``key`` comes from."""
    setting = phone.settings.get(key)
    return setting.position if setting is not None else None


def _at(inv: Inventory, phone: EffectivePhone, key: str) -> Position | None:
    """Where the phone's value of ``key`` comes from, else where the phone is defined."""
    return _where(phone, key) or phone_pos(inv, phone)


def check_phone(
    phone: EffectivePhone,
    inv: Inventory,
    catalog: Catalog,
    families: Mapping[str, frozenset[str]],
    diags: Diagnostics,
    seen_combos: set[Combo],
) -> None:
    """Every vendor rule on one phone; ``seen_combos`` holds the profile and template
    combinations already checked (this phone's is added)."""
    combo = (phone.profile or phone.digest, phone.template)
    if combo not in seen_combos:
        seen_combos.add(combo)
        _model_rules(phone, inv, diags)
        _secure_media(phone, inv, diags)
        _support_rules(phone, inv, catalog.families[phone.family].single_registration, diags)
        _option_rules(phone, families, diags)
        check_advisories(phone, catalog, _what(phone), diags)
    if phone.mac is not None:
        _mac_rules(phone, inv, catalog, diags)
    family = catalog.families[phone.family]
    if not family.linked_appearances:
        _appearance_kinds(phone, inv, diags)
    _proxy_locations(phone, inv, diags)
    _address_kind(phone, inv, family.by_computer_name, diags)
    if family.one_appearance_per_line:
        _line_count(phone, inv, diags)


def _what(phone: EffectivePhone) -> str:
    """How a once-per-combination rule names what it is about."""
    return f"template {phone.template!r}" if phone.template else f"phone {phone.name!r}"


# --- once per combination -----------------------------------------------------------------


def _model_rules(phone: EffectivePhone, inv: Inventory, diags: Diagnostics) -> None:
    """The model takes the phone's type, and is still supported."""
    model = phone.model
    what = _what(phone)
    if phone.type not in model.types:
        diags.error(
            "workstation-only",
            f"{what}: the {model.display} is a workstation phone only; set type: workstation",
            _at(inv, phone, "type"),
        )
    if model.eol:
        diags.warning(
            "end-of-life",
            f"{what}: the {model.display} is end of life; Genesys no longer supports its"
            " firmware or provisioning",
            _at(inv, phone, "model"),
        )


def _secure_media(phone: EffectivePhone, inv: Inventory, diags: Diagnostics) -> None:
    """SRTP needs the model's support and a TLS registration."""
    if phone.audio_protocol != "srtp":
        return
    model = phone.model
    if not model.srtp:
        diags.error(
            "srtp-unsupported",
            f"{_what(phone)}: the {model.display} does not support SRTP; use audio_protocol: rtp",
            _at(inv, phone, "audio_protocol"),
        )
    elif not phone.secure:
        diags.error(
            "srtp-needs-tls",
            f"{_what(phone)}: SRTP needs a TLS registration, but registration group"
            f" {phone.registration_group!r} has none; use a group with a TLS entry",
            _at(inv, phone, "audio_protocol"),
        )


def _support_rules(
    phone: EffectivePhone, inv: Inventory, single_registration: bool, diags: Diagnostics
) -> None:
    """The model supports the phone's TLS, language and number of registrations
    (``single_registration``: the phone's family takes one)."""
    model = phone.model
    what = _what(phone)
    if phone.secure and not model.tls:
        diags.error(
            "tls-unsupported",
            f"{what}: the {model.display} does not support TLS; registration group"
            f" {phone.registration_group!r} uses TLS",
            _at(inv, phone, "registration_group"),
        )
    if phone.language not in model.languages:
        diags.error(
            "language-unsupported",
            f"{what}: the {model.display} does not support {phone.language}; its languages:"
            f" {', '.join(sorted(model.languages))}",
            _at(inv, phone, "language"),
        )
    if single_registration and phone.registrations:
        entries = {r.entry for r in phone.registrations}
        if len(entries) > 1:
            diags.error(
                "single-registration",
                f"{what}: the {model.display} takes a single registration, but group"
                f" {phone.registration_group!r} has {len(entries)} entries",
                _at(inv, phone, "registration_group"),
            )


def _option_rules(
    phone: EffectivePhone, families: Mapping[str, frozenset[str]], diags: Diagnostics
) -> None:
    """Options a template or the phone names for a family that ignores them."""
    model = phone.model
    what = _what(phone)
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
                _where(phone, key),
            )
        only = option_models().get(option)  # the speed dials: x-models in the schema
        if only is not None and model.id not in only and phone.family in (allowed or ()):
            diags.warning(
                "option-unused",
                f"{what}: speed dials exist on the {model_names(only)} only",
                _where(phone, key),
            )


# --- every phone --------------------------------------------------------------------------


#: MACs no phone has: the all-zero one names the provisioning server's default master file
#: (``000000000000.cfg``, which every unknown phone fetches), the all-ones one is broadcast.
RESERVED_MACS = {
    "000000000000": "the name of the default configuration every new phone fetches",
    "ffffffffffff": "the broadcast address",
}


def _mac_rules(phone: EffectivePhone, inv: Inventory, catalog: Catalog, diags: Diagnostics) -> None:
    """The MAC's vendor range, and the firmware that MAC range needs."""
    assert phone.mac is not None
    if phone.mac in RESERVED_MACS:
        diags.error(
            "reserved-mac",
            f"phone {phone.name!r}: {phone.mac} is not a phone's MAC ({RESERVED_MACS[phone.mac]});"
            " write the MAC on the phone's label, or leave the address out until it is known",
            _at(inv, phone, "address"),
        )
        return
    model = phone.model
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
            _at(inv, phone, "address"),
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
            _at(inv, phone, "firmware"),
        )


def _appearance_kinds(phone: EffectivePhone, inv: Inventory, diags: Diagnostics) -> None:
    """Shared and external appearances are for Polycom phones only (a family that takes no
    linked appearances)."""
    for app in phone.appearances:
        if app.kind != "private":
            diags.error(
                "polycom-only",
                f"phone {phone.name!r}: {app.kind} appearances are for Polycom phones"
                f" only, not the {phone.model.display}",
                phone_pos(inv, phone),
            )


def _proxy_locations(phone: EffectivePhone, inv: Inventory, diags: Diagnostics) -> None:
    """A managed proxy serves the phones of its own location."""
    for reg in phone.registrations:
        if reg.kind != "managed_proxy":
            continue
        proxy = next((p for p in inv.managed_proxies.values() if p.address == reg.address), None)
        if proxy is not None and proxy.location not in (None, phone.location):
            diags.error(
                "proxy-location",
                f"phone {phone.name!r} is in location {phone.location!r}, but managed proxy"
                f" {proxy.name!r} serves {proxy.location!r}; use a group for its location",
                _at(inv, phone, "registration_group"),
            )


def _address_kind(
    phone: EffectivePhone, inv: Inventory, by_computer_name: bool, diags: Diagnostics
) -> None:
    """The SIP Soft Phone is addressed by computer name, every other model by MAC
    (``by_computer_name``: the phone's family is)."""
    if by_computer_name and phone.mac is not None:
        diags.error(
            "softphone-address",
            f"phone {phone.name!r} is a SIP Soft Phone: its address is the full computer"
            " name (AgentPC1.lab.local), not a MAC",
            phone_pos(inv, phone),
        )
    if not by_computer_name and phone.computer_name is not None:
        diags.error(
            "hardware-address",
            f"phone {phone.name!r} ({phone.model.display}) is addressed by MAC, not by the"
            f" computer name {phone.computer_name!r}",
            phone_pos(inv, phone),
        )


def _line_count(phone: EffectivePhone, inv: Inventory, diags: Diagnostics) -> None:
    """A phone other than a Polycom has one appearance per line, a private one among them."""
    model = phone.model
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
