"""Fuzzing the readers: the YAML loader, the CSV phone lists (read, and imported by
``mipc import-csv``), the MAC and time-zone parsers.

Each harness gives hypothesis-made input to the function the command line reads it with and
checks what :mod:`tests.fuzz.harness` says of it (an answer, never another exception). The
kept inputs of ``tests/fuzz/corpus/<harness>/`` are replayed first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import (
    check_csv,
    check_import,
    check_mac,
    check_yaml,
    check_zone,
    corpus,
    fuzz_settings,
)
from tests.fuzz.hostile import encoded, mutated, seed_files, yaml_texts

YAML_SEEDS = seed_files("examples/*/*.yaml", "tests/cases/*/*/mipc.yaml")
CSV_SEEDS = seed_files("tests/data/csv/*.csv", "examples/*/lists/*.csv")
MAC_LIKE = st.text(alphabet="0123456789abcdefABCDEFgG:.-  \t", max_size=20)
TZ_LIKE = st.text(alphabet="ESTDCMJ0123456789+-:,./<>", max_size=40)


@pytest.mark.parametrize("path", corpus("yaml"), ids=lambda p: p.name)
def test_yaml_corpus(path: Path) -> None:
    check_yaml(path.read_bytes())


@pytest.mark.parametrize("path", corpus("csv"), ids=lambda p: p.name)
def test_csv_corpus(path: Path) -> None:
    check_csv(path.read_bytes())
    check_import(path.read_bytes())


@pytest.mark.parametrize("path", corpus("parsers"), ids=lambda p: p.name)
def test_parser_corpus(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        check_mac(line)
        check_zone(line)


@fuzz_settings(60)
@given(
    st.one_of(
        st.binary(max_size=600),
        encoded(yaml_texts),
        mutated(YAML_SEEDS),
    )
)
def test_yaml_loader(data: bytes) -> None:
    check_yaml(data)


@fuzz_settings(60)
@given(st.one_of(st.binary(max_size=600), encoded(st.text(max_size=300)), mutated(CSV_SEEDS)))
def test_csv_reader(data: bytes) -> None:
    check_csv(data)


@fuzz_settings(10, share=0.2)
@given(st.one_of(encoded(st.text(max_size=200)), mutated(CSV_SEEDS)))
def test_csv_import(data: bytes) -> None:
    check_import(data)


@fuzz_settings(200)
@given(st.one_of(st.text(max_size=30), MAC_LIKE))
def test_mac_parser(text: str) -> None:
    check_mac(text)


@fuzz_settings(100)
@given(st.one_of(st.text(max_size=40), TZ_LIKE))
def test_time_zone_parsers(text: str) -> None:
    check_zone(text)
