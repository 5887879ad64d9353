"""``mipc explain PHONE [INVENTORY]``: every effective setting and the layer it came from.

Takes an :class:`ExplainOptions`; gives the exit code (0 shown, 1 the inventory is invalid or
has no such phone, 2 it cannot be read) after reporting the diagnostics and the phone's
settings (JSON: ``phone``, ``settings`` and ``computed``). Never parses argv.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mipc.catalog.addresses import normalize_mac
from mipc.catalog.models import load_catalog
from mipc.cli.commands.validate import inventory_root
from mipc.cli.report import reporter
from mipc.diagnostics import InvalidInputError
from mipc.model import EffectivePhone, Inventory, Plan, Secret
from mipc.pipeline import default_inventory, validate
from mipc.pipeline.compile import Allowed
from mipc.pipeline.site import provisioning_credentials


@dataclass(frozen=True)
class ExplainOptions:
    """What ``mipc explain`` was asked."""

    phone: str
    inventory: Path | None = None
    only: str | None = None
    layer: str | None = None
    fmt: str = "text"
    quiet: bool = False
    show_secrets: bool = False
    secrets_dir: Path | None = None  # a folder outside the inventory with secret files
    firmware_store: Path | None = None  # the firmware store, maybe outside the inventory


def find_phone(plan: Plan, ident: str) -> EffectivePhone | None:
    """A phone by name, MAC in any notation, or computer name (case-insensitive)."""
    mac = normalize_mac(ident)
    for phone in plan.phones:
        if phone.name == ident or (mac is not None and phone.mac == mac):
            return phone
        if phone.computer_name is not None and phone.computer_name.lower() == ident.lower():
            return phone
    return None


def _show(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_show(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _show(v) for k, v in value.items()}
    return value


def _secret(secret: Secret | None, show: bool) -> str | None:
    if secret is None:
        return None
    return secret.value if show else "<redacted>"


#: What explain says of a phone without an address.
WAITING = "no address yet: waits for one, and gets no files until then"


def computed(phone: EffectivePhone, show_secrets: bool) -> dict[str, Any]:
    """Values the resolve stage derived from the settings."""
    zone = phone.time.zone
    return {
        "model": f"{phone.model.display} ({phone.model.id}, {phone.model.manufacturer})",
        "family": phone.family,
        "address": phone.address or WAITING,
        "registration_group": phone.registration_group,
        "registrations": [
            f"{r.entry}: {r.kind} {r.address}"
            + (f":{r.port}" if r.port else "")
            + f" {r.transport}"
            for r in phone.registrations
        ],
        "firmware": phone.firmware.version if phone.firmware else None,
        "time_zone": f"{zone.name} (UTC offset {zone.std_offset} s"
        + (f", DST {zone.dst_save} s" if zone.dst_offset is not None else ", no DST")
        + ")",
        "sntp_servers": list(phone.time.sntp_servers),
        "qos": f"RTP DSCP {phone.qos.rtp_dscp} (TOS {phone.qos.rtp_tos}),"
        f" SIP DSCP {phone.qos.sip_dscp} (TOS {phone.qos.sip_tos})",
        "admin_password": _secret(phone.admin_password, show_secrets),
        "appearances": [
            {
                "index": a.index,
                "kind": a.kind,
                "station": a.station,
                "extension": a.extension,
                "label": a.label,
                "user": a.user,
                "auth_user": a.auth_user,
                "auth_password": _secret(a.auth_password, show_secrets),
                "registration_group": a.registration_group,
            }
            for a in phone.appearances
        ],
    }


def notes(phone: EffectivePhone, inventory: Inventory) -> dict[str, str]:
    """What a setting's value does not say by itself, by key: firmware "latest" made
    another version by a pin in firmware.pins."""
    out: dict[str, str] = {}
    setting = phone.settings.get("firmware")
    if setting is not None and setting.value == "latest" and phone.firmware is not None:
        catalog = load_catalog()
        for name, version in inventory.firmware_pins.items():
            model = catalog.find_model(name)
            if model is not None and model.id == phone.model.id:
                where = inventory.firmware_pin_positions.get(name)
                out["firmware"] = f"pinned to {version} by firmware.pins" + (
                    f" ({where})" if where else ""
                )
    return out


def settings_rows(
    phone: EffectivePhone, opts: ExplainOptions, notes: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The settings ``--only`` and ``--layer`` select: key, value, layer, source (and note)."""
    rows: list[dict[str, Any]] = []
    for key in sorted(phone.settings):
        setting = phone.settings[key]
        if opts.only is not None and not fnmatch.fnmatchcase(key, opts.only):
            continue
        if opts.layer is not None and not fnmatch.fnmatchcase(setting.layer, opts.layer):
            continue
        rows.append(
            {
                "key": key,
                "value": _show(setting.value),
                "layer": setting.layer,
                "source": str(setting.position) if setting.position else "built-in",
            }
        )
        if key in notes:
            rows[-1]["note"] = notes[key]
    return rows


def explanation(
    phone: EffectivePhone, opts: ExplainOptions, notes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``phone``, ``settings`` and (without filters) the ``computed`` values."""
    unfiltered = opts.only is None and opts.layer is None
    return {
        "phone": phone.name,
        "settings": settings_rows(phone, opts, notes or {}),
        "computed": computed(phone, opts.show_secrets) if unfiltered else {},
    }


def as_text(phone: EffectivePhone, doc: Mapping[str, Any]) -> str:
    """The explanation for a person: a header, one row per setting, the computed values."""
    rows, extra = doc["settings"], doc["computed"]
    width = max((len(r["key"]) for r in rows), default=10)
    lines = [f"{phone.name}  {phone.model.display}  {phone.address or f'({WAITING})'}", ""]
    for r in rows:
        value = json.dumps(r["value"], ensure_ascii=False, sort_keys=True)
        note = f"  ({r['note']})" if "note" in r else ""
        lines.append(f"  {r['key']:<{width}}  {value}  [{r['layer']}] {r['source']}{note}")
    if extra:
        lines.append("")
        lines.append("computed:")
        for key, value in extra.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                lines.append(f"  {key}:")
                for item in value:
                    lines.append("    - " + ", ".join(f"{k}={v}" for k, v in item.items()))
            else:
                lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines)


def run_explain(opts: ExplainOptions) -> int:
    """Validate the inventory, find the phone, report; return the exit code."""
    target = opts.inventory if opts.inventory is not None else default_inventory()
    with reporter("explain", opts.fmt, quiet=opts.quiet) as out:
        result = validate(target, allowed=Allowed.of(opts.secrets_dir, opts.firmware_store))
        out.diagnostics(result.diagnostics, inventory_root(target))
        if result.plan is None:
            out.code = result.diagnostics.exit_code() or 1
            return out.code
        found = find_phone(result.plan, opts.phone)
        if found is None:
            raise InvalidInputError(
                f"no phone named or addressed {opts.phone!r}; `mipc export-csv` lists them"
            )
        doc = explanation(found, opts, notes(found, result.plan.inventory))
        credentials = provisioning_credentials(result.plan.inventory, found)
        if doc["computed"] and credentials is not None:
            user, password = credentials
            shown = password if opts.show_secrets else "<redacted>"
            doc["computed"].update(provisioning_user=user, provisioning_password=shown)
        out.result(doc, as_text(found, doc))
    return out.code
