"""Time zones for desk-phone provisioning: the rule in force now, as phones want it.

Phones do not carry the IANA database; they want a standard offset, a DST offset and two
"n-th weekday of month at hh:mm" rules. Those are exactly what the POSIX TZ string in the
footer of a TZif (version 2 or later) file says about the present and the future, so that
footer is what this module reads and parses.

The zone files come from the ``tzdata`` package (``importlib.resources``), never from the
host's ``/usr/share/zoneinfo``, so a build gives the same bytes on every machine.

Names are accepted as IANA names (exactly, then ignoring case), as Windows zone ids
(``"Eastern Standard Time"``) and as the Windows display names that CIC / Interaction
Administrator show (``"(UTC-05:00) Eastern Time (US & Canada)"``, or the older
``"(GMT-05:00) ..."`` form). The Windows tables live in ``mipc/catalog/data/windows_zones.json``.

Conventions:

* offsets are seconds *east* of UTC (New York: ``-18000``), the opposite sign of POSIX;
* :class:`Transition` keeps POSIX semantics: ``seconds`` is the local wall-clock time of the
  change in the time in force just before it (standard time for the start of DST, daylight
  time for its end). POSIX lets it be negative or 24 hours or more (``Asia/Gaza`` changes at
  "50:00" of a Thursday, i.e. 02:00 on the Saturday after it); :func:`parse_posix_tz` keeps
  that, while :func:`lookup` moves the weekday instead (Gaza: 02:00 of the fourth Saturday),
  since phones take a time of day. That is the right day in most years, not all:
  :mod:`mipc.catalog.phone_clock` checks the coming year and says when the phone is wrong;
* zones whose "standard" time is the summer one (``Europe/Dublin``: ``IST-1GMT0,...``) are
  turned round, so that ``dst_save`` is never negative, as phones and Windows expect;
* Julian-day rules (``Jn``, ``n``) cannot be said as "n-th weekday of month" and raise
  :class:`UnsupportedRule`; no zone in current tzdata uses them.

Takes zone names; gives :class:`TimeZone` rules and their DHCP and phone spellings. Imports
nothing of mipc but :mod:`mipc.resources`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import struct
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from mipc.diagnostics import InvalidInputError
from mipc.resources import catalog_data_dir

__all__ = [
    "TimeZone",
    "TimeZoneDataError",
    "Transition",
    "UnknownTimeZone",
    "UnsupportedRule",
    "dhcp_option2",
    "format_hhmm",
    "lookup",
    "parse_posix_tz",
    "zone_names",
]

_DEFAULT_CHANGE_TIME = 2 * 3600  # POSIX: a rule without "/time" changes at 02:00
_MAX_RULE_HOURS = 167  # RFC 8536 section 3.3.1 allows -167..167 hours in a rule's time
_MAX_OFFSET_HOURS = 24  # POSIX: an offset's hours are 0..24


class TimeZoneDataError(InvalidInputError, ValueError):
    """A TZif file or a POSIX TZ string that cannot be read."""


class UnsupportedRule(TimeZoneDataError):
    """A valid POSIX rule that a phone cannot be given (the Julian-day forms)."""


class UnknownTimeZone(InvalidInputError, ValueError):
    """A name that is neither an IANA zone nor a known Windows zone id or display name."""

    def __init__(self, name: str, suggestions: tuple[str, ...]) -> None:
        self.name = name
        self.suggestions = suggestions
        message = f"unknown time zone {name!r}"
        if suggestions:
            message += "; did you mean " + ", ".join(repr(s) for s in suggestions) + "?"
        super().__init__(message)


@dataclass(frozen=True)
class Transition:
    """A DST change: the ``week``-th ``weekday`` of ``month`` at ``seconds`` local time."""

    month: int  # 1-12
    week: int  # 1-4, or 5 meaning "last"
    weekday: int  # 0 = Sunday ... 6 = Saturday (POSIX)
    seconds: int  # local time of day of the change, in seconds (7200 = 02:00)


@dataclass(frozen=True)
class TimeZone:
    """The rule of a zone in force now (from the POSIX TZ footer of its TZif file)."""

    name: str  # IANA name, e.g. "America/New_York"
    std_offset: int  # seconds east of UTC (New York: -18000)
    dst_offset: int | None  # seconds east of UTC during DST (New York: -14400); None without DST
    dst_start: Transition | None
    dst_end: Transition | None
    std_abbr: str
    dst_abbr: str | None
    posix: str = field(default="", compare=False)  # the TZ string read, e.g. "EST5EDT,M3.2.0,..."

    @property
    def dst_save(self) -> int:
        """Seconds added during DST (3600 for most zones), 0 without DST."""
        return 0 if self.dst_offset is None else self.dst_offset - self.std_offset

    @property
    def has_dst(self) -> bool:
        """Whether the zone has daylight saving time."""
        return self.dst_offset is not None


# --------------------------------------------------------------------------- POSIX TZ strings


class _Cursor:
    """Left-to-right reader of one TZ string, with errors that say where it went wrong."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.pos = 0

    def error(self, what: str) -> TimeZoneDataError:
        where = f" for {self.name}" if self.name else ""
        return TimeZoneDataError(
            f"bad POSIX TZ string{where} {self.text!r} at position {self.pos}: {what}"
        )

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        found = pattern.match(self.text, self.pos)
        if found:
            self.pos = found.end()
        return found


