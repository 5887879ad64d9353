"""Every IANA zone through 2027: what the phone shows against the real offset.

The phone side is mipc's model (:mod:`mipc.catalog.phone_clock`) of what each family does with
the standard offset and DST rule mipc writes. The real side is ``zoneinfo`` reading the
``tzdata`` package's files directly, sampled every ``STEP`` hours and at every change the phone
makes (and the second before it). A wrong period shorter than ``STEP`` then always holds a
phone change, so it is seen, unless the real offset changes twice within ``STEP``, which
:func:`test_real_changes_are_far_apart` rules out. The zones where the two differ must be
exactly those mipc warns about.
"""

from __future__ import annotations

import io
import itertools
import struct
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from mipc.catalog.phone_clock import CLOCK_FAMILIES, fidelity_warning, phone_clock
from mipc.catalog.timezones import Transition, lookup, zone_names
from mipc.diagnostics import Severity
from mipc.pipeline import validate

REFERENCE = datetime(2027, 1, 1, tzinfo=UTC)
SINCE = int(REFERENCE.timestamp())
UNTIL = int((REFERENCE + timedelta(days=365)).timestamp())
STEP = 4 * 3600
SAMPLES = range(SINCE, UNTIL, STEP)

#: What the test finds for 2027 with the pinned tzdata (2026f), by family.
WRONG_IN_2027 = {
    # Cuba stays on daylight time until November 2027; the rule after that is a yearly one.
    "America/Havana",
    "Cuba",
    # "The Saturday after the fourth Thursday" is the fourth Saturday in most years, not 2027.
    "Asia/Gaza",
    "Asia/Hebron",
}
WRONG_ON_POLYCOM_ONLY = {
    "Antarctica/Troll",  # two hours of DST; Polycom's DST is always one hour
    "Australia/LHI",  # half an hour of DST
    "Australia/Lord_Howe",
    "NZ-CHAT",  # changes at 02:45 and 03:45; Polycom takes whole hours
    "Pacific/Chatham",
}


def _tzdata_file(name: str) -> bytes:
    node = files("tzdata.zoneinfo")
    for part in name.split("/"):
        node = node.joinpath(part)
    return node.read_bytes()


def _names() -> list[str]:
    """Every zone ``zoneinfo`` knows that the tzdata package holds (not the host's extras)."""
    names = sorted(n for n in available_timezones() if n in set(zone_names()))
    assert set(names) == set(zone_names())
    return names


@cache
def _zone(data: bytes) -> ZoneInfo:
    return ZoneInfo.from_file(io.BytesIO(data))


