"""Build the frozen model from a validated inventory document (and its CSV phone lists).

Inheritable settings become *layers*: flat mappings from a dotted key to a ``Setting`` that
remembers the layer name and source position. Mappings are flattened key by key; scalars,
lists, secrets and ``extra`` entries are leaves, so resolution can stack layers with plain
dictionary updates.

Takes the validated document and the phones of its CSV lists; gives the frozen
:class:`mipc.model.Inventory` (with the secrets it names read). Never imports the rules,
resolve, render or the pipeline.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mipc.diagnostics import Diagnostics, Position
from mipc.inventory.confine import Allowed
from mipc.inventory.load import Document, JsonPath
from mipc.inventory.sources import secret_ref, with_secrets
from mipc.model import (
    AppearanceSpec,
    GroupEntry,
    Inventory,
    Line,
    Location,
    ManagedProxy,
    PhoneSpec,
    RegistrationGroup,
    Server,
    Serving,
    ServingTls,
    Setting,
    Site,
    Template,
)

# Settings whose value is a mapping merged key by key (one level, or nested for options).
MERGED = frozenset({"qos", "options"})
# Keys inside options whose value is itself a mapping merged key by key.
OPTION_GROUPS = frozenset(
    {"emergency", "local_adapter", "port_ranges", "boot_server", "syslog", "vlan", "gains"}
)
SETTING_KEYS = frozenset(
    {
        "type",
        "manufacturer",
        "model",
        "registration_group",
        "audio_protocol",
        "firmware",
        "language",
        "time_zone",
        "sntp_server",
        "time_overrides_dhcp",
        "qos",
        "admin_password",
        "admin_password_changed_by_hand",
        "options",
        "extra",
        "config_files",
    }
)
DEFAULT_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}


def flatten_settings(
    data: Mapping[str, Any], layer: str, doc: Document | None, base: JsonPath
) -> dict[str, Setting]:
    """The inheritable settings of one entry as a flat layer."""
    out: dict[str, Setting] = {}
    positions: Mapping[JsonPath, Position] = doc.positions if doc is not None else {}
    for key in sorted(data):
        if key not in SETTING_KEYS:
            continue
        value = data[key]
        path = (*base, key)
        if value is None:
            continue  # explicit null: this layer does not set it
        if (key == "extra" or key in MERGED) and isinstance(value, Mapping):
            out.update(_flatten_mapping(key, value, layer, path, positions))
        else:
            out[key] = Setting(_freeze(value), layer, positions.get(path))
    return out


def _flatten_mapping(
    key: str,
    value: Mapping[str, Any],
    layer: str,
    path: JsonPath,
    positions: Mapping[JsonPath, Position],
) -> dict[str, Setting]:
    """The leaves of a setting merged key by key (``extra``, ``qos``, ``options`` and the
    option groups inside it), each under its dotted key."""
    out: dict[str, Setting] = {}
    for name in sorted(value):
        sub = value[name]
        if sub is None:
            continue
        if key == "options" and name in OPTION_GROUPS and isinstance(sub, Mapping):
            for leaf in sorted(sub):
                if sub[leaf] is not None:
                    out[f"{key}.{name}.{leaf}"] = Setting(
                        sub[leaf], layer, positions.get((*path, name, leaf))
                    )
        else:
            out[f"{key}.{name}"] = Setting(sub, layer, positions.get((*path, name)))
    return out


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    return value


def unflatten(settings: Mapping[str, Setting]) -> dict[str, Any]:
    """Nested plain values from a flat layer (for renderers and explain --format json)."""
    out: dict[str, Any] = {}
    for key in sorted(settings):
        value = settings[key].value
        head, _, rest = key.partition(".")
        if not rest:
            out[head] = value
        elif head == "extra":
            out.setdefault("extra", {})[rest] = value
        else:
            node = out.setdefault(head, {})
            parts = rest.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
    return out


def _appearance(data: Mapping[str, Any], path: JsonPath, doc: Document | None) -> AppearanceSpec:
    position = doc.positions.get(path) if doc is not None else None
    if "shared" in data:
        return AppearanceSpec(
            kind="shared",
            shared=str(data["shared"]),
            label=data.get("label"),
            line_keys=int(data.get("line_keys", 1)),
            position=position,
        )
    if "external" in data:
        ext = data["external"]
        auth = ext.get("auth") or {}
        return AppearanceSpec(
            kind="external",
            registration_group=str(ext["registration_group"]),
            identification_address=str(ext["identification_address"]),
            label=ext.get("label"),
            auth_user=auth.get("user"),
            auth_password=secret_ref(auth.get("password")),
            position=position,
        )
    auth = data.get("auth") or {}
    return AppearanceSpec(
        kind="private",
        extension=str(data["extension"]),
        label=data.get("label"),
        display_name=data.get("display_name"),
        station=data.get("station"),
        identification_address=data.get("identification_address"),
        auth_user=auth.get("user"),
        auth_password=secret_ref(auth.get("password")),
        sharable=bool(data.get("sharable", False)),
        line_keys=int(data.get("line_keys", 1)),
        position=position,
    )


def phone_from_yaml(index: int, data: Mapping[str, Any], doc: Document) -> PhoneSpec:
    """The phone entry of the ``index``-th item of ``phones``."""
    base: JsonPath = ("phones", index)
    appearances = tuple(
        _appearance(a, (*base, "appearances", i), doc)
        for i, a in enumerate(data.get("appearances") or ())
    )
    address = data.get("address")
    return PhoneSpec(
        name=str(data["name"]),
        template=data.get("template"),
        location=data.get("location"),
        address=str(address) if address is not None else None,
        appearances=appearances,
        layer=MappingProxyType(flatten_settings(data, "phone", doc, base)),
        position=doc.positions.get(base),
        origin="yaml",
        address_position=doc.positions.get((*base, "address")),
    )


def _entry(data: Mapping[str, Any], position: Position | None) -> GroupEntry:
    if "line" in data:
        return GroupEntry("line", ref=str(data["line"]), position=position)
    if "managed_proxy" in data:
        return GroupEntry("managed_proxy", ref=str(data["managed_proxy"]), position=position)
    if "manual" in data:
        m = data["manual"]
        transport = str(m.get("transport", "udp"))
        return GroupEntry(
            "manual",
            address=str(m["address"]),
            port=int(m.get("port", DEFAULT_PORTS[transport])),
            transport=transport,
            position=position,
        )
    srv = data.get("dns_srv") or {}
    return GroupEntry(
        "dns_srv",
        address=srv.get("domain"),
        transport=str(srv.get("transport", "udp")),
        position=position,
    )


def assemble(
    doc: Document, phone_lists: list[PhoneSpec], diags: Diagnostics, allowed: Allowed | None = None
) -> Inventory:
    """The frozen Inventory of a validated document and the phones read from its lists (its
    secret files read also from ``allowed.secrets_dir``)."""
    d = doc.data
    phones = [phone_from_yaml(i, p, doc) for i, p in enumerate(d.get("phones") or ())]
    phones.extend(phone_lists)
    firmware = d.get("firmware") or {}
    inventory = Inventory(
        root=str(doc.root),
        site=_site(d["site"]),
        # with no serving: section, its defaults are said at the URL that makes a site served
        serving=_serving(
            d.get("serving") or {},
            doc.positions.get(("serving",)) or doc.positions.get(("site", "provisioning_url")),
        ),
        lines=MappingProxyType(_lines(doc)),
        managed_proxies=MappingProxyType(_proxies(doc)),
        registration_groups=MappingProxyType(_groups(doc)),
        locations=MappingProxyType(_locations(doc)),
        templates=MappingProxyType(_templates(doc)),
        defaults=MappingProxyType(_defaults(doc)),
        phones=tuple(phones),
        firmware_store=firmware.get("store"),
        firmware_pins=MappingProxyType(dict(firmware.get("pins") or {})),
        digest=source_digest(doc),
        firmware_pin_positions=MappingProxyType(
            {
                name: doc.positions.get(("firmware", "pins", name))
                for name in firmware.get("pins") or {}
            }
        ),
    )
    return with_secrets(inventory, allowed)


def _site(s: Mapping[str, Any]) -> Site:
    """The site; provisioning and TFTP default to the first server's address."""
    servers = tuple(Server(str(x["name"]), str(x["address"])) for x in s["servers"])
    return Site(
        domain=str(s["domain"]),
        provisioning_url=str(s["provisioning_url"]),
        servers=servers,
        provisioning_address=str(s.get("provisioning_address") or servers[0].address),
        tftp_server=str(s.get("tftp_server") or servers[0].address),
        voicemail_number=s.get("voicemail_number"),
        dns_servers=tuple(s["dns_servers"]) if "dns_servers" in s else None,
        zone_serial=s.get("zone_serial"),
        vlan_option_encoding=str(s.get("vlan_option_encoding", "string")),
        time_server_option=int(s.get("time_server_option", 42)),
    )


