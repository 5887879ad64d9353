"""What a desk phone's clock shows for a time zone, and where that differs from the real time.

A phone is given a standard offset and, with DST, a yearly rule: the ``week``-th ``weekday``
of a month at a time of day, for the start and for the end (see
:mod:`mipc.catalog.timezones`). It knows nothing else, so it is wrong wherever the zone does
not follow one fixed yearly rule over the coming year (a rule change still ahead, Ramadan
suspensions), and wherever a family's files cannot say the rule:

* Polycom (``tcpIpApp.sntp.daylightSavings.*``): the change time is a whole hour 0-23 (the
  renderer writes the hour, clamped to 0-23) and DST always adds one hour;
* ISS and AudioCodes (``system/daylight_saving/*``): hour and minute, and the DST amount in
  minutes.

Both take the start time in standard time and the end time in daylight time, as POSIX does.
The soft phone family carries no time settings and is not modelled.

:func:`phone_clock` is that model; :func:`differences` compares it, instant by instant over a
period, with the zone's real offsets (``zoneinfo`` over the same ``tzdata`` files), and
:func:`fidelity_warning` says in one sentence what the phone will show where it is wrong.
"""

from __future__ import annotations

import calendar
import io
import itertools
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from mipc.catalog.timezones import TimeZone, Transition, _read_zone_file, format_hhmm

__all__ = [
    "CLOCK_FAMILIES",
    "Difference",
    "PhoneClock",
    "differences",
    "fidelity_warning",
    "phone_clock",
    "real_changes",
]

#: Family -> how its files give the DST rule: "hours" (Polycom) or "minutes" (key/value).
CLOCK_FAMILIES = {"polycom": "hours", "iss": "minutes", "audiocodes": "minutes"}
_YEAR = timedelta(days=365)
_SCAN_STEP = 6 * 3600  # the real offset is read this often, then each change found exactly
_MAX_LISTED = 3  # wrong periods a warning lists before "and N more"

#: A piecewise constant offset: (instant, offset from that instant on), instants ascending.
Changes = list[tuple[int, int]]


@dataclass(frozen=True)
class PhoneClock:
    """What a phone is given: standard offset, DST amount and rules (None without DST)."""

    std_offset: int  # seconds east of UTC
    dst_save: int  # seconds added during DST, 0 without DST
    start: Transition | None  # in local standard time
    end: Transition | None  # in local daylight time

    def changes(self, first_year: int, last_year: int) -> Changes:
        """The phone's own offset changes in those years (UTC instants, ascending)."""
        if self.start is None or self.end is None or not self.dst_save:
            return []
        dst = self.std_offset + self.dst_save
        out: Changes = []
        for year in range(first_year, last_year + 1):
            out.append((_instant(year, self.start, self.std_offset), dst))
            out.append((_instant(year, self.end, dst), self.std_offset))
        return sorted(out)

    def offsets(self, since: int, until: int) -> Changes:
        """The phone's offset from ``since`` to ``until``: the first entry is at ``since``."""
        first = datetime.fromtimestamp(since, UTC).year - 1
        last = datetime.fromtimestamp(until, UTC).year + 1
        changes = self.changes(first, last)
        before = [offset for instant, offset in changes if instant <= since]
        initial = before[-1] if before else (changes[-1][1] if changes else self.std_offset)
        return [(since, initial)] + [(t, o) for t, o in changes if since < t < until]


def _day(year: int, rule: Transition) -> date:
    """The ``rule.week``-th (5 = last) ``rule.weekday`` (0 = Sunday) of the month."""
    first_weekday = (date(year, rule.month, 1).weekday() + 1) % 7  # 0 = Sunday
    day = 1 + (rule.weekday - first_weekday) % 7 + 7 * (rule.week - 1)
    length = calendar.monthrange(year, rule.month)[1]
    while day > length:
        day -= 7
    return date(year, rule.month, day)


def _instant(year: int, rule: Transition, local_offset: int) -> int:
    """The UTC instant (POSIX seconds) of ``rule`` in ``year``, read in ``local_offset``."""
    days = _day(year, rule).toordinal() - date(1970, 1, 1).toordinal()
    return days * 86400 + rule.seconds - local_offset


