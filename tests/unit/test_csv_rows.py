"""A list's rows as the incremental state packs them (mipc.incremental.csv_rows)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mipc.incremental.csv_rows import DIGEST, pack, unpack

ROWS = st.lists(
    st.tuples(
        st.binary(min_size=DIGEST, max_size=DIGEST), st.text().filter(lambda t: "\0" not in t)
    )
)


@given(ROWS)
def test_packed_rows_unpack_to_the_same(rows: list[tuple[bytes, str]]) -> None:
    """Any digests and names (no NUL: a list holding one is refused) come back as packed."""
    listed = (tuple(d for d, _ in rows), tuple(n for _, n in rows))
    assert unpack(pack(listed)) == listed


@pytest.mark.parametrize(
    "packed", [(b"x" * (DIGEST + 1), "a"), (b"x" * DIGEST, "a\0b"), (b"x" * 2 * DIGEST, "a")]
)
def test_rows_that_do_not_pack_are_refused(packed: tuple[bytes, str]) -> None:
    """A digest cut short, or names that are not one a digest: a ValueError (read whole)."""
    with pytest.raises(ValueError, match="rows"):
        unpack(packed)