_QUOTED_ABBR = re.compile(r"<([A-Za-z0-9+-]+)>")
_PLAIN_ABBR = re.compile(r"[A-Za-z]+")
_HMS = re.compile(r"([+-]?)(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?")
_MONTH_RULE = re.compile(r"M(\d{1,2})\.(\d)\.(\d)")
_JULIAN_RULE = re.compile(r"J?\d{1,3}")


def _abbreviation(cur: _Cursor, role: str) -> str:
    if cur.peek() == "<":
        found = cur.match(_QUOTED_ABBR)
        if found is None:
            raise cur.error(f"unterminated or empty quoted {role} abbreviation")
    else:
        found = cur.match(_PLAIN_ABBR)
        if found is None:
            raise cur.error(f"expected the {role} abbreviation")
    abbr = found.group(1) if found.lastindex else found.group(0)
    if len(abbr) < 3:
        raise cur.error(f"{role} abbreviation {abbr!r} is shorter than 3 characters")
    return abbr


def _hms(cur: _Cursor, what: str, max_hours: int) -> int:
    """``[+-]hh[:mm[:ss]]`` as signed seconds."""
    found = cur.match(_HMS)
    if found is None:
        raise cur.error(f"expected {what} as [+-]hh[:mm[:ss]]")
    sign, hours, minutes, seconds = found.groups()
    h, m, s = int(hours), int(minutes or 0), int(seconds or 0)
    if h > max_hours or m > 59 or s > 59:
        raise cur.error(f"{what} {found.group(0)!r} is out of range")
    total = h * 3600 + m * 60 + s
    return -total if sign == "-" else total


def _transition(cur: _Cursor, role: str) -> Transition:
    if cur.peek() != "M":
        julian = cur.match(_JULIAN_RULE)
        if julian:
            where = f"{cur.name}: " if cur.name else ""
            raise UnsupportedRule(
                f"{where}{role} rule {julian.group(0)!r} in {cur.text!r} is a Julian day "
                "(Jn, n): a fixed day of the year, which phones cannot be given as an n-th "
                "weekday of a month"
            )
        raise cur.error(f"expected the {role} rule as Mm.w.d")
    found = cur.match(_MONTH_RULE)
    if found is None:
        raise cur.error(f"expected the {role} rule as Mm.w.d")
    month, week, weekday = (int(g) for g in found.groups())
    if not 1 <= month <= 12 or not 1 <= week <= 5 or not 0 <= weekday <= 6:
        raise cur.error(f"{role} rule {found.group(0)!r} is out of range")
    seconds = _DEFAULT_CHANGE_TIME
    if cur.take("/"):
        seconds = _hms(cur, f"{role} time", _MAX_RULE_HOURS)
    return Transition(month=month, week=week, weekday=weekday, seconds=seconds)


def parse_posix_tz(tz: str, name: str = "") -> TimeZone:
    """Parse a POSIX TZ string such as ``"CET-1CEST,M3.5.0,M10.5.0/3"``.

    ``name`` is the IANA name put in the result (and in error messages). Raises
    :class:`TimeZoneDataError` for a malformed string, :class:`UnsupportedRule` for the
    Julian-day rule forms.
    """
    cur = _Cursor(tz, name)
    std_abbr = _abbreviation(cur, "standard")
    std_offset = -_hms(cur, "standard offset", _MAX_OFFSET_HOURS)
    if cur.at_end():
        return TimeZone(name, std_offset, None, None, None, std_abbr, None, posix=tz)

    dst_abbr = _abbreviation(cur, "daylight")
    dst_offset = std_offset + 3600
    if cur.peek() not in (",", ""):
        dst_offset = -_hms(cur, "daylight offset", _MAX_OFFSET_HOURS)
    if not cur.take(","):
        raise cur.error("a zone with daylight time needs ',start[/time],end[/time]' rules")
    start = _transition(cur, "start")
    if not cur.take(","):
        raise cur.error("expected ',' and the end rule")
    end = _transition(cur, "end")
    if not cur.at_end():
        raise cur.error("unexpected text after the end rule")

    if dst_offset < std_offset:
        # "Negative DST" (Europe/Dublin: IST-1GMT0,M10.5.0,M3.5.0/1): winter is the daylight
        # part. Turn it round. Each rule's time is in the local time in force before it, which
        # stays true after the swap, so the times carry over unchanged.
        std_offset, dst_offset = dst_offset, std_offset
        std_abbr, dst_abbr = dst_abbr, std_abbr
        start, end = end, start
    return TimeZone(name, std_offset, dst_offset, start, end, std_abbr, dst_abbr, posix=tz)


