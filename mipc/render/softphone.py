"""Renderer for the Interaction SIP Soft Phone: ``<full computer name>.i3sipcfg``.

The soft phone downloads ``<ConfigUrl>`` or, failing that, ``<option 160>/<full computer
name>.i3sipcfg`` (the guide's example: ``AgentPC1.lab.local.i3sipcfg``). The content format of
``.i3sipcfg`` is not public, so mipc writes a documented XML *profile*
(``vendor_templates/softphone/phone.i3sipcfg.j2``) carrying what the guide's Options tab
names: the registration list, SIP receive port, ring always, in-band call waiting tone, QoS,
diagnostic capture, local adapter network id / mask, RTP port ranges and emergency
information. An administrator who has the real format overrides the template with a
``vendor_templates/softphone/`` folder next to the inventory; the output must still be
well-formed XML (it is parsed back before it is accepted).

The file name is the computer name exactly as written in the inventory; it must be one path
component (no ``/``, ``\\``, ``..``). Soft phones get no firmware, and share no files.

Takes an effective phone and its plan; gives its file. Never imports release.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mipc.artifacts import Artifact, Artifacts
from mipc.model import EffectivePhone, Plan
from mipc.render.base import RenderError, register
from mipc.render.syntax import check_rendered
from mipc.render.templating import TemplateError, render_template

__all__ = ["SoftPhoneRenderer", "config_file_name"]

SUFFIX = ".i3sipcfg"
_DEFAULT_SIP_PORT = 5060
_DEFAULT_EXPIRES = 3600
_EMERGENCY_FIELDS = ("description", "location", "calling_party_number", "customer_name")


def config_file_name(phone: EffectivePhone) -> str:
    """``<full computer name>.i3sipcfg``; refuses anything but a single file name."""
    name = phone.computer_name
    if not name:
        raise RenderError(f"phone {phone.name}: a SIP Soft Phone needs its full computer name")
    if (
        name in {".", ".."}
        or ".." in name
        or any(sep in name for sep in "/\\")
        or not name.isprintable()
        or name != name.strip()
    ):
        raise RenderError(
            f"phone {phone.name}: computer name {name!r} cannot name a file "
            "(no '/', '\\', '..', control characters or surrounding spaces)"
        )
    return name + SUFFIX


def _flag(value: Any) -> str:
    return "true" if value else "false"


def _lines(phone: EffectivePhone) -> list[dict[str, Any]]:
    return [
        {
            "index": app.index,
            "kind": app.kind,
            "station": app.station,
            "extension": app.extension,
            "label": app.label,
            "display_name": app.display_name,
            "user": app.user,
            "auth_user": app.auth_user or app.user,
            "auth_password": app.auth_password.value if app.auth_password is not None else "",
        }
        for app in sorted(phone.appearances, key=lambda a: a.index)
    ]


def _registrations(phone: EffectivePhone) -> list[dict[str, Any]]:
    registrations = [
        {
            "entry": reg.entry,
            "kind": reg.kind,
            "address": reg.address,
            "port": reg.port,
            "transport": reg.transport,
        }
        for reg in phone.registrations
    ]
    if not registrations:
        raise RenderError(f"phone {phone.name}: no registration to write")
    return registrations


def _optional_blocks(phone: EffectivePhone) -> dict[str, Any]:
    """``port_range``, ``local_adapter`` and ``emergency``: each None when not set."""
    opts: Mapping[str, Any] = phone.options
    ranges = opts.get("port_ranges")
    port_range = None
    if isinstance(ranges, Mapping):
        start, end = int(ranges["start"]), int(ranges["end"])
        if start > end:
            raise RenderError(
                f"phone {phone.name}: port_ranges start {start} is above its end {end}"
            )
        port_range = {"start": start, "end": end}
    adapter = opts.get("local_adapter")
    local_adapter = None
    if isinstance(adapter, Mapping) and adapter:
        local_adapter = {
            "network_id": str(adapter.get("network_id", "")),
            "subnet_mask": str(adapter.get("subnet_mask", "")),
        }
    emergency_opt = opts.get("emergency")
    emergency = None
    if isinstance(emergency_opt, Mapping) and emergency_opt:
        emergency = {name: str(emergency_opt.get(name, "")) for name in _EMERGENCY_FIELDS}
    return {"port_range": port_range, "local_adapter": local_adapter, "emergency": emergency}


def _context(phone: EffectivePhone, file_name: str) -> dict[str, Any]:
    opts: Mapping[str, Any] = phone.options
    lines = _lines(phone)
    registrations = _registrations(phone)
    return {
        "phone": phone,
        "file_name": file_name,
        "computer_name": phone.computer_name,
        "general": {
            "ring_always": _flag(opts.get("ring_always", False)),
            "inband_call_waiting_tone": _flag(opts.get("inband_call_waiting_tone", False)),
            "sip_port": int(opts.get("sip_port", _DEFAULT_SIP_PORT)),
            "registration_expires": int(opts.get("registration_expires", _DEFAULT_EXPIRES)),
        },
        "audio": {
            "qos_enabled": _flag(opts.get("qos_enabled", True)),
            "rtp_dscp": phone.qos.rtp_dscp,
            "sip_dscp": phone.qos.sip_dscp,
            "diagnostic_capture": _flag(opts.get("diagnostic_capture", False)),
            "protocol": phone.audio_protocol,
        },
        "lines": lines,
        "registrations": registrations,
        **_optional_blocks(phone),
    }


@register("softphone")
class SoftPhoneRenderer:
    """SIP Soft Phone: one XML profile per computer, no firmware, nothing shared."""

    family = "softphone"

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        """The phone's ``<computer name>.i3sipcfg``, checked to be well-formed XML."""
        file_name = config_file_name(phone)
        override = str(Path(plan.inventory.root) / "vendor_templates")
        try:
            text = render_template(
                "softphone/phone.i3sipcfg.j2", _context(phone, file_name), override
            )
        except TemplateError as exc:
            raise RenderError(f"phone {phone.name}: {exc}") from exc
        where = f"phone {phone.name}: {file_name}"
        check_rendered("softphone/phone.i3sipcfg.j2", override, "xml", text, where)
        return {file_name: Artifact(data=text.encode("utf-8"), phones=(phone.name,))}

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """Nothing: soft phones share no files."""
        return {}
