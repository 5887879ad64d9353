"""The catalog's advisories: vendor security notices and known firmware issues, as the guide
lists them, and each family's factory-default admin login.

Takes the ``advisories`` section of ``catalog/data/catalog.json``, the catalog's model ids and
its families;
gives frozen :class:`Advisories` (no rules: :mod:`mipc.rules.advisories` applies them).
Imports nothing of mipc but :mod:`mipc.diagnostics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mipc.diagnostics import MipcError

__all__ = [
    "Advisories",
    "FactoryAdmin",
    "FixedLine",
    "KnownIssue",
    "SecurityNotice",
    "read_advisories",
]


class AdvisoryDataError(MipcError, ValueError):
    """The advisories section of ``catalog.json`` is malformed (a bug in the catalog)."""


@dataclass(frozen=True)
class FixedLine:
    """The models of one firmware line and the release that fixes a notice on them.

    A version below ``below`` is affected (``below`` None: every version is); ``fixed`` is the
    release as the guide prints it, None while no fix exists (``mitigation`` says what to do).
    """

    models: frozenset[str]
    below: str | None
    fixed: str | None
    mitigation: str = ""


@dataclass(frozen=True)
class SecurityNotice:
    """One vendor security notice and the firmware lines it affects."""

    id: str
    title: str
    affects: str
    lines: tuple[FixedLine, ...]
    source: str


@dataclass(frozen=True)
class KnownIssue:
    """A known issue of a firmware on some models, triggered by an option's value."""

    id: str
    title: str
    models: frozenset[str]
    firmware: str
    option: str
    value: Any
    effect: str
    workaround: str
    source: str


@dataclass(frozen=True)
class FactoryAdmin:
    """A family's factory-default admin login, and whether mipc replaces it.

    ``password`` None: the family has no admin login at all (``why`` says so). ``written``:
    mipc writes ``admin_password`` into the family's files; when it cannot, ``why`` says why.
    """

    family: str
    user: str | None
    password: str | None
    written: bool
    why: str
    source: str

    @property
    def login(self) -> str:
        """The default as an administrator types it: ``admin/1234``, or ``456``."""
        return f"{self.user}/{self.password}" if self.user else str(self.password)


@dataclass(frozen=True)
class Advisories:
    """Every advisory of the catalog."""

    security: tuple[SecurityNotice, ...]
    known_issues: tuple[KnownIssue, ...]
    #: Family name -> its factory admin login; every family of the catalog has one.
    factory_admin: Mapping[str, FactoryAdmin]


def _field(raw: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in raw:
        raise AdvisoryDataError(f"advisories: {where}: missing {key!r}")
    value = raw[key]
    if not isinstance(value, kind):
        raise AdvisoryDataError(f"advisories: {where}: {key!r} has the wrong type")
    return value


def _models(raw: Mapping[str, Any], where: str, known: Set[str]) -> frozenset[str]:
    models = _field(raw, "models", where, list)
    unknown = sorted(set(models) - set(known))
    if unknown:
        raise AdvisoryDataError(f"advisories: {where}: unknown models {unknown}")
    return frozenset(models)


def _line(raw: Mapping[str, Any], where: str, known: Set[str]) -> FixedLine:
    below = _field(raw, "below", where, (str, type(None)))
    fixed = _field(raw, "fixed", where, (str, type(None)))
    mitigation = str(raw.get("mitigation", ""))
    if fixed is None and not mitigation:
        raise AdvisoryDataError(f"advisories: {where}: a line without a fix needs a mitigation")
    return FixedLine(_models(raw, where, known), below, fixed, mitigation)


def _notice(raw: Mapping[str, Any], known: Set[str]) -> SecurityNotice:
    where = str(raw.get("id", "?"))
    lines = _field(raw, "lines", where, list)
    return SecurityNotice(
        id=_field(raw, "id", where, str),
        title=_field(raw, "title", where, str),
        affects=_field(raw, "affects", where, str),
        lines=tuple(_line(line, f"{where}.lines[{i}]", known) for i, line in enumerate(lines)),
        source=_field(raw, "source", where, str),
    )


def _issue(raw: Mapping[str, Any], known: Set[str]) -> KnownIssue:
    where = str(raw.get("id", "?"))
    if "value" not in raw:
        raise AdvisoryDataError(f"advisories: {where}: missing 'value'")
    return KnownIssue(
        id=_field(raw, "id", where, str),
        title=_field(raw, "title", where, str),
        models=_models(raw, where, known),
        firmware=_field(raw, "firmware", where, str),
        option=_field(raw, "option", where, str),
        value=raw["value"],
        effect=_field(raw, "effect", where, str),
        workaround=_field(raw, "workaround", where, str),
        source=_field(raw, "source", where, str),
    )


def _factory(family: str, raw: Any) -> FactoryAdmin:
    where = f"factory_admin.{family}"
    if not isinstance(raw, dict):
        raise AdvisoryDataError(f"advisories: {where} must be an object")
    entry = FactoryAdmin(
        family=family,
        user=_field(raw, "user", where, (str, type(None))),
        password=_field(raw, "password", where, (str, type(None))),
        written=_field(raw, "written", where, bool),
        why=_field(raw, "why", where, str),
        source=_field(raw, "source", where, str),
    )
    if entry.password is None and entry.written:
        raise AdvisoryDataError(f"advisories: {where}: no admin login, so nothing to write")
    if not entry.written and not entry.why:
        raise AdvisoryDataError(f"advisories: {where}: say why mipc cannot write it")
    return entry


def _factory_admin(raw: Any, families: Set[str]) -> Mapping[str, FactoryAdmin]:
    if not isinstance(raw, dict) or set(raw) != set(families):
        raise AdvisoryDataError(
            f"advisories: factory_admin must give exactly the families {sorted(families)}"
        )
    return MappingProxyType({name: _factory(name, raw[name]) for name in sorted(raw)})


def read_advisories(raw: Any, models: Set[str], families: Set[str]) -> Advisories:
    """The advisories section (``raw``), checked against the catalog's model ids and
    families."""
    if not isinstance(raw, dict):
        raise AdvisoryDataError("advisories must be an object")
    security = _field(raw, "security", "advisories", list)
    issues = _field(raw, "known_issues", "advisories", list)
    return Advisories(
        security=tuple(_notice(item, models) for item in security),
        known_issues=tuple(_issue(item, models) for item in issues),
        factory_admin=_factory_admin(raw.get("factory_admin"), families),
    )
