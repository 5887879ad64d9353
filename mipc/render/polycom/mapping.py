"""The Polycom mapping: vendor knowledge as data, loaded and checked once.

Takes ``vendor_templates/polycom/mapping.yaml`` shipped with mipc and, when an inventory has
one, its own ``vendor_templates/polycom/mapping.yaml`` (or ``.yml`` / ``.json``; gathered at
load: :func:`mipc.render.templating.overrides`), which *extends* the shipped file: mappings
merge key by key (recursively), lists and values replace, and the ``options`` entries of an
option path the inventory names replace every shipped entry of that path, in the place of the
first (new paths go last; ``params: []`` writes nothing). Gives a frozen :class:`PolycomData`,
and :func:`option_params`, the parameters an effective phone's options write. Python keeps the
value transforms, registered by name (:data:`TRANSFORMS`); the data names them. Never imports
release or another stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from mipc.catalog.models import version_key
from mipc.inventory.schema import load_schema
from mipc.model import EffectivePhone
from mipc.render.base import registrar, set_explicitly
from mipc.render.polycom.generations import Generation, VersionRule, rule_pattern
from mipc.render.polycom.params import PolycomError, device_pairs, valid_key
from mipc.render.templating import Overrides, shipped_sources

__all__ = [
    "MAPPING_NAMES",
    "TRANSFORMS",
    "MappingError",
    "OptionRule",
    "PolycomData",
    "load_mapping",
    "option_params",
]

#: The file names an inventory's ``vendor_templates/polycom/`` may hold its mapping under.
MAPPING_NAMES = ("mapping.yaml", "mapping.yml", "mapping.json")

_ABSENT: Any = object()


class MappingError(PolycomError):
    """A Polycom mapping file is malformed (names the file and the entry)."""


@dataclass(frozen=True)
class OptionRule:
    """One entry of ``options``: an option path and the parameters it writes."""

    option: tuple[str, ...]
    params: tuple[str, ...]
    transform: str = "same"
    table: Mapping[Any, Any] | None = None
    value: Any = None
    when: tuple[str, ...] | None = None
    default: Any = _ABSENT
    accept: tuple[Any, ...] = ()
    warning: str | None = None


@dataclass(frozen=True)
class SoftKey:
    """An enhanced feature key of ``server/xic.cfg`` and the soft key that fires it."""

    name: str
    label: str
    action: str
    held: bool


Pairs = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class PolycomData:
    """Everything :mod:`mipc.render.polycom` knows about Polycom that is not a file shape."""

    source: str
    max_servers: int
    transports: Mapping[str, str]
    upload_dirs: Mapping[str, str]
    config_files_limits: tuple[int, int]
    """(characters per ``CONFIG_FILES`` item, characters in all)"""
    generations: tuple[Generation, ...]
    default_generation: Generation
    by_firmware: tuple[VersionRule, ...]
    unmapped: tuple[str, ...]
    accessories: Mapping[str, str]
    """catalog model id -> why a phone of that model gets no files of its own"""
    device_prefix: str
    device_enable: str
    device_suffix: str
    admin_password: str
    prov_credentials: tuple[str, ...]
    options: tuple[OptionRule, ...]
    sntp_resync_period: int
    srtp: Pairs
    vlan_priority: tuple[str, ...]
    group_server: Pairs
    server_params: Pairs
    soft_keys: tuple[SoftKey, ...]
    prompts: tuple[str, ...]
    voicemail: Pairs
    setup: Pairs


# --------------------------------------------------------------------------- transforms

Transform = Callable[[OptionRule, Any], Any]
TRANSFORMS: dict[str, Transform] = {}


#: ``@transform("boolean")`` registers a transform under the name the data uses.
transform = registrar(TRANSFORMS)


@transform("same")
def _same(rule: OptionRule, value: Any) -> Any:
    return value


@transform("boolean")
def _boolean(rule: OptionRule, value: Any) -> Any:
    return bool(value)


@transform("table")
def _table(rule: OptionRule, value: Any) -> Any:
    assert rule.table is not None  # checked on load
    if value not in rule.table:
        raise PolycomError(
            f"option {'.'.join(rule.option)}: value {value!r} is not in the Polycom table "
            f"({', '.join(map(str, rule.table))})"
        )
    return rule.table[value]


@transform("constant")
def _constant(rule: OptionRule, value: Any) -> Any:
    return rule.value


# --------------------------------------------------------------------------- applying


def _lookup(options: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = options
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _rule_pairs(
    rule: OptionRule, phone: EffectivePhone, warn: Callable[[str], None]
) -> list[tuple[str, Any]]:
    if rule.when is not None and _lookup(phone.options, rule.when) is _ABSENT:
        return []
    value = _lookup(phone.options, rule.option)
    if value is _ABSENT:
        if rule.default is _ABSENT:
            return []
        value = rule.default
    if rule.warning is not None:
        if value not in rule.accept:
            warn(f"{phone.name}: " + rule.warning.format(value=value))
        return []
    written = TRANSFORMS[rule.transform](rule, value)
    return [(param, written) for param in rule.params]


def option_params(
    data: PolycomData,
    phone: EffectivePhone,
    warn: Callable[[str], None],
    prov: tuple[str, str] | None = None,
) -> list[tuple[str, Any]]:
    """The parameters a phone's options, admin password and ``prov`` credentials write, in
    file order.

    ``device.*`` parameters come last, after ``device.set`` and each followed by its
    ``.set`` companion; an unmapped option the phone or a template sets is warned about.
    """
    pairs = [pair for rule in data.options for pair in _rule_pairs(rule, phone, warn)]
    if phone.admin_password is not None:
        pairs.append((data.admin_password, phone.admin_password.value))
    pairs.extend(zip(data.prov_credentials, prov or (), strict=False))
    out = [(k, v) for k, v in pairs if not k.startswith(data.device_prefix)]
    device = [(k, v) for k, v in pairs if k.startswith(data.device_prefix)]
    out += device_pairs(data.device_enable, data.device_suffix, device)
    for name in data.unmapped:
        if name in phone.options and set_explicitly(phone, name):
            warn(f"{phone.name}: option {name} has no Polycom parameter mipc knows; not written")
    return out


# --------------------------------------------------------------------------- loading


def _read(data: bytes, where: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        raw = json.loads(text) if where.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise MappingError(f"{where}: cannot be read ({exc})") from exc
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: is not a mapping of settings")
    return raw


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return over


def _merge_options(base: list[Any], over: list[Any], where: str) -> list[Any]:
    def path(entry: Any) -> Any:
        if not isinstance(entry, dict) or not isinstance(entry.get("option"), str):
            raise MappingError(f"{where}: every options entry needs an option path")
        return entry["option"]

    named = {path(entry) for entry in over}
    out: list[Any] = []
    placed: set[str] = set()
    for entry in base:
        name = path(entry)
        if name not in named:
            out.append(entry)
        elif name not in placed:
            placed.add(name)
            out.extend(e for e in over if path(e) == name)
    out.extend(e for e in over if path(e) not in placed)
    return out


_FIXED = ("max_servers", "generations", "default_generation")


def extend(shipped: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    """The shipped mapping extended by an inventory's (see the module docstring).

    ``max_servers`` and the firmware ``generations`` stay the shipped ones: which group files
    exist is also decided where no inventory mapping is read (the incremental build), so an
    inventory cannot change them.
    """
    for fixed in _FIXED:
        if fixed in override:
            raise MappingError(f"{where}: {fixed} cannot be overridden")
    merged: dict[str, Any] = _merge(shipped, {k: v for k, v in override.items() if k != "options"})
    if "options" in override:
        if not isinstance(override["options"], list):
            raise MappingError(f"{where}: options must be a list")
        merged["options"] = _merge_options(shipped["options"], override["options"], where)
    return merged


def _override_file(override: Overrides | None) -> tuple[str, bytes] | None:
    """Where the inventory's mapping is and its bytes, or None when it has none."""
    if override is None:
        return None
    found = [n for n in MAPPING_NAMES if override.has(f"polycom/{n}")]
    if len(found) > 1:
        folder = Path(override.folder) / "polycom"
        raise MappingError(f"{folder}: more than one mapping file ({found[0]} …)")
    if not found:
        return None
    where = str(Path(override.folder) / "polycom" / found[0])
    try:
        data = override.read(f"polycom/{found[0]}")
    except OSError as exc:
        raise MappingError(f"{where}: cannot be read ({exc})") from exc
    return (where, data) if data is not None else None


