"""Renderers for the ``key=value`` families: AudioCodes / Genesys 400HD and Interaction SIP
Station I and II.

Every phone gets one ``<mac>.cfg`` (lower-case MAC, no separators): ``key=value`` lines, LF,
ASCII, no BOM, no comments, ``system/type=<MODEL>`` first. The keys are built here, in Python,
as an ordered mapping that refuses to set a key twice; the Jinja2 template
(``vendor_templates/<family>/phone.cfg.j2``, overridable per inventory) only lays them out, and
its output is parsed back strictly before it is accepted.

Vendor differences are data, not branches: :data:`AUDIOCODES` and :data:`ISS` map each
*concept* mipc knows (``sip.proxy_address``, ``dst.start.week`` ...) to the family's key path;
a concept a family has no key for is simply not written (and an option that therefore cannot
be written is reported once as a warning).

* AudioCodes / Genesys keys come from ``reference/audiocodes-genesys-iss.md`` (device exports,
  the AudioCodes manuals, sipXecs).
* The Interaction SIP Station file format is not public: :data:`ISS` is a documented *mipc
  profile* in the same slash-path family (ISS II is AudioCodes hardware, MAC 00:90:8F, so the
  shared concepts use the AudioCodes paths). See ``docs/keyvalue-and-softphone.md``; an
  administrator with the real format overrides ``vendor_templates/iss/phone.cfg.j2``.

Values: every value must be printable ASCII without ``=`` (a label, password or extra value
with a newline, a control character, ``=`` or a non-ASCII character is rejected with an error
naming the phone and the key, never written). Limits from the reference are enforced (line
``id`` 30 characters, ``auth_name`` / ``auth_password`` 35).

Firmware: ``render_shared`` links, from the inventory's firmware store, the images phones use
at ``firmware/<family>/<version>/<image>`` and the latest image of every model in use at the
web root under the guide's DHCP option 67 names (``420hd.img``, ``sip100.img`` ...). The store
is laid out like the release: ``<store>/<family>/<version>/<image>``. A missing image is a
warning, collected in :attr:`KeyValueRenderer.warnings`.

Custom ``config_files`` (CIC's ``CUSTOM::config_files``) are read from
``<inventory>/custom_files/<Manufacturer>/``, published at ``<Manufacturer>/<name>`` and their
keys merged into ``<mac>.cfg`` ahead of mipc's own (CIC has the phone fetch them before
``<MAC>.cfg``, so mipc's values win; a clash is a warning). ``extra:`` comes last; an extra
key that mipc already writes is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mipc.catalog.models import load_catalog
from mipc.catalog.timezones import Transition, format_hhmm
from mipc.model import Appearance, EffectivePhone, Plan, Registration
from mipc.render.base import (
    Artifact,
    Artifacts,
    KeyedFile,
    ProfileMemo,
    RenderError,
    register,
    set_explicitly,
)
from mipc.render.syntax import check_rendered, syntax
from mipc.render.templating import TemplateError, render_template

__all__ = [
    "AUDIOCODES",
    "ISS",
    "AudioCodesRenderer",
    "IssRenderer",
    "KeyValueFile",
    "KeyValueRenderer",
    "Profile",
    "RenderError",
    "check_value",
    "parse_strict",
]


_KEY = re.compile(r"[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_KV_FILE = re.compile(r"(?:[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*=[\x20-\x7e]*\n)*")


def check_value(value: Any, *, phone: str, key: str) -> str:
    """The text of a value for one ``key=value`` line, or a RenderError.

    Booleans become ``1``/``0``; everything else must be printable ASCII without ``=``.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise RenderError(f"phone {phone}: value of {key} has unsupported type {type(value)}")
    if value.isascii() and value.isprintable() and "=" not in value:
        return value  # the common case, decided in C: printable ASCII is 0x20-0x7e
    if not _PRINTABLE_ASCII.fullmatch(value):
        bad = next(ch for ch in value if not " " <= ch <= "~")
        raise RenderError(
            f"phone {phone}: value of {key} ({value!r}) contains {bad!r}; key=value files "
            "take printable ASCII only (no newline, control or non-ASCII character)"
        )
    if "=" in value:
        raise RenderError(
            f"phone {phone}: value of {key} ({value!r}) contains '='; the phone's parser "
            "is not known to accept it, so mipc refuses to write it"
        )
    return value


