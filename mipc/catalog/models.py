"""The phone catalog: models, firmware, languages and MAC prefixes that mipc knows about.

The facts live in ``mipc/catalog/data/catalog.json`` (hand-checked against the CIC Managed IP Phones
administrator guide and the vendor references; every entry names its source). This module only
loads that file into frozen, typed objects and answers look-ups; it holds no vendor rules.

Names are matched exactly, after normalising case and whitespace (and also with all spaces
removed, so ``VVX 450`` and ``vvx450`` are the same name). Nothing is ever matched fuzzily;
:meth:`Catalog.suggest_models` offers close names for "did you mean" messages instead.

Takes the catalog's data file; gives the frozen :class:`Catalog` (its advisories read by
:mod:`mipc.catalog.advisories`). Imports nothing of mipc but :mod:`mipc.resources`,
:mod:`mipc.diagnostics` and the advisories reader.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mipc.catalog.advisories import Advisories, read_advisories
from mipc.catalog.families import Family, read_families
from mipc.diagnostics import MipcError
from mipc.resources import catalog_data_dir

__all__ = [
    "Catalog",
    "CatalogError",
    "Firmware",
    "Model",
    "load_catalog",
    "version_key",
]

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^0-9a-z]+")


_MISSING = object()


class CatalogError(MipcError, ValueError):
    """The catalog data is malformed or inconsistent (a bug in ``catalog.json``)."""


@dataclass(frozen=True)
class Model:
    """One phone model as CIC offers it in its Manufacturer/Model lists."""

    id: str
    display: str
    manufacturer: str
    family: str
    aliases: tuple[str, ...]
    eol: bool
    line_keys: int
    srtp: bool
    tls: bool
    types: tuple[str, ...]
    languages: tuple[str, ...]
    polycom_token: str | None
    part_number: str | None
    firmware_image: str | None
    """The recovery image DHCP option 67 names (``420hd.img``), also the image's file name in
    the firmware store; None for a model that does not boot through option 67 (Polycom)."""
    min_firmware: Mapping[str, str] = field(hash=False)
    """MAC prefix (6 lower-case hex digits) -> lowest firmware version a phone in it needs."""
    mac_prefixes: tuple[str, ...]
    note: str = ""
    source: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The id, the display name and every alias, in that order, without repeats."""
        return tuple(dict.fromkeys((self.id, self.display, *self.aliases)))

    @property
    def full_name(self) -> str:
        """The fullest of its names (the longest; the first of equals): ``Interaction SIP
        Station I`` for ISS1, whose display, CIC's list label, is ``Interaction SIP Station``."""
        return max(self.names, key=len)


@dataclass(frozen=True)
class Firmware:
    """One firmware release from the guide's tables."""

    version: str
    family: str
    models: tuple[str, ...]
    note: str
    revision: str = ""
    """Revision the guide prints after the version (``Rev F``), or ``""``."""
    latest_for: tuple[str, ...] = ()
    source: str = ""

    @property
    def label(self) -> str:
        """The version as the guide prints it (``5.9.7.4477 Rev F``)."""
        return f"{self.version} {self.revision}" if self.revision else self.version


def version_key(version: str) -> tuple[int, ...]:
    """Numeric sort key of a firmware version: its runs of digits, in order.

    Letters and revision suffixes are ignored (``4.0.8c`` -> ``(4, 0, 8)``,
    ``4.0.8.2058.I`` -> ``(4, 0, 8, 2058)``), so ``4.0.8c < 4.0.8.2058 <= 4.0.8.2058.I``.
    """
    return tuple(int(part) for part in _DIGITS.findall(version))


def _norm(name: str) -> str:
    """Case-folded, trimmed, inner whitespace collapsed to one space."""
    return _SPACES.sub(" ", name.casefold()).strip()


def _keys(name: str) -> tuple[str, ...]:
    spaced = _norm(name)
    return tuple(dict.fromkeys((spaced, spaced.replace(" ", ""))))


def _word_key(name: str) -> str:
    return _NON_WORD.sub("_", name.casefold()).strip("_")


