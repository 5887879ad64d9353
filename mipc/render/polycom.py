"""Polycom renderer: SoundPoint IP, SoundStation IP, VVX, Trio and SpectraLink phones.

A Polycom phone fetches ``<mac>.cfg`` (or ``000000000000.cfg`` when it is not provisioned),
then every file its ``CONFIG_FILES`` lists, left to right, and keeps the *first* value it sees
for each parameter. mipc writes (paths relative to the web root):

``<mac>.cfg``                 master: firmware path and the ordered list of files
``000000000000.cfg``          provisional station: latest firmware per model, a ``Setup`` line
``server/setup.cfg``          the provisional station's only parameter file
``phone/<guid>.cfg``          per-phone parameters (registrations, time, language, QoS, ...)
``proxy/<group>.cfg``         the servers of one registration group
``server/xic.cfg``            site-wide settings: dial plan, park/page keys, one-touch voice mail
``server/cert/ca.cfg``        the CA certificate phones on TLS trust (only when TLS is used)
``custom/<file>``             custom ``config_files`` copied from ``custom_files/polycom/``
``firmware/polycom/<version>/<part>.sip.ld``   firmware images, linked from the store
``phone1.cfg``, ``sip.cfg``   Polycom's stock files, linked from the store when present

The values are computed here (one ordered parameter map per file, where a key written twice is
a bug that raises); the templates in ``vendor_templates/polycom/`` only lay them out. Problems
that do not stop a build (a missing custom file or firmware image, an option Polycom has no
parameter for) are appended to :attr:`PolycomRenderer.warnings`.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from mipc.artifacts import Artifact, Artifacts
from mipc.catalog.models import load_catalog
from mipc.catalog.timezones import Transition
from mipc.model import Appearance, EffectivePhone, Plan, Registration
from mipc.render.base import (
    KeyedFile,
    ProfileMemo,
    RenderError,
    register,
    set_explicitly,
)
from mipc.render.templating import render_template

__all__ = [
    "PHONE_NAMESPACE",
    "PolycomError",
    "PolycomRenderer",
    "group_file_name",
    "phone_guid",
    "safe_segment",
]

FAMILY = "polycom"

#: Namespace of the per-phone guids: ``uuid5(PHONE_NAMESPACE, phone name)``. Never change it:
#: every phone's file name would change with it.
PHONE_NAMESPACE = uuid.UUID("6d1f0c0e-3b7a-5c52-9a61-7c2f0e4f8a10")

UPLOAD_DIRS = {"logs": "logs", "overrides": "overrides", "contacts": "contacts"}
STOCK_FILES = ("phone1.cfg", "sip.cfg")
DEFAULT_MASTER = "000000000000.cfg"
SETUP_FILE = "server/setup.cfg"
SERVER_FILE = "server/xic.cfg"
CA_FILE = "server/cert/ca.cfg"
CUSTOM_DIR = "custom"
FIRMWARE_DIR = "firmware/polycom"
MAX_SERVERS = 3  # a Polycom phone uses the first 3 entries of a registration group

TRANSPORTS = {"udp": "UDPOnly", "tcp": "TCPOnly", "tls": "TLS"}
DNS_SRV_TRANSPORT = "DNSnaptr"

#: CIC's dial strings for zone paging and call parking (guide, "Call parking / Zone paging").
PAGE, PARK, UNPARK, PARK_LIST = "*901", "*902", "*903", "*904"

#: Port modes as Polycom's ``device.net.etherMode*`` parameters spell them.
ETHER_MODES = {
    "auto": "Auto",
    "10HD": "10HD",
    "10FD": "10FD",
    "100HD": "100HD",
    "100FD": "100FD",
    "1000FD": "1000FD",
    "disabled": "-1",
}
BOOT_SERVER_TYPES = {
    "option66": "Default",
    "custom": "Custom",
    "static": "Static",
    "custom_option66": "CustomAndDefault",
}
SYSLOG_TRANSPORTS = {"udp": 1, "tcp": 2, "tls": 3}

#: Options of the inventory schema that apply to Polycom but have no parameter mipc trusts.
UNMAPPED_OPTIONS = ("gains",)

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_SAFE = re.compile(r"[A-Za-z0-9]")
_MACRO = re.compile(r"\[(MACADDRESS|MODEL)\]", re.IGNORECASE)


class PolycomError(RenderError):
    """Input the Polycom renderer cannot write (names the phone and the key or value)."""


# --------------------------------------------------------------------------- names and paths


def phone_guid(name: str) -> str:
    """The stable guid of a phone's file: a function of its name only, never of its MAC."""
    return str(uuid.uuid5(PHONE_NAMESPACE, name))