def load_mapping(override: Overrides | None = None) -> PolycomData:
    """The shipped mapping, extended by the inventory's ``polycom/mapping.*`` if present."""
    return _load(_override_file(override))


@cache
def _load(override: tuple[str, bytes] | None) -> PolycomData:
    shipped = shipped_sources()
    where = shipped.path("polycom/mapping.yaml")
    data = shipped.read("polycom/mapping.yaml")
    raw = _read(b"" if data is None else data, where)
    if override is None:
        return _build(raw, where)
    path, text = override
    return _build(extend(raw, _read(text, path), path), path)


# --------------------------------------------------------------------------- checking


class _Reader:
    """Typed access to one mapping document; every failure names the file and the key."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def fail(self, message: str) -> MappingError:
        """The error for a malformed entry."""
        return MappingError(f"{self.where}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], node: Any = None) -> Any:
        """``node[key]`` (``node`` defaults to the document), which must be a ``kind``."""
        node = self.raw if node is None else node
        if not isinstance(node, Mapping) or key not in node:
            raise self.fail(f"{key} is missing")
        value = node[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise self.fail(f"{key} has the wrong type ({type(value).__name__})")
        return value

    def param(self, key: Any) -> str:
        """A Polycom parameter name."""
        if not isinstance(key, str) or not valid_key(key):
            raise self.fail(f"{key!r} is not a Polycom parameter name")
        return key

    def pairs(self, value: Any, what: str) -> Pairs:
        """A list of [parameter, value] pairs."""
        if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 for p in value
        ):
            raise self.fail(f"{what} must be a list of [parameter, value] pairs")
        return tuple((self.param(k), v) for k, v in value)

    def strings(self, value: Any, what: str) -> tuple[str, ...]:
        """A list of strings."""
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{what} must be a list of strings")
        return tuple(value)


@cache
def _schema_options() -> frozenset[str]:
    return frozenset(load_schema()["$defs"]["options"]["properties"])


def _path(r: _Reader, text: Any, what: str) -> tuple[str, ...]:
    if not isinstance(text, str) or text.split(".")[0] not in _schema_options():
        raise r.fail(f"{what} {text!r} is not an option of the inventory schema")
    return tuple(text.split("."))


_RULE_KEYS = frozenset(
    ("option", "params", "transform", "table", "value", "when", "default", "accept", "warning")
)


def _rule(r: _Reader, entry: Any, tables: Mapping[str, Any]) -> OptionRule:
    if not isinstance(entry, dict) or set(entry) - _RULE_KEYS:
        raise r.fail(f"options entry {entry!r}: unknown keys {sorted(set(entry) - _RULE_KEYS)}")
    name = entry.get("option")
    where = f"option {name}"
    transform_name = entry.get("transform", "same")
    if transform_name not in TRANSFORMS:
        raise r.fail(f"{where}: unknown transform {transform_name!r} ({', '.join(TRANSFORMS)})")
    table = None
    if transform_name == "table":
        table = tables.get(str(entry.get("table")))
        if not isinstance(table, dict):
            raise r.fail(f"{where}: transform table needs `table`, one of {sorted(tables)}")
    if transform_name == "constant" and "value" not in entry:
        raise r.fail(f"{where}: transform constant needs `value`")
    warning = entry.get("warning")
    params = r.strings(entry.get("params", []), f"{where}: params")
    if warning is not None and (not isinstance(warning, str) or params):
        raise r.fail(f"{where}: a warning entry is text and writes no params")
    return OptionRule(
        option=_path(r, name, "option"),
        params=tuple(r.param(p) for p in params),
        transform=transform_name,
        table=MappingProxyType(table) if table is not None else None,
        value=entry.get("value"),
        when=_path(r, entry["when"], f"{where}: when") if "when" in entry else None,
        default=entry.get("default", _ABSENT),
        accept=tuple(entry.get("accept", ())),
        warning=warning,
    )


def _soft_keys(r: _Reader, keys: Iterable[Any]) -> tuple[SoftKey, ...]:
    return tuple(
        SoftKey(
            r.get("name", str, k),
            r.get("label", str, k),
            r.get("action", str, k),
            r.get("held", bool, k),
        )
        for k in keys
    )


def _version(r: _Reader, entry: Mapping[str, Any], key: str) -> tuple[int, ...] | None:
    if key not in entry:
        return None
    text = entry[key]
    if not isinstance(text, str) or not version_key(text):
        raise r.fail(f'{key} {text!r} is not a firmware version (write it quoted: "3.2")')
    return version_key(text)


def _generations(r: _Reader) -> tuple[Generation, ...]:
    out: list[Generation] = []
    for entry in r.get("generations", list):
        name = r.get("name", str, entry)
        start = _version(r, entry, "from")
        if start is None or (out and out[-1].end != start):
            raise r.fail(f"generation {name}: `from` must be where the previous one ends")
        folder = r.get("folder", str, entry)
        stock = r.strings(r.get("stock_files", list, entry), f"generation {name}: stock_files")
        out.append(Generation(name, start, _version(r, entry, "until"), folder, stock))
    if not out or out[-1].end is not None:
        raise r.fail("generations: the last generation has no `until`")
    return tuple(out)


def _default_generation(r: _Reader, generations: tuple[Generation, ...]) -> Generation:
    name = r.get("default_generation", str)
    found = next((g for g in generations if g.name == name), None)
    if found is None:
        raise r.fail(f"default_generation {name!r} is not one of the generations")
    return found


def _version_rules(r: _Reader, generations: tuple[Generation, ...]) -> tuple[VersionRule, ...]:
    starts = {g.start for g in generations}
    rules: list[VersionRule] = []
    for entry in r.get("by_firmware", list):
        param = r.get("param", str, entry)
        if not valid_key(param.rstrip(".").replace("*", "0")):
            raise r.fail(f"by_firmware: {param!r} is not a Polycom parameter name or prefix")
        start, end = _version(r, entry, "from"), _version(r, entry, "until")
        if {start, end} - {None} - starts:
            raise r.fail(f"by_firmware {param}: from/until must each be a generation's `from`")
        instead = entry.get("instead")
        if instead is not None and ("*" in param or not valid_key(str(instead).rstrip("."))):
            raise r.fail(f"by_firmware {param}: `instead` must be a name, and `param` no pattern")
        rules.append(VersionRule(param, rule_pattern(param), start, end, instead))
    return tuple(rules)


def _build(raw: Mapping[str, Any], where: str) -> PolycomData:
    r = _Reader(raw, where)
    generations = _generations(r)
    tables = r.get("tables", dict)
    device = r.get("device", dict)
    phone = r.get("phone", dict)
    server = r.get("server", dict)
    return PolycomData(
        source=where,
        max_servers=r.get("max_servers", int),
        transports=MappingProxyType(dict(r.get("transports", dict))),
        upload_dirs=MappingProxyType(dict(r.get("upload_dirs", dict))),
        config_files_limits=(
            r.get("item", int, r.get("config_files_limits", dict)),
            r.get("total", int, r.get("config_files_limits", dict)),
        ),
        generations=generations,
        default_generation=_default_generation(r, generations),
        by_firmware=_version_rules(r, generations),
        unmapped=tuple(
            n for n in r.strings(r.get("unmapped", list), "unmapped") if _path(r, n, "unmapped")
        ),
        device_prefix=r.get("prefix", str, device),
        device_enable=r.param(r.get("enable", str, device)),
        device_suffix=r.get("suffix", str, device),
        admin_password=r.param(r.get("admin_password", str)),
        prov_credentials=tuple(map(r.param, r.get("prov_credentials", list))),
        accessories=MappingProxyType(dict(r.get("accessories", dict))),
        options=tuple(_rule(r, e, tables) for e in r.get("options", list)),
        sntp_resync_period=r.get("sntp_resync_period", int, phone),
        srtp=r.pairs(r.get("srtp", list, phone), "phone.srtp"),
        vlan_priority=tuple(map(r.param, r.get("vlan_priority", list, phone))),
        group_server=r.pairs(r.get("group_server", list), "group_server"),
        server_params=r.pairs(r.get("params", list, server), "server.params"),
        soft_keys=_soft_keys(r, r.get("keys", list, server)),
        prompts=r.strings(r.get("prompts", list, server), "server.prompts"),
        voicemail=r.pairs(r.get("voicemail", list, server), "server.voicemail"),
        setup=r.pairs(r.get("setup", list), "setup"),
    )
