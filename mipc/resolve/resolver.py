"""The resolve stage: effective settings per phone, with the layer that set each leaf.

Takes the assembled inventory (with its secrets, read by the load step), the catalog and the
render epoch (:func:`mipc.incremental.fingerprints.render_epoch`); gives the plan of effective
phones. Does no I/O and never imports the render or release stages.

Layers, weakest first: the catalog's defaults for the family and model →
``defaults:`` → the location chain → the template chain → the phone (its YAML entry, or its
CSV row). Layers are flat mappings, so stacking is a dictionary update; an explicit ``null``
was dropped when the layer was built, which returns the key to the value below.

The template and location chains, and everything derived from them (registrations, time,
firmware, options), are computed once per combination of model, location, template and
phone overrides, not once per phone.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from mipc.catalog.addresses import normalize_mac
from mipc.catalog.defaults import builtin_defaults
from mipc.catalog.models import Catalog, Firmware, Model
from mipc.catalog.phone_clock import fidelity_warning
from mipc.catalog.timezones import TimeZone, UnknownTimeZone, lookup
from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.assemble import flatten_settings, unflatten
from mipc.inventory.sources import secret_ref
from mipc.model import (
    Appearance,
    AppearanceSpec,
    EffectivePhone,
    Inventory,
    PhoneSpec,
    Plan,
    Qos,
    Registration,
    Secret,
    SecretRef,
    Setting,
    TimeSettings,
    chain,
)
from mipc.resolve import appearances
from mipc.resolve.digests import phone_digest, phone_key, profile_digest, secret_hash
from mipc.rules.names import did_you_mean, private_stations, station_names
from mipc.rules.references import dscp_value, pinned_models

DEFAULT_LOCATION = "<Default Location>"
IDENTITY = frozenset({"type", "manufacturer", "model"})
Flat = dict[str, Setting]


@cache
def catalog_layer(family: str, model_id: str) -> Mapping[str, Setting]:
    """The catalog's defaults for one model: the weakest layer."""
    d = builtin_defaults()
    out: Flat = {}
    for part in (
        d["all"],
        d["families"].get(family, {}),
        d["models"].get(model_id, {}),
    ):
        out.update(flatten_settings(part, "catalog", None, ()))
    return MappingProxyType(out)


@dataclass(frozen=True)
class _Combo:
    """What every phone of one model, location, template and override set shares."""

    settings: Mapping[str, Setting]
    registration_group: str
    registrations: tuple[Registration, ...]
    secure: bool
    audio_protocol: str
    firmware: Firmware | None
    language: str
    time: TimeSettings
    qos: Qos
    options: Mapping[str, Any]
    extra: Mapping[str, Any]
    config_files: tuple[str, ...]
    admin_password: Secret | None
    type: str
    digest: str


@dataclass(frozen=True)
class _Values:
    """Look-ups in one stack of settings: a leaf's value, and where it was set."""

    settings: Flat
    default: Position | None  # the phone's position, for a leaf no layer sets

    def value(self, key: str) -> Any:
        s = self.settings.get(key)
        return s.value if s is not None else None

    def pos(self, key: str) -> Position | None:
        s = self.settings.get(key)
        return s.position if s is not None else self.default


