"""The transforms of the key=value families: inventory settings to concepts, section by section.

Takes an effective phone, its plan and the family's :class:`Profile`; gives the phone's
concepts (``sip.proxy_address``, ``dst.start.week`` ...) written through the profile's key
table into a :class:`KeyValueFile`. The data names the sections to run, in file order
(:data:`SECTIONS`); a concept the family has no key for is not written. No branch here names a
family or a model: every such fact is the profile's. Never imports release.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mipc.catalog.timezones import Transition, format_hhmm
from mipc.inventory.options import option_models
from mipc.model import Appearance, EffectivePhone, Plan, Registration, Secret
from mipc.render.base import RenderError
from mipc.render.keyvalue.hashes import hash_secret
from mipc.render.keyvalue.kvfile import KeyValueFile
from mipc.render.keyvalue.profile import Profile

__all__ = ["CONCEPTS", "SECTIONS", "Section", "Writer", "firmware_path", "voicemail_number"]

_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")

#: Every concept a section writes: a family's key table may map any of them, and only them.
CONCEPTS: frozenset[str] = frozenset(
    {
        "type",
        *(f"line.{n}" for n in ("enabled", "id", "description", "auth_name", "auth_password")),
        "line.extension_display",
        "line.line_mode",
        *(
            f"sip.{n}"
            for n in (
                "use_proxy",
                "proxy_address",
                "proxy_port",
                "registrar_from_proxy",
                "registrar_enabled",
                "registrar_address",
                "registrar_port",
                "transport",
                "backup_enabled",
                "backup_address",
                "backup_port",
                "local_port",
                "expires",
                "tos",
                "keepalive_enabled",
                "keepalive_timeout",
            )
        ),
        "media.port",
        "media.tos",
        "media.srtp",
        *(f"ntp.{n}" for n in ("enabled", "primary", "secondary", "gmt_offset")),
        "ntp.dhcp_servers",
        "ntp.dhcp_offset",
        "dst.activate",
        "dst.mode",
        "dst.offset",
        *(
            f"dst.{role}.{n}"
            for role in ("start", "end")
            for n in ("month", "week", "day", "hour", "minute")
        ),
        *(f"vlan.{n}" for n in ("mode", "id", "priority", "cdp", "lldp")),
        "lan.port_mode",
        "pc.port_mode",
        *(f"syslog.{n}" for n in ("mode", "server", "port", "level", "facility")),
        *(f"gains.{n}" for n in ("handset", "headset", "speaker")),
        *(
            f"emergency.{n}"
            for n in ("description", "location", "calling_party_number", "customer_name")
        ),
        "language",
        "ring_always",
        "inband_call_waiting_tone",
        "pickup",
        "ring_volume",
        "speed_dial.1",
        "speed_dial.2",
        "speed_dial.hold_ms",
        "voicemail.enabled",
        "voicemail.number",
        "prov.method",
        "prov.firmware_url",
        "prov.config_url",
        "admin.password",
    }
)

#: The concepts whose key path holds ``{n}``, the line index.
LINE_CONCEPTS = frozenset(c for c in CONCEPTS if c.startswith("line."))

#: The concepts whose value is a secret (``hashes:`` may name them).
SECRET_CONCEPTS = frozenset({"admin.password"})

#: The named fixed values a family's data spells (``values:``).
VALUE_NAMES = frozenset(
    {"vlan.manual", "vlan.automatic", "vlan.disabled", "dst.enabled", "dst.disabled"}
    | {"dst.mode", "prov.method"}
)

#: The defaults a family's data gives (``defaults:``): an option's value when it is not set.
DEFAULT_NAMES = frozenset(
    {"sip_port", "media_port_start", "registration_expires", "lan_port_mode", "pc_port_mode"}
    | {"ring_always", "inband_call_waiting_tone", "enable_pickup", "ring_volume"}
    | {"speed_dial_1", "speed_dial_2", "speed_dial_hold_ms"}
    | {"line.kind", "vlan.priority", "syslog.transport", "syslog.port"}
)

_EMERGENCY = ("description", "location", "calling_party_number", "customer_name")


def _same(value: Any) -> Any:
    return value


class Writer:
    """Writes one phone's concepts through a profile's key table into a KeyValueFile."""

    def __init__(
        self, profile: Profile, phone: EffectivePhone, warn: Callable[[str, str], None]
    ) -> None:
        self.profile = profile
        self.phone = phone
        self.warn = warn  # (message, once-key): a warning reported once per key
        self.file = KeyValueFile(phone.name)
        self.tried: set[str] = set()
        self.written: set[str] = set()

    def put(self, concept: str, value: Any, *, n: int | None = None, option: str = "") -> None:
        """Write ``concept`` (through the key table) unless the family has no key or the
        value is None; ``option`` names the inventory option it comes from."""
        if option:
            self.tried.add(option)
        template = self.profile.keys.get(concept)
        if template is None or value is None:
            return
        key = template.format(n=n) if n is not None else template
        limit = self.profile.limits.get(concept)
        scheme = self.profile.hashes.get(concept)
        if scheme is not None and isinstance(value, Secret):
            value = Secret(hash_secret(scheme, value.value), value.source)
        text = value.value if isinstance(value, Secret) else value
        if limit is not None and isinstance(text, str) and len(text) > limit:
            shown = "<redacted>" if isinstance(value, Secret) else repr(text)
            raise RenderError(
                f"phone {self.phone.name}: {key} is {len(text)} characters ({shown}); "
                f"{self.profile.display} phones take at most {limit}"
            )
        minimum = self.profile.minimums.get(concept)
        if minimum is not None and type(value) is int:
            value = max(value, minimum)
        self.file.set(key, value)
        if option:
            self.written.add(option)

    def option(self, name: str) -> Any:
        """The phone's option ``name``, else the family's default for it."""
        return self.phone.options.get(name, self.profile.defaults[name])

    def put_option(self, concept: str, name: str, convert: Callable[[Any], Any] = _same) -> None:
        """Write an option (or its default), reporting it only when the inventory set it."""
        option = name if name in self.phone.options else ""
        self.put(concept, convert(self.option(name)), option=option)

    def unwritable_options(self) -> list[str]:
        """Options the inventory set that no key of the family could hold."""
        return sorted(self.tried - self.written)


@dataclass(frozen=True)
class Section:
    """One transform the data may name: what it writes, and whether it depends only on the
    phone's profile (then it is computed once per profile)."""

    write: Callable[[Writer, Plan], None]
    per_profile: bool