# --------------------------------------------------------------------------------- TZif files

_HEADER = struct.Struct(">4sc15x6l")


def _tzif_footer(data: bytes, name: str) -> str:
    """The POSIX TZ string at the end of a version 2+ TZif file ("" when it has none)."""
    try:
        magic, version, isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = _HEADER.unpack_from(
            data, 0
        )
    except struct.error as exc:
        raise TimeZoneDataError(f"{name}: TZif file is truncated") from exc
    if magic != b"TZif":
        raise TimeZoneDataError(f"{name}: not a TZif file")
    if version == b"\x00":
        raise TimeZoneDataError(f"{name}: TZif version 1 file has no POSIX TZ footer")
    v1_size = timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt
    second = _HEADER.size + v1_size
    try:
        _, _, isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = _HEADER.unpack_from(
            data, second
        )
    except struct.error as exc:
        raise TimeZoneDataError(f"{name}: TZif file is truncated") from exc
    v2_size = timecnt * 9 + typecnt * 6 + charcnt + leapcnt * 12 + isstdcnt + isutcnt
    footer = data[second + _HEADER.size + v2_size :]
    if len(footer) < 2 or footer[:1] != b"\n" or footer[-1:] != b"\n":
        raise TimeZoneDataError(f"{name}: TZif footer is missing or malformed")
    try:
        return footer[1:-1].decode("ascii")
    except UnicodeDecodeError as exc:
        raise TimeZoneDataError(f"{name}: TZif footer is not ASCII") from exc


def _zoneinfo_root() -> Traversable:
    return files("tzdata.zoneinfo")