def _real(data: bytes, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, _zone(data)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


@cache
def _real_sampled(data: bytes) -> tuple[int, ...]:
    zone = _zone(data)
    return tuple(
        int(datetime.fromtimestamp(t, zone).utcoffset().total_seconds())  # type: ignore[union-attr]
        for t in SAMPLES
    )


def _phone_sampled(changes: list[tuple[int, int]]) -> tuple[int, ...]:
    out: list[int] = []
    ends = [t for t, _ in changes[1:]] + [UNTIL]
    for (start, offset), end in zip(changes, ends, strict=True):
        first = -(-(start - SINCE) // STEP)  # the first sample at or after the change
        last = -(-(end - SINCE) // STEP)
        out.extend([offset] * (last - first))
    return tuple(out)


def _phone_is_wrong(name: str, family: str) -> bool:
    clock = phone_clock(lookup(name), family)
    assert clock is not None
    changes = clock.offsets(SINCE, UNTIL)
    data = _tzdata_file(name)
    if _phone_sampled(changes) != _real_sampled(data):
        return True
    for (instant, offset), (_, before) in zip(changes[1:], changes, strict=False):
        if _real(data, instant) != offset or _real(data, instant - 1) != before:
            return True
    return False


def test_every_zone_through_2027() -> None:
    names = _names()
    assert len(names) > 590
    for family in CLOCK_FAMILIES:
        wrong = {n for n in names if _phone_is_wrong(n, family)}
        warned = {n for n in names if fidelity_warning(lookup(n), family, REFERENCE) is not None}
        assert wrong == warned, family
        expected = WRONG_IN_2027 | (WRONG_ON_POLYCOM_ONLY if family == "polycom" else set())
        assert wrong == expected, family


def _tzif_transitions(data: bytes) -> list[int]:
    """The explicit transition instants of a version 2+ TZif file (RFC 8536)."""
    header = struct.Struct(">4sc15x6l")
    isut, isstd, leap, count, types, chars = header.unpack_from(data, 0)[2:]
    second = header.size + count * 5 + types * 6 + chars + leap * 8 + isstd + isut
    count = header.unpack_from(data, second)[5]
    return list(struct.unpack_from(f">{count}q", data, second + header.size))


def test_real_changes_are_far_apart() -> None:
    """No zone changes twice within STEP in the period (its file's own transitions; after
    the last of them its footer rule changes twice a year at most)."""
    for name in _names():
        instants = [t for t in _tzif_transitions(_tzdata_file(name)) if SINCE <= t < UNTIL]
        gaps = [b - a for a, b in itertools.pairwise(instants)]
        assert all(gap > STEP for gap in gaps), name
    assert _tzif_transitions(_tzdata_file("Africa/Casablanca"))  # the reader reads


def test_the_warnings_say_what_the_phone_shows() -> None:
    havana = fidelity_warning(lookup("America/Havana"), "iss", REFERENCE)
    assert havana == (
        "America/Havana: iss phones will be wrong: they show UTC-05:00 from 2027-01-01 00:00"
        " to 2027-03-14 05:00 UTC where the real offset is UTC-04:00"
    )
    lord_howe = fidelity_warning(lookup("Australia/Lord_Howe"), "polycom", REFERENCE)
    assert lord_howe is not None
    assert lord_howe.startswith(
        "Australia/Lord_Howe: polycom phones will be wrong: they show UTC+11:30 from"
        " 2027-01-01 00:00 to 2027-04-03 14:30 UTC where the real offset is UTC+11:00;"
    )
    assert fidelity_warning(lookup("Australia/Lord_Howe"), "audiocodes", REFERENCE) is None
    assert fidelity_warning(lookup("America/New_York"), "polycom", REFERENCE) is None
    assert fidelity_warning(lookup("America/New_York"), "softphone", REFERENCE) is None


def test_casablanca_in_2026() -> None:
    """Morocco left UTC+01:00 (with UTC+00:00 in Ramadan) for UTC+00:00 in September 2026:
    mipc writes the rule now in force, so the phone was wrong before that, and says so."""
    warning = fidelity_warning(
        lookup("Africa/Casablanca"), "polycom", datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert warning == (
        "Africa/Casablanca: polycom phones will show UTC+00:00 all year; the real offset is"
        " UTC+01:00 from 2026-01-01 00:00 to 2026-02-15 02:00 UTC, UTC+01:00 from"
        " 2026-03-22 02:00 to 2026-09-20 01:00 UTC"
    )
    after = datetime(2026, 9, 21, tzinfo=UTC)
    assert fidelity_warning(lookup("Africa/Casablanca"), "polycom", after) is None


def test_phone_model_new_york() -> None:
    clock = phone_clock(lookup("America/New_York"), "polycom")
    assert clock is not None
    assert clock.start == Transition(3, 2, 0, 7200)
    changes = clock.changes(2027, 2027)
    # 02:00 EST on 14 March is 07:00 UTC; 02:00 EDT on 7 November is 06:00 UTC.
    assert changes == [
        (int(datetime(2027, 3, 14, 7, tzinfo=UTC).timestamp()), -14400),
        (int(datetime(2027, 11, 7, 6, tzinfo=UTC).timestamp()), -18000),
    ]
    assert clock.offsets(SINCE, UNTIL)[0] == (SINCE, -18000)


def test_phone_model_family_forms() -> None:
    chatham = lookup("Pacific/Chatham")
    polycom = phone_clock(chatham, "polycom")
    keyvalue = phone_clock(chatham, "iss")
    assert polycom is not None and keyvalue is not None
    assert polycom.start == Transition(9, 5, 0, 2 * 3600)  # 02:45 said in whole hours
    assert keyvalue.start == Transition(9, 5, 0, 2 * 3600 + 45 * 60)
    troll = lookup("Antarctica/Troll")
    assert phone_clock(troll, "polycom").dst_save == 3600  # type: ignore[union-attr]
    assert phone_clock(troll, "audiocodes").dst_save == 7200  # type: ignore[union-attr]
    assert phone_clock(troll, "softphone") is None


CASE = Path(__file__).resolve().parents[1] / "cases" / "invalid" / "unknown-time-zone"
SECOND_PHONE = """\
  - name: Phone2
    template: Agent
    address: 00:04:f2:aa:bb:cd
    appearances:
      - {extension: "7002"}
"""


def test_validate_warns_once_at_the_time_zone(tmp_path: Path) -> None:
    text = (CASE / "mipc.yaml").read_text(encoding="utf-8")
    assert "America/New_Yrok" in text
    text = text.replace("America/New_Yrok", "Australia/Lord_Howe") + SECOND_PHONE
    (tmp_path / "mipc.yaml").write_text(text, encoding="utf-8")
    result = validate(tmp_path)
    found = [d for d in result.diagnostics.items if d.code == "time-zone-approximate"]
    assert len(found) == 1
    (warning,) = found
    assert warning.severity is Severity.WARNING
    assert warning.message.startswith("Australia/Lord_Howe: polycom phones will be wrong:")
    assert warning.position is not None
    assert (Path(warning.position.file).name, warning.position.line) == ("mipc.yaml", 13)
    assert not result.diagnostics.errors