def _serving(s: Mapping[str, Any], where: Position | None) -> Serving:
    """The ``serving:`` section, each key defaulting to :class:`Serving`'s; ``where`` it is."""
    default = Serving()
    return Serving(
        overrides=bool(s.get("overrides", default.overrides)),
        max_upload_bytes=int(s.get("max_upload_bytes", default.max_upload_bytes)),
        nginx_user=str(s.get("nginx_user", default.nginx_user)),
        nginx_group=s.get("nginx_group"),
        access=str(s.get("access", default.access)),
        user=s.get("user"),
        password=secret_ref(s.get("password")),
        staging=tuple(str(n) for n in s.get("staging") or ()),
        tls=_serving_tls(s.get("tls")),
        position=where,
        access_chosen="access" in s,
    )


def _serving_tls(t: Any) -> ServingTls | None:
    """``serving.tls``, when given (the schema requires certificate and key_path)."""
    if not isinstance(t, Mapping):
        return None
    certificate = secret_ref(t.get("certificate"))
    if certificate is None:
        return None
    return ServingTls(certificate, str(t.get("key_path")), secret_ref(t.get("client_ca")))


def _lines(doc: Document) -> dict[str, Line]:
    """The CIC lines by name."""
    return {
        name: Line(name, str(v["transport"]), int(v["port"]), doc.positions.get(("lines", name)))
        for name, v in sorted((doc.data.get("lines") or {}).items())
    }


