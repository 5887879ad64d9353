"""What the network files take from each phone: its :class:`PhoneFacts`.

The DHCP, DNS and nginx writers read these facts, not the effective phones, so a build that
compiles only some phones (:mod:`mipc.incremental`) makes the network files from the facts it
kept of the others. Takes effective phones; gives their facts, and turns them into plain
tuples and back (the state is marshalled). Never imports render or release.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from mipc.model import EffectivePhone, Registration
from mipc.resolve.credentials import phone_user

__all__ = ["VLAN_FAMILIES", "PhoneFacts", "Sip", "facts_of", "phone_facts"]

#: The families that boot a recovery image and so read option 132 (the guide's table).
VLAN_FAMILIES = frozenset({"iss", "audiocodes", "genesys"})

#: One registration as the voice zone reads it: kind, transport, address, port.
Sip = tuple[str, str, str, int | None]


class PhoneFacts(NamedTuple):
    """One phone as the network files see it (a named tuple: the state keeps 100,000s of
    them, and makes them again on each incremental build).

    ``boot_file``: its model's recovery image (DHCP option 67); ``time``: its UTC offset
    (seconds) and time servers; ``vlan``: the VLAN id its options give, for a family that
    reads option 132 (else None); ``user``: what it presents with ``access: phone``;
    ``sip``: every registration of its group and its appearances' groups.
    """

    name: str
    family: str
    mac: str | None
    boot_file: str | None
    location: str
    time: tuple[int, tuple[str, ...]]
    vlan: int | None
    user: str | None
    waiting: bool
    sip: tuple[Sip, ...]

    def to_tuple(self) -> tuple[Any, ...]:
        """The facts as a plain tuple (for marshal), its values shared, not copied."""
        return tuple(self)

    @classmethod
    def from_tuple(cls, data: tuple[Any, ...]) -> PhoneFacts:
        """The facts :meth:`to_tuple` gave."""
        return cls._make(data)


def _sip(regs: tuple[Registration, ...]) -> tuple[Sip, ...]:
    return tuple((r.kind, r.transport, r.address, r.port) for r in regs)


def phone_facts(phone: EffectivePhone, memo: dict[Any, Any] | None = None) -> PhoneFacts:
    """The facts of ``phone``; ``memo`` keeps what phones share (their groups' registrations,
    their time settings), by identity: give one dict for the phones of one plan."""
    memo = {} if memo is None else memo
    key = ("sip", id(phone.registrations), *(id(a.registrations) for a in phone.appearances))
    sip = memo.get(key)
    if sip is None:
        regs = (phone.registrations, *(a.registrations for a in phone.appearances))
        sip = memo[key] = tuple(dict.fromkeys(s for r in regs for s in _sip(r)))
    time = memo.get(("time", id(phone.time)))
    if time is None:
        time = (phone.time.zone.std_offset, tuple(phone.time.sntp_servers))
        memo[("time", id(phone.time))] = time
    vlan = phone.options.get("vlan") if phone.family in VLAN_FAMILIES else None
    return PhoneFacts(
        name=phone.name,
        family=phone.family,
        mac=phone.mac,
        boot_file=phone.model.firmware_image,
        location=phone.location,
        time=time,
        vlan=vlan["id"] if isinstance(vlan, dict) and isinstance(vlan.get("id"), int) else None,
        user=phone_user(phone),
        waiting=phone.waiting,
        sip=sip,
    )


def facts_of(phones: Iterable[EffectivePhone]) -> tuple[PhoneFacts, ...]:
    """The facts of ``phones``, in name order."""
    memo: dict[Any, Any] = {}
    return tuple(phone_facts(p, memo) for p in sorted(phones, key=lambda p: p.name))
