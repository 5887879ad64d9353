"""The rules on the inventory's phone entries: names, references, addresses, extensions,
stations, and the shared and external appearances that link phones.

Every name, address, extension and station belongs to one phone; the first to claim it keeps
it, a later one is an error that names the first. A phone whose address is malformed gets no
further checks of its own (its labels, extensions and stations).

Takes the assembled inventory and each template's inherited manufacturer; gives diagnostics,
each with the phone it concerns as its subject. Never imports the resolve, render or release
stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mipc.catalog.addresses import is_computer_name, looks_like_mac, mac_problem, normalize_mac
from mipc.diagnostics import Diagnostics
from mipc.model import AppearanceSpec, Inventory, PhoneSpec, Setting
from mipc.rules.names import check_name, inherited, private_stations, unknown

__all__ = ["check_phone_entries"]

Stations = list[tuple[str, AppearanceSpec]]


@dataclass
class _Claims:
    """Who holds each name, address, extension and station, and who links to others."""

    names: dict[str, PhoneSpec] = field(default_factory=dict)
    addresses: dict[str, PhoneSpec] = field(default_factory=dict)
    extensions: dict[str, PhoneSpec] = field(default_factory=dict)
    stations: dict[str, PhoneSpec] = field(default_factory=dict)
    sharable: dict[str, PhoneSpec] = field(default_factory=dict)
    linking: list[PhoneSpec] = field(default_factory=list)
    """Phones with shared or external appearances."""


def check_phone_entries(
    inv: Inventory, makers: Mapping[str, Setting | None], diags: Diagnostics
) -> None:
    """Rules on every phone entry, then on the appearances that link phones."""
    claims = _Claims()
    # The templates whose chain names no model: a phone of one must name its own.
    modelless = {name for name in inv.templates if inherited(inv, name, "model") is None}
    for phone in inv.phones:
        diags.subject = phone.name
        private = private_stations(phone)
        if len(private) != len(phone.appearances):
            claims.linking.append(phone)
        for station, app in private:
            if app.sharable:
                claims.sharable[station] = phone
        _check_entry(inv, phone, claims, diags)
        _check_model(phone, modelless, diags)
        if not _check_address(phone, claims, diags):
            continue
        _check_labels(phone, private, makers, diags)
        _check_extensions(phone, private, claims, diags)
        _check_stations(phone, private, claims, diags)
    for phone in claims.linking:
        diags.subject = phone.name
        for app in phone.appearances:
            _check_link(inv, app, claims, diags)
    diags.subject = ""


def _check_entry(inv: Inventory, phone: PhoneSpec, claims: _Claims, diags: Diagnostics) -> None:
    """The phone's name, and what it refers to."""
    pos = phone.position
    name = phone.name
    template = phone.template
    check_name(diags, "phone", name, pos)
    if name in claims.names:
        diags.error(
            "duplicate-phone",
            f"phone name {name!r} is used twice (also at {claims.names[name].position});"
            " rename one",
            pos,
        )
    else:
        claims.names[name] = phone
    if template is not None and template not in inv.templates:
        unknown(diags, "template", template, inv.templates, pos)
    if phone.location is not None and phone.location not in inv.locations:
        unknown(diags, "location", phone.location, inv.locations, pos)


def _check_model(phone: PhoneSpec, modelless: set[str], diags: Diagnostics) -> None:
    """The phone names a model, or its template chain does (an unknown template is said
    already)."""
    if "model" in phone.layer:
        return
    if phone.template is None:
        diags.error(
            "no-model",
            f"phone {phone.name!r} has neither a template nor a manufacturer and model; give one",
            phone.position,
        )
    elif phone.template in modelless:
        diags.error(
            "no-model",
            f"phone {phone.name!r}: template {phone.template!r} (and the templates it"
            " extends) names no model; give the template or the phone a model",
            phone.position,
        )


def _check_address(phone: PhoneSpec, claims: _Claims, diags: Diagnostics) -> bool:
    """The phone's address: a MAC or a computer name no other phone has; False when it is
    neither (the phone's other checks are then left out)."""
    address = phone.address
    if address is None:
        return True
    where = phone.address_position or phone.position
    key = normalize_mac(address)
    if key is None:
        if looks_like_mac(address) or not is_computer_name(address):
            problem = (
                mac_problem(address)
                if looks_like_mac(address)
                else f"{address!r} is neither a MAC address nor a computer name"
            )
            diags.error("bad-address", problem, where)
            return False
        key = address.lower()
    if key in claims.addresses:
        other = claims.addresses[key]
        diags.error(
            "duplicate-address",
            f"address {address} of phone {phone.name!r} is already used by phone"
            f" {other.name!r} ({other.position}); each phone has its own",
            where,
        )
    else:
        claims.addresses[key] = phone
    return True


def _check_labels(
    phone: PhoneSpec,
    private: Stations,
    makers: Mapping[str, Setting | None],
    diags: Diagnostics,
) -> None:
    """Labels are for Polycom phones only."""
    maker = phone.layer.get("manufacturer")
    if maker is None and phone.template is not None:
        maker = makers.get(phone.template)
    if maker is None or maker.value == "Polycom":
        return
    for _, app in private:
        if app.label is not None:
            diags.warning(
                "label-not-polycom",
                f"phone {phone.name!r}: label {app.label!r} is ignored: labels are for"
                f" Polycom phones only, and this phone is {maker.value}",
                app.position or phone.position,
            )


def _check_extensions(
    phone: PhoneSpec, private: Stations, claims: _Claims, diags: Diagnostics
) -> None:
    """Each private extension belongs to one phone."""
    for _, app in private:
        extension = app.extension
        if extension is None:
            continue
        if extension in claims.extensions:
            other = claims.extensions[extension]
            diags.error(
                "duplicate-extension",
                f"extension {extension} is already used by phone {other.name!r}"
                f" ({other.position}); give each station its own extension",
                app.position or phone.position,
            )
        else:
            claims.extensions[extension] = phone


def _check_stations(
    phone: PhoneSpec, private: Stations, claims: _Claims, diags: Diagnostics
) -> None:
    """Each station is defined by one phone."""
    stations = claims.stations
    for station, _ in private:
        if station in stations and stations[station].name != phone.name:
            diags.error(
                "duplicate-station",
                f"station {station!r} is defined by phones {stations[station].name!r}"
                f" and {phone.name!r}; name the stations apart",
                phone.position,
            )
        stations.setdefault(station, phone)


def _check_link(inv: Inventory, app: AppearanceSpec, claims: _Claims, diags: Diagnostics) -> None:
    """A shared appearance names a sharable station; an external one an external group."""
    if app.kind == "shared" and app.shared is not None:
        if app.shared not in claims.stations:
            unknown(diags, "station", app.shared, claims.stations, app.position)
        elif app.shared not in claims.sharable:
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
