"""A key=value family's data: ``vendor_templates/<family>/keys.yaml``, loaded and checked once.

Takes a family name and the inventory's overrides (its ``vendor_templates/``, gathered at
load); gives the family's :class:`Profile`. The file is found like a template (the inventory's
folder first, then the data shipped with mipc: :func:`mipc.render.templating.environment`), so
an administrator overrides it the same way. ``extends: <file>`` reads another data file first;
the family's mappings add to (or replace entries of) the ones it extends, other entries
replace. Every entry is checked against what the transforms
(:mod:`mipc.render.keyvalue.sections`) and the catalog know; a bad file is a
:class:`ProfileError` naming the file and the entry. Never imports release.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import jinja2
import yaml

from mipc.catalog.models import load_catalog
from mipc.render.keyvalue.hashes import SCHEMES
from mipc.render.keyvalue.kvfile import KEY
from mipc.render.keyvalue.profile import Profile, ProfileError, Scalar
from mipc.render.keyvalue.sections import (
    CONCEPTS,
    DEFAULT_NAMES,
    LINE_CONCEPTS,
    SECRET_CONCEPTS,
    SECTIONS,
    VALUE_NAMES,
)
from mipc.render.templating import Overrides, environment

__all__ = ["DATA_FILE", "load_profile", "read_data"]

#: The data file's name in a family's template folder.
DATA_FILE = "keys.yaml"

_MAPS = ("system_types", "custom_dirs", "transports", "line_modes", "languages", "port_modes")
_FIELDS = frozenset(
    {"display", "template", "sections", "keys", "syslog_modes", "values"}
    | {"limits", "minimums", "defaults", "firmware_aliases", "hashes", *_MAPS}
)
_MAX_EXTENDS = 8
_ALIAS = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


@functools.cache
def load_profile(family: str, override: Overrides | None = None) -> Profile:
    """The family's profile, read from its data file (once per process and overrides)."""
    doc, where = read_data(f"{family}/{DATA_FILE}", override)
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        raise ProfileError(f"{where}: unknown entries {unknown} (known: {sorted(_FIELDS)})")
    profile = Profile(
        family=family,
        display=_text(doc, "display", where),
        template=_text(doc, "template", where),
        sections=_sections(doc, where),
        keys=_keys(doc, where),
        syslog_modes=_strings(doc, "syslog_modes", where),
        values=_named(_strings(doc, "values", where), VALUE_NAMES, "values", where),
        limits=_numbers(doc, "limits", where),
        minimums=_numbers(doc, "minimums", where),
        defaults=_defaults(doc, where),
        firmware_aliases=_aliases(doc, where),
        hashes=_hashes(doc, where),
        source=where,
        **{name: _strings(doc, name, where) for name in _MAPS},
    )
    _check_facts(profile, where)
    return profile


def read_data(name: str, override: Overrides | None, depth: int = 0) -> tuple[dict[str, Any], str]:
    """The data file ``name`` (found like a template) merged over the files it extends, and
    where it was read; a :class:`ProfileError` when it is missing or not a YAML mapping."""
    env = environment(override)
    assert env.loader is not None  # environment() always sets its loader
    try:
        source, filename, _uptodate = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        raise ProfileError(f"data file {name} not found (vendor_templates/{name})") from None
    where = filename or name
    try:
        doc = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{where}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise ProfileError(f"{where}: must hold a mapping of entries")
    base = doc.pop("extends", None)
    if base is None:
        return doc, where
    if not isinstance(base, str) or depth >= _MAX_EXTENDS:
        raise ProfileError(f"{where}: extends must name one data file (and not loop)")
    merged, base_where = read_data(base, override, depth + 1)
    for field, value in doc.items():
        old = merged.get(field)
        both_maps = isinstance(old, dict) and isinstance(value, dict)
        merged[field] = {**old, **value} if both_maps else value  # type: ignore[dict-item]
    return merged, f"{where} (extending {base_where})"


def _get(doc: Mapping[str, Any], field: str, where: str) -> Any:
    if field not in doc:
        raise ProfileError(f"{where}: missing entry {field!r}")
    return doc[field]


def _text(doc: Mapping[str, Any], field: str, where: str) -> str:
    value = _get(doc, field, where)
    if not isinstance(value, str) or not value:
        raise ProfileError(f"{where}: {field} must be a non-empty string")
    return value


