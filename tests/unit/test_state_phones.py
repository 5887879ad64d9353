"""The state's phones read one at a time (mipc.incremental.phones): whatever the base and the
patches, they answer as the plain dict of the same phones does, the index's lookups included."""

from __future__ import annotations

import marshal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mipc.incremental.phones import (
    LazyPhones,
    PhoneState,
    collides,
    encoded_phones,
    group_names,
    network_facts,
    read_phones,
    staying,
    with_changes,
)

NAMES = st.sampled_from([f"p{i}" for i in range(12)])
SMALL = st.sampled_from(["a", "b", "c", ""])


@st.composite
def phone(draw: Any) -> PhoneState:
    """A phone's state with few distinct values, so that phones share them."""
    return (
        draw(st.binary(max_size=2)),
        draw(st.sampled_from(["", "lists/a.csv", "lists/b.csv"])),
        draw(SMALL),
        tuple(draw(st.lists(st.sampled_from(["100", "101", "102"]), max_size=2))),
        tuple(draw(st.lists(st.sampled_from(["s1", "s2"]), max_size=2))),
        (),
        b"p",
        draw(st.sampled_from([b"x", b"y"])),
        tuple(draw(st.lists(SMALL, max_size=2))),
        b"u",
        draw(SMALL),
    )


PHONES = st.dictionaries(NAMES, phone(), max_size=10)
CHANGES = st.dictionaries(NAMES, st.one_of(st.none(), phone()), max_size=4)


STORE: dict[str, bytes] = {}  # the bases written, by name (OUT's state-phones-*.bin)


def _read(phones: Any) -> LazyPhones:
    """The phones as a state writes them, read back (as the next build reads them)."""
    base, patch = encoded_phones(phones)
    if base.blob is not None:
        STORE[base.name] = base.blob
    field = marshal.loads(marshal.dumps((base.name, patch)))
    return read_phones(field, STORE.__getitem__)


def _same(lazy: Any, plain: dict[str, PhoneState], probe: list[str]) -> None:
    for name in probe:  # looked up one by one first: nothing decoded whole
        assert (name in lazy) is (name in plain)
        assert lazy.get(name) == plain.get(name)
    assert len(lazy) == len(plain) and set(lazy) == set(plain)
    assert network_facts(lazy) == network_facts(plain)
    for group in ("", "lists/a.csv", "lists/b.csv"):
        assert group_names(lazy, group) == group_names(plain, group)
    asked: list[tuple[set[str], set[str], set[str]]] = [
        ({"a"}, set(), set()),
        (set(), {"100", "102"}, {"s2"}),
        ({"b", ""}, {"101"}, set()),
    ]
    for keys in asked:
        for left in (set(), set(probe), {"p0", "p1", "p2"}):
            assert collides(lazy, keys, left) == collides(plain, keys, left), (keys, left)
    for digest in (b"x", b"y", b"z"):
        for gone in (set(), set(probe)):
            twin = staying(lazy, digest, gone)
            if staying(plain, digest, gone) is None:
                assert twin is None
            else:
                assert twin is not None and twin not in gone and plain[twin][7] == digest
    assert dict(lazy.items()) == plain


@settings(max_examples=300, deadline=None)
@given(PHONES, st.lists(CHANGES, max_size=4), st.lists(NAMES, max_size=5))
def test_the_phones_answer_as_the_dict_does_through_patches(
    base: dict[str, PhoneState], rounds: list[dict[str, PhoneState | None]], probe: list[str]
) -> None:
    """A state written whole, then patched build after build (each written and read back):
    lookups, membership, names, the index's answers and the whole are the dict's."""
    plain = dict(base)
    lazy: Any = _read(base)
    _same(_read(base), plain, probe)
    for changes in rounds:
        lazy = _read(with_changes(lazy, changes))
        for name, value in changes.items():
            if value is None:
                plain.pop(name, None)
            else:
                plain[name] = value
        _same(_read(with_changes(_read(lazy), {})), plain, probe)
    _same(lazy, plain, probe)
