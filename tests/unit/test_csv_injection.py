"""CSV injection: cells a spreadsheet would run are written with a ``'`` and read back as is."""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from mipc.diagnostics import Diagnostics
from mipc.inventory.csv_text import neutralise, restore
from mipc.inventory.csv_write import write_phone_list
from mipc.inventory.csvlists import ReadOptions, parse_phone_list_bytes
from mipc.model import AppearanceSpec, PhoneSpec

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@given(st.text(alphabet=st.sampled_from("'=+-@\t\rab1 ,\""), max_size=8))
def test_restore_undoes_neutralise(value: str) -> None:
    assert restore(neutralise(value)) == value


@given(st.text(max_size=12))
def test_no_neutralised_cell_starts_with_a_trigger(value: str) -> None:
    assert not neutralise(value).startswith(TRIGGERS)


def test_hand_written_values_read_as_written() -> None:
    assert restore("+4930123") == "+4930123"
    assert restore("-x") == "-x"
    assert restore("'abc") == "'abc"  # no trigger after the quote: kept
    assert restore("'+4930123") == "+4930123"
    assert restore("''=1") == "'=1"


def phone(name: str, extension: str, label: str) -> PhoneSpec:
    app = AppearanceSpec(kind="private", extension=extension, label=label)
    return PhoneSpec(name, "T", None, None, (app,), MappingProxyType({}), None, "csv")


def test_export_neutralises_formulas_and_the_reader_gives_them_back() -> None:
    phones = [
        phone('=HYPERLINK("x")', "+4930123", "-x"),
        phone("@SUM(A1)", "7001", "'=quoted"),
    ]
    text = write_phone_list(phones, "template")
    for line in text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(TRIGGERS), line
    assert "'+4930123" in text and "'-x" in text and "''=quoted" in text
    diags = Diagnostics()
    read = parse_phone_list_bytes(text.encode(), "l.csv", diags, ReadOptions()).phones
    assert not diags.errors, diags.sorted()
    got = {(p.name, p.appearances[0].extension, p.appearances[0].label) for p in read}
    assert got == {
        ('=HYPERLINK("x")', "+4930123", "-x"),
        ("@SUM(A1)", "7001", "'=quoted"),
    }
