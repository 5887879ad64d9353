"""Phone addresses: MACs in any common notation, and SIP Soft Phone computer names."""

from __future__ import annotations

import re

_SEPARATED = re.compile(
    r"\A[0-9A-Fa-f]{2}([:\-.])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}\Z"  # 00:04:f2:aa:bb:cc
)
_DOTTED_QUADS = re.compile(r"\A[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\Z")  # 0004.f2aa.bbcc
_DASHED_SIX = re.compile(r"\A[0-9A-Fa-f]{6}-[0-9A-Fa-f]{6}\Z")  # 0004f2-aabbcc
_BARE = re.compile(r"\A[0-9A-Fa-f]{12}\Z")
_HOST = re.compile(
    r"\A(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*\Z"
)


def normalize_mac(text: str) -> str | None:
    """12 lower-case hex digits, or None when text is not a MAC in a notation we accept.

    Accepted: 00:04:f2:aa:bb:cc, 00-04-F2-AA-BB-CC, 00.04.f2.aa.bb.cc, 0004.f2aa.bbcc,
    0004f2-aabbcc and 0004F2AABBCC, in any case, with surrounding spaces.
    """
    s = text.strip()
    if _SEPARATED.match(s) or _DOTTED_QUADS.match(s) or _DASHED_SIX.match(s) or _BARE.match(s):
        return re.sub(r"[^0-9A-Fa-f]", "", s).lower()
    return None


def mac_problem(text: str) -> str:
    """Why text is not a MAC, for an error message."""
    digits = re.sub(r"[\s:.\-]", "", text)
    if not all(c in "0123456789abcdefABCDEF" for c in digits):
        return f"{text!r} is not a MAC address: it has characters other than hex digits"
    return (
        f"{text!r} is not a MAC address: it has {len(digits)} hex digits, a MAC has 12"
        " (write it as 00:04:f2:aa:bb:cc or 0004F2AABBCC)"
    )


def looks_like_mac(text: str) -> bool:
    """True when text was probably meant as a MAC (mostly hex digits and separators)."""
    digits = re.sub(r"[\s:.\-]", "", text)
    return len(digits) >= 6 and all(c in "0123456789abcdefABCDEF" for c in digits)


def is_computer_name(text: str) -> bool:
    """A full computer name (AgentPC1.lab.local) as the SIP Soft Phone is addressed."""
    return bool(_HOST.match(text.strip()))


def format_mac(mac12: str) -> str:
    """00:04:f2:aa:bb:cc from 12 hex digits."""
    return ":".join(mac12[i : i + 2] for i in range(0, 12, 2))
