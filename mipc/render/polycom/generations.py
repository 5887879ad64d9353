"""Polycom firmware generations: which parameter names a phone's firmware reads.

Takes the ``generations`` and ``by_firmware`` sections of the Polycom mapping (checked by
:mod:`.mapping`) and a firmware version; gives the phone's :class:`Generation` and, from the
parameters of a file, those that generation reads (renamed where it reads another name for
the same setting) and the names it cannot read. Knows no phone and no option; imports only
the catalog's version order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mipc.catalog.models import version_key

__all__ = ["Generation", "VersionRule", "adapt", "generation_of", "rule_pattern"]

Version = tuple[int, ...]


@dataclass(frozen=True)
class Generation:
    """A range of firmware versions that reads one set of parameter names."""

    name: str
    start: Version
    end: Version | None
    folder: str
    """Where this generation's shared files live ("" for the web root)."""
    stock_files: tuple[str, ...]
    """Polycom's own files of this firmware, served from the version's firmware folder."""

    def holds(self, version: Version) -> bool:
        """Whether ``version`` is in this generation's range."""
        return self.start <= version and (self.end is None or version < self.end)

    def path(self, name: str) -> str:
        """``name`` (a shared file's path) inside this generation's folder."""
        return f"{self.folder}/{name}" if self.folder else name


@dataclass(frozen=True)
class VersionRule:
    """One ``by_firmware`` entry: a parameter (or prefix) and the versions that read it."""

    param: str
    pattern: re.Pattern[str]
    start: Version | None
    end: Version | None
    instead: str | None

    def reads(self, generation: Generation) -> bool:
        """Whether firmware of ``generation`` reads the names this rule matches."""
        version = generation.start
        return (self.start is None or self.start <= version) and (
            self.end is None or version < self.end
        )


def rule_pattern(param: str) -> re.Pattern[str]:
    """The names a ``by_firmware`` ``param`` matches: a prefix when it ends in ``.``, ``*``
    standing for one number."""
    body = re.escape(param).replace(r"\*", r"\d+")
    return re.compile(body if param.endswith(".") else body + "$")


def generation_of(
    generations: Iterable[Generation], version: str | None, default: Generation
) -> Generation:
    """The generation of firmware ``version`` (``default`` when unknown or in no range)."""
    if version is None:
        return default
    key = version_key(version)
    return next((g for g in generations if g.holds(key)), default)


def _name_for(
    rules: tuple[VersionRule, ...], generation: Generation, key: str, depth: int = 0
) -> str | None:
    """The name ``generation`` reads for parameter ``key``, or None if it reads none."""
    for rule in rules:
        match = rule.pattern.match(key)
        if match is None:
            continue
        if rule.reads(generation):
            return key
        if rule.instead is None or depth > len(rules):
            return None
        renamed = rule.instead + key[match.end() :]
        return _name_for(rules, generation, renamed, depth + 1)
    return key


#: The name each generation reads for each parameter, per rule table (most parameters repeat
#: from phone to phone). Keyed by the table itself, which is a tuple of frozen rules.
_NAMES: dict[tuple[tuple[VersionRule, ...], Generation], dict[str, str | None]] = {}


def _names(rules: tuple[VersionRule, ...], generation: Generation) -> dict[str, str | None]:
    """The memo of :func:`_name_for` for one table and generation (a few per process)."""
    memo = _NAMES.get((rules, generation))
    if memo is None:
        if len(_NAMES) > 64:  # an override per inventory: keep the memo bounded
            _NAMES.clear()
        memo = _NAMES[(rules, generation)] = {}
    return memo


#: :func:`adapt_keys`' answers, by table (its id, the table kept to check it), generation
#: and names: a profile's phones write the same names, so each list is adapted once.
_KEYS: dict[tuple[int, Generation, tuple[str, ...]], tuple[object, Adapted]] = {}

Adapted = tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]
"""(the names kept or renamed, their places in the names given, the names left out)."""


def adapt_keys(
    rules: tuple[VersionRule, ...], generation: Generation, keys: tuple[str, ...]
) -> Adapted:
    """The names of ``keys`` as ``generation`` reads them (kept or renamed), where each was
    among ``keys``, and the names it reads none of."""
    key = (id(rules), generation, keys)
    hit = _KEYS.get(key)
    if hit is not None and hit[0] is rules:
        return hit[1]
    memo = _names(rules, generation)
    names: list[str] = []
    places: list[int] = []
    dropped: list[str] = []
    for place, name in enumerate(keys):
        try:
            read = memo[name]
        except KeyError:
            read = memo[name] = _name_for(rules, generation, name)
        if read is None:
            dropped.append(name)
        else:
            names.append(read)
            places.append(place)
    answer = (tuple(names), tuple(places), tuple(dropped))
    if len(_KEYS) > 4096:  # many shapes or overrides: keep the memo bounded
        _KEYS.clear()
    _KEYS[key] = (rules, answer)
    return answer


def adapt(
    rules: tuple[VersionRule, ...], generation: Generation, items: Iterable[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[str]]:
    """``items`` as ``generation`` reads them: (kept or renamed items, names left out), by
    :func:`adapt_keys` of their names."""
    pairs = list(items)
    names, places, dropped = adapt_keys(rules, generation, tuple(key for key, _ in pairs))
    return [(name, pairs[i][1]) for name, i in zip(names, places, strict=True)], list(dropped)