def _proxies(doc: Document) -> dict[str, ManagedProxy]:
    """The managed proxies by name; the port defaults to the transport's."""
    return {
        name: ManagedProxy(
            name,
            str(v["address"]),
            int(v.get("port", DEFAULT_PORTS[str(v.get("transport", "udp"))])),
            str(v.get("transport", "udp")),
            v.get("location"),
            doc.positions.get(("managed_proxies", name)),
        )
        for name, v in sorted((doc.data.get("managed_proxies") or {}).items())
    }


def _groups(doc: Document) -> dict[str, RegistrationGroup]:
    """The registration groups by name, with their entries in order."""
    return {
        name: RegistrationGroup(
            name,
            v.get("type") == "external",
            tuple(
                _entry(e, doc.positions.get(("registration_groups", name, "registrations", i)))
                for i, e in enumerate(v["registrations"])
            ),
            doc.positions.get(("registration_groups", name)),
        )
        for name, v in sorted((doc.data.get("registration_groups") or {}).items())
    }


def _locations(doc: Document) -> dict[str, Location]:
    """The locations by name, each with its settings layer."""
    return {
        name: Location(
            name,
            v.get("parent"),
            MappingProxyType(flatten_settings(v, f"location {name}", doc, ("locations", name))),
            doc.positions.get(("locations", name)),
            tuple(str(n) for n in v.get("networks") or ()),
            tuple(v.get("dhcp_ranges") or ()),
            _proxy(v.get("provision_proxy")),
        )
        for name, v in sorted((doc.data.get("locations") or {}).items())
        if isinstance(v, Mapping) or v is None
        for v in [v or {}]
    }


def _proxy(p: Mapping[str, Any] | None) -> tuple[str, int] | None:
    """A location's provision proxy as (host, port); the port defaults to 80."""
    return (str(p["address"]), int(p.get("port", 80))) if p else None


def _templates(doc: Document) -> dict[str, Template]:
    """The templates by name, each with its settings layer."""
    return {
        name: Template(
            name,
            v.get("extends"),
            MappingProxyType(flatten_settings(v, f"template {name}", doc, ("templates", name))),
            doc.positions.get(("templates", name)),
        )
        for name, v in sorted((doc.data.get("templates") or {}).items())
        for v in [v or {}]
    }


def _defaults(doc: Document) -> dict[str, Setting]:
    """The inventory's defaults layer: the site's QoS, then ``defaults:``."""
    defaults: dict[str, Setting] = {}
    site_qos = doc.data["site"].get("qos")
    if site_qos:
        defaults.update(flatten_settings({"qos": site_qos}, "site", doc, ("site",)))
    defaults.update(
        flatten_settings(doc.data.get("defaults") or {}, "defaults", doc, ("defaults",))
    )
    return defaults


def source_digest(doc: Document) -> str:
    """sha256 of the inventory's sources: its YAML files and the phone lists they name."""
    h = hashlib.sha256()
    lists = [doc.root / str(entry) for entry in doc.data.get("phone_lists") or ()]
    for path in [*doc.files, *lists]:
        h.update(path.name.encode() + b"\0")
        with contextlib.suppress(OSError):
            h.update(Path(path).read_bytes())
    return h.hexdigest()
