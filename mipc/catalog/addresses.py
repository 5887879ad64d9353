"""Phone addresses: MACs in any common notation, and SIP Soft Phone computer names.

Takes address text; gives it normalised, formatted or judged (with why not). Imports nothing
of mipc.
"""

from __future__ import annotations

import re
from functools import lru_cache

_HEX = frozenset("0123456789abcdefABCDEF")
_SEPARATORS = re.compile(r"[\s:.\-]")
_HOST = re.compile(
    r"\A(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*\Z"
)


@lru_cache(maxsize=1 << 18)  # one phone's MAC is read, checked and resolved: three calls
def normalize_mac(text: str) -> str | None:
    """12 lower-case hex digits, or None when text is not a MAC in a notation we accept.

    Accepted: 00:04:f2:aa:bb:cc, 00-04-F2-AA-BB-CC, 00.04.f2.aa.bb.cc, 0004.f2aa.bbcc,
    0004f2-aabbcc and 0004F2AABBCC, in any case, with surrounding spaces.
    """
    s = text.strip()
    # Each notation has its own length, so the length picks the one pattern to try.
    size = len(s)
    if size == 12:
        digits = s
    elif size == 17 and s[2] in ":-." and s[5] == s[8] == s[11] == s[14] == s[2]:
        digits = s[0:2] + s[3:5] + s[6:8] + s[9:11] + s[12:14] + s[15:17]
    elif size == 14 and s[4] == s[9] == ".":
        digits = s[0:4] + s[5:9] + s[10:14]
    elif size == 13 and s[6] == "-":
        digits = s[0:6] + s[7:13]
    else:
        return None
    return digits.lower() if _HEX.issuperset(digits) else None


def mac_problem(text: str) -> str:
    """Why text is not a MAC, for an error message."""
    digits = _SEPARATORS.sub("", text)
    bad = sorted({c for c in digits if c not in _HEX})
    if bad:
        listed = ", ".join(repr(c) for c in bad)
        verb = "is not a hex digit" if len(bad) == 1 else "are not hex digits"
        return (
            f"{text!r} is not a MAC address: {listed} {verb}"
            " (a MAC has 12 of 0-9 and a-f, e.g. 00:04:f2:aa:bb:cc)"
        )
    return (
        f"{text!r} is not a MAC address: it has {len(digits)} hex digits, a MAC has 12"
        " (write it as 00:04:f2:aa:bb:cc or 0004F2AABBCC)"
    )


_MAC_SHAPE = re.compile(
    r"\A(?:[0-9A-Za-z]{2}([:\-.])[0-9A-Za-z]{2}(?:\1[0-9A-Za-z]{2}){4}"  # 00:04:f2:aa:bb:cc
    r"|[0-9A-Za-z]{4}\.[0-9A-Za-z]{4}\.[0-9A-Za-z]{4}"  # 0004.f2aa.bbcc
    r"|[0-9A-Za-z]{6}-[0-9A-Za-z]{6}"  # 0004f2-aabbcc
    r"|[0-9A-Za-z]{12})\Z"
)


def looks_like_mac(text: str) -> bool:
    """True when text was probably meant as a MAC: mostly hex digits and separators, or a
    MAC's shape with a few letters beyond f (a typo, not a computer name)."""
    digits = _SEPARATORS.sub("", text)
    if len(digits) >= 6 and _HEX.issuperset(digits):
        return True
    shaped = _MAC_SHAPE.match(text.strip()) is not None
    return shaped and sum(c in _HEX for c in digits) >= 9


def is_computer_name(text: str) -> bool:
    """A full computer name (AgentPC1.lab.local) as the SIP Soft Phone is addressed."""
    return bool(_HOST.match(text.strip()))


def format_mac(mac12: str) -> str:
    """00:04:f2:aa:bb:cc from 12 hex digits."""
    return ":".join(mac12[i : i + 2] for i in range(0, 12, 2))
