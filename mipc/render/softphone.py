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

The soft phone's facts are data, not code: ``vendor_templates/softphone/defaults.yaml`` names
the template and the file suffix, the value of each option the phone has none for, and the
entries of ``options.emergency`` and ``options.local_adapter`` the template receives. It is
found like the template (an inventory's folder first), read and checked once per overrides
(:func:`load_softphone`); a bad file is a :class:`ProfileError` naming the file and the entry.

Takes an effective phone and its plan; gives its file. Reads no inventory file. Never imports
release.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mipc.artifacts import Artifact, Artifacts
from mipc.model import EffectivePhone, Plan
from mipc.render.base import RenderError, register
from mipc.render.keyvalue.data import read_data
from mipc.render.keyvalue.profile import ProfileError
from mipc.render.syntax import check_rendered
from mipc.render.templating import Overrides, TemplateError, overrides, render_template

__all__ = ["DATA_FILE", "SoftPhoneData", "SoftPhoneRenderer", "config_file_name", "load_softphone"]

#: The soft phone's data file, found like its template.
DATA_FILE = "softphone/defaults.yaml"

_FLAGS = frozenset({"ring_always", "inband_call_waiting_tone", "qos_enabled", "diagnostic_capture"})
_NUMBERS = frozenset({"sip_port", "registration_expires"})
_FIELDS = frozenset({"template", "suffix", "options", "emergency", "local_adapter"})
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class SoftPhoneData:
    """The soft phone's data file, checked."""

    template: str  # in vendor_templates/softphone/
    suffix: str  # appended to the computer name
    options: Mapping[str, bool | int]  # an option's value when the phone has none
    emergency: tuple[str, ...]  # the entries of options.emergency written
    local_adapter: tuple[str, ...]  # the entries of options.local_adapter written
    source: str  # where it was read


@functools.cache
def load_softphone(override: Overrides | None = None) -> SoftPhoneData:
    """The soft phone's data, read from its data file (once per process and overrides)."""
    doc, where = read_data(DATA_FILE, override)
    if set(doc) != _FIELDS:
        missing, unknown = sorted(_FIELDS - set(doc)), sorted(set(doc) - _FIELDS)
        raise ProfileError(f"{where}: missing entries {missing}, unknown entries {unknown}")
    return SoftPhoneData(
        template=_file_name(doc, "template", where),
        suffix=_file_name(doc, "suffix", where),
        options=_options(doc["options"], where),
        emergency=_names(doc, "emergency", where),
        local_adapter=_names(doc, "local_adapter", where),
        source=where,
    )


def _file_name(doc: Mapping[str, Any], field: str, where: str) -> str:
    value = doc[field]
    if not isinstance(value, str) or not value or any(c in value for c in "/\\") or ".." in value:
        raise ProfileError(f"{where}: {field} must be a file name (no '/', '\\', '..')")
    return value


def _options(value: Any, where: str) -> Mapping[str, bool | int]:
    if not isinstance(value, dict) or set(value) != _FLAGS | _NUMBERS:
        names = sorted(_FLAGS | _NUMBERS)
        raise ProfileError(f"{where}: options must give a value for each of {names}, no more")
    for name, item in value.items():
        if name in _FLAGS and not isinstance(item, bool):
            raise ProfileError(f"{where}: options.{name} must be true or false")
        if name in _NUMBERS and (type(item) is not int or not 0 < item < 65536):
            raise ProfileError(f"{where}: options.{name} must be a whole number, 1 to 65535")
    return MappingProxyType(dict(value))


def _names(doc: Mapping[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = doc[field]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and _NAME.fullmatch(v) for v in value)
        or len(set(value)) != len(value)
    ):
        raise ProfileError(f"{where}: {field} must list entry names (a_name), each once")
    return tuple(value)


def _override_dir(plan: Plan) -> Overrides | None:
    return overrides(plan.inventory.root, plan.inventory.files)


def config_file_name(phone: EffectivePhone, suffix: str) -> str:
    """``<full computer name><suffix>``; refuses anything but a single file name."""
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
    return name + suffix


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


def _optional_blocks(phone: EffectivePhone, data: SoftPhoneData) -> dict[str, Any]:
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
        local_adapter = {name: str(adapter.get(name, "")) for name in data.local_adapter}
    emergency_opt = opts.get("emergency")
    emergency = None
    if isinstance(emergency_opt, Mapping) and emergency_opt:
        emergency = {name: str(emergency_opt.get(name, "")) for name in data.emergency}
    return {"port_range": port_range, "local_adapter": local_adapter, "emergency": emergency}


def _context(phone: EffectivePhone, file_name: str, data: SoftPhoneData) -> dict[str, Any]:
    def option(name: str) -> Any:
        return phone.options.get(name, data.options[name])

    lines = _lines(phone)
    registrations = _registrations(phone)
    return {
        "phone": phone,
        "file_name": file_name,
        "computer_name": phone.computer_name,
        "general": {
            "ring_always": _flag(option("ring_always")),
            "inband_call_waiting_tone": _flag(option("inband_call_waiting_tone")),
            "sip_port": int(option("sip_port")),
            "registration_expires": int(option("registration_expires")),
        },
        "audio": {
            "qos_enabled": _flag(option("qos_enabled")),
            "rtp_dscp": phone.qos.rtp_dscp,
            "sip_dscp": phone.qos.sip_dscp,
            "diagnostic_capture": _flag(option("diagnostic_capture")),
            "protocol": phone.audio_protocol,
        },
        "lines": lines,
        "registrations": registrations,
        **_optional_blocks(phone, data),
    }


@register("softphone")
class SoftPhoneRenderer:
    """SIP Soft Phone: one XML profile per computer, no firmware, nothing shared."""

    family = "softphone"

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def prepare(self, plan: Plan) -> None:
        """Nothing: a phone's render draws nothing from the whole plan."""

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        """The phone's ``<computer name>.i3sipcfg``, checked to be well-formed XML."""
        override = _override_dir(plan)
        data = load_softphone(override)
        file_name = config_file_name(phone, data.suffix)
        try:
            text = render_template(
                f"softphone/{data.template}", _context(phone, file_name, data), override
            )
        except TemplateError as exc:
            raise RenderError(f"phone {phone.name}: {exc}") from exc
        where = f"phone {phone.name}: {file_name}"
        check_rendered(f"softphone/{data.template}", override, "xml", text, where)
        return {file_name: Artifact(data=text.encode("utf-8"), phones=(phone.name,))}

    def own_files(self, phone: EffectivePhone, plan: Plan) -> tuple[str, ...]:
        """The ``<computer name>.i3sipcfg`` :meth:`render_phone` writes."""
        return (config_file_name(phone, load_softphone(_override_dir(plan)).suffix),)

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """Nothing: soft phones share no files."""
        return {}
