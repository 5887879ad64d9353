"""The parameters of the Polycom files that are not one phone's options.

Takes the :class:`~mipc.render.polycom.mapping.PolycomData` and the servers, time zone and
site facts a file needs; gives :class:`~mipc.render.polycom.params.Params`: a line's or a
group's servers, the time and daylight saving rules, ``proxy/<group>.cfg``,
``server/xic.cfg`` and ``server/setup.cfg``. The values come from the data; the shapes
(``voIpProt.server.M.*``, ``efk.efklist.N.*``, ``softkey.N.*``) are Polycom's and live here.
Never imports release or another stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mipc.catalog.timezones import Transition
from mipc.model import Registration, TimeSettings
from mipc.render.polycom.mapping import PolycomData
from mipc.render.polycom.names import SETUP_FILE
from mipc.render.polycom.params import Params, PolycomError

__all__ = ["group_params", "server_list", "setup_params", "site_params", "time_params"]


def server_list(
    data: PolycomData,
    params: Params,
    prefix: str,
    regs: Iterable[Registration],
    expires: int | None,
) -> None:
    """``<prefix>.M.address/port/transport`` (and ``expires``) for each server, in order."""
    for m, reg in enumerate(regs, start=1):
        if reg.transport not in data.transports:
            raise PolycomError(f"{prefix}: unknown transport {reg.transport!r}")
        # A DNS SRV entry keeps its transport, with port 0: the phone looks up the SRV
        # records of that transport for the domain.
        transport = data.transports[reg.transport]
        port = 0 if reg.kind == "dns_srv" else reg.port or 0
        params.set(f"{prefix}.{m}.address", reg.address)
        params.set(f"{prefix}.{m}.port", port)
        params.set(f"{prefix}.{m}.transport", transport)
        if expires is not None:
            params.set(f"{prefix}.{m}.expires", expires)


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


def time_params(
    data: PolycomData,
    params: Params,
    time: TimeSettings,
    warn: Callable[[str], None],
    who: str,
) -> None:
    """SNTP server, GMT offset and daylight saving rules of one phone."""
    zone = time.zone
    if time.sntp_servers:
        params.set("tcpIpApp.sntp.address", time.sntp_servers[0])
        params.set("tcpIpApp.sntp.address.overrideDHCP", time.overrides_dhcp)
    params.set("tcpIpApp.sntp.gmtOffset", zone.std_offset)
    params.set("tcpIpApp.sntp.gmtOffset.overrideDHCP", time.overrides_dhcp)
    params.set("tcpIpApp.sntp.resyncPeriod", data.sntp_resync_period)
    params.set(
        "tcpIpApp.sntp.daylightSavings.enable",
        zone.dst_start is not None and zone.dst_end is not None,
    )
    if zone.dst_start is not None and zone.dst_end is not None:
        params.set("tcpIpApp.sntp.daylightSavings.fixedDayEnable", 0)
        _dst_rule(params, "start", zone.dst_start, warn, who)
        _dst_rule(params, "stop", zone.dst_end, warn, who)


def group_params(data: PolycomData, group: str, servers: tuple[Registration, ...]) -> Params:
    """``proxy/<group>.cfg``: the group's servers as the phone-wide default servers
    (``voIpProt.server.M``), which every line without servers of its own uses."""
    params = Params(f"registration group {group}")
    server_list(data, params, "voIpProt.server", servers, None)
    for m in range(1, len(servers) + 1):
        for name, value in data.group_server:
            params.set(f"voIpProt.server.{m}.{name}", value)
    return params


def site_params(data: PolycomData, voicemail: bool) -> Params:
    """``server/xic.cfg``: the site-wide settings, park and page keys, dial plan."""
    params = Params("server/xic.cfg")
    params.update(data.server_params)
    for i, key in enumerate(data.soft_keys, start=1):
        prefix = f"efk.efklist.{i}"
        params.set(f"{prefix}.mname", key.name)
        params.set(f"{prefix}.status", 1)
        params.set(f"{prefix}.label", key.label)
        params.set(f"{prefix}.action.string", key.action)
    for i, label in enumerate(data.prompts, start=1):
        prefix = f"efk.efkprompt.{i}"
        params.set(f"{prefix}.status", 1)
        params.set(f"{prefix}.label", label)
        params.set(f"{prefix}.type", "numeric")
        params.set(f"{prefix}.userfeedback", "visible")
    for i, key in enumerate(data.soft_keys, start=1):
        prefix = f"softkey.{i}"
        params.set(f"{prefix}.label", key.label)
        params.set(f"{prefix}.action", f"!{key.name}")
        params.set(f"{prefix}.enable", 1)
        params.set(f"{prefix}.use.idle", not key.held)
        params.set(f"{prefix}.use.hold", key.held)
    if voicemail:
        params.update(data.voicemail)
    return params


def setup_params(data: PolycomData) -> Params:
    """The provisional station: one line labelled ``Setup``; nothing site-private."""
    params = Params(SETUP_FILE)
    params.update(data.setup)
    return params