def safe_segment(name: str) -> str:
    """A readable, file-safe and injective form of ``name`` for one path segment.

    ASCII letters and digits stay, and so does ``.`` except as the first character; a space
    becomes ``-``; every other character becomes ``_`` followed by the two upper-case hex
    digits of each of its UTF-8 bytes. ``-`` and ``_`` are themselves escaped, so the mapping
    can be undone and two names never meet:
    ``<Default Registration Group>`` → ``_3CDefault-Registration-Group_3E``,
    ``5.9.7.4477`` → ``5.9.7.4477``.
    """
    out: list[str] = []
    for i, char in enumerate(name):
        if (_SAFE.fullmatch(char) and char.isascii()) or (char == "." and i > 0):
            out.append(char)
        elif char == " ":
            out.append("-")
        else:
            out.append("".join(f"_{byte:02X}" for byte in char.encode("utf-8")))
    return "".join(out) or "_"


def group_file_name(group: str, variant: str | None = None) -> str:
    """Path of a registration group file (``proxy/<safe name>.cfg``)."""
    suffix = f"~{variant}" if variant else ""
    return f"proxy/{safe_segment(group)}{suffix}.cfg"


def firmware_path(version: str, part_number: str | None) -> str:
    """Web path of a firmware image: ``firmware/polycom/<version>/<part>.sip.ld``.

    Models without a known part number use the combined image ``sip.ld``.
    """
    image = f"{part_number}.sip.ld" if part_number else "sip.ld"
    return f"{FIRMWARE_DIR}/{safe_segment(version)}/{image}"


# --------------------------------------------------------------------------- parameter maps


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"parameter value {value!r} is neither text, a number nor a boolean")