class KeyValueFile(KeyedFile):
    """An ordered ``key → value`` mapping that refuses a second write of a key."""

    checked: ClassVar[set[str]] = set()

    def __init__(self, phone: str) -> None:
        super().__init__()
        self.phone = phone

    def valid_key(self, key: str) -> bool:
        return _KEY.fullmatch(key) is not None

    def text(self, key: str, value: Any) -> str:
        return check_value(value, phone=self.phone, key=key)

    def bad_key(self, key: str) -> Exception:
        return RenderError(f"phone {self.phone}: {key!r} is not a valid key path")

    def twice(self, key: str) -> Exception:
        return RenderError(f"phone {self.phone}: key {key} would be written twice")

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def keys(self) -> list[str]:
        return list(self._items)


@syntax("key=value")
def parse_strict(text: str, where: str) -> dict[str, str]:
    """Parse a rendered ``key=value`` file strictly: LF, one ``=`` split, unique non-blank
    keys without spaces. Raises RenderError naming ``where`` and the line."""
    if text.startswith("\ufeff"):
        raise RenderError(f"{where}: starts with a byte order mark")
    if "\r" in text:
        raise RenderError(f"{where}: contains a carriage return")
    if text and not text.endswith("\n"):
        raise RenderError(f"{where}: does not end with a newline")
    if _KV_FILE.fullmatch(text):  # well formed: only duplicate keys remain to be found
        pairs = [line.split("=", 1) for line in text.split("\n")[:-1]]
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
    result = {}
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        key, sep, value = line.partition("=")
        if not sep or not _KEY.fullmatch(key):
            raise RenderError(f"{where}:{number}: not a key=value line: {line!r}")
        if key in result:
            raise RenderError(f"{where}:{number}: key {key} appears twice")
        if not _PRINTABLE_ASCII.fullmatch(value):
            raise RenderError(f"{where}:{number}: value of {key} is not printable ASCII")
        result[key] = value
    return result


# --- the family profiles (data) ---------------------------------------------------------

_COMMON_KEYS: dict[str, str] = {
    "type": "system/type",
    "line.enabled": "voip/line/{n}/enabled",
    "line.id": "voip/line/{n}/id",
    "line.description": "voip/line/{n}/description",
    "line.auth_name": "voip/line/{n}/auth_name",
    "line.auth_password": "voip/line/{n}/auth_password",
    "sip.use_proxy": "voip/signalling/sip/use_proxy",
    "sip.proxy_address": "voip/signalling/sip/proxy_address",
    "sip.proxy_port": "voip/signalling/sip/proxy_port",
    "sip.registrar_from_proxy": "voip/signalling/sip/use_proxy_ip_port_for_registrar",
    "sip.registrar_enabled": "voip/signalling/sip/sip_registrar/enabled",
    "sip.registrar_address": "voip/signalling/sip/sip_registrar/addr",
    "sip.registrar_port": "voip/signalling/sip/sip_registrar/port",
    "sip.transport": "voip/signalling/sip/transport_protocol",
    "sip.backup_enabled": "voip/signalling/sip/redundant_proxy/enabled",
    "sip.backup_address": "voip/signalling/sip/redundant_proxy/address",
    "sip.backup_port": "voip/signalling/sip/redundant_proxy/port",
    "sip.local_port": "voip/signalling/sip/port",
    "sip.expires": "voip/signalling/sip/proxy_timeout",
    "sip.tos": "voip/signalling/sip/tos",
    "media.port": "voip/media/media_port",
    "media.tos": "voip/media/media_tos",
    "ntp.enabled": "system/ntp/enabled",
    "ntp.primary": "system/ntp/primary_server_address",
    "ntp.secondary": "system/ntp/secondary_server_address",
    "ntp.gmt_offset": "system/ntp/gmt_offset",
    "ntp.dhcp_servers": "network/lan/dhcp/ntp/server_list/enabled",
    "ntp.dhcp_offset": "network/lan/dhcp/ntp/gmt_offset/enabled",
    "dst.activate": "system/daylight_saving/activate",
    "dst.mode": "system/daylight_saving/mode",
    "dst.start.month": "system/daylight_saving/start_date/month",
    "dst.start.week": "system/daylight_saving/start_date/week",
    "dst.start.day": "system/daylight_saving/start_date/day",
    "dst.start.hour": "system/daylight_saving/start_date/hour",
    "dst.start.minute": "system/daylight_saving/start_date/minute",
    "dst.end.month": "system/daylight_saving/end_date/month",
    "dst.end.week": "system/daylight_saving/end_date/week",
    "dst.end.day": "system/daylight_saving/end_date/day",
    "dst.end.hour": "system/daylight_saving/end_date/hour",
    "dst.end.minute": "system/daylight_saving/end_date/minute",
    "dst.offset": "system/daylight_saving/offset",
    "vlan.mode": "network/lan/vlan/mode",
    "vlan.id": "network/lan/vlan/id",
    "vlan.priority": "network/lan/vlan/priority",
    "syslog.mode": "system/syslog/mode",
    "syslog.server": "system/syslog/server_address",
    "syslog.port": "system/syslog/server_port",
    "prov.method": "provisioning/method",
    "prov.firmware_url": "provisioning/firmware/url",
    "prov.config_url": "provisioning/configuration/url",
}