def _whole_hour(rule: Transition) -> Transition:
    """The rule as Polycom's files hold it: the hour, clamped to 0-23, as rendered."""
    hours = min(max(rule.seconds // 3600, 0), 23)
    return Transition(rule.month, rule.week, rule.weekday, hours * 3600)


def _whole_minute(rule: Transition) -> Transition:
    return Transition(rule.month, rule.week, rule.weekday, rule.seconds // 60 * 60)


def phone_clock(zone: TimeZone, family: str) -> PhoneClock | None:
    """What a phone of ``family`` is told about ``zone``; None for a family without a clock."""
    form = CLOCK_FAMILIES.get(family)
    if form is None:
        return None
    if zone.dst_start is None or zone.dst_end is None or not zone.dst_save:
        return PhoneClock(zone.std_offset, 0, None, None)
    if form == "hours":
        return PhoneClock(
            zone.std_offset, 3600, _whole_hour(zone.dst_start), _whole_hour(zone.dst_end)
        )
    save = zone.dst_save // 60 * 60
    return PhoneClock(
        zone.std_offset, save, _whole_minute(zone.dst_start), _whole_minute(zone.dst_end)
    )


# ---------------------------------------------------------------------------- real offsets


@cache
def _zoneinfo(data: bytes) -> ZoneInfo:
    """The zone of a TZif file from the ``tzdata`` package (never the host's database)."""
    return ZoneInfo.from_file(io.BytesIO(data))


def _real_offset(zone: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def real_changes(name: str, since: int, until: int) -> Changes:
    """The real offset of IANA zone ``name`` from ``since`` to ``until``, each change to the
    second (read every few hours, then bisected)."""
    return list(_real_changes(_read_zone_file(name), since, until))


@cache
def _real_changes(data: bytes, since: int, until: int) -> tuple[tuple[int, int], ...]:
    """:func:`real_changes` of one TZif file (links share theirs)."""
    zone = _zoneinfo(data)
    current = _real_offset(zone, since)
    out: Changes = [(since, current)]
    low = since
    while low < until:
        high = min(low + _SCAN_STEP, until)
        offset = _real_offset(zone, high)
        if offset != current:
            high = _first_change(zone, low, high, current)
            offset = _real_offset(zone, high)
            out.append((high, offset))
            current = offset
        low = high
    return tuple(out)


def _first_change(zone: ZoneInfo, low: int, high: int, current: int) -> int:
    """The first instant in (low, high] whose offset is not ``current``."""
    while high - low > 1:
        middle = (low + high) // 2
        if _real_offset(zone, middle) == current:
            low = middle
        else:
            high = middle
    return high


# ----------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Difference:
    """A period in which the phone shows ``phone`` while the real offset is ``real``."""

    since: int  # UTC instant, included
    until: int  # UTC instant, excluded
    phone: int
    real: int


def _at(changes: Changes, instant: int) -> int:
    return changes[bisect_right([t for t, _ in changes], instant) - 1][1]


def differences(phone: Changes, real: Changes, until: int) -> list[Difference]:
    """Where two offsets that both start at the same instant differ, before ``until``."""
    points = sorted({t for t, _ in phone} | {t for t, _ in real} | {until})
    out: list[Difference] = []
    for start, end in itertools.pairwise(points):
        shown, actual = _at(phone, start), _at(real, start)
        if shown == actual:
            continue
        if out and out[-1].until == start and (out[-1].phone, out[-1].real) == (shown, actual):
            out[-1] = Difference(out[-1].since, end, shown, actual)
        else:
            out.append(Difference(start, end, shown, actual))
    return out


def _utc(offset: int) -> str:
    return "UTC" + format_hhmm(offset) if offset % 60 == 0 else f"UTC{offset:+d}s"


def _when(instant: int) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%d %H:%M")


def _period(d: Difference) -> str:
    return f"from {_when(d.since)} to {_when(d.until)} UTC"


def _describe(name: str, family: str, phone: Changes, found: list[Difference]) -> str:
    more = len(found) - _MAX_LISTED
    tail = f"; and {more} more period{'s' if more > 1 else ''}" if more > 0 else ""
    if len(phone) == 1:
        real = ", ".join(f"{_utc(d.real)} {_period(d)}" for d in found[:_MAX_LISTED])
        return (
            f"{name}: {family} phones will show {_utc(phone[0][1])} all year; "
            f"the real offset is {real}{tail}"
        )
    shown = "; ".join(
        f"{_utc(d.phone)} {_period(d)} where the real offset is {_utc(d.real)}"
        for d in found[:_MAX_LISTED]
    )
    return f"{name}: {family} phones will be wrong: they show {shown}{tail}"


def fidelity_warning(zone: TimeZone, family: str, since: datetime | None = None) -> str | None:
    """What a phone of ``family`` will show wrong for ``zone`` in the year from ``since``
    (default: the start of today, UTC); None when it is right at every instant."""
    clock = phone_clock(zone, family)
    if clock is None:
        return None
    if since is None:
        since = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = int(since.timestamp())
    end = int((since + _YEAR).timestamp())
    phone = clock.offsets(start, end)
    found = differences(phone, real_changes(zone.name, start, end), end)
    return _describe(zone.name, family, phone, found) if found else None