class Resolver:
    """Resolves every phone of an inventory; collects problems into diags."""

    def __init__(
        self, inventory: Inventory, catalog: Catalog, diags: Diagnostics, epoch: str
    ) -> None:
        self.inv = inventory
        self.catalog = catalog
        self.diags = diags
        self._templates: dict[str, Flat] = {}
        self._locations: dict[str, Flat] = {}
        self._combos: dict[tuple[Any, ...], _Combo | None] = {}
        self._groups: dict[str, tuple[Registration, ...]] = {}
        self._group_reprs: dict[str, str] = {}  # repr of each group's registrations (digests)
        self._models: dict[str | None, tuple[Model | None, tuple[str, Position | None] | None]]
        self._models = {}
        self._secrets: dict[SecretRef, Secret | None] = {}
        self._zones: dict[str, TimeZone | None] = {}
        self._zone_checks: set[tuple[str, str]] = set()  # (zone, family) checked for fidelity
        self._stations: dict[str, tuple[PhoneSpec, Any]] | None = None  # made when needed
        self._first: dict[str, PhoneSpec] = {}  # the first phone of each name
        for spec in inventory.phones:
            self._first.setdefault(spec.name, spec)
        self._pins = pinned_models(inventory, catalog)
        self._template_parents = {n: t.extends for n, t in inventory.templates.items()}
        # Every location but the default one hangs below <Default Location>.
        self._location_parents = {
            n: loc.parent if loc.parent is not None or n == DEFAULT_LOCATION else DEFAULT_LOCATION
            for n, loc in inventory.locations.items()
        }
        self.epoch = epoch

    # --- chains ------------------------------------------------------------------------

    def template_chain(self, name: str | None) -> Flat:
        """The template chain of ``name``, stacked (its own settings strongest)."""
        if name is None or name not in self.inv.templates:
            return {}
        cached = self._templates.get(name)
        if cached is not None:
            return cached
        out: Flat = {}
        for tmpl in reversed(chain(name, self._template_parents)):
            out.update(self.inv.templates[tmpl].layer)
        self._templates[name] = out
        return out

    def location_chain(self, name: str | None) -> Flat:
        """The location chain of ``name`` (or the default location), stacked."""
        name = name or DEFAULT_LOCATION
        cached = self._locations.get(name)
        if cached is not None:
            return cached
        out: Flat = {}
        for loc in reversed(chain(name, self._location_parents)):
            out.update(self.inv.locations[loc].layer)
        self._locations[name] = out
        return out

    # --- values ------------------------------------------------------------------------

    def group_registrations(self, name: str) -> tuple[Registration, ...]:
        """The servers a registration group registers with, its entries expanded in order."""
        cached = self._groups.get(name)
        if cached is not None:
            return cached
        group = self.inv.registration_groups[name]
        out: list[Registration] = []
        for i, entry in enumerate(group.entries, start=1):
            if entry.kind == "line":
                line = self.inv.lines[str(entry.ref)]
                out.extend(
                    Registration(i, "line", server.address, line.port, line.transport)
                    for server in self.inv.site.servers
                )
            elif entry.kind == "managed_proxy":
                proxy = self.inv.managed_proxies[str(entry.ref)]
                out.append(
                    Registration(i, "managed_proxy", proxy.address, proxy.port, proxy.transport)
                )
            elif entry.kind == "manual":
                out.append(
                    Registration(i, "manual", str(entry.address), entry.port, entry.transport)
                )
            else:
                domain = entry.address or self.inv.site.domain
                out.append(Registration(i, "dns_srv", domain, None, entry.transport))
        result = tuple(out)
        self._groups[name] = result
        self._group_reprs[name] = repr(result)
        return result

    def secret(self, ref: SecretRef, owner: str, position: Position | None) -> Secret | None:
        """The value of a secret the load step read; reports one that it could not read."""
        if ref in self._secrets:
            return self._secrets[ref]
        value = self.inv.secrets.values.get(ref)
        problem = self.inv.secrets.problems.get(ref)
        if problem is not None:
            self.diags.error("missing-secret", f"{owner}: {problem}", position)
        secret = Secret(value, ref.describe()) if value is not None else None
        self._secrets[ref] = secret
        return secret

    def zone(self, name: str, position: Position | None, family: str = "") -> TimeZone | None:
        """The time zone ``name``; reports an unknown one, and what a ``family`` phone will
        show wrong in the coming year (each once)."""
        if name in self._zones:
            found = self._zones[name]
            if found is not None and (found.name, family) not in self._zone_checks:
                self._zone_checks.add((found.name, family))
                if (warning := fidelity_warning(found, family)) is not None:
                    self.diags.warning("time-zone-approximate", warning, position)
            return found
        try:
            zone: TimeZone | None = lookup(name)
        except UnknownTimeZone as exc:
            hint = f"; did you mean {exc.suggestions[0]!r}?" if exc.suggestions else ""
            self.diags.error(
                "unknown-time-zone", f"time zone {name!r} is not known{hint}", position
            )
            zone = None
        self._zones[name] = zone
        return self.zone(name, position, family)

    # --- phones --------------------------------------------------------------------------

    def model_of(self, phone: PhoneSpec, tmpl: Flat) -> Model | None:
        """The phone's model, from its own identity over its template chain's."""
        if IDENTITY.isdisjoint(phone.layer):
            # Only the template chain names the model: one answer for all its phones.
            cached = self._models.get(phone.template)
            if cached is None:
                cached = self._models[phone.template] = self._model(tmpl)
        else:
            own = {k: v for k, v in phone.layer.items() if k in IDENTITY}
            cached = self._model({**tmpl, **own})
        found, problem = cached
        if problem is not None:
            self.diags.error("wrong-manufacturer", *problem)
            return None
        return found

    def _model(self, layered: Flat) -> tuple[Model | None, tuple[str, Position | None] | None]:
        """The model a layer names, or the wrong-manufacturer message and position."""
        model = layered.get("model")
        if model is None:
            return None, None  # reported by the check stage (no template, no model)
        maker = layered.get("manufacturer")
        found = self.catalog.find_model(str(model.value), str(maker.value) if maker else None)
        if maker is not None and (found is None or found.manufacturer != maker.value):
            # A manufacturer that contradicts the model (a phone's own over its template's):
            # said here, or the phone would drop out of the plan without a word.
            makers = [
                m
                for m in self.catalog.manufacturers
                if self.catalog.find_model(str(model.value), m)
            ]
            if not makers:
                return None, None  # an unknown model: reported by the check stage
            message = f"model {model.value!r} is made by {' and '.join(makers)}, not {maker.value}"
            return None, (message, maker.position)
        return found, None

    def combo(self, phone: PhoneSpec, model: Model, tmpl: Flat) -> _Combo | None:
        """What the phone shares with every phone of its model, location, template and
        overrides; None when that does not resolve (reported)."""
        overrides = (
            tuple(sorted((k, repr(v.value)) for k, v in phone.layer.items())) if phone.layer else ()
        )
        key = (model.id, phone.location or DEFAULT_LOCATION, phone.template, overrides)
        if key in self._combos:
            return self._combos[key]
        settings: Flat = dict(catalog_layer(model.family, model.id))
        settings.update(self.inv.defaults)
        settings.update(self.location_chain(phone.location))
        settings.update(tmpl)
        settings.update(phone.layer)
        result = self._compute(settings, model, phone)
        self._combos[key] = result
        return result

    def _group(self, values: _Values, owner: str) -> str | None:
        """The phone's main registration group; None (reported, or left to the check
        stage) when it is missing or external."""
        group = values.value("registration_group")
        if group is None:
            group = "<Default Registration Group>"
        if group not in self.inv.registration_groups:
            self.diags.error(
                "no-registration-group",
                f"{owner}: no registration group; set registration_group"
                f" (or define {group!r}){did_you_mean(group, self.inv.registration_groups)}",
                values.pos("registration_group"),
            )
            return None
        if self.inv.registration_groups[group].external:
            return None  # reported by the check stage
        return str(group)

    def _compute(self, settings: Flat, model: Model, phone: PhoneSpec) -> _Combo | None:
        errors = len(self.diags.errors)
        owner = f"template {phone.template!r}" if phone.template else f"phone {phone.name!r}"
        values = _Values(settings, phone.position)
        value, pos = values.value, values.pos
        group = self._group(values, owner)
        if group is None:
            return None
        registrations = self.group_registrations(group)
        firmware = self._firmware(model, value("firmware"), pos("firmware"), owner)
        language = self.catalog.language_id(str(value("language"))) or "English_United_States"
        zone = self.zone(str(value("time_zone")), pos("time_zone"), model.family)
        sntp = str(value("sntp_server"))
        servers = (
            tuple(s.address for s in self.inv.site.servers) if sntp == "ic-server" else (sntp,)
        )
        rtp = dscp_value(value("qos.rtp_dscp"))
        sip = dscp_value(value("qos.sip_dscp"))
        nested = unflatten(settings)
        config_files = value("config_files") or ()
        if isinstance(config_files, str):
            config_files = tuple(f.strip() for f in config_files.split(",") if f.strip())
        admin = secret_ref(value("admin_password"))
        admin_secret = self.secret(admin, owner, pos("admin_password")) if admin else None
        if zone is None or rtp is None or sip is None or len(self.diags.errors) > errors:
            return None
        digest = profile_digest(
            (
                self.epoch,
                repr(sorted((k, repr(v.value)) for k, v in settings.items())),
                repr(model),
                repr(firmware),
                repr(registrations),
                zone.posix or repr(zone),
                repr(servers),
                secret_hash(admin_secret),
            )
        )
        return _Combo(
            settings=MappingProxyType(settings),
            registration_group=group,
            registrations=registrations,
            secure=any(r.transport == "tls" for r in registrations),
            audio_protocol=str(value("audio_protocol")),
            firmware=firmware,
            language=language,
            time=TimeSettings(zone, servers, bool(value("time_overrides_dhcp"))),
            qos=Qos(rtp, sip),
            options=MappingProxyType(nested.get("options", {})),
            extra=MappingProxyType(nested.get("extra", {})),
            config_files=tuple(str(f) for f in config_files),
            admin_password=admin_secret,
            type=str(value("type")),
            digest=digest,
        )

    def _firmware(
        self, model: Model, wanted: Any, position: Position | None, owner: str
    ) -> Firmware | None:
        if not self.catalog.families[model.family].firmware:
            return None
        version = str(wanted or "latest")
        if version == "latest":
            version = self._pins.get(model.id, "latest")
        if version == "latest":
            found = self.catalog.latest_firmware(model.id)
        else:
            found = self.catalog.find_firmware(model.id, version)
        if found is None:
            known = ", ".join(f.version for f in self.catalog.firmware_for(model.id)) or "none"
            self.diags.error(
                "unknown-firmware",
                f"{owner}: firmware {version!r} is not listed for the {model.display}"
                f" (known: {known})",
                position,
            )
        return found

    def _station_table(self) -> dict[str, tuple[PhoneSpec, Any]]:
        """Each station's phone and private appearance (the first phone that defines it)."""
        if self._stations is None:
            self._stations = {}
            for phone in self.inv.phones:
                for station, app in private_stations(phone):
                    self._stations.setdefault(station, (phone, app))
        return self._stations

    def phone(self, spec: PhoneSpec) -> EffectivePhone | None:
        """The effective phone of ``spec``; None when it does not resolve."""
        tmpl = self.template_chain(spec.template)
        model = self.model_of(spec, tmpl)
        if model is None:
            return None
        combo = self.combo(spec, model, tmpl)
        if combo is None:
            return None
        mac = normalize_mac(spec.address) if spec.address else None
        computer = spec.address if spec.address and mac is None else None
        appearances = self._appearances(spec, combo)
        if appearances is None:
            return None
        layer = spec.origin_layer
        position = spec.position
        location = spec.location or DEFAULT_LOCATION
        own = {"name": Setting(spec.name, layer, position)}
        if spec.address is not None:
            own["address"] = Setting(mac or computer, layer, spec.address_position or position)
        if spec.template is not None:
            own["template"] = Setting(spec.template, layer, position)
        own["location"] = Setting(location, layer, position)
        settings = ChainMap(own, combo.settings)  # type: ignore[arg-type]
        key = phone_key(spec.name, mac, computer, appearances, self._group_reprs)
        return EffectivePhone(
            name=spec.name,
            model=model,
            type=combo.type,
            mac=mac,
            computer_name=computer,
            template=spec.template,
            location=location,
            registration_group=combo.registration_group,
            registrations=combo.registrations,
            secure=combo.secure,
            audio_protocol=combo.audio_protocol,
            firmware=combo.firmware,
            language=combo.language,
            time=combo.time,
            qos=combo.qos,
            appearances=appearances,
            options=combo.options,
            extra=combo.extra,
            config_files=combo.config_files,
            admin_password=combo.admin_password,
            settings=settings,
            digest=phone_digest(combo.digest, key),
            profile=combo.digest,
        )

    def _appearances(self, spec: PhoneSpec, combo: _Combo) -> tuple[Appearance, ...] | None:
        out: list[Appearance] = []
        # A phone that reuses another's name (an error of the check stage) takes its stations.
        names = iter(station_names(self._first.get(spec.name, spec)) or station_names(spec))
        calls = int(combo.options.get("calls_per_line_key", 4))
        lines = appearances.Lines(spec.name, combo.registration_group, combo.registrations, calls)
        owner = f"phone {spec.name!r}"
        for index, app in enumerate(spec.appearances, start=1):
            if app.kind == "shared":
                found = self._station_table().get(str(app.shared))
                if found is None:
                    return None  # reported by the check stage
                target = found[1]
                password = self._password(target, owner, app.position)
                out.append(appearances.shared(index, app, target, password, lines))
                continue
            if app.kind == "private":
                station = next(names)
                password = self._password(app, owner, app.position)
                out.append(appearances.private(index, app, station, password, lines))
                continue
            group = str(app.registration_group)
            if group not in self.inv.registration_groups:
                return None
            password = self._password(app, owner, app.position)
            registrations = self.group_registrations(group)
            out.append(appearances.external(index, app, password, registrations, lines))
        return tuple(out)

    def _password(
        self, app: AppearanceSpec, owner: str, position: Position | None
    ) -> Secret | None:
        """The password of an appearance, if it has one."""
        return self.secret(app.auth_password, owner, position) if app.auth_password else None


def resolve_plan(inventory: Inventory, catalog: Catalog, diags: Diagnostics, epoch: str) -> Plan:
    """Effective phones for every phone that resolves; problems go into diags.

    ``epoch``: what every phone's files depend on beyond its settings, part of every digest.
    """
    resolver = Resolver(inventory, catalog, diags, epoch)
    phones = []
    for spec in inventory.phones:
        effective = resolver.phone(spec)
        if effective is not None:
            phones.append(effective)
    phones.sort(key=lambda p: p.name)
    return Plan(inventory=inventory, phones=tuple(phones))
