"""Fuzzing the whole pipeline: what ``mipc validate`` passes, ``mipc build`` builds.

Each input is an inventory drawn by :func:`tests.fuzz.inventories.inventories` (valid-looking,
sometimes mutated); ``mipc validate`` runs on it through click, and when it exits 0 a build
into a fresh folder must exit 0 too. Every exit is 0, 1 or 2, with no traceback. The kept
inventories of ``tests/fuzz/corpus/pipeline/`` (one folder each) are replayed first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import event, given

from tests.fuzz.harness import check_inventory, corpus, fuzz_settings
from tests.fuzz.inventories import inventories


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("folder", corpus("pipeline"), ids=lambda p: p.name)
def test_pipeline_corpus(folder: Path) -> None:
    check_inventory(_files(folder))


@fuzz_settings(12, share=0.2)
@given(inventories())
def test_validate_then_build(files: dict[str, bytes]) -> None:
    event(f"validate exit {check_inventory(files)}")
