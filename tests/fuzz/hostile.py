"""Hypothesis strategies of hostile input: YAML documents built from the constructs a loader
can trip on, valid files mutated, encodings and bytes a text file should not hold.

``yaml_texts`` composes documents of anchors and aliases (bombs), tags (``!!python/object``,
``!!binary``, ``!!set``, local tags), merge keys, huge numbers, deep flow and block nesting,
duplicate keys and odd scalars; ``mutated`` mutates given bytes (insert, delete, duplicate,
splice a hostile token); ``encoded`` re-encodes text (BOMs, UTF-16, Latin-1, NULs).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]

TOKENS = (
    "&a",
    "*a",
    "&b [*a, *a, *a, *a]",
    "<<: *a",
    "!!python/object:os.system",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:builtins.eval",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2001-12-14",
    "!!int 0x1F",
    "!!float .inf",
    "!!str",
    "!local",
    "!<tag:yaml.org,2002:python/tuple>",
    "%YAML 1.1",
    "%TAG ! tag:example.com,2000:",
    "---",
    "...",
    "? complex key",
    "9" * 400,
    "9" * 5000,
    "-" + "9" * 40,
    "1e999",
    "0o777",
    "0b1010",
    ".nan",
    "~",
    "null",
    "yes",
    "on",
    '"\\x00"',
    '"\\ud800"',
    '"\\uffff"',
    '"\\U0010ffff"',
    "'\u202e\u0301'",
    "\t",
    "\x00",
    "\x85",
    "\u2028",
    "\ufeff",
    "{" * 90 + "}" * 90,
    "[" * 90 + "]" * 90,
    "|\n  block",
    ">-\n  folded",
    "{a: 1, a: 2}",
    "key: value",
    "- item",
    "#",
    ":",
    "\\",
)

_SCALARS = st.one_of(
    st.sampled_from(TOKENS),
    st.text(max_size=12),
    st.integers().map(str),
    st.sampled_from(("name", "phones", "templates", "site", "mipc", "locations")),
)


def _node(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    mapping = st.lists(st.tuples(_SCALARS, children), max_size=4).map(
        lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
    )
    seq = st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
    anchored = st.tuples(st.sampled_from(("&a ", "&b ", "!!set ", "!x ", "")), children).map(
        "".join
    )
    return st.one_of(mapping, seq, anchored)


_FLOW = st.recursive(_SCALARS, _node, max_leaves=24)


def _block(lines: list[tuple[int, str, str]]) -> str:
    return "".join(f"{' ' * (2 * depth)}{key}: {value}\n" for depth, key, value in lines)


_BLOCK = st.lists(
    st.tuples(st.integers(0, 6), st.one_of(_SCALARS, st.just("- x")), _FLOW), max_size=10
).map(_block)

#: Whole YAML documents, as text.
yaml_texts = st.one_of(
    _BLOCK,
    _FLOW,
    st.tuples(st.sampled_from(("mipc: 1\n", "", "---\n", "%YAML 1.2\n---\n")), _BLOCK).map("".join),
    st.integers(1, 3000).map(lambda n: "a: " + "[" * n + "]" * n + "\n"),
    st.integers(1, 400).map(lambda n: "".join(f"{'  ' * i}k{i}:\n" for i in range(n))),
)


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    """One of ``seeds`` after a few random edits."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(("insert", "delete", "duplicate", "token", "byte")))
        if edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif edit == "duplicate":
            data[at:at] = data[max(0, at - 60) : at]
        elif edit == "token":
            data[at:at] = draw(st.sampled_from(TOKENS)).encode("utf-8", "surrogatepass")
        elif data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
    return bytes(data)


_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252")


@st.composite
def encoded(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> bytes:
    """``texts`` in one of several encodings, some with a BOM or a NUL spliced in."""
    text = draw(texts)
    codec = draw(st.sampled_from(_ENCODINGS))
    data = text.encode(codec, "replace")
    if draw(st.booleans()):
        data = draw(st.sampled_from((b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b""))) + data
    return data


def seed_files(*patterns: str) -> tuple[bytes, ...]:
    """The bytes of the repository's files matching ``patterns``, sorted by path."""
    found = sorted({p for pattern in patterns for p in REPO.glob(pattern) if p.is_file()})
    return tuple(p.read_bytes() for p in found)