# --- typed readers for the JSON document ---------------------------------------------------


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise CatalogError(f"{where}: missing {key!r}")
    return obj[key]


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _get(obj, key, where)
    if not isinstance(value, str):
        raise CatalogError(f"{where}: {key!r} must be a string")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = _get(obj, key, where)
    if value is not None and not isinstance(value, str):
        raise CatalogError(f"{where}: {key!r} must be a string or null")
    return value


def _bool(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = _get(obj, key, where)
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: {key!r} must be true or false")
    return value


def _int(obj: Mapping[str, Any], key: str, where: str) -> int:
    value = _get(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogError(f"{where}: {key!r} must be an integer")
    return value


def _strs(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CatalogError(f"{what} must be a list of strings")
    return tuple(value)


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CatalogError(f"{what} must be an object")
    return value


class Catalog:
    """Read-only view of the catalog data with exact-name look-ups."""

    models: Mapping[str, Model]
    firmware: tuple[Firmware, ...]
    languages: Mapping[str, str]
    """Language id (Polycom ``lcl.ml.lang`` value) -> the name the guide uses."""
    language_tags: Mapping[str, str]
    """Language id -> BCP 47 tag (``en-US``)."""
    manufacturers: tuple[str, ...]
    mac_prefixes: Mapping[str, tuple[str, ...]]
    """Manufacturer -> its MAC prefixes (6 lower-case hex digits)."""
    advisories: Advisories
    """Security notices, known firmware issues, factory-default admin passwords."""
    families: Mapping[str, Family]
    """Family name -> what the guide says its phones can do."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._found: dict[tuple[str, str | None], Model | None] = {}
        makers = _obj(_get(data, "manufacturers", "catalog"), "manufacturers")
        prefixes: dict[str, tuple[str, ...]] = {}
        for maker in sorted(makers):
            entry = _obj(makers[maker], f"manufacturers.{maker}")
            prefixes[maker] = _strs(
                _get(entry, "mac_prefixes", f"manufacturers.{maker}"), f"{maker} mac_prefixes"
            )
        self.manufacturers = tuple(prefixes)
        self.mac_prefixes = MappingProxyType(prefixes)

        langs = _obj(_get(data, "languages", "catalog"), "languages")
        names: dict[str, str] = {}
        tags: dict[str, str] = {}
        for lang_id in sorted(langs):
            entry = _obj(langs[lang_id], f"languages.{lang_id}")
            names[lang_id] = _str(entry, "guide_name", f"languages.{lang_id}")
            tags[lang_id] = _str(entry, "tag", f"languages.{lang_id}")
        self.languages = MappingProxyType(names)
        self.language_tags = MappingProxyType(tags)

        raw_models = _obj(_get(data, "models", "catalog"), "models")
        self.models = MappingProxyType(
            {mid: self._read_model(mid, _obj(raw_models[mid], mid)) for mid in sorted(raw_models)}
        )
        raw_fw = _get(data, "firmware", "catalog")
        if not isinstance(raw_fw, list):
            raise CatalogError("firmware must be a list")
        self.firmware = tuple(
            self._read_firmware(i, _obj(item, f"firmware[{i}]")) for i, item in enumerate(raw_fw)
        )
        self.advisories = read_advisories(
            _get(data, "advisories", "catalog"),
            set(self.models),
            {m.family for m in self.models.values()},
        )
        self.families = read_families(
            _get(data, "families", "catalog"), {m.family for m in self.models.values()}
        )
        self._index_names()
        self._index_languages()
        self._check_firmware()

    # --- loading ---------------------------------------------------------------------------

    def _read_model(self, mid: str, raw: Mapping[str, Any]) -> Model:
        where = f"models.{mid}"
        maker = _str(raw, "manufacturer", where)
        if maker not in self.mac_prefixes:
            raise CatalogError(f"{where}: unknown manufacturer {maker!r}")
        langs_raw = _get(raw, "languages", where)
        if langs_raw == "all":
            langs = tuple(self.languages)
        else:
            langs = _strs(langs_raw, f"{where}.languages")
            unknown = sorted(set(langs) - set(self.languages))
            if unknown:
                raise CatalogError(f"{where}: unknown languages {unknown}")
        mins = _obj(_get(raw, "min_firmware", where), f"{where}.min_firmware")
        if not all(isinstance(v, str) for v in mins.values()):
            raise CatalogError(f"{where}: min_firmware values must be strings")
        if "mac_prefixes" in raw:
            model_prefixes = _strs(raw["mac_prefixes"], f"{where}.mac_prefixes")
        else:
            model_prefixes = self.mac_prefixes[maker]
        return Model(
            id=mid,
            display=_str(raw, "display", where),
            manufacturer=maker,
            family=_str(raw, "family", where),
            aliases=_strs(_get(raw, "aliases", where), f"{where}.aliases"),
            eol=_bool(raw, "eol", where),
            line_keys=_int(raw, "line_keys", where),
            srtp=_bool(raw, "srtp", where),
            tls=_bool(raw, "tls", where),
            types=_strs(_get(raw, "types", where), f"{where}.types"),
            languages=langs,
            polycom_token=_opt_str(raw, "polycom_token", where),
            part_number=_opt_str(raw, "part_number", where),
            firmware_image=_opt_str(raw, "firmware_image", where),
            min_firmware=MappingProxyType(dict(sorted(mins.items()))),
            mac_prefixes=model_prefixes,
            note=str(raw.get("note", "")),
            source=_str(raw, "source", where),
        )

    def _read_firmware(self, index: int, raw: Mapping[str, Any]) -> Firmware:
        where = f"firmware[{index}]"
        models = _strs(_get(raw, "models", where), f"{where}.models")
        latest = _strs(raw.get("latest_for", []), f"{where}.latest_for")
        unknown = sorted(set(models) - set(self.models))
        if unknown:
            raise CatalogError(f"{where}: unknown models {unknown}")
        if not set(latest) <= set(models):
            raise CatalogError(f"{where}: latest_for must be a subset of models")
        return Firmware(
            version=_str(raw, "version", where),
            family=_str(raw, "family", where),
            models=models,
            note=_str(raw, "note", where),
            revision=str(raw.get("revision", "")),
            latest_for=latest,
            source=str(raw.get("source", "")),
        )

    def _index_names(self) -> None:
        by_key: dict[tuple[str, str], set[str]] = {}
        for model in self.models.values():
            maker = model.manufacturer.casefold()
            for name in model.names:
                for key in _keys(name):
                    by_key.setdefault((maker, key), set()).add(model.id)
        clashes = {key: ids for key, ids in by_key.items() if len(ids) > 1}
        if clashes:
            raise CatalogError(f"model names clash within a manufacturer: {clashes}")
        self._by_key: dict[tuple[str, str], str] = {k: next(iter(v)) for k, v in by_key.items()}
        self._makers = {maker.casefold(): maker for maker in self.manufacturers}

    def _index_languages(self) -> None:
        index: dict[str, str] = {}
        for lang_id, guide_name in self.languages.items():
            for spelling in (lang_id, guide_name, self.language_tags[lang_id]):
                key = _word_key(spelling)
                if index.setdefault(key, lang_id) != lang_id:
                    raise CatalogError(f"language spelling {spelling!r} is ambiguous")
        self._languages_by_key = index

    def _check_firmware(self) -> None:
        latest: dict[str, list[str]] = {}
        by_model: dict[str, list[Firmware]] = {}
        for fw in self.firmware:
            for mid in fw.latest_for:
                latest.setdefault(mid, []).append(fw.version)
            for mid in fw.models:
                by_model.setdefault(mid, []).append(fw)
        doubled = {mid: versions for mid, versions in latest.items() if len(versions) > 1}
        if doubled:
            raise CatalogError(f"models with more than one latest firmware: {doubled}")
        self._firmware_by_model = {mid: tuple(fws) for mid, fws in by_model.items()}
        self._latest = {mid: versions[0] for mid, versions in latest.items()}

    # --- look-ups ---------------------------------------------------------------------------

    def _maker_keys(self, manufacturer: str | None) -> list[str] | None:
        if manufacturer is None:
            return [maker.casefold() for maker in self.manufacturers]
        maker = self._makers.get(_norm(manufacturer))
        return [maker.casefold()] if maker is not None else None

    def find_model(self, name: str, manufacturer: str | None = None) -> Model | None:
        """The model called ``name`` (id, display name or alias), or None.

        With ``manufacturer`` only that manufacturer's models count; without it a name that
        two manufacturers use (``420HD``) is ambiguous and gives None. Never fuzzy.
        """
        memo = self._found.get((name, manufacturer), _MISSING)
        if memo is not _MISSING:
            return memo  # type: ignore[return-value]
        result = self._find_model(name, manufacturer)
        self._found[(name, manufacturer)] = result
        return result

    def _find_model(self, name: str, manufacturer: str | None) -> Model | None:
        makers = self._maker_keys(manufacturer)
        if makers is None:
            return None
        found = {
            self._by_key[(maker, key)]
            for maker in makers
            for key in _keys(name)
            if (maker, key) in self._by_key
        }
        return self.models[found.pop()] if len(found) == 1 else None

    def suggest_models(self, name: str, manufacturer: str | None = None) -> list[str]:
        """Model ids whose names are close to ``name``, best first (for "did you mean")."""
        makers = self._maker_keys(manufacturer)
        if makers is None:
            makers = [maker.casefold() for maker in self.manufacturers]
        candidates: dict[str, str] = {}
        for (maker, key), mid in sorted(self._by_key.items()):
            if maker in makers:
                candidates.setdefault(key, mid)
        wanted = _norm(name)
        matches = difflib.get_close_matches(wanted, list(candidates), n=10, cutoff=0.6)
        matches += difflib.get_close_matches(wanted.replace(" ", ""), list(candidates), n=10)
        ordered = sorted(
            matches,
            key=lambda key: -difflib.SequenceMatcher(None, wanted, key).ratio(),
        )
        return list(dict.fromkeys(candidates[key] for key in ordered))[:5]

    def firmware_for(self, model_id: str) -> tuple[Firmware, ...]:
        """Every firmware listed for the model, newest first (the catalog's order)."""
        return self._firmware_by_model.get(model_id, ())

    def latest_firmware(self, model_id: str) -> Firmware | None:
        """The firmware the catalog marks as latest for the model (CIC's ``<Latest>``)."""
        version = self._latest.get(model_id)
        if version is None:
            return None
        return next(fw for fw in self.firmware_for(model_id) if fw.version == version)

    def find_firmware(self, model_id: str, version: str) -> Firmware | None:
        """The model's firmware with this version, written as printed, with or without its
        revision, note or a parenthesised remark (``5.9.7.4477``, ``5.9.7.4477 Rev F``,
        ``6.4.5.1251 (for New Hardware Revision)``); case and spacing are ignored."""
        wanted = _norm(version)
        bare = _norm(wanted.split("(", 1)[0])
        for fw in self.firmware_for(model_id):
            spellings = {_norm(fw.version), _norm(fw.label)}
            if wanted in spellings or bare in spellings:
                return fw
            if fw.note and wanted == _norm(f"{fw.label} {fw.note}"):
                return fw
        return None

    def manufacturer_of_prefix(self, mac12: str) -> tuple[str, ...]:
        """Manufacturers whose MAC prefix starts ``mac12`` (12 hex digits; separators and
        upper case are tolerated)."""
        mac = _NON_WORD.sub("", mac12.casefold())
        return tuple(
            maker
            for maker, prefixes in self.mac_prefixes.items()
            if any(mac.startswith(prefix) for prefix in prefixes)
        )

    def language_id(self, name: str) -> str | None:
        """The language id for an id (``English_United_States``), the guide's name
        (``English, United States``) or a BCP 47 tag (``en-US``); case-insensitive."""
        return self._languages_by_key.get(_word_key(name))

    def models_of(self, manufacturer: str) -> tuple[Model, ...]:
        """The manufacturer's models, by id."""
        makers = self._maker_keys(manufacturer)
        if not makers:
            return ()
        return tuple(m for m in self.models.values() if m.manufacturer.casefold() == makers[0])


def _read_data() -> Mapping[str, Any]:
    text = (catalog_data_dir() / "catalog.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise CatalogError("catalog.json must hold an object")
    return data


@functools.cache
def load_catalog() -> Catalog:
    """The packaged catalog, loaded once per process."""
    return Catalog(_read_data())