class Params(KeyedFile):
    """An ordered map of Polycom parameters for one file; writing a key twice raises."""

    checked: ClassVar[set[str]] = set()

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.owner = owner

    def valid_key(self, key: str) -> bool:
        return _KEY.fullmatch(key) is not None and not key.lower().startswith("xml")

    def text(self, key: str, value: Any) -> str:
        return _text(value)

    def bad_key(self, key: str) -> Exception:
        return PolycomError(f"{self.owner}: {key!r} is not a Polycom parameter name")

    def twice(self, key: str) -> Exception:
        return PolycomError(f"{self.owner}: parameter {key} is written twice")

    def update(self, pairs: Iterable[tuple[str, Any]]) -> None:
        for key, value in pairs:
            self.set(key, value)

    def elements(self) -> list[dict[str, Any]]:
        """The parameters grouped by their first dotted name, in first-seen order; the
        templates write each group as one element (Polycom ignores element names)."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for key, value in self._items.items():
            groups.setdefault(key.split(".", 1)[0], []).append((key, value))
        return [{"tag": tag, "attributes": attrs} for tag, attrs in groups.items()]


def _comment(text: str) -> str:
    """Text that is safe inside an XML comment (no ``--``, no trailing ``-``)."""
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text).replace("\n", " ")
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "- -")
    return cleaned.rstrip("-")


def _dst_rule(
    params: Params, which: str, rule: Transition, warn: Callable[[str], None], who: str
) -> None:
    prefix = f"tcpIpApp.sntp.daylightSavings.{which}"
    hours, rest = divmod(rule.seconds, 3600)
    if rest or not 0 <= hours <= 23:
        clamped = min(max(hours, 0), 23)
        warn(
            f"{who}: DST {which} at {rule.seconds} s local time cannot be said in whole "
            f"hours 0-23; written as {clamped}:00"
        )
        hours = clamped
    last = rule.week >= 5
    params.set(f"{prefix}.month", rule.month)
    params.set(f"{prefix}.date", 22 if last else (rule.week - 1) * 7 + 1)
    params.set(f"{prefix}.time", hours)
    params.set(f"{prefix}.dayOfWeek", rule.weekday + 1)
    params.set(f"{prefix}.dayOfWeek.lastInMonth", last)


def _server_params(
    params: Params, prefix: str, regs: Iterable[Registration], expires: int | None
) -> None:
    """``<prefix>.M.address/port/transport`` for each server, in order."""
    for m, reg in enumerate(regs, start=1):
        if reg.kind == "dns_srv":
            transport, port = DNS_SRV_TRANSPORT, 0
        else:
            if reg.transport not in TRANSPORTS:
                raise PolycomError(f"{prefix}: unknown transport {reg.transport!r}")
            transport, port = TRANSPORTS[reg.transport], reg.port or 0
        params.set(f"{prefix}.{m}.address", reg.address)
        params.set(f"{prefix}.{m}.port", port)
        params.set(f"{prefix}.{m}.transport", transport)
        if expires is not None:
            params.set(f"{prefix}.{m}.expires", expires)


def _provisional_firmware() -> list[tuple[str, str]]:
    """(model token, firmware path) of the latest firmware of every Polycom model."""
    catalog = load_catalog()
    out: list[tuple[str, str]] = []
    for model in sorted(catalog.models.values(), key=lambda m: m.polycom_token or ""):
        if model.family != FAMILY or not model.polycom_token:
            continue
        latest = catalog.latest_firmware(model.id)
        if latest is not None:
            out.append((model.polycom_token, firmware_path(latest.version, model.part_number)))
    return out


def _variants(
    phones: Iterable[EffectivePhone],
) -> dict[str, dict[tuple[Registration, ...], list[str]]]:
    """Polycom phones by registration group, then by the servers they see (names sorted)."""
    variants: dict[str, dict[tuple[Registration, ...], list[str]]] = {}
    for phone in sorted(phones, key=lambda p: p.name):
        if phone.family != FAMILY:
            continue
        servers = phone.registrations[:MAX_SERVERS]
        variants.setdefault(phone.registration_group, {}).setdefault(servers, []).append(phone.name)
    return variants


def varied_groups(phones: Iterable[EffectivePhone]) -> frozenset[str]:
    """The registration groups whose Polycom phones see more than one set of servers (each
    set gets its own group file)."""
    return frozenset(group for group, seen in _variants(phones).items() if len(seen) > 1)


def _uses_tls(phone: EffectivePhone) -> bool:
    return phone.secure or any(
        reg.transport == "tls" for app in phone.appearances for reg in app.registrations
    )


# --------------------------------------------------------------------------- the renderer


@dataclass(frozen=True)
class _GroupFiles:
    plan: Plan
    by_phone: Mapping[str, str]  # phone name -> group file path
    files: Mapping[str, tuple[str, tuple[Registration, ...], tuple[str, ...]]]
    """group file path -> (group name, servers, phones)"""


@register(FAMILY)
class PolycomRenderer:
    """Renders the Polycom family. After a build, :attr:`warnings` holds what went unwritten."""

    family = FAMILY

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._groups: _GroupFiles | None = None
        self._profile_params: ProfileMemo[list[tuple[str, str]]] = ProfileMemo()

    def _warn(self, message: str) -> None:
        """Add a warning once (render_shared may run more than once per renderer)."""
        if message not in self.warnings:
            self.warnings.append(message)

    # --- public API ------------------------------------------------------------------------

    def render_phone(self, phone: EffectivePhone, plan: Plan) -> Artifacts:
        """The master ``<mac>.cfg`` and the per-phone file; nothing for a phone without MAC."""
        if phone.mac is None:
            return {}
        overrides = self._override_dir(plan)
        guid_path = f"phone/{phone_guid(phone.name)}.cfg"
        params = self.phone_params(phone, plan)
        self._apply_extra(phone, params)
        files = self.config_files(phone, plan)
        owner = (phone.name,)
        master = render_template(
            "polycom/master.cfg.j2", self.master_context(phone, files), overrides
        )
        per_phone = render_template(
            "polycom/phone.cfg.j2",
            {
                "phone_comment": _comment(phone.name),
                "model_comment": _comment(phone.model.display),
                "elements": params.elements(),
                "emergency": self._emergency(phone),
            },
            overrides,
        )
        return {
            f"{phone.mac}.cfg": Artifact(master.encode("utf-8"), owner),
            guid_path: Artifact(per_phone.encode("utf-8"), owner),
        }

    def render_shared(self, plan: Plan, phones: tuple[EffectivePhone, ...]) -> Artifacts:
        """Group, server, CA, provisional, custom, stock and firmware files."""
        overrides = self._override_dir(plan)
        served = tuple(sorted((p for p in phones if p.mac is not None), key=lambda p: p.name))
        out: Artifacts = {}
        groups = self._group_files(plan)
        wanted = {p.name for p in served}
        for path, (group, servers, names) in sorted(groups.files.items()):
            users = tuple(n for n in names if n in wanted)
            if not users:
                continue
            text = render_template(
                "polycom/group.cfg.j2",
                {
                    "group_comment": _comment(group),
                    "elements": self.group_params(group, servers).elements(),
                },
                overrides,
            )
            out[path] = Artifact(text.encode("utf-8"), users)
        names = tuple(p.name for p in served)
        server = render_template(
            "polycom/server.cfg.j2",
            {"elements": self.server_params(plan).elements()},
            overrides,
        )
        out[SERVER_FILE] = Artifact(server.encode("utf-8"), names)
        tls_users = tuple(p.name for p in served if _uses_tls(p))
        if tls_users:
            ca = render_template(
                "polycom/ca.cfg.j2", {"elements": self.ca_params(plan).elements()}, overrides
            )
            out[CA_FILE] = Artifact(ca.encode("utf-8"), tls_users)
        default_master = render_template(
            "polycom/default-master.cfg.j2", self.default_master_context(), overrides
        )
        out[DEFAULT_MASTER] = Artifact(default_master.encode("utf-8"))
        setup = render_template(
            "polycom/setup.cfg.j2", {"elements": self.setup_params().elements()}, overrides
        )
        out[SETUP_FILE] = Artifact(setup.encode("utf-8"))
        out.update(self._custom_files(plan, served))
        out.update(self._store_links(plan, served))
        return out

    # --- master files ----------------------------------------------------------------------

    def config_files(self, phone: EffectivePhone, plan: Plan) -> list[str]:
        """``CONFIG_FILES`` of a phone's master, in the guide's order (first file wins)."""
        files: list[str] = []
        if _uses_tls(phone):
            files.append(CA_FILE)
        files.append(f"phone/{phone_guid(phone.name)}.cfg")
        group_file = self._group_files(plan).by_phone.get(phone.name)
        files.append(group_file or group_file_name(phone.registration_group))
        files.append(SERVER_FILE)
        for name in self._custom_names(phone):
            if f"{CUSTOM_DIR}/{name}" not in files:
                files.append(f"{CUSTOM_DIR}/{name}")
        files.extend(STOCK_FILES)
        return files

    def master_context(self, phone: EffectivePhone, files: list[str]) -> dict[str, Any]:
        if phone.firmware is None:
            self._warn(
                f"{phone.name}: no firmware known for {phone.model.display}; the master "
                "names the default sip.ld"
            )
            app_file = "sip.ld"
        else:
            app_file = firmware_path(phone.firmware.version, phone.model.part_number)
        return {
            "phone_comment": _comment(phone.name),
            "app_file_path": app_file,
            "config_files": ", ".join(files),
            "uploads": UPLOAD_DIRS,
        }

    def default_master_context(self) -> dict[str, Any]:
        """``000000000000.cfg``: latest firmware per model, the ``Setup`` file, nothing else."""
        children = [
            {"token": token, "app_file_path": path} for token, path in _provisional_firmware()
        ]
        return {
            "app_file_path": "sip.ld",
            "config_files": SETUP_FILE,
            "uploads": UPLOAD_DIRS,
            "models": children,
        }

    # --- parameter files -------------------------------------------------------------------

    def phone_params(self, phone: EffectivePhone, plan: Plan) -> Params:
        """Everything ``phone/<guid>.cfg`` holds, before ``extra``."""
        who = phone.name
        params = Params(f"phone {who}")
        options = phone.options
        expires = options.get("registration_expires")
        voicemail = options.get("voicemail_number") or plan.inventory.site.voicemail_number
        for n, app in enumerate(sorted(phone.appearances, key=lambda a: a.index), start=1):
            self._appearance(params, n, app, expires, voicemail)
        for key, text in self._profile_params.get(phone, lambda: self._profile_items(phone)):
            params.set_text(key, text)
        return params

    def _profile_items(self, phone: EffectivePhone) -> list[tuple[str, str]]:
        """The part of ``phone/<guid>.cfg`` every phone of the profile shares."""
        params = Params(f"phone {phone.name}")
        expires = phone.options.get("registration_expires")
        main = phone.registrations[:MAX_SERVERS]
        if expires is not None:
            # Main-group lines take their servers from voIpProt.server.M (the group file);
            # this file comes first, so its expiry wins over the group file's.
            for m in range(1, len(main) + 1):
                params.set(f"voIpProt.server.{m}.expires", expires)
        self._time(params, phone)
        params.set("lcl.ml.lang", self._language(phone))
        self._qos(params, phone)
        if phone.audio_protocol == "srtp":
            params.update([("sec.srtp.enable", 1), ("sec.srtp.offer", 1), ("sec.srtp.require", 1)])
        self._options(params, phone)
        return params.items()

    def _appearance(
        self,
        params: Params,
        n: int,
        app: Appearance,
        expires: int | None,
        voicemail: str | None,
    ) -> None:
        prefix = f"reg.{n}"
        params.set(f"{prefix}.address", app.user)
        params.set(f"{prefix}.label", app.label)
        params.set(f"{prefix}.displayName", app.display_name)
        if app.auth_password is not None:
            params.set(f"{prefix}.auth.userId", app.auth_user or app.user)
            params.set(f"{prefix}.auth.password", app.auth_password.value)
        elif app.auth_user:
            params.set(f"{prefix}.auth.userId", app.auth_user)
        params.set(f"{prefix}.type", "shared" if app.kind == "shared" else "private")
        params.set(f"{prefix}.lineKeys", app.line_keys)
        params.set(f"{prefix}.callsPerLineKey", app.calls_per_line_key)
        if app.kind == "external":
            _server_params(params, f"{prefix}.server", app.registrations[:MAX_SERVERS], expires)
        elif voicemail:
            params.set(f"msg.mwi.{n}.callBackMode", "contact")
            params.set(f"msg.mwi.{n}.callBack", voicemail)

    def _time(self, params: Params, phone: EffectivePhone) -> None:
        time = phone.time
        zone = time.zone
        if time.sntp_servers:
            params.set("tcpIpApp.sntp.address", time.sntp_servers[0])
            params.set("tcpIpApp.sntp.address.overrideDHCP", time.overrides_dhcp)
        params.set("tcpIpApp.sntp.gmtOffset", zone.std_offset)
        params.set("tcpIpApp.sntp.gmtOffset.overrideDHCP", time.overrides_dhcp)
        params.set("tcpIpApp.sntp.resyncPeriod", 86400)
        dst = zone.dst_start is not None and zone.dst_end is not None
        params.set("tcpIpApp.sntp.daylightSavings.enable", dst)
        if zone.dst_start is not None and zone.dst_end is not None:
            params.set("tcpIpApp.sntp.daylightSavings.fixedDayEnable", 0)
            _dst_rule(params, "start", zone.dst_start, self._warn, phone.name)
            _dst_rule(params, "stop", zone.dst_end, self._warn, phone.name)

    def _language(self, phone: EffectivePhone) -> str:
        catalog = load_catalog()
        lang = phone.language if phone.language in catalog.languages else None
        lang = lang or catalog.language_id(phone.language)
        if lang is None:
            raise PolycomError(f"phone {phone.name}: unknown language {phone.language!r}")
        return lang

    def _qos(self, params: Params, phone: EffectivePhone) -> None:
        for what, value in (("rtp", phone.qos.rtp_dscp), ("callControl", phone.qos.sip_dscp)):
            if not 0 <= value <= 63:
                raise PolycomError(f"phone {phone.name}: DSCP {value} is outside 0-63")
            params.set(f"qos.ip.{what}.dscp", value)
        vlan = phone.options.get("vlan") or {}
        if "priority" in vlan:
            params.set("qos.ethernet.rtp.user_priority", vlan["priority"])
            params.set("qos.ethernet.callControl.user_priority", vlan["priority"])

    def _options(self, params: Params, phone: EffectivePhone) -> None:
        """The guide's options that exist on Polycom, under Polycom's parameter names."""
        options = phone.options
        device: list[tuple[str, Any]] = []
        if "dial_plan" in options:
            params.set("dialplan.digitmap", options["dial_plan"])
        if "one_touch_voicemail" in options:
            params.set("up.oneTouchVoiceMail", bool(options["one_touch_voicemail"]))
        if "nat_keepalive" in options:
            params.set("nat.keepalive.interval", options["nat_keepalive"])
        if "sip_port" in options:
            params.set("voIpProt.SIP.local.port", options["sip_port"])
        if "media_port_start" in options:
            params.set("tcpIpApp.port.rtp.mediaPortRangeStart", options["media_port_start"])
        if "volume_persistence" in options:
            persist = bool(options["volume_persistence"])
            for device_name in ("handset", "headset", "handsfree"):
                params.set(f"voice.volume.persist.{device_name}", persist)
        if "lan_port_mode" in options:
            device.append(("device.net.etherModeLAN", ETHER_MODES[options["lan_port_mode"]]))
        if "pc_port_mode" in options:
            device.append(("device.net.etherModePC", ETHER_MODES[options["pc_port_mode"]]))
        vlan = options.get("vlan") or {}
        if "id" in vlan:
            device.append(("device.net.vlanId", vlan["id"]))
        if "cdp" in vlan:
            device.append(("device.net.cdpEnabled", bool(vlan["cdp"])))
        if "lldp" in vlan:
            device.append(("device.net.lldpEnabled", bool(vlan["lldp"])))
        syslog = options.get("syslog") or {}
        if "server" in syslog:
            device.append(("device.syslog.serverName", syslog["server"]))
            device.append(
                ("device.syslog.transport", SYSLOG_TRANSPORTS[syslog.get("transport", "udp")])
            )
            if "facility" in syslog:
                device.append(("device.syslog.facility", syslog["facility"]))
            if "level" in syslog:
                device.append(("device.syslog.renderLevel", syslog["level"]))
            device.append(("device.syslog.prependMac", 1))
            if syslog.get("port", 514) != 514:
                self._warn(
                    f"{phone.name}: Polycom phones send syslog to port 514; "
                    f"port {syslog['port']} is not written"
                )
        boot = options.get("boot_server") or {}
        if "type" in boot:
            device.append(("device.dhcp.bootSrvUseOpt", BOOT_SERVER_TYPES[boot["type"]]))
        if "option" in boot:
            device.append(("device.dhcp.bootSrvOpt", boot["option"]))
        if "option_type" in boot:
            device.append(("device.dhcp.bootSrvOptType", 0 if boot["option_type"] == "ip" else 1))
        if "provisioning_url" in boot:
            device.append(("device.prov.serverName", boot["provisioning_url"]))
        if phone.admin_password is not None:
            device.append(("device.auth.localAdminPassword", phone.admin_password.value))
        if device:
            params.set("device.set", 1)
            for key, value in device:
                params.set(key, value)
                params.set(f"{key}.set", 1)
        for name in UNMAPPED_OPTIONS:
            if name in options and set_explicitly(phone, name):
                self._warn(
                    f"{phone.name}: option {name} has no Polycom parameter mipc knows; not written"
                )

    def _apply_extra(self, phone: EffectivePhone, params: Params) -> None:
        for key in sorted(phone.extra):
            if key in params:
                raise PolycomError(
                    f"phone {phone.name}: extra parameter {key} is one mipc already writes; "
                    "set it through the inventory's own setting instead"
                )
            value = phone.extra[key]
            try:
                params.set(key, value)
            except (PolycomError, TypeError) as exc:
                raise PolycomError(f"phone {phone.name}: extra parameter {key}: {exc}") from exc

    def _emergency(self, phone: EffectivePhone) -> list[tuple[str, str]]:
        info = phone.options.get("emergency") or {}
        return [(_comment(str(k)), _comment(str(info[k]))) for k in sorted(info)]

    def group_params(self, group: str, servers: tuple[Registration, ...]) -> Params:
        """``proxy/<group>.cfg``: the group's servers as the phone-wide default servers
        (``voIpProt.server.M``), which every line without servers of its own uses."""
        params = Params(f"registration group {group}")
        _server_params(params, "voIpProt.server", servers, None)
        for m in range(1, len(servers) + 1):
            prefix = f"voIpProt.server.{m}"
            params.set(f"{prefix}.register", 1)
            params.set(f"{prefix}.retryMaxCount", 3)
            params.set(f"{prefix}.failOver.failBack.mode", "duration")
            params.set(f"{prefix}.failOver.failBack.timeout", 3600)
            params.set(f"{prefix}.failOver.reRegisterOn", 1)
            params.set(f"{prefix}.failOver.failRegistrationOn", 1)
            params.set(f"{prefix}.failOver.onlySignalWithRegistered", 1)
        return params

    def server_params(self, plan: Plan) -> Params:
        """``server/xic.cfg``: the site-wide settings, park and page keys, dial plan."""
        params = Params("server/xic.cfg")
        params.set("dialplan.digitmap", "*90[1-4]x.T|*x.T|x.T")
        params.set("dialplan.digitmap.timeOut", 3)
        params.set("voIpProt.SIP.specialEvent.checkSync.alwaysReboot", 1)
        params.set("feature.enhancedFeatureKeys.enabled", 1)
        params.set("efk.version", 2)
        # (macro name, soft key label, action, shown while a call is held rather than idle);
        # prompt 1 asks for an extension, prompt 2 for an orbit.
        keys = (
            ("page", "Page", f"{PAGE}$P1N16$$Tinvite$", False),
            ("park", "Park", f"{PARK}$P2N16$$Tinvite$", True),
            ("unpark", "Pick Up", f"{UNPARK}$P2N16$$Tinvite$", False),
            ("parked", "Parked", f"{PARK_LIST}$Tinvite$", False),
        )
        for i, (name, label, action, _held) in enumerate(keys, start=1):
            prefix = f"efk.efklist.{i}"
            params.set(f"{prefix}.mname", name)
            params.set(f"{prefix}.status", 1)
            params.set(f"{prefix}.label", label)
            params.set(f"{prefix}.action.string", action)
        for i, label in enumerate(("Extension", "Orbit"), start=1):
            prefix = f"efk.efkprompt.{i}"
            params.set(f"{prefix}.status", 1)
            params.set(f"{prefix}.label", label)
            params.set(f"{prefix}.type", "numeric")
            params.set(f"{prefix}.userfeedback", "visible")
        for i, (name, label, _action, held) in enumerate(keys, start=1):
            prefix = f"softkey.{i}"
            params.set(f"{prefix}.label", label)
            params.set(f"{prefix}.action", f"!{name}")
            params.set(f"{prefix}.enable", 1)
            params.set(f"{prefix}.use.idle", not held)
            params.set(f"{prefix}.use.hold", held)
        if plan.inventory.site.voicemail_number:
            params.set("up.oneTouchVoiceMail", 1)
        return params

    def ca_params(self, plan: Plan) -> Params:
        """``server/cert/ca.cfg``: the CA certificate from ``<inventory>/certs/ca.pem``."""
        params = Params(CA_FILE)
        pem = Path(plan.inventory.root) / "certs" / "ca.pem"
        if pem.is_file():
            text = pem.read_text(encoding="utf-8").replace("\r\n", "\n").strip()
            params.set("sec.TLS.customCaCert.1", text)
        else:
            self._warn(
                f"{CA_FILE}: no CA certificate at {pem}; phones on TLS trust only their "
                "built-in certificate authorities"
            )
        return params

    def setup_params(self) -> Params:
        """The provisional station: one line labelled ``Setup``; nothing site-private."""
        params = Params(SETUP_FILE)
        params.set("reg.1.address", "setup")
        params.set("reg.1.label", "Setup")
        params.set("reg.1.displayName", "Setup")
        params.set("reg.1.lineKeys", 1)
        return params

    # --- shared files: groups, custom files, store links ----------------------------------

    def _group_files(self, plan: Plan) -> _GroupFiles:
        """Which group file each phone loads. A group whose phones all see the same servers
        is ``proxy/<group>.cfg``; if they differ (managed proxies per location), each variant
        gets a short digest suffix so no phone loads another's servers."""
        if self._groups is not None and self._groups.plan is plan:
            return self._groups
        variants = _variants(plan.phones)
        varied = plan.varied_groups or frozenset()
        by_phone: dict[str, str] = {}
        files: dict[str, tuple[str, tuple[Registration, ...], tuple[str, ...]]] = {}
        for group, seen in variants.items():
            for servers, names in seen.items():
                variant = None
                if len(seen) > 1 or group in varied:
                    variant = uuid.uuid5(PHONE_NAMESPACE, repr(servers)).hex[:8]
                path = group_file_name(group, variant)
                files[path] = (group, servers, tuple(names))
                for name in names:
                    by_phone[name] = path
        self._groups = _GroupFiles(plan, by_phone, files)
        return self._groups

    def _custom_names(self, phone: EffectivePhone) -> list[str]:
        names: list[str] = []
        for raw in phone.config_files:
            name = _MACRO.sub(
                lambda m: (
                    (phone.mac or "") if m.group(1).upper() == "MACADDRESS" else phone.model.id
                ),
                raw.strip(),
            )
            parts = name.replace("\\", "/").split("/")
            if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
                self._warn(
                    f"{phone.name}: custom config file {raw!r} is not a plain relative file "
                    "name; left out"
                )
                continue
            names.append("/".join(parts))
        return names

    def _custom_files(self, plan: Plan, phones: Iterable[EffectivePhone]) -> Artifacts:
        users: dict[str, list[str]] = {}
        for phone in phones:
            for name in dict.fromkeys(self._custom_names(phone)):
                users.setdefault(name, []).append(phone.name)
        root = Path(plan.inventory.root) / "custom_files"
        out: Artifacts = {}
        for name in sorted(users):
            source = next(
                (root / d / name for d in ("polycom", "Polycom") if (root / d / name).is_file()),
                None,
            )
            who = ", ".join(sorted(users[name]))
            if source is None:
                self._warn(
                    f"custom config file {name} (for {who}) not found in {root / 'polycom'}; "
                    "the phones skip it"
                )
                continue
            data = source.read_bytes()
            try:
                ET.fromstring(data)
            except ET.ParseError as exc:
                self._warn(
                    f"custom config file {source} is not well-formed XML ({exc}); "
                    "the phones may reject it"
                )
            out[f"{CUSTOM_DIR}/{name}"] = Artifact(data, tuple(sorted(users[name])))
        return out

    def _store_links(self, plan: Plan, phones: Iterable[EffectivePhone]) -> Artifacts:
        images: dict[str, list[str]] = {}
        phones = list(phones)
        for phone in phones:
            if phone.firmware is not None:
                path = firmware_path(phone.firmware.version, phone.model.part_number)
                images.setdefault(path, []).append(phone.name)
        store_name = plan.inventory.firmware_store
        if store_name is None:
            if images:
                self._warn(
                    "no firmware store named: Polycom firmware images and stock files "
                    "(phone1.cfg, sip.cfg) are not linked into the release"
                )
            return {}
        store = Path(store_name)
        if not store.is_absolute():
            store = Path(plan.inventory.root) / store
        out: Artifacts = {}
        names = tuple(sorted(p.name for p in phones))
        for stock in STOCK_FILES:
            source = store / "polycom" / stock
            if source.is_file():
                out[stock] = Artifact(b"", names, str(source.resolve()))
            else:
                self._warn(f"Polycom stock file {stock} not found at {source}")
        for path in sorted(images):
            source = store / path.removeprefix("firmware/")
            who = ", ".join(sorted(images[path]))
            if source.is_file():
                out[path] = Artifact(b"", tuple(sorted(images[path])), str(source.resolve()))
            else:
                self._warn(f"firmware image missing: {source} (needed at {path} by {who})")
        # The provisional master names the latest image of every model; link those the store
        # holds. A missing one is not a warning: no inventory phone needs it.
        for _token, path in _provisional_firmware():
            source = store / path.removeprefix("firmware/")
            if path not in out and source.is_file():
                out[path] = Artifact(b"", (), str(source.resolve()))
        return out

    @staticmethod
    def _override_dir(plan: Plan) -> str:
        return str(Path(plan.inventory.root) / "vendor_templates")


def iter_params(text: str | bytes) -> Iterator[tuple[str, str]]:
    """Every parameter of a Polycom file, in document order (for tests and ``simulate``)."""
    root = ET.fromstring(text)
    for element in root.iter():
        for key, value in element.attrib.items():
            if not key.startswith("{"):
                yield key, value