_AUDIOCODES_KEYS: dict[str, str] = {
    **_COMMON_KEYS,
    "line.extension_display": "voip/line/{n}/extension_display",
    "line.line_mode": "voip/line/{n}/line_mode",
    "sip.keepalive_enabled": "voip/signalling/sip/registrar_ka/enabled",
    "sip.keepalive_timeout": "voip/signalling/sip/registrar_ka/timeout",
    "language": "personal_settings/language",
    "voicemail.enabled": "voip/services/msg_waiting_ind/enabled",
    "voicemail.number": "voip/services/msg_waiting_ind/voice_mail_number",
}

# mipc profile for Interaction SIP Station I/II (format not public; see the module docstring).
_ISS_KEYS: dict[str, str] = {
    **_COMMON_KEYS,
    "ring_always": "voip/services/ring_always",
    "inband_call_waiting_tone": "voip/services/inband_call_waiting_tone",
    "pickup": "voip/services/pickup/enabled",
    "ring_volume": "personal_settings/ring_volume",
    "speed_dial.1": "personal_settings/speed_dial/1/number",
    "speed_dial.2": "personal_settings/speed_dial/2/number",
    "speed_dial.hold_ms": "personal_settings/speed_dial/hold_duration",
    "lan.port_mode": "network/lan/port_mode",
    "pc.port_mode": "network/pc/port_mode",
    "vlan.cdp": "network/lan/vlan/cdp",
    "vlan.lldp": "network/lan/vlan/lldp",
    "syslog.level": "system/syslog/level",
    "syslog.facility": "system/syslog/facility",
    "gains.handset": "voip/audio/gain/handset",
    "gains.headset": "voip/audio/gain/headset",
    "gains.speaker": "voip/audio/gain/speaker",
    "emergency.description": "emergency/description",
    "emergency.location": "emergency/location",
    "emergency.calling_party_number": "emergency/calling_party_number",
    "emergency.customer_name": "emergency/customer_name",
}

_PORT_MODES = {
    "auto": "AUTO",
    "10HD": "10HD",
    "10FD": "10FD",
    "100HD": "100HD",
    "100FD": "100FD",
    "1000FD": "1000FD",
    "disabled": "DISABLED",
}

_AUDIOCODES_LANGUAGES = {
    "Chinese_China": "CHINESE",
    "Danish_Denmark": "DANISH",
    "Dutch_Netherlands": "DUTCH",
    "English_Canada": "ENGLISH",
    "English_United_Kingdom": "ENGLISH",
    "English_United_States": "ENGLISH",
    "French_France": "FRENCH",
    "German_Germany": "GERMAN",
    "Italian_Italy": "ITALIAN",
    "Japanese_Japan": "JAPANESE",
    "Korean_Korea": "KOREAN",
    "Norwegian_Norway": "NORWEGIAN",
    "Polish_Poland": "POLISH",
    "Portuguese_Portugal": "PORTUGUESE",
    "Russian_Russia": "RUSSIAN",
    "Slovenian_Slovenia": "SLOVENIAN",
    "Spanish_Spain": "SPANISH",
    "Swedish_Sweden": "SWEDISH",
}


@dataclass(frozen=True)
class Profile:
    """Everything that differs between the key=value families, as data."""

    family: str
    display: str
    keys: Mapping[str, str]
    system_types: Mapping[str, str]  # catalog model id -> system/type value
    custom_dirs: Mapping[str, str]  # manufacturer -> folder under custom_files/
    speed_dial_models: frozenset[str] = frozenset()
    transports: Mapping[str, str] = field(
        default_factory=lambda: {"udp": "UDP", "tcp": "TCP", "tls": "TLS"}
    )
    line_modes: Mapping[str, str] = field(
        default_factory=lambda: {"private": "PRIVATE", "shared": "SHARED", "external": "PRIVATE"}
    )
    languages: Mapping[str, str] = field(default_factory=dict)
    port_modes: Mapping[str, str] = field(default_factory=lambda: dict(_PORT_MODES))
    syslog_modes: Mapping[str, str] = field(default_factory=lambda: {"udp": "UDP"})
    limits: Mapping[str, int] = field(
        default_factory=lambda: {"line.id": 30, "line.auth_name": 35, "line.auth_password": 35}
    )
    template: str = "phone.cfg.j2"


