"""The guide's advisories on an effective phone: Polycom security notices its firmware is
affected by, known firmware issues its options trigger, and a factory-default admin login it
keeps (no ``admin_password``, or one its family's files cannot hold), unless the inventory
says it was changed by hand (``admin_password_changed_by_hand: true``).

Every rule here depends only on what a profile and template share (model, firmware,
options, admin password), so :mod:`mipc.rules.vendor` runs it once per combination. Takes an
effective phone and the catalog's advisories; gives warnings placed by each value's
provenance. Never imports the resolve, render or release stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mipc.catalog.advisories import Advisories, FactoryAdmin, FixedLine, SecurityNotice
from mipc.catalog.models import Catalog, version_key
from mipc.diagnostics import Diagnostics, Position
from mipc.model import EffectivePhone

__all__ = ["check_advisories"]


def check_advisories(
    phone: EffectivePhone, catalog: Catalog, what: str, diags: Diagnostics
) -> None:
    """Every advisory rule on one phone; ``what`` names the template or the phone."""
    advisories = catalog.advisories
    _security(phone, advisories, what, diags)
    _known_issues(phone, catalog, what, diags)
    _factory_admin(phone, advisories.factory_admin[phone.family], what, diags)


def _where(phone: EffectivePhone, *keys: str) -> Position | None:
    """Where the first of ``keys`` that the phone has a value for comes from."""
    for key in keys:
        setting = phone.settings.get(key)
        if setting is not None and setting.position is not None:
            return setting.position
    return None


def _affected(line: FixedLine, phone: EffectivePhone) -> bool:
    """The phone's model is in the line and its firmware below the fixed release. A line
    with no fixed release yet (the guide's Trio XSS/CSRF entry) warns no one: no pin can help,
    and the mitigation is the guide's to give."""
    if line.fixed is None or phone.firmware is None or phone.model.id not in line.models:
        return False
    return line.below is None or version_key(phone.firmware.version) < version_key(line.below)


def _security(phone: EffectivePhone, advisories: Advisories, what: str, diags: Diagnostics) -> None:
    """Security notices whose affected range holds the phone's firmware."""
    for notice in advisories.security:
        for line in notice.lines:
            if _affected(line, phone):
                diags.warning(
                    "security-notice",
                    _notice_message(notice, line, phone, what),
                    _where(phone, "firmware", "model", "name"),
                )


def _notice_message(
    notice: SecurityNotice, line: FixedLine, phone: EffectivePhone, what: str
) -> str:
    assert phone.firmware is not None
    head = (
        f"{what}: the {phone.model.display} on firmware {phone.firmware.label} is affected by"
        f" Polycom's security notice {notice.title!r} ({notice.id})"
    )
    if line.fixed is None:
        return f"{head}; {line.mitigation}"
    return f"{head}; pin firmware {line.fixed} or later (firmware.pins)"


def _option(options: Mapping[str, Any], path: str) -> Any:
    """The effective option at a dotted path, or None."""
    value: Any = options
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _known_issues(phone: EffectivePhone, catalog: Catalog, what: str, diags: Diagnostics) -> None:
    """Known issues of the phone's firmware that its options trigger."""
    for issue in catalog.advisories.known_issues:
        if phone.model.id not in issue.models or phone.firmware is None:
            continue
        if catalog.find_firmware(phone.model.id, issue.firmware) != phone.firmware:
            continue
        if _option(phone.options, issue.option) != issue.value:
            continue
        diags.warning(
            "known-issue",
            f"{what}: the {phone.model.display} on firmware {phone.firmware.label} with option"
            f" {issue.option!r} on: {issue.effect} ({issue.id}); {issue.workaround}",
            _where(phone, f"options.{issue.option}", "firmware", "model"),
        )


#: What to write in the inventory to replace a factory admin password.
_HOW = (
    "set admin_password: {env: MIPC_ADMIN_PASSWORD} (or {file: PATH}) under defaults:"
    " or in the template"
)


def _own_layer(layer: str) -> bool:
    """A layer about some phones only (a template, a phone, a CSV row), not the whole site
    or a location, whose settings apply to every family."""
    return layer.startswith("template") or layer in ("phone", "csv")


def _factory_admin(
    phone: EffectivePhone, factory: FactoryAdmin, what: str, diags: Diagnostics
) -> None:
    """A factory-default admin login the phone keeps, or an admin password it cannot take."""
    setting = phone.settings.get("admin_password")
    model = f"{phone.model.display} (family {phone.family})"
    if factory.password is None:
        if setting is not None and _own_layer(setting.layer):
            diags.warning(
                "admin-password-unused",
                f"{what}: admin_password is not written for the {model}: {factory.why}; remove it",
                setting.position,
            )
        return
    if factory.written and phone.admin_password is not None:
        return
    by_hand = phone.settings.get("admin_password_changed_by_hand")
    if by_hand is not None and by_hand.value is True:
        return  # the administrator changed it on the phones, and says so
    login = f"factory-default admin login {factory.login}"
    if factory.written:
        message = (
            f"{what}: the {model} keeps its {login}, which anyone who can reach it may use to"
            f" change its settings; {_HOW}"
        )
    else:
        head = (
            f"admin_password is not written for the {model}, which keeps its"
            if setting is not None
            else f"the {model} keeps its"
        )
        message = (
            f"{what}: {head} {login}: mipc cannot replace it, as {factory.why};"
            " change it on each phone's web interface, then set"
            " admin_password_changed_by_hand: true in the template"
        )
    where = setting.position if setting is not None else _where(phone, "model", "name")
    diags.warning("factory-admin-password", message, where)