def _list(doc: Mapping[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = _get(doc, field, where)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"{where}: {field} must be a list of strings")
    return tuple(value)


def _mapping(doc: Mapping[str, Any], field: str, where: str) -> dict[str, Any]:
    value = _get(doc, field, where)
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ProfileError(f"{where}: {field} must be a mapping with string keys")
    return value


def _strings(doc: Mapping[str, Any], field: str, where: str) -> Mapping[str, str]:
    value = _mapping(doc, field, where)
    for key, item in value.items():
        if not isinstance(item, str):
            raise ProfileError(f"{where}: {field}.{key} must be a string (quote it: {str(item)!r})")
    return MappingProxyType(dict(value))


def _numbers(doc: Mapping[str, Any], field: str, where: str) -> Mapping[str, int]:
    value = _mapping(doc, field, where)
    for key, item in value.items():
        if key not in CONCEPTS:
            raise ProfileError(f"{where}: {field}.{key}: not a concept mipc writes")
        if type(item) is not int:
            raise ProfileError(f"{where}: {field}.{key} must be an integer")
    return MappingProxyType(dict(value))


def _named(value: Mapping[str, Any], names: frozenset[str], field: str, where: str) -> Any:
    """``value`` when it has exactly the entries ``names``."""
    missing, unknown = sorted(names - set(value)), sorted(set(value) - names)
    if missing or unknown:
        raise ProfileError(f"{where}: {field}: missing {missing}, unknown {unknown}")
    return value


def _sections(doc: Mapping[str, Any], where: str) -> tuple[str, ...]:
    sections = _list(doc, "sections", where)
    unknown = [name for name in sections if name not in SECTIONS]
    if unknown or len(set(sections)) != len(sections):
        raise ProfileError(
            f"{where}: sections must name each of {sorted(SECTIONS)} at most once "
            f"(unknown: {unknown})"
        )
    return sections


def _keys(doc: Mapping[str, Any], where: str) -> Mapping[str, str]:
    keys = _strings(doc, "keys", where)
    for concept, path in keys.items():
        if concept not in CONCEPTS:
            raise ProfileError(
                f"{where}: keys.{concept}: not a concept mipc writes (known: {sorted(CONCEPTS)})"
            )
        per_line = concept in LINE_CONCEPTS
        if ("{n}" in path) != per_line or not KEY.fullmatch(path.replace("{n}", "0")):
            raise ProfileError(
                f"{where}: keys.{concept}: {path!r} is not a key path"
                + (" with {n} for the line index" if per_line else " (no {n} outside line.*)")
            )
    if "type" not in keys:
        raise ProfileError(f"{where}: keys.type (the file's first key) is missing")
    return keys


def _defaults(doc: Mapping[str, Any], where: str) -> Mapping[str, Scalar]:
    value = _named(_mapping(doc, "defaults", where), DEFAULT_NAMES, "defaults", where)
    for name, item in value.items():
        if not isinstance(item, int | str):
            raise ProfileError(f"{where}: defaults.{name} must be a number, string or flag")
    return MappingProxyType(dict(value))


def _hashes(doc: Mapping[str, Any], where: str) -> Mapping[str, str]:
    """Concept -> the hash scheme its secret is written in (``md5-crypt``)."""
    value = _strings(doc, "hashes", where)
    for concept, scheme in value.items():
        if concept not in SECRET_CONCEPTS:
            raise ProfileError(
                f"{where}: hashes.{concept}: only {sorted(SECRET_CONCEPTS)} can be hashed"
            )
        if scheme not in SCHEMES:
            raise ProfileError(
                f"{where}: hashes.{concept}: unknown scheme {scheme!r} (known: {sorted(SCHEMES)})"
            )
    return value


def _aliases(doc: Mapping[str, Any], where: str) -> Mapping[str, tuple[str, ...]]:
    """Model id -> the other names its latest image is linked under at the web root."""
    value = _mapping(doc, "firmware_aliases", where)
    _models(tuple(value), where)
    aliases: dict[str, tuple[str, ...]] = {}
    for model, names in value.items():
        if not isinstance(names, list) or not all(_ALIAS.fullmatch(str(n)) for n in names):
            raise ProfileError(
                f"{where}: firmware_aliases.{model} must be a list of file names "
                "(letters, digits, '.', '_', '-')"
            )
        aliases[model] = tuple(str(n) for n in names)
    return MappingProxyType(aliases)


def _models(ids: tuple[str, ...], where: str) -> tuple[str, ...]:
    unknown = sorted(set(ids) - set(load_catalog().models))
    if unknown:
        raise ProfileError(f"{where}: unknown catalog models {unknown}")
    return ids


def _check_facts(p: Profile, where: str) -> None:
    """What the entries say of each other and of the catalog."""
    _models(tuple(p.system_types), where)
    catalog = load_catalog()
    missing = sorted(m.id for m in catalog.models.values() if m.family == p.family)
    missing = [mid for mid in missing if mid not in p.system_types]
    if missing:
        raise ProfileError(f"{where}: system_types has no value for models {missing}")
    foreign = sorted(m for m in p.firmware_aliases if catalog.models[m].family != p.family)
    if foreign:
        raise ProfileError(f"{where}: firmware_aliases: models {foreign} are not {p.family}")
    unknown = sorted(set(p.languages) - set(catalog.languages))
    if unknown:
        raise ProfileError(f"{where}: languages: unknown catalog languages {unknown}")
    if "language" in p.keys:
        models = [m for m in catalog.models.values() if m.family == p.family]
        unmapped = sorted({lang for m in models for lang in m.languages} - set(p.languages))
        if unmapped:
            raise ProfileError(f"{where}: languages: no value for catalog languages {unmapped}")
    for name, table in (("line.kind", p.line_modes), ("syslog.transport", p.syslog_modes)):
        if p.defaults[name] not in table:
            raise ProfileError(f"{where}: defaults.{name} {p.defaults[name]!r} is not in its table")