AUDIOCODES = Profile(
    family="audiocodes",
    display="AudioCodes/Genesys",
    keys=_AUDIOCODES_KEYS,
    system_types={
        "AC405": "405",
        "AC405HD": "405HD",
        "AC420HD": "420HD",
        "AC430HD": "430HD",
        "AC440HD": "440HD",
        "GEN405": "405",
        "GEN405HD": "405HD",
        "GEN420HD": "420HD",
    },
    custom_dirs={"AudioCodes": "AudioCodes", "Genesys": "Genesys"},
    languages=_AUDIOCODES_LANGUAGES,
)

ISS = Profile(
    family="iss",
    display="Interaction SIP Station",
    keys=_ISS_KEYS,
    system_types={"ISS1": "SIP100", "ISS2": "SIP200"},
    custom_dirs={"ININ": "ININ"},
    speed_dial_models=frozenset({"ISS1"}),
    syslog_modes={"udp": "UDP", "tcp": "TCP", "tls": "TLS"},
)

_DEFAULT_SIP_PORT = 5060
_DEFAULT_MEDIA_PORT = 4000
_DEFAULT_EXPIRES = 3600
_DEFAULT_SYSLOG_PORT = 514
_MIN_KEEPALIVE = 40  # AudioCodes registrar_ka/timeout lower bound (reference §2.2)


# --- helpers -------------------------------------------------------------------------------


def _base_url(plan: Plan) -> str:
    url = plan.inventory.site.provisioning_url
    return url if url.endswith("/") else url + "/"


def _safe_component(name: str, what: str) -> str:
    """A name usable as one path component of the web root."""
    if (
        not name
        or name in {".", ".."}
        or ".." in name
        or any(sep in name for sep in "/\\")
        or not name.isprintable()
    ):
        raise RenderError(f"{what} {name!r} must be a single file name (no '/', '\\', '..')")
    return name


def firmware_path(family: str, version: str, image: str) -> str:
    """Release path of a firmware image: ``firmware/<family>/<version>/<image>``."""
    if not _SAFE_SEGMENT.fullmatch(version) or not _SAFE_SEGMENT.fullmatch(image):
        raise RenderError(f"firmware {version!r} / {image!r} cannot be used in a path")
    return f"firmware/{family}/{version}/{image}"


def _store_dir(plan: Plan) -> Path | None:
    store = plan.inventory.firmware_store
    if not store:
        return None
    path = Path(store)
    if not path.is_absolute():
        path = Path(plan.inventory.root) / path
    return Path(os.path.abspath(path))


def _names(phones: Iterable[str]) -> str:
    ordered = sorted(set(phones))
    shown = ", ".join(ordered[:3])
    return shown + (f" (+{len(ordered) - 3} more)" if len(ordered) > 3 else "")


def _transition_fields(tr: Transition, phone: str, zone: str) -> tuple[int, int, int, int, int]:
    """month, week (5 = last), day of week (1 = Sunday ... 7), hour, minute."""
    if not 0 <= tr.seconds < 24 * 3600:
        raise RenderError(
            f"phone {phone}: time zone {zone} changes at {tr.seconds} s past midnight, "
            "which a phone's hour/minute fields cannot hold"
        )
    hour, rest = divmod(tr.seconds, 3600)
    return tr.month, tr.week, tr.weekday + 1, hour, rest // 60


class _Builder:
    """Writes concepts through a profile's key table into a KeyValueFile."""

    def __init__(self, profile: Profile, phone: EffectivePhone) -> None:
        self.profile = profile
        self.phone = phone
        self.file = KeyValueFile(phone.name)
        self.tried: set[str] = set()
        self.written: set[str] = set()

    def put(self, concept: str, value: Any, *, n: int | None = None, option: str = "") -> None:
        if option:
            self.tried.add(option)
        template = self.profile.keys.get(concept)
        if template is None or value is None:
            return
        key = template.format(n=n) if n is not None else template
        limit = self.profile.limits.get(concept)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise RenderError(
                f"phone {self.phone.name}: {key} is {len(value)} characters ({value!r}); "
                f"{self.profile.display} phones take at most {limit}"
            )
        self.file.set(key, value)
        if option:
            self.written.add(option)

    def unwritable_options(self) -> list[str]:
        return sorted(self.tried - self.written)