def _lines(w: Writer, plan: Plan) -> None:
    phone = w.phone
    count = phone.model.line_keys
    appearances = sorted(phone.appearances, key=lambda a: a.index)
    if len(appearances) > count:
        raise RenderError(
            f"phone {phone.name}: {len(appearances)} appearances, but a "
            f"{phone.model.display} has {count} line(s)"
        )
    for n in range(count):
        if n < len(appearances):
            _line(w, n, appearances[n])
        else:
            w.put("line.enabled", False, n=n)


def _line(w: Writer, n: int, app: Appearance) -> None:
    w.put("line.enabled", True, n=n)
    w.put("line.id", app.user, n=n)
    w.put("line.description", app.display_name, n=n)
    w.put("line.auth_name", app.auth_user or app.user, n=n)
    w.put("line.auth_password", app.auth_password or "", n=n)
    w.put("line.extension_display", app.label or app.extension, n=n)
    modes = w.profile.line_modes
    w.put("line.line_mode", modes.get(app.kind, modes[str(w.profile.defaults["line.kind"])]), n=n)


def _sip(w: Writer, plan: Plan) -> None:
    phone = w.phone
    regs = phone.registrations
    if not regs:
        raise RenderError(f"phone {phone.name}: no registration to write")
    main = regs[0]
    w.put("sip.use_proxy", True)
    w.put("sip.proxy_address", main.address)
    w.put("sip.proxy_port", main.port)
    w.put("sip.registrar_from_proxy", True)
    w.put("sip.registrar_enabled", True)
    w.put("sip.registrar_address", main.address)
    w.put("sip.registrar_port", main.port)
    w.put("sip.transport", _transport(w, main))
    backup = regs[1] if len(regs) > 1 else None
    w.put("sip.backup_enabled", backup is not None)
    if backup is not None:
        w.put("sip.backup_address", backup.address)
        w.put("sip.backup_port", backup.port)
    w.put_option("sip.local_port", "sip_port")
    w.put_option("sip.expires", "registration_expires")
    if "nat_keepalive" in phone.options:
        interval = int(phone.options["nat_keepalive"])
        w.put("sip.keepalive_enabled", interval > 0, option="nat_keepalive")
        if interval > 0:
            w.put("sip.keepalive_timeout", interval)
    w.put("sip.tos", phone.qos.sip_tos)
    w.put_option("media.port", "media_port_start")
    w.put("media.tos", phone.qos.rtp_tos)
    if phone.audio_protocol == "srtp":
        _srtp(w)


