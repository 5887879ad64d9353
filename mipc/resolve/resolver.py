"""The resolve stage: effective settings per phone, with the layer that set each leaf.

Layers, weakest first (DESIGN §3): the catalog's defaults for the family and model →
``defaults:`` → the location chain → the template chain → the phone (its YAML entry, or its
CSV row). Layers are flat mappings, so stacking is a dictionary update; an explicit ``null``
was dropped when the layer was built, which returns the key to the value below.

The template and location chains, and everything derived from them (registrations, time,
firmware, options), are computed once per combination of model, location, template and
phone overrides, not once per phone.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mipc.catalog.addresses import normalize_mac
from mipc.catalog.models import Catalog, Firmware, Model
from mipc.catalog.timezones import TimeZone, UnknownTimeZone, lookup
from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.assemble import flatten_settings, secret_ref, unflatten
from mipc.model import (
    Appearance,
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
)
from mipc.resources import catalog_data_dir
from mipc.rules.checks import (
    chain,
    did_you_mean,
    dscp_value,
    pinned_models,
    private_stations,
    station_names,
)

DEFAULT_LOCATION = "<Default Location>"
IDENTITY = frozenset({"type", "manufacturer", "model"})
Flat = dict[str, Setting]


@cache
def _builtin_defaults() -> dict[str, Any]:
    with (catalog_data_dir() / "defaults.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@cache
def catalog_layer(family: str, model_id: str) -> Mapping[str, Setting]:
    """The catalog's defaults for one model: the weakest layer."""
    d = _builtin_defaults()
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


class Resolver:
    """Resolves every phone of an inventory; collects problems into diags."""

    def __init__(self, inventory: Inventory, catalog: Catalog, diags: Diagnostics) -> None:
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
        self.epoch = render_epoch(inventory)

    # --- chains ------------------------------------------------------------------------

    def template_chain(self, name: str | None) -> Flat:
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
        if ref in self._secrets:
            return self._secrets[ref]
        value: str | None = None
        if ref.env is not None:
            value = os.environ.get(ref.env)
            if value is None:
                self.diags.error(
                    "missing-secret",
                    f"{owner}: environment variable {ref.env} is not set; export it before"
                    " the build",
                    position,
                )
        elif ref.file is not None:
            path = Path(self.inv.root) / ref.file
            try:
                value = path.read_text(encoding="utf-8")
                value = value[:-1] if value.endswith("\n") else value
                value = value[:-1] if value.endswith("\r") else value
            except (OSError, UnicodeDecodeError) as exc:
                self.diags.error(
                    "missing-secret",
                    f"{owner}: cannot read secret file {ref.file}: {getattr(exc, 'strerror', exc)}",
                    position,
                )
        secret = Secret(value, ref.describe()) if value is not None else None
        self._secrets[ref] = secret
        return secret

    def zone(self, name: str, position: Position | None) -> TimeZone | None:
        if name in self._zones:
            return self._zones[name]
        try:
            zone: TimeZone | None = lookup(name)
        except UnknownTimeZone as exc:
            hint = f"; did you mean {exc.suggestions[0]!r}?" if exc.suggestions else ""
            self.diags.error(
                "unknown-time-zone", f"time zone {name!r} is not known{hint}", position
            )
            zone = None
        self._zones[name] = zone
        return zone

    # --- phones --------------------------------------------------------------------------

    def model_of(self, phone: PhoneSpec, tmpl: Flat) -> Model | None:
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
        if found is not None and maker is not None and found.manufacturer != maker.value:
            message = f"model {model.value!r} is made by {found.manufacturer}, not {maker.value}"
            return None, (message, maker.position)
        return found, None

    def combo(self, phone: PhoneSpec, model: Model, tmpl: Flat) -> _Combo | None:
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

    def _compute(self, settings: Flat, model: Model, phone: PhoneSpec) -> _Combo | None:
        errors = len(self.diags.errors)
        owner = f"template {phone.template!r}" if phone.template else f"phone {phone.name!r}"

        def value(key: str) -> Any:
            s = settings.get(key)
            return s.value if s is not None else None

        def pos(key: str) -> Position | None:
            s = settings.get(key)
            return s.position if s is not None else phone.position

        group = value("registration_group")
        if group is None:
            group = "<Default Registration Group>"
        if group not in self.inv.registration_groups:
            self.diags.error(
                "no-registration-group",
                f"{owner}: no registration group; set registration_group"
                f" (or define {group!r}){did_you_mean(group, self.inv.registration_groups)}",
                pos("registration_group"),
            )
            return None
        if self.inv.registration_groups[group].external:
            return None  # reported by the check stage
        registrations = self.group_registrations(group)
        secure = any(r.transport == "tls" for r in registrations)
        firmware = self._firmware(model, value("firmware"), pos("firmware"), owner)
        language = self.catalog.language_id(str(value("language"))) or "English_United_States"
        zone = self.zone(str(value("time_zone")), pos("time_zone"))
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
        digest = hashlib.sha256(
            "\x1e".join(
                (
                    self.epoch,
                    repr(sorted((k, repr(v.value)) for k, v in settings.items())),
                    repr(model),
                    repr(firmware),
                    repr(registrations),
                    zone.posix or repr(zone),
                    repr(servers),
                    _secret_hash(admin_secret),
                )
            ).encode()
        ).hexdigest()
        return _Combo(
            settings=MappingProxyType(settings),
            registration_group=group,
            registrations=registrations,
            secure=secure,
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
        if model.family == "softphone":
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
        h = hashlib.sha256(combo.digest.encode())
        h.update(_phone_key(spec.name, mac, computer, appearances, self._group_reprs).encode())
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
            digest=h.hexdigest(),
            profile=combo.digest,
        )

    def _appearances(self, spec: PhoneSpec, combo: _Combo) -> tuple[Appearance, ...] | None:
        out: list[Appearance] = []
        # A phone that reuses another's name (an error of the check stage) takes its stations.
        names = iter(station_names(self._first.get(spec.name, spec)) or station_names(spec))
        calls = int(combo.options.get("calls_per_line_key", 4))
        owner = f"phone {spec.name!r}"
        for index, app in enumerate(spec.appearances, start=1):
            if app.kind == "private":
                station = next(names)
                extension = str(app.extension)
                label = app.label or (spec.name if index == 1 else extension)
                ident = app.identification_address
                user = (_user_part(ident) if ident else None) or extension
                password = (
                    self.secret(app.auth_password, owner, app.position)
                    if app.auth_password
                    else None
                )
                out.append(
                    Appearance(
                        index=index,
                        kind="private",
                        station=station,
                        extension=extension,
                        label=label,
                        display_name=app.display_name or label,
                        user=user,
                        auth_user=app.auth_user or (user if password else None),
                        auth_password=password,
                        line_keys=app.line_keys,
                        calls_per_line_key=calls,
                        registration_group=combo.registration_group,
                        registrations=combo.registrations,
                    )
                )
            elif app.kind == "shared":
                found = self._station_table().get(str(app.shared))
                if found is None:
                    return None  # reported by the check stage
                _owner_phone, target = found
                user = _user_part(target.identification_address) or str(target.extension)
                label = app.label or target.label or str(app.shared)
                password = (
                    self.secret(target.auth_password, owner, app.position)
                    if target.auth_password
                    else None
                )
                out.append(
                    Appearance(
                        index=index,
                        kind="shared",
                        station=str(app.shared),
                        extension=str(target.extension),
                        label=label,
                        display_name=target.display_name or label,
                        user=user,
                        auth_user=target.auth_user or (user if password else None),
                        auth_password=password,
                        line_keys=app.line_keys,
                        calls_per_line_key=1,
                        registration_group=combo.registration_group,
                        registrations=combo.registrations,
                    )
                )
            else:
                group = str(app.registration_group)
                if group not in self.inv.registration_groups:
                    return None
                user = _user_part(app.identification_address) or ""
                password = (
                    self.secret(app.auth_password, owner, app.position)
                    if app.auth_password
                    else None
                )
                label = app.label or user
                out.append(
                    Appearance(
                        index=index,
                        kind="external",
                        station="",
                        extension="",
                        label=label,
                        display_name=label,
                        user=user,
                        auth_user=app.auth_user or (user if password else None),
                        auth_password=password,
                        line_keys=app.line_keys,
                        calls_per_line_key=calls,
                        registration_group=group,
                        registrations=self.group_registrations(group),
                    )
                )
        return tuple(out)


