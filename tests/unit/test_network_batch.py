"""The network checks that test a whole plan's phones at once agree with the checks of each
phone: the same accepted phones, the same first error (hostile values included)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipc.network.checks import NetPhone, NetworkPlan, _phones, _phones_checked
from mipc.network.nginx import _phones_map
from mipc.network.values import all_macs
from tests.unit.test_network import PHONES, lab_plan

GOOD = "0004f2aabbcc"
#: MACs near the accepted ones: case, length, separators, line breaks, not text.
MACS = st.one_of(
    st.from_regex(r"[0-9a-f]{12}", fullmatch=True),
    st.sampled_from(
        [
            GOOD,
            "0004F2AABBCC",
            "0004f2aabbc",
            "0004f2aabbccd",
            "0004f2aabbcc\n",
            "\n0004f2aabbcc",
            "0004f2aabbcc\n0004f2aabbcd",
            "00:04:f2:aa:bb:cc",
            "",
            "000000000000",
            None,
            12,
        ]
    ),
)
NAMES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["Lobby 1", "x" * 128, "x" * 129, "a\nb", "", "tab\there", "é ü"]),
)
BOOTS = st.sampled_from([None, "sip100.img", "405hd.img", "../x.img", "", "a b.img", "x\n.img"])
FAMILIES = st.sampled_from(["polycom", "iss", "audiocodes", "bad\nfamily", "a;b", ""])


def _outcome(fn: Any, plan: NetworkPlan) -> object:
    try:
        return fn(plan)
    except ValueError as exc:
        return ("error", str(exc))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.builds(NetPhone, NAMES, MACS, BOOTS, FAMILIES), max_size=6).map(tuple))
def test_the_plan_wide_phone_check_says_what_the_per_phone_one_says(phones: Any) -> None:
    """Any phones: _phones gives what the per-phone check gives, error for error."""
    plan = lab_plan(phones=phones)
    assert _outcome(_phones, plan) == _outcome(_phones_checked, plan)


@settings(max_examples=300, deadline=None)
@given(st.lists(MACS, max_size=5))
def test_all_macs_is_each_mac_checked(macs: list[Any]) -> None:
    """all_macs holds exactly when every MAC is 12 lower-case hex digits (and there is one);
    the nginx map then says what the per-MAC check says."""
    each = bool(macs) and all(
        isinstance(m, str) and len(m) == 12 and all(c in "0123456789abcdef" for c in m)
        for m in macs
    )
    assert all_macs(macs) is each
    if all(isinstance(m, str) for m in macs):
        try:
            lines = _phones_map(tuple(macs))
        except ValueError as exc:
            assert not each or "000000000000" in macs, exc
        else:
            assert (each and "000000000000" not in macs) or not macs
            assert lines.count("    default 0;") == 1
            assert sum(line.endswith(" 1;") for line in lines) == len(set(macs))


def test_the_lab_phones_pass_the_plan_wide_check() -> None:
    """The lab's phones take the plan-wide path and give the sorted booting phones."""
    got = _phones(lab_plan())
    assert got == _phones_checked(lab_plan())
    assert [mac for mac, *_ in got] == sorted(p.mac for p in PHONES if p.boot_file)


@pytest.mark.parametrize(
    ("phones", "said"),
    [
        (
            (NetPhone("A", GOOD, None, "polycom"), NetPhone("B", GOOD, None, "polycom")),
            "used by both",
        ),
        ((NetPhone("A", "0004f2aabbcc\n0004f2aabbcd", None, "polycom"),), "12 lower-case hex"),
        ((NetPhone("A\n", GOOD, None, "polycom"),), "control characters"),
    ],
)
def test_a_bad_phone_is_named_as_before(phones: tuple[NetPhone, ...], said: str) -> None:
    """A duplicate MAC, a MAC holding a line break, a name with one: the same error."""
    with pytest.raises(ValueError, match=said):
        _phones(lab_plan(phones=phones))
