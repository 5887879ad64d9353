"""Render does no I/O: the key=value and soft-phone renderers read only what the load step
gathered (``Inventory.files``), so rendering with every file read refused gives the same bytes.

Jinja2 still loads templates (and the family data files) from disk, once per process: the
renderers run once before reading is refused, so those caches are warm.
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import pathlib
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mipc.artifacts import Artifacts
from mipc.catalog.models import load_catalog
from mipc.inventory.files import with_files
from mipc.model import Plan
from mipc.pipeline.compile import validate
from mipc.render.base import renderers
from mipc.render.keyvalue import firmware_path

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("audiocodes", "iss", "softphone")
#: What renders without I/O: no call of these anywhere in its source.
NO_IO_SOURCES = (
    *sorted((ROOT / "mipc" / "render" / "keyvalue").glob("*.py")),
    ROOT / "mipc" / "render" / "softphone.py",
)
_FORBIDDEN_CALLS = frozenset(
    {"open", "read_bytes", "read_text", "write_bytes", "write_text", "is_file", "is_dir"}
    | {"iterdir", "glob", "rglob", "stat", "lstat", "scandir", "listdir", "walk", "exists"}
)
_FILE_MODULES = frozenset({"os", "io", "shutil"})


def _store(plan: Plan, store: Path) -> None:
    """A firmware store with every image the key=value phones of ``plan`` would link."""
    catalog = load_catalog()
    for phone in plan.phones:
        image = phone.model.firmware_image
        if phone.family not in FAMILIES or not image:
            continue
        latest = catalog.latest_firmware(phone.model.id)
        for firmware in (phone.firmware, latest):
            if firmware is not None:
                rel = firmware_path(phone.family, firmware.version, image)
                path = store / rel.removeprefix("firmware/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"image " + rel.encode())


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    """The campus example (custom files for AudioCodes phones) with a firmware store."""
    root = tmp_path / "campus"
    shutil.copytree(ROOT / "examples" / "campus", root)
    result = validate(root)
    assert result.plan is not None and not result.diagnostics.errors
    _store(result.plan, tmp_path / "store")
    inventory = with_files(replace(result.plan.inventory, firmware_store="../store"))
    return replace(result.plan, inventory=inventory)


def _render(plan: Plan) -> tuple[Artifacts, list[str]]:
    artifacts: Artifacts = {}
    warnings: list[str] = []
    mine = tuple(p for p in plan.phones if p.family in FAMILIES)
    for family in FAMILIES:
        renderer = renderers()[family]()
        for phone in mine:
            if phone.family == family:
                artifacts.update(renderer.render_phone(phone, plan))
        artifacts.update(renderer.render_shared(plan, mine))
        warnings += renderer.warnings
    return artifacts, warnings


class _Refused(Exception):
    """A file function called while reading was refused."""


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise _Refused("render read the disk")


def test_rendering_reads_no_file(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _render(plan)  # also loads the templates and data files: Jinja2's caches
    artifacts, _ = expected
    assert any(name.startswith("AudioCodes/") for name in artifacts)  # a custom file
    assert any(a.link for a in artifacts.values())  # a firmware link
    assert any(name.endswith(".i3sipcfg") for name in artifacts)  # a soft phone
    with monkeypatch.context() as patch:
        for target, name in ((builtins, "open"), (io, "open"), (os, "scandir"), (os, "listdir")):
            patch.setattr(target, name, _refuse)
        for name in ("open", "read_bytes", "read_text", "is_file", "is_dir", "exists", "iterdir"):
            patch.setattr(pathlib.Path, name, _refuse)
        try:
            got: object = _render(plan)
        except _Refused as exc:  # reported once reading is allowed again (pytest reads too)
            got = exc
    assert got == expected


def test_renderer_sources_call_no_file_function() -> None:
    found = []
    for path in NO_IO_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            through_files = isinstance(func, ast.Attribute) and ast.unparse(func.value).endswith(
                "files"
            )
            if name in _FORBIDDEN_CALLS and not through_files:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(func)}")
        imported = {
            alias.name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        if _FILE_MODULES & imported:
            found.append(f"{path.relative_to(ROOT)}: imports {sorted(_FILE_MODULES & imported)}")
    assert found == []
