"""The SIP services of the voice zone: which transports the phones use, and their DNS names.

Takes the inventory and its phones' :class:`~mipc.network.facts.PhoneFacts`; gives
:class:`SipUse`: the transports some phone registers over with the site's servers (a Line
entry, or a DNS SRV entry looking up the site's domain), the port of each, and the transports a
DNS SRV entry chose. The zone gets SRV and NAPTR records for exactly those transports
(:mod:`mipc.network.dns`). :data:`SERVICES` is the table of names. Never imports render or
release.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mipc.model import Inventory, Line
from mipc.network.facts import PhoneFacts

__all__ = ["SERVICES", "SipUse", "sip_use"]

#: Per transport, most secure first: the SRV owner a client looks up for it (RFC 3263 §4.2:
#: ``_sips._tcp`` for TLS, ``_sip._tcp``, ``_sip._udp``) and the NAPTR service field naming it
#: (RFC 3263 §4.1; IANA "SIP NAPTR Resource Record Services Field" registry).
SERVICES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "tls": ("_sips._tcp", "SIPS+D2T"),
        "tcp": ("_sip._tcp", "SIP+D2T"),
        "udp": ("_sip._udp", "SIP+D2U"),
    }
)


@dataclass(frozen=True)
class SipUse:
    """The transports the phones use with the site's servers.

    ``ports``: transport → the CIC line port its SRV records give (a transport only a DNS SRV
    entry names, with no line of that transport, has none: the rules warn about it);
    ``chosen``: the transports that DNS SRV entries of the site's domain name, most secure
    first (the NAPTR records put them first).
    """

    ports: Mapping[str, int]
    chosen: tuple[str, ...]

    def port(self, transport: str) -> int:
        """The port of ``transport``'s SRV records; 0 when it gets none."""
        return self.ports.get(transport, 0)


def _line_port(lines: Mapping[str, Line], transport: str, used: set[tuple[str, int]]) -> int:
    """The port of the first line (by name) of ``transport`` that phones use, else of any."""
    candidates = sorted(
        (((ln.transport, ln.port) not in used), name, ln.port)
        for name, ln in lines.items()
        if ln.transport == transport
    )
    return candidates[0][2] if candidates else 0


def sip_use(inv: Inventory, phones: Iterable[PhoneFacts]) -> SipUse:
    """Which transports ``phones`` register over with the site's servers."""
    domain = inv.site.domain.lower().rstrip(".")
    lines: set[tuple[str, int]] = set()
    chosen: set[str] = set()
    seen: set[int] = set()
    for phone in phones:
        if id(phone.sip) in seen:  # the phones of one group share theirs
            continue
        seen.add(id(phone.sip))
        for kind, transport, address, port in phone.sip:
            if kind == "line" and port is not None:
                lines.add((transport, port))
            elif kind == "dns_srv" and address.lower().rstrip(".") == domain:
                chosen.add(transport)
    used = {t for t, _ in lines} | chosen
    ports = {t: _line_port(inv.lines, t, lines) for t in SERVICES if t in used}
    return SipUse(
        ports=MappingProxyType({t: p for t, p in ports.items() if p}),
        chosen=tuple(t for t in SERVICES if t in chosen),
    )