# --- the renderer --------------------------------------------------------------------------


class KeyValueRenderer:
    """One renderer for every key=value family; the family's :class:`Profile` is its data."""

    profile: Profile = AUDIOCODES

    def __init__(self) -> None:
        self.family = self.profile.family
        self.warnings: list[str] = []
        self._seen_warnings: set[str] = set()
        self._custom_cache: dict[str, dict[str, str] | None] = {}
        self._profile_part: ProfileMemo[
            tuple[list[tuple[str, str]], frozenset[str], frozenset[str]]
        ] = ProfileMemo()

    # -- warnings

    def _warn(self, message: str, once: str = "") -> None:
        """Record a warning; with ``once``, only the first warning of that kind."""
        key = once or message
        if key not in self._seen_warnings:
            self._seen_warnings.add(key)
            self.warnings.append(message)

    # -- per phone

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        if phone.mac is None or not re.fullmatch(r"[0-9a-f]{12}", phone.mac):
            raise RenderError(
                f"phone {phone.name}: a {self.profile.display} phone needs a MAC address "
                "(12 hex digits) to name its file"
            )
        file_name = f"{phone.mac}.cfg"
        settings = self.settings(phone, plan)
        context = {
            "settings": settings.items(),
            "phone": phone,
            "system_type": self._system_type(phone),
            "file_name": file_name,
        }
        override = str(Path(plan.inventory.root) / "vendor_templates")
        name = f"{self.family}/{self.profile.template}"
        try:
            text = render_template(name, context, override)
        except TemplateError as exc:
            raise RenderError(f"phone {phone.name}: {exc}") from exc
        check_rendered(name, override, "key=value", text, f"{file_name} (phone {phone.name})")
        return {file_name: Artifact(data=text.encode("ascii"), phones=(phone.name,))}

    def _system_type(self, phone: EffectivePhone) -> str:
        try:
            return self.profile.system_types[phone.model.id]
        except KeyError:
            raise RenderError(
                f"phone {phone.name}: model {phone.model.id} is not a "
                f"{self.profile.display} model mipc can render"
            ) from None

    def settings(self, phone: EffectivePhone, plan: Plan) -> KeyValueFile:
        """The phone's keys in file order: type, custom files, mipc's settings, extra."""
        b = _Builder(self.profile, phone)
        b.put("type", self._system_type(phone))
        self._lines(b, phone)
        items, tried, written = self._profile_part.get(
            phone, lambda: self._profile_keys(phone, plan)
        )
        for key, text in items:
            b.file.set_text(key, text)
        b.tried |= tried
        b.written |= written
        self._provisioning(b, phone, plan)
        for option in b.unwritable_options():
            if not _set_by_inventory(phone, option):
                continue  # a catalog default the family has no key for: nothing to report
            self._warn(
                f"option {option} is set for {self.profile.display} phones "
                f"(first: {phone.name}) but mipc knows no {self.profile.display} key for it; "
                "not written (use extra: with the vendor's key)",
                once=f"option:{option}",
            )
        return self._assemble(b.file, phone, plan)

    def _profile_keys(
        self, phone: EffectivePhone, plan: Plan
    ) -> tuple[list[tuple[str, str]], frozenset[str], frozenset[str]]:
        """SIP, time, network and features: what every phone of the profile shares."""
        b = _Builder(self.profile, phone)
        self._sip(b, phone)
        self._time(b, phone)
        self._network(b, phone)
        self._features(b, phone, plan)
        return b.file.items(), frozenset(b.tried), frozenset(b.written)

    def _lines(self, b: _Builder, phone: EffectivePhone) -> None:
        count = phone.model.line_keys
        appearances = sorted(phone.appearances, key=lambda a: a.index)
        if len(appearances) > count:
            raise RenderError(
                f"phone {phone.name}: {len(appearances)} appearances, but a "
                f"{phone.model.display} has {count} line(s)"
            )
        for n in range(count):
            if n < len(appearances):
                self._line(b, n, appearances[n])
            else:
                b.put("line.enabled", False, n=n)

    def _line(self, b: _Builder, n: int, app: Appearance) -> None:
        b.put("line.enabled", True, n=n)
        b.put("line.id", app.user, n=n)
        b.put("line.description", app.display_name, n=n)
        b.put("line.auth_name", app.auth_user or app.user, n=n)
        password = app.auth_password.value if app.auth_password is not None else ""
        b.put("line.auth_password", password, n=n)
        b.put("line.extension_display", app.label or app.extension, n=n)
        b.put("line.line_mode", self.profile.line_modes.get(app.kind, "PRIVATE"), n=n)

    def _sip(self, b: _Builder, phone: EffectivePhone) -> None:
        opts = phone.options
        regs = phone.registrations
        if not regs:
            raise RenderError(f"phone {phone.name}: no registration to write")
        main = regs[0]
        b.put("sip.use_proxy", True)
        b.put("sip.proxy_address", main.address)
        b.put("sip.proxy_port", main.port)
        b.put("sip.registrar_from_proxy", True)
        b.put("sip.registrar_enabled", True)
        b.put("sip.registrar_address", main.address)
        b.put("sip.registrar_port", main.port)
        b.put("sip.transport", self._transport(phone, main))
        backup = regs[1] if len(regs) > 1 else None
        b.put("sip.backup_enabled", backup is not None)
        if backup is not None:
            b.put("sip.backup_address", backup.address)
            b.put("sip.backup_port", backup.port)
        b.put("sip.local_port", opts.get("sip_port", _DEFAULT_SIP_PORT), option="sip_port")
        b.put(
            "sip.expires",
            opts.get("registration_expires", _DEFAULT_EXPIRES),
            option="registration_expires",
        )
        if "nat_keepalive" in opts:
            interval = int(opts["nat_keepalive"])
            b.put("sip.keepalive_enabled", interval > 0, option="nat_keepalive")
            if interval > 0:
                b.put("sip.keepalive_timeout", max(interval, _MIN_KEEPALIVE))
        b.put("sip.tos", phone.qos.sip_tos)
        b.put(
            "media.port",
            opts.get("media_port_start", _DEFAULT_MEDIA_PORT),
            option="media_port_start",
        )
        b.put("media.tos", phone.qos.rtp_tos)

    def _transport(self, phone: EffectivePhone, reg: Registration) -> str:
        try:
            return self.profile.transports[reg.transport]
        except KeyError:
            raise RenderError(
                f"phone {phone.name}: transport {reg.transport!r} is not one "
                f"{self.profile.display} phones take"
            ) from None

    def _time(self, b: _Builder, phone: EffectivePhone) -> None:
        time = phone.time
        zone = time.zone
        servers = time.sntp_servers
        b.put("ntp.enabled", bool(servers))
        if servers:
            b.put("ntp.primary", servers[0])
        if len(servers) > 1:
            b.put("ntp.secondary", servers[1])
        b.put("ntp.gmt_offset", format_hhmm(zone.std_offset))
        b.put("ntp.dhcp_servers", not time.overrides_dhcp)
        b.put("ntp.dhcp_offset", not time.overrides_dhcp)
        if zone.dst_start is None or zone.dst_end is None or not zone.has_dst:
            b.put("dst.activate", "DISABLE")
            return
        b.put("dst.activate", "ENABLE")
        b.put("dst.mode", "DayOfWeek")
        for role, tr in (("start", zone.dst_start), ("end", zone.dst_end)):
            month, week, day, hour, minute = _transition_fields(tr, phone.name, zone.name)
            b.put(f"dst.{role}.month", month)
            b.put(f"dst.{role}.week", week)
            b.put(f"dst.{role}.day", day)
            b.put(f"dst.{role}.hour", hour)
            b.put(f"dst.{role}.minute", minute)
        b.put("dst.offset", zone.dst_save // 60)

    def _network(self, b: _Builder, phone: EffectivePhone) -> None:
        opts = phone.options
        vlan = opts.get("vlan")
        if isinstance(vlan, Mapping):
            if vlan.get("id") is not None:
                mode = "MANUAL"
            elif vlan.get("cdp") or vlan.get("lldp"):
                mode = "AUTOMATIC"
            else:
                mode = "DISABLE"
            b.put("vlan.mode", mode, option="vlan")
            if vlan.get("id") is not None:
                b.put("vlan.id", vlan["id"])
                b.put("vlan.priority", vlan.get("priority", 5))
            if "cdp" in vlan:
                b.put("vlan.cdp", bool(vlan["cdp"]))
            if "lldp" in vlan:
                b.put("vlan.lldp", bool(vlan["lldp"]))
        lan = opts.get("lan_port_mode", "auto")
        b.put("lan.port_mode", self.profile.port_modes.get(lan), option=_opt(opts, "lan_port_mode"))
        pc = opts.get("pc_port_mode", "auto")
        b.put("pc.port_mode", self.profile.port_modes.get(pc), option=_opt(opts, "pc_port_mode"))
        syslog = opts.get("syslog")
        if isinstance(syslog, Mapping):
            transport = str(syslog.get("transport", "udp"))
            syslog_mode = self.profile.syslog_modes.get(transport)
            if syslog_mode is None:
                self._warn(
                    f"{self.profile.display} phones send syslog over UDP only; transport "
                    f"{transport} replaced by UDP (first: {phone.name})",
                    once=f"syslog:{transport}",
                )
                syslog_mode = "UDP"
            b.put("syslog.mode", syslog_mode, option="syslog")
            b.put("syslog.server", syslog["server"])
            b.put("syslog.port", syslog.get("port", _DEFAULT_SYSLOG_PORT))
            b.put("syslog.level", syslog.get("level"))
            b.put("syslog.facility", syslog.get("facility"))
        gains = opts.get("gains")
        if isinstance(gains, Mapping):
            for name in ("handset", "headset", "speaker"):
                b.put(f"gains.{name}", gains.get(name), option="gains")
        emergency = opts.get("emergency")
        if isinstance(emergency, Mapping):
            for name in ("description", "location", "calling_party_number", "customer_name"):
                b.put(f"emergency.{name}", emergency.get(name), option="emergency")

    def _features(self, b: _Builder, phone: EffectivePhone, plan: Plan) -> None:
        opts = phone.options
        b.put("language", self.profile.languages.get(phone.language))
        b.put("ring_always", bool(opts.get("ring_always", False)), option=_opt(opts, "ring_always"))
        b.put(
            "inband_call_waiting_tone",
            bool(opts.get("inband_call_waiting_tone", False)),
            option=_opt(opts, "inband_call_waiting_tone"),
        )
        b.put("pickup", bool(opts.get("enable_pickup", True)), option=_opt(opts, "enable_pickup"))
        b.put("ring_volume", opts.get("ring_volume", 5), option=_opt(opts, "ring_volume"))
        if phone.model.id in self.profile.speed_dial_models:
            b.put("speed_dial.1", str(opts.get("speed_dial_1", "911")))
            b.put("speed_dial.2", str(opts.get("speed_dial_2", "*")))
            b.put("speed_dial.hold_ms", opts.get("speed_dial_hold_ms", 1000))
        voicemail = voicemail_number(phone, plan)
        if voicemail:
            b.put("voicemail.enabled", True, option=_opt(opts, "voicemail_number"))
            b.put("voicemail.number", str(voicemail))

    def _provisioning(self, b: _Builder, phone: EffectivePhone, plan: Plan) -> None:
        base = _base_url(plan)
        b.put("prov.method", "STATIC")
        fw = phone.firmware
        image = phone.model.firmware_image
        if fw is not None and image:
            b.put("prov.firmware_url", base + firmware_path(self.family, fw.version, image))
        b.put("prov.config_url", f"{base}{phone.mac}.cfg")

    # -- custom files and extra

    def _custom_names(self, phone: EffectivePhone) -> list[str]:
        system_type = self._system_type(phone)
        names = []
        for raw in phone.config_files:
            name = raw.strip().replace("[MACADDRESS]", phone.mac or "")
            name = name.replace("[MODEL]", system_type)
            if name:
                names.append(_safe_component(name, f"phone {phone.name}: custom file"))
        return names

    def _custom_source(self, phone: EffectivePhone, plan: Plan, name: str) -> tuple[str, Path]:
        folder = self.profile.custom_dirs.get(phone.model.manufacturer, phone.model.manufacturer)
        return f"{folder}/{name}", Path(plan.inventory.root) / "custom_files" / folder / name

    def _read_custom(self, path: Path) -> dict[str, str] | None:
        key = str(path)
        if key not in self._custom_cache:
            self._custom_cache[key] = self._parse_custom(path) if path.is_file() else None
        return self._custom_cache[key]

    @staticmethod
    def _parse_custom(path: Path) -> dict[str, str]:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise RenderError(f"custom file {path}: cannot be read ({exc})") from exc
        pairs: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in ";#":
                continue
            key, sep, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not _KEY.fullmatch(key):
                raise RenderError(f"{path}:{number}: not a key=value line: {raw!r}")
            pairs[key] = check_value(value, phone=f"(custom file {path}:{number})", key=key)
        return pairs

    def _assemble(self, own: KeyValueFile, phone: EffectivePhone, plan: Plan) -> KeyValueFile:
        custom: dict[str, tuple[str, str]] = {}  # key -> (value, file)
        for name in self._custom_names(phone):
            published, path = self._custom_source(phone, plan, name)
            pairs = self._read_custom(path)
            if pairs is None:
                self._warn(f"phone {phone.name}: custom file {name} not found at {path}")
                continue
            for key, value in pairs.items():
                custom[key] = (value, published)
        out = KeyValueFile(phone.name)
        items = own.items()
        out.set(*items[0])  # system/type first
        for key, (value, published) in custom.items():
            if key in own:
                self._warn(
                    f"phone {phone.name}: custom file {published} sets {key}, which mipc "
                    "writes; mipc's value is used (the phone reads <MAC>.cfg last)"
                )
            elif key not in phone.extra:
                out.set(key, value)
        for key, value in items[1:]:
            out.set(key, value)
        for key in phone.extra:
            if key in own:
                raise RenderError(
                    f"phone {phone.name}: extra key {key} is one mipc already writes; "
                    "set it through the matching inventory setting instead"
                )
            out.set(key, phone.extra[key])
        return out

    # -- shared files

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        mine = tuple(p for p in phones if p.family == self.family)
        artifacts: Artifacts = {}
        self._shared_custom(plan, mine, artifacts)
        self._shared_firmware(plan, mine, artifacts)
        return dict(sorted(artifacts.items()))

    def _shared_custom(
        self, plan: Plan, phones: tuple[EffectivePhone, ...], out: Artifacts
    ) -> None:
        users: dict[str, list[str]] = {}
        sources: dict[str, Path] = {}
        for phone in phones:
            for name in self._custom_names(phone):
                published, path = self._custom_source(phone, plan, name)
                users.setdefault(published, []).append(phone.name)
                sources[published] = path
        for published in sorted(users):
            path = sources[published]
            if path.is_file():
                out[published] = Artifact(
                    data=path.read_bytes(), phones=tuple(sorted(set(users[published])))
                )

    def _shared_firmware(
        self, plan: Plan, phones: tuple[EffectivePhone, ...], out: Artifacts
    ) -> None:
        store = _store_dir(plan)
        if store is None:
            return
        wanted: dict[str, list[str]] = {}  # release path -> phones
        sources: dict[str, str] = {}  # release path -> store-relative path
        catalog = load_catalog()
        for phone in phones:
            image = phone.model.firmware_image
            if not image:
                continue
            if phone.firmware is not None:
                path = firmware_path(self.family, phone.firmware.version, image)
                wanted.setdefault(path, []).append(phone.name)
                sources[path] = path.removeprefix("firmware/")
            latest = catalog.latest_firmware(phone.model.id)
            if latest is not None:
                rel = firmware_path(self.family, latest.version, image).removeprefix("firmware/")
                root_name = _safe_component(image, "firmware image")
                if sources.setdefault(root_name, rel) != rel:
                    self._warn(
                        f"{root_name}: models want different latest firmware "
                        f"({sources[root_name]} and {rel}); the first is linked"
                    )
                wanted.setdefault(root_name, []).append(phone.name)
        for path in sorted(wanted):
            source = store / sources[path]
            if source.is_file():
                out[path] = Artifact(
                    data=b"", phones=tuple(sorted(set(wanted[path]))), link=str(source)
                )
            else:
                self._warn(
                    f"firmware image {sources[path]} not found in the firmware store "
                    f"(expected {source}); not in the release, needed by "
                    f"{_names(wanted[path])}"
                )


def _set_by_inventory(phone: EffectivePhone, option: str) -> bool:
    """Whether a template or the phone set the option (defaults apply to every family)."""
    return set_explicitly(phone, option)


def _opt(opts: Mapping[str, Any], name: str) -> str:
    """The option's name when the inventory sets it (so an unwritable one is reported)."""
    return name if name in opts else ""


def voicemail_number(phone: EffectivePhone, plan: Plan) -> str | None:
    """Voice mail access number: the phone's option, else the site's."""
    number = phone.options.get("voicemail_number")
    if number:
        return str(number)
    return plan.inventory.site.voicemail_number


@register("audiocodes")
class AudioCodesRenderer(KeyValueRenderer):
    """AudioCodes 405/405HD/420HD/430HD/440HD and the Genesys-branded 405/405HD/420HD."""

    profile = AUDIOCODES


@register("iss")
class IssRenderer(KeyValueRenderer):
    """Interaction SIP Station I and II (mipc profile; the vendor format is not public)."""

    profile = ISS