def _phone_key(
    name: str,
    mac: str | None,
    computer: str | None,
    appearances: tuple[Appearance, ...],
    group_reprs: Mapping[str, str],
) -> str:
    """The phone's own part of its digest: identity and appearances (secrets by value).

    ``group_reprs``: the repr of each registration group's registrations, which are the
    registrations of every appearance that registers with the group.
    """
    parts = [name, mac or "", computer or ""]
    for a in appearances:
        parts += (
            a.kind,
            a.station,
            a.extension,
            a.label,
            a.display_name,
            a.user,
            a.auth_user or "",
            _secret_hash(a.auth_password) if a.auth_password is not None else "",
            str(a.line_keys),
            str(a.calls_per_line_key),
            a.registration_group,
            group_reprs[a.registration_group],
        )
    return "\x1f".join(parts)


def _secret_hash(secret: Secret | None) -> str:
    return hashlib.sha256(secret.value.encode()).hexdigest() if secret is not None else ""


def _tree_digest(h: Any, folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())


def render_epoch(inventory: Inventory) -> str:
    """What every phone's files depend on beyond its own settings.

    mipc's version, the site, and the overriding templates, custom files and certificates
    next to the inventory. Part of every phone digest, so a build or diff may trust an
    unchanged digest to mean unchanged files from the same mipc; what mipc ships (code,
    catalog data, templates) is the package's digest, recorded with each release, which the
    release store compares before it reuses anything.
    """
    from mipc import __version__

    h = hashlib.sha256(__version__.encode())
    h.update(repr(inventory.site).encode())
    h.update(repr(sorted(inventory.registration_groups.items())).encode())
    h.update(repr(sorted(inventory.lines.items())).encode())
    h.update(repr(sorted(inventory.managed_proxies.items())).encode())
    h.update(repr(inventory.firmware_store).encode())
    root = Path(inventory.root)
    for folder in (
        root / "vendor_templates",
        root / "custom_files",
        root / "certs",
    ):
        _tree_digest(h, folder)
    return h.hexdigest()


def _user_part(address: str | None) -> str | None:
    """The user part of an identification address: sip:7101@10.0.0.1:5060 → 7101."""
    if not address:
        return None
    text = address.strip()
    for prefix in ("sips:", "sip:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    return text.split("@", 1)[0].strip() or None


def resolve_plan(inventory: Inventory, catalog: Catalog, diags: Diagnostics) -> Plan:
    """Effective phones for every phone that resolves; problems go into diags."""
    resolver = Resolver(inventory, catalog, diags)
    phones = []
    for spec in inventory.phones:
        effective = resolver.phone(spec)
        if effective is not None:
            phones.append(effective)
    phones.sort(key=lambda p: p.name)
    return Plan(inventory=inventory, phones=tuple(phones))