def _read_zone_file(name: str) -> bytes:
    node = _zoneinfo_root()
    for part in name.split("/"):
        node = node.joinpath(part)
    return node.read_bytes()


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA name accepted, sorted (the ``tzdata`` package's own list)."""
    listing = files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return tuple(sorted({line.strip() for line in listing.splitlines() if line.strip()}))


def _within_a_day(rule: Transition) -> Transition:
    """``rule`` with a time of day 00:00-23:59: "50:00" of a Thursday becomes 02:00 of the
    Saturday, "-1:00" of a Sunday 23:00 of the Saturday, in the same week of the month."""
    days, seconds = divmod(rule.seconds, 86400)
    if not days:
        return rule
    return Transition(rule.month, rule.week, (rule.weekday + days) % 7, seconds)


@cache
def _load_iana(name: str) -> TimeZone:
    footer = _tzif_footer(_read_zone_file(name), name)
    if not footer:
        raise TimeZoneDataError(f"{name}: the TZif footer is empty (no rule for the future)")
    zone = parse_posix_tz(footer, name)
    if zone.dst_start is None or zone.dst_end is None:
        return zone
    start, end = _within_a_day(zone.dst_start), _within_a_day(zone.dst_end)
    return dataclasses.replace(zone, dst_start=start, dst_end=end)


# ------------------------------------------------------------------------------- name lookup


@dataclass(frozen=True)
class _Names:
    iana: frozenset[str]
    iana_folded: dict[str, str]
    windows_ids: dict[str, str]  # casefolded Windows id -> IANA name
    displays: dict[str, str]  # normalized display name -> Windows id
    display_places: dict[str, str]  # normalized place part of a display name -> Windows id
    candidates: tuple[str, ...]  # everything a suggestion may name


_GMT_PREFIX = re.compile(r"^\(\s*GMT\s*(?=[)+-])", re.IGNORECASE)
_OFFSET_PREFIX = re.compile(r"^\(\s*UTC\s*(?:[+-]\s*\d{1,2}(?::\d{2})?)?\s*\)\s*", re.IGNORECASE)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _normalize_display(text: str) -> str:
    """``(GMT-05:00)  Eastern Time`` and ``(UTC-05:00) eastern time`` compare equal."""
    return _fold(_GMT_PREFIX.sub("(UTC", text.strip()))


def _display_place(text: str) -> str | None:
    """The part after the ``(UTC±hh:mm)`` prefix, or None when there is no such prefix."""
    normalized = _normalize_display(text)
    found = _OFFSET_PREFIX.match(normalized)
    return normalized[found.end() :] if found else None


@cache
def _names() -> _Names:
    raw = json.loads((catalog_data_dir() / "windows_zones.json").read_text(encoding="utf-8"))
    windows_ids: dict[str, str] = raw["windows_ids"]
    display_names: dict[str, str] = raw["display_names"]
    iana = frozenset(zone_names())
    for windows_id, target in windows_ids.items():
        if target not in iana:
            raise TimeZoneDataError(f"windows_zones.json: {windows_id!r} -> unknown {target!r}")
    for display, windows_id in display_names.items():
        if windows_id not in windows_ids:
            raise TimeZoneDataError(f"windows_zones.json: {display!r} -> unknown {windows_id!r}")

    places: dict[str, set[str]] = {}
    for display, windows_id in display_names.items():
        place = _display_place(display)
        if place:
            places.setdefault(place, set()).add(windows_id)
    return _Names(
        iana=iana,
        iana_folded={n.casefold(): n for n in sorted(iana)},
        windows_ids={w.casefold(): z for w, z in windows_ids.items()},
        displays={_normalize_display(d): w for d, w in display_names.items()},
        display_places={p: next(iter(ids)) for p, ids in places.items() if len(ids) == 1},
        candidates=tuple(sorted(iana | windows_ids.keys() | display_names.keys())),
    )


def _resolve(name: str) -> str | None:
    """The IANA name meant by ``name``, or None."""
    names = _names()
    text = name.strip()
    if text in names.iana:
        return text
    folded = _fold(text)
    if folded in names.iana_folded:
        return names.iana_folded[folded]
    if folded in names.windows_ids:
        return names.windows_ids[folded]
    windows_id = names.displays.get(_normalize_display(text))
    if windows_id is None:
        place = _display_place(text)
        windows_id = names.display_places.get(place) if place else None
    return names.windows_ids[windows_id.casefold()] if windows_id else None


def _suggest(name: str) -> tuple[str, ...]:
    candidates = _names().candidates
    by_fold: dict[str, str] = {}
    for candidate in candidates:
        by_fold.setdefault(candidate.casefold(), candidate)
    close = difflib.get_close_matches(name.strip().casefold(), list(by_fold), n=5, cutoff=0.6)
    return tuple(by_fold[c] for c in close)


def lookup(name: str) -> TimeZone:
    """The zone ``name`` means: an IANA name, a Windows zone id or a Windows display name.

    Raises :class:`UnknownTimeZone` (a ``ValueError``) with close matches in ``suggestions``.
    """
    iana = _resolve(name)
    if iana is None:
        raise UnknownTimeZone(name, _suggest(name))
    return _load_iana(iana)


# ------------------------------------------------------------------------- phone-side formats


def dhcp_option2(offset_seconds: int) -> str:
    """DHCP option 2 (RFC 2132 time offset): signed 32-bit seconds, 8 upper-case hex digits.

    ``-18000`` -> ``"FFFFB9B0"``, ``3600`` -> ``"00000E10"``. Offsets of a day or more are
    refused, since no UTC offset is that large and they are surely a unit mistake.
    """
    if isinstance(offset_seconds, bool) or not isinstance(offset_seconds, int):
        raise TypeError(f"offset must be an int number of seconds, not {offset_seconds!r}")
    if not -86400 < offset_seconds < 86400:
        raise ValueError(f"UTC offset {offset_seconds} s is not within a day")
    return f"{offset_seconds & 0xFFFFFFFF:08X}"


def format_hhmm(offset_seconds: int) -> str:
    """An offset as ``"-05:00"``, ``"+05:30"``, ``"+00:00"`` (whole minutes only)."""
    if isinstance(offset_seconds, bool) or not isinstance(offset_seconds, int):
        raise TypeError(f"offset must be an int number of seconds, not {offset_seconds!r}")
    if offset_seconds % 60:
        raise ValueError(f"UTC offset {offset_seconds} s is not a whole number of minutes")
    sign = "-" if offset_seconds < 0 else "+"
    hours, minutes = divmod(abs(offset_seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