def _srtp(w: Writer) -> None:
    """SRTP: the family's key for it, or an error; never plain RTP in silence."""
    if "media.srtp" not in w.profile.keys:
        raise RenderError(
            f"phone {w.phone.name}: audio_protocol srtp, but mipc knows no verified "
            f"{w.profile.display} key for SRTP and the phone would keep sending plain RTP; "
            "set audio_protocol: rtp (and write the vendor's SRTP key through extra:), "
            "or map media.srtp in the family's keys.yaml"
        )
    w.put("media.srtp", True)


def _transport(w: Writer, reg: Registration) -> str:
    try:
        return w.profile.transports[reg.transport]
    except KeyError:
        raise RenderError(
            f"phone {w.phone.name}: transport {reg.transport!r} is not one "
            f"{w.profile.display} phones take"
        ) from None


def _time(w: Writer, plan: Plan) -> None:
    time = w.phone.time
    zone = time.zone
    servers = time.sntp_servers
    values = w.profile.values
    w.put("ntp.enabled", bool(servers))
    if servers:
        w.put("ntp.primary", servers[0])
    if len(servers) > 1:
        w.put("ntp.secondary", servers[1])
    w.put("ntp.gmt_offset", format_hhmm(zone.std_offset))
    w.put("ntp.dhcp_servers", not time.overrides_dhcp)
    w.put("ntp.dhcp_offset", not time.overrides_dhcp)
    if zone.dst_start is None or zone.dst_end is None or not zone.has_dst:
        w.put("dst.activate", values["dst.disabled"])
        return
    w.put("dst.activate", values["dst.enabled"])
    w.put("dst.mode", values["dst.mode"])
    for role, tr in (("start", zone.dst_start), ("end", zone.dst_end)):
        fields = _transition_fields(tr, w.phone.name, zone.name)
        for name, value in zip(("month", "week", "day", "hour", "minute"), fields, strict=True):
            w.put(f"dst.{role}.{name}", value)
    w.put("dst.offset", zone.dst_save // 60)


def _transition_fields(tr: Transition, phone: str, zone: str) -> tuple[int, int, int, int, int]:
    """month, week (5 = last), day of week (1 = Sunday ... 7), hour, minute."""
    if not 0 <= tr.seconds < 24 * 3600:
        raise RenderError(
            f"phone {phone}: time zone {zone} changes at {tr.seconds} s past midnight, "
            "which a phone's hour/minute fields cannot hold"
        )
    hour, rest = divmod(tr.seconds, 3600)
    return tr.month, tr.week, tr.weekday + 1, hour, rest // 60


def _network(w: Writer, plan: Plan) -> None:
    opts = w.phone.options
    vlan = opts.get("vlan")
    if isinstance(vlan, Mapping):
        _vlan(w, vlan)
    w.put_option("lan.port_mode", "lan_port_mode", w.profile.port_modes.get)
    w.put_option("pc.port_mode", "pc_port_mode", w.profile.port_modes.get)
    syslog = opts.get("syslog")
    if isinstance(syslog, Mapping):
        _syslog(w, syslog)
    for group, names in (("gains", ("handset", "headset", "speaker")), ("emergency", _EMERGENCY)):
        given = opts.get(group)
        if isinstance(given, Mapping):
            for name in names:
                w.put(f"{group}.{name}", given.get(name), option=group)


def _vlan(w: Writer, vlan: Mapping[str, Any]) -> None:
    values = w.profile.values
    if vlan.get("id") is not None:
        mode = values["vlan.manual"]
    elif vlan.get("cdp") or vlan.get("lldp"):
        mode = values["vlan.automatic"]
    else:
        mode = values["vlan.disabled"]
    w.put("vlan.mode", mode, option="vlan")
    if vlan.get("id") is not None:
        w.put("vlan.id", vlan["id"])
        w.put("vlan.priority", vlan.get("priority", w.profile.defaults["vlan.priority"]))
    for flag in ("cdp", "lldp"):
        if flag in vlan:
            w.put(f"vlan.{flag}", bool(vlan[flag]))


def _syslog(w: Writer, syslog: Mapping[str, Any]) -> None:
    profile = w.profile
    fallback = str(profile.defaults["syslog.transport"])
    transport = str(syslog.get("transport", fallback))
    mode = profile.syslog_modes.get(transport)
    if mode is None:
        mode = profile.syslog_modes[fallback]
        w.warn(
            f"{profile.display} phones send syslog over {'/'.join(profile.syslog_modes.values())}"
            f" only; transport {transport} replaced by {mode} (first: {w.phone.name})",
            f"syslog:{transport}",
        )
    w.put("syslog.mode", mode, option="syslog")
    w.put("syslog.server", syslog["server"])
    w.put("syslog.port", syslog.get("port", profile.defaults["syslog.port"]))
    w.put("syslog.level", syslog.get("level"))
    w.put("syslog.facility", syslog.get("facility"))


def _features(w: Writer, plan: Plan) -> None:
    phone = w.phone
    if "language" in w.profile.keys:
        w.put("language", _language(w))
    w.put_option("ring_always", "ring_always", bool)
    w.put_option("inband_call_waiting_tone", "inband_call_waiting_tone", bool)
    w.put_option("pickup", "enable_pickup", bool)
    w.put_option("ring_volume", "ring_volume")
    if phone.model.id in option_models()["speed_dial_1"]:  # the same x-models on all three
        w.put("speed_dial.1", str(w.option("speed_dial_1")))
        w.put("speed_dial.2", str(w.option("speed_dial_2")))
        w.put("speed_dial.hold_ms", w.option("speed_dial_hold_ms"))
    voicemail = voicemail_number(phone, plan)
    if voicemail:
        option = "voicemail_number" if "voicemail_number" in phone.options else ""
        w.put("voicemail.enabled", True, option=option)
        w.put("voicemail.number", str(voicemail))


def _language(w: Writer) -> str:
    """The family's value for the phone's language; an error naming the ones it has."""
    value = w.profile.languages.get(w.phone.language)
    if value is None:
        raise RenderError(
            f"phone {w.phone.name}: language {w.phone.language} has no {w.profile.display} "
            f"value; use one of {', '.join(sorted(w.profile.languages))}"
        )
    return value


def _provisioning(w: Writer, plan: Plan) -> None:
    url = plan.inventory.site.provisioning_url
    base = url if url.endswith("/") else url + "/"
    phone = w.phone
    w.put("prov.method", w.profile.values["prov.method"])
    fw = phone.firmware
    image = phone.model.firmware_image
    if fw is not None and image:
        w.put("prov.firmware_url", base + firmware_path(w.profile.family, fw.version, image))
    w.put("prov.config_url", f"{base}{phone.mac}.cfg")


def _admin(w: Writer, plan: Plan) -> None:
    """The admin password, through the family's hash (``hashes:``) if it has one; a family
    without a key for it writes nothing (the rules warn: the phone keeps its default)."""
    if w.phone.admin_password is not None:
        w.put("admin.password", w.phone.admin_password)


def firmware_path(family: str, version: str, image: str) -> str:
    """Release path of a firmware image: ``firmware/<family>/<version>/<image>``."""
    if not _SAFE_SEGMENT.fullmatch(version) or not _SAFE_SEGMENT.fullmatch(image):
        raise RenderError(f"firmware {version!r} / {image!r} cannot be used in a path")
    return f"firmware/{family}/{version}/{image}"


def voicemail_number(phone: EffectivePhone, plan: Plan) -> str | None:
    """Voice mail access number: the phone's option, else the site's."""
    number = phone.options.get("voicemail_number")
    if number:
        return str(number)
    return plan.inventory.site.voicemail_number


#: The transforms a family's ``sections:`` may name, by name.
SECTIONS: Mapping[str, Section] = {
    "lines": Section(_lines, per_profile=False),
    "sip": Section(_sip, per_profile=True),
    "time": Section(_time, per_profile=True),
    "network": Section(_network, per_profile=True),
    "features": Section(_features, per_profile=True),
    "provisioning": Section(_provisioning, per_profile=False),
    "admin": Section(_admin, per_profile=True),
}
