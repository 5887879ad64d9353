"""Tests for mipc.catalog.timezones: POSIX TZ footers, Windows names, phone-side formats."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mipc.catalog import timezones
from mipc.catalog.timezones import (
    TimeZone,
    TimeZoneDataError,
    Transition,
    UnknownTimeZone,
    UnsupportedRule,
    dhcp_option2,
    format_hhmm,
    lookup,
    parse_posix_tz,
    zone_names,
)

# ---------------------------------------------------------------------- well-known zones


def test_new_york() -> None:
    tz = lookup("America/New_York")
    assert tz.name == "America/New_York"
    assert tz.std_offset == -18000
    assert tz.dst_offset == -14400
    assert tz.dst_save == 3600
    assert tz.dst_start == Transition(month=3, week=2, weekday=0, seconds=7200)
    assert tz.dst_end == Transition(month=11, week=1, weekday=0, seconds=7200)
    assert (tz.std_abbr, tz.dst_abbr) == ("EST", "EDT")


def test_berlin_last_sunday_rules() -> None:
    tz = lookup("Europe/Berlin")
    assert tz.std_offset == 3600
    assert tz.dst_offset == 7200
    assert tz.dst_start == Transition(3, 5, 0, 7200)
    assert tz.dst_end == Transition(10, 5, 0, 10800)


def test_kolkata_has_no_dst() -> None:
    tz = lookup("Asia/Kolkata")
    assert tz.std_offset == 19800
    assert tz.dst_offset is None
    assert tz.dst_start is None and tz.dst_end is None
    assert tz.dst_abbr is None
    assert tz.dst_save == 0
    assert not tz.has_dst


def test_sydney_southern_hemisphere() -> None:
    tz = lookup("Australia/Sydney")
    assert tz.std_offset == 36000
    assert tz.dst_offset == 39600
    assert tz.dst_start == Transition(10, 1, 0, 7200)
    assert tz.dst_end == Transition(4, 1, 0, 10800)
    assert tz.dst_start.month > tz.dst_end.month


def test_kathmandu_quarter_hour_and_quoted_abbreviation() -> None:
    tz = lookup("Asia/Kathmandu")
    assert tz.std_offset == 20700
    assert tz.std_abbr == "+0545"
    assert tz.dst_offset is None


def test_lord_howe_half_hour_dst() -> None:
    tz = lookup("Australia/Lord_Howe")
    assert tz.std_offset == 37800
    assert tz.dst_save == 1800


def test_dublin_negative_dst_is_turned_round() -> None:
    tz = lookup("Europe/Dublin")
    assert tz.posix.startswith("IST-1GMT0")
    assert (tz.std_offset, tz.dst_offset) == (0, 3600)
    assert (tz.std_abbr, tz.dst_abbr) == ("GMT", "IST")
    # 01:00 GMT on the last Sunday of March, 02:00 IST on the last Sunday of October.
    assert tz.dst_start == Transition(3, 5, 0, 3600)
    assert tz.dst_end == Transition(10, 5, 0, 7200)


def test_rule_times_beyond_a_day_and_negative_become_times_of_day() -> None:
    # Gaza: "50:00" of the fourth Thursday -> 02:00 of the fourth Saturday.
    gaza = lookup("Asia/Gaza")
    assert gaza.posix == "EET-2EEST,M3.4.4/50,M10.4.4/50"
    assert gaza.dst_start == Transition(3, 4, 6, 2 * 3600)
    assert gaza.dst_end == Transition(10, 4, 6, 2 * 3600)
    # Nuuk: "-1:00" of the last Sunday -> 23:00 of the last Saturday.
    nuuk = lookup("America/Nuuk")
    assert nuuk.dst_start == Transition(3, 5, 6, 23 * 3600)
    assert nuuk.dst_end == Transition(10, 5, 0, 0)
    # Cairo: "24:00" of the last Thursday -> 00:00 of the last Friday.
    assert lookup("Africa/Cairo").dst_end == Transition(10, 5, 5, 0)
    for name in zone_names():
        zone = lookup(name)
        for rule in (zone.dst_start, zone.dst_end):
            assert rule is None or 0 <= rule.seconds < 86400, name


# -------------------------------------------------------------------------- POSIX parsing


@pytest.mark.parametrize(
    ("tz", "std", "dst", "start", "end"),
    [
        ("EST5EDT,M3.2.0,M11.1.0", -18000, -14400, (3, 2, 0, 7200), (11, 1, 0, 7200)),
        ("CET-1CEST,M3.5.0,M10.5.0/3", 3600, 7200, (3, 5, 0, 7200), (10, 5, 0, 10800)),
        ("IST-5:30", 19800, None, None, None),
        ("<+0545>-5:45", 20700, None, None, None),
        ("<-03>+3", -10800, None, None, None),
        ("AAA-1:02:03", 3723, None, None, None),
        ("XXX3YYY2:30,M3.2.0/-1:30,M11.1.0/25:15:10", -10800, -9000, (3, 2, 0, -5400), None),
        ("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 37800, 39600, (10, 1, 0, 7200), None),
        ("EET-2EEST,M3.4.4/50,M10.4.4/50", 7200, 10800, (3, 4, 4, 180000), (10, 4, 4, 180000)),
    ],
)
def test_parse_posix_tz(
    tz: str,
    std: int,
    dst: int | None,
    start: tuple[int, int, int, int] | None,
    end: tuple[int, int, int, int] | None,
) -> None:
    zone = parse_posix_tz(tz, "Test/Zone")
    assert zone.name == "Test/Zone"
    assert zone.posix == tz
    assert zone.std_offset == std
    assert zone.dst_offset == dst
    if start is not None:
        assert zone.dst_start == Transition(*start)
    if end is not None:
        assert zone.dst_end == Transition(*end)


def test_parse_over_24_hour_end_time() -> None:
    zone = parse_posix_tz("XXX3YYY2:30,M3.2.0/-1:30,M11.1.0/25:15:10")
    assert zone.dst_end == Transition(11, 1, 0, 25 * 3600 + 15 * 60 + 10)


def test_dst_offset_defaults_to_one_hour_ahead() -> None:
    zone = parse_posix_tz("EST5EDT,M3.2.0,M11.1.0")
    assert zone.dst_save == 3600


@pytest.mark.parametrize("tz", ["EST5EDT,J60,J300", "EST5EDT,60/2,300", "EST5EDT,M3.2.0,J300/3"])
def test_julian_rules_are_refused_clearly(tz: str) -> None:
    with pytest.raises(UnsupportedRule, match="Julian"):
        parse_posix_tz(tz, "Test/Julian")


@pytest.mark.parametrize(
    "tz",
    [
        "",
        "EST",  # no offset
        "ES5",  # abbreviation too short
        "<+05",  # unterminated quote
        "<>5",
        "EST5EDT",  # DST without rules
        "EST5EDT,M3.2.0",  # no end rule
        "EST5EDT,M13.2.0,M11.1.0",  # month 13
        "EST5EDT,M3.6.0,M11.1.0",  # week 6
        "EST5EDT,M3.2.7,M11.1.0",  # weekday 7
        "EST25",  # offset hours > 24
        "EST5:60",
        "EST5EDT,M3.2.0/168,M11.1.0",  # rule time > 167 h
        "EST5EDT,M3.2.0,M11.1.0junk",
    ],
)
def test_malformed_tz_strings(tz: str) -> None:
    with pytest.raises(TimeZoneDataError):
        parse_posix_tz(tz)


def test_tzif_version_1_and_garbage_are_refused() -> None:
    with pytest.raises(TimeZoneDataError, match="not a TZif"):
        timezones._tzif_footer(b"garbage" * 10, "X")
    v1 = b"TZif\x00" + bytes(15) + bytes(24)
    with pytest.raises(TimeZoneDataError, match="version 1"):
        timezones._tzif_footer(v1, "X")


# ----------------------------------------------------------------------------- all zones


def test_zone_names_sorted_and_complete() -> None:
    names = zone_names()
    assert list(names) == sorted(set(names))
    assert len(names) > 400
    for name in ("America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC", "Etc/GMT+5"):
        assert name in names


def test_every_zone_parses() -> None:
    for name in zone_names():
        tz = lookup(name)
        assert isinstance(tz, TimeZone)
        assert tz.name == name
        assert -12 * 3600 <= tz.std_offset <= 14 * 3600
        assert tz.dst_save >= 0
        assert (tz.dst_offset is None) == (tz.dst_start is None) == (tz.dst_end is None)


def _nth_weekday(year: int, rule: Transition) -> datetime:
    """Midnight (naive) of the day ``rule`` names in ``year``."""
    python_weekday = (rule.weekday + 6) % 7  # POSIX 0 = Sunday; Python 0 = Monday
    first = datetime(year, rule.month, 1)
    day = first + timedelta(days=(python_weekday - first.weekday()) % 7)
    day += timedelta(weeks=rule.week - 1)
    while day.month != rule.month:  # week 5 = last
        day -= timedelta(weeks=1)
    return day


def _check_change(zone: ZoneInfo, year: int, rule: Transition, before: int, after: int) -> None:
    local = _nth_weekday(year, rule) + timedelta(seconds=rule.seconds)
    instant = (local - timedelta(seconds=before)).replace(tzinfo=UTC)
    offset_before = instant - timedelta(seconds=1)
    assert offset_before.astimezone(zone).utcoffset() == timedelta(seconds=before), (zone, rule)
    assert instant.astimezone(zone).utcoffset() == timedelta(seconds=after), (zone, rule)


@pytest.mark.parametrize("year", [2031, 2045])
def test_rules_agree_with_zoneinfo_from_the_same_tzdata(year: int) -> None:
    """Our parsed rules put each change where the standard library puts it."""
    checked = 0
    for name in zone_names():
        tz = parse_posix_tz(lookup(name).posix, name)  # the rule as POSIX says it
        if tz.dst_offset is None or tz.dst_start is None or tz.dst_end is None:
            continue
        data = timezones._read_zone_file(name)
        zone = ZoneInfo.from_file(io.BytesIO(data), key=name)
        _check_change(zone, year, tz.dst_start, tz.std_offset, tz.dst_offset)
        _check_change(zone, year, tz.dst_end, tz.dst_offset, tz.std_offset)
        checked += 1
    assert checked > 50


# ------------------------------------------------------------------------- Windows names


def test_windows_display_name() -> None:
    assert lookup("(UTC-05:00) Eastern Time (US & Canada)").name == "America/New_York"


def test_windows_display_name_older_gmt_form() -> None:
    assert lookup("(GMT-05:00) Eastern Time (US & Canada)").name == "America/New_York"
    assert lookup("(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna").name == (
        "Europe/Berlin"
    )
    gmt = "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London"
    assert lookup(gmt).name == "Europe/London"


def test_windows_display_name_with_an_outdated_offset() -> None:
    # Moscow was UTC+04:00 from 2011 to 2014; the place names identify the zone.
    assert lookup("(UTC+04:00) Moscow, St. Petersburg").name == "Europe/Moscow"


def test_windows_ids() -> None:
    tz = lookup("Eastern Standard Time")
    assert tz.name == "America/New_York"
    assert tz.std_offset == -18000
    assert lookup("eastern standard time").name == "America/New_York"
    assert lookup("W. Europe Standard Time").name == "Europe/Berlin"
    assert lookup("India Standard Time").name == "Asia/Kolkata"
    assert lookup("AUS Eastern Standard Time").name == "Australia/Sydney"
    assert lookup("Nepal Standard Time").name == "Asia/Kathmandu"
    assert lookup("UTC-11").name == "Etc/GMT+11"
    assert lookup("Dateline Standard Time").std_offset == -12 * 3600


@pytest.mark.parametrize(
    ("display", "iana"),
    [
        ("(UTC-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"),
        ("(UTC-07:00) Arizona", "America/Phoenix"),
        ("(UTC-06:00) Central Time (US & Canada)", "America/Chicago"),
        ("(UTC-04:00) Atlantic Time (Canada)", "America/Halifax"),
        ("(UTC-03:30) Newfoundland", "America/St_Johns"),
        ("(UTC-03:00) Brasilia", "America/Sao_Paulo"),
        ("(UTC) Coordinated Universal Time", "Etc/UTC"),
        ("(UTC+00:00) Dublin, Edinburgh, Lisbon, London", "Europe/London"),
        ("(UTC+01:00) Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"),
        ("(UTC+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius", "Europe/Kyiv"),
        ("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
        ("(UTC+05:45) Kathmandu", "Asia/Kathmandu"),
        ("(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi", "Asia/Shanghai"),
        ("(UTC+09:00) Osaka, Sapporo, Tokyo", "Asia/Tokyo"),
        ("(UTC+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
        ("(UTC+12:00) Auckland, Wellington", "Pacific/Auckland"),
        ("(UTC-07:00) La Paz, Mazatlan", "America/Mazatlan"),
        ("(UTC-07:00) Chihuahua, La Paz, Mazatlan", "America/Mazatlan"),
    ],
)
def test_windows_display_names_table(display: str, iana: str) -> None:
    assert lookup(display).name == iana


def test_iana_case_insensitive_and_whitespace() -> None:
    assert lookup("america/new_york").name == "America/New_York"
    assert lookup("  Europe/Berlin ").name == "Europe/Berlin"


def test_windows_zones_json_is_consistent_and_canonical() -> None:
    text = (
        files("mipc")
        .joinpath("catalog")
        .joinpath("data")
        .joinpath("windows_zones.json")
        .read_text(encoding="utf-8")
    )
    raw = json.loads(text)
    assert text == json.dumps(raw, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    ids: dict[str, str] = raw["windows_ids"]
    displays: dict[str, str] = raw["display_names"]
    assert len(ids) >= 135
    names = set(zone_names())
    assert set(ids.values()) <= names
    assert set(displays.values()) <= set(ids)
    for display in displays:
        assert display.startswith(("(UTC", "(GMT")), display
    for windows_id in ids:  # every Windows id resolves to its zone; IANA names come first
        expected = windows_id if windows_id in names else ids[windows_id]
        assert lookup(windows_id).name == expected


# ---------------------------------------------------------------------------- unknowns


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownTimeZone) as caught:
        lookup("America/New_Yrok")
    assert caught.value.suggestions[0] == "America/New_York"
    assert "America/New_York" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_unknown_windows_id_suggests() -> None:
    with pytest.raises(UnknownTimeZone) as caught:
        lookup("Estern Standard Time")
    assert "Eastern Standard Time" in caught.value.suggestions


def test_unknown_without_suggestions() -> None:
    with pytest.raises(UnknownTimeZone) as caught:
        lookup("Qqqqqq/Zzzzzzzzz")
    assert caught.value.suggestions == ()


@pytest.mark.parametrize("name", ["", "../../etc/passwd", "America", "tzdata/zones"])
def test_non_zone_paths_are_unknown(name: str) -> None:
    with pytest.raises(UnknownTimeZone):
        lookup(name)


# -------------------------------------------------------------------- phone-side formats


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-18000, "FFFFB9B0"),
        (3600, "00000E10"),
        (0, "00000000"),
        (19800, "00004D58"),
        (-43200, "FFFF5740"),
        (50400, "0000C4E0"),
    ],
)
def test_dhcp_option2(offset: int, expected: str) -> None:
    assert dhcp_option2(offset) == expected


@given(st.integers(min_value=-43200, max_value=50400))
def test_dhcp_option2_round_trips(offset: int) -> None:
    text = dhcp_option2(offset)
    assert len(text) == 8
    assert text == text.upper()
    value = int(text, 16)
    signed = value - (1 << 32) if value & 0x80000000 else value
    assert signed == offset


@pytest.mark.parametrize("offset", [86400, -86400, 10**10])
def test_dhcp_option2_refuses_offsets_of_a_day(offset: int) -> None:
    with pytest.raises(ValueError):
        dhcp_option2(offset)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-18000, "-05:00"),
        (19800, "+05:30"),
        (0, "+00:00"),
        (20700, "+05:45"),
        (-12600, "-03:30"),
        (-1800, "-00:30"),
        (50400, "+14:00"),
    ],
)
def test_format_hhmm(offset: int, expected: str) -> None:
    assert format_hhmm(offset) == expected


@given(st.integers(min_value=-24 * 60 + 1, max_value=24 * 60 - 1))
def test_format_hhmm_round_trips(minutes: int) -> None:
    text = format_hhmm(minutes * 60)
    sign = -1 if text[0] == "-" else 1
    hours, mins = text[1:].split(":")
    assert sign * (int(hours) * 60 + int(mins)) == minutes


def test_format_hhmm_refuses_seconds() -> None:
    with pytest.raises(ValueError):
        format_hhmm(-17762)


def test_type_errors() -> None:
    with pytest.raises(TypeError):
        dhcp_option2(True)
    with pytest.raises(TypeError):
        format_hhmm(3600.0)  # type: ignore[arg-type]


def test_results_are_deterministic() -> None:
    assert lookup("Europe/Berlin") == lookup("W. Europe Standard Time")
    assert lookup("Europe/Berlin") is lookup("Europe/Berlin")
