"""Render does no I/O: the key=value, soft-phone and Polycom renderers read only what the
load step gathered (``Inventory.files``), so rendering with every file read refused gives the
same bytes.

That covers loading the templates and the vendor data too: an inventory's overrides
(``vendor_templates/``) are gathered at load, and the shipped ones are the package's data,
read once per process (:func:`mipc.render.templating.shipped_sources`), like the catalog
(which validating the example loaded). Nothing is rendered before reading is refused.
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
from mipc.render.keyvalue import firmware_path
from mipc.render.polycom import names as polycom_names
from mipc.render.polycom import shared as polycom_shared
from mipc.render.stage import renderers
from mipc.render.templating import shipped_sources
from tests.builders import by_stem

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ("audiocodes", "iss", "softphone", "polycom")
#: What renders without I/O: no call of these anywhere in its source.
NO_IO_SOURCES = (
    *sorted((ROOT / "mipc" / "render" / "keyvalue").glob("*.py")),
    *sorted((ROOT / "mipc" / "render" / "polycom").glob("**/*.py")),
    ROOT / "mipc" / "render" / "softphone.py",
)
_FORBIDDEN_CALLS = frozenset(
    {"open", "read_bytes", "read_text", "write_bytes", "write_text", "is_file", "is_dir"}
    | {"iterdir", "glob", "rglob", "stat", "lstat", "scandir", "listdir", "walk", "exists"}
)
_FILE_MODULES = frozenset({"os", "io", "shutil"})


#: Overrides of a template, the Polycom mapping and a key=value family's data, so that loading
#: them happens while reading is refused (no other test has these in its caches).
OVERRIDES = {
    "polycom/phone.cfg.j2": '{% extends "polycom/phone.cfg.j2" %}\n'
    "{% block extra %}<!-- no I/O -->{% endblock %}\n",
    "polycom/mapping.yaml": "options:\n  - {option: ring_volume, params: [voice.ringerVolume]}\n",
    "iss/keys.yaml": "extends: mipc/iss/keys.yaml\ndisplay: ISS (no I/O)\n",
}


def _store_paths(plan: Plan) -> set[str]:
    """The web paths of every image (and Polycom stock file) the phones of ``plan`` link."""
    catalog = load_catalog()
    paths = {image for _, image, _ in polycom_shared.provisional_firmware()}
    for phone in plan.phones:
        image = phone.model.firmware_image
        if phone.family == "polycom" and phone.firmware is not None:
            version = phone.firmware.version
            gen = polycom_shared.generation(phone)
            paths.add(polycom_names.firmware_path(version, phone.model.part_number))
            paths.update(polycom_shared.stock_paths(version, gen))
        if phone.family not in FAMILIES or not image:
            continue
        latest = catalog.latest_firmware(phone.model.id)
        for firmware in (phone.firmware, latest):
            if firmware is not None:
                paths.add(firmware_path(phone.family, firmware.version, image))
    return paths


@pytest.fixture(params=["campus", "polycom-generations"])
def plan(request: pytest.FixtureRequest, tmp_path: Path) -> Plan:
    """An example (custom files for AudioCodes and Polycom phones; a CA certificate) with a
    firmware store."""
    root = tmp_path / request.param
    shutil.copytree(ROOT / "examples" / request.param, root)
    (root / "certs").mkdir(exist_ok=True)
    (root / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n", "utf-8")
    for name, text in OVERRIDES.items():
        (root / "vendor_templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "vendor_templates" / name).write_text(text, "utf-8")
    result = validate(root)
    assert result.plan is not None and not result.diagnostics.errors
    for rel in _store_paths(result.plan):
        path = tmp_path / "store" / rel.removeprefix("firmware/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"image " + rel.encode())
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
    shipped_sources()  # the package's data, like the catalog
    with monkeypatch.context() as patch:
        for target, name in ((builtins, "open"), (io, "open"), (os, "scandir"), (os, "listdir")):
            patch.setattr(target, name, _refuse)
        for name in ("open", "read_bytes", "read_text", "is_file", "is_dir", "exists", "iterdir"):
            patch.setattr(pathlib.Path, name, _refuse)
        for name in ("stat", "lstat"):
            patch.setattr(os, name, _refuse)
        try:
            got: object = _render(plan)
        except _Refused as exc:  # reported once reading is allowed again (pytest reads too)
            got = exc
    expected = _render(plan)
    assert got == expected
    artifacts, _ = expected
    assert any(name.startswith("custom/") for name in artifacts)  # a Polycom custom file
    assert any(a.link for a in artifacts.values())  # a firmware link
    assert all(b"<!-- no I/O -->" in a.data for n, a in artifacts.items() if n.startswith("phone/"))
    if plan.inventory.root.endswith("campus"):
        assert any(name.startswith("AudioCodes/") for name in artifacts)  # a custom file
        assert any(name.endswith(".i3sipcfg") for name in artifacts)  # a soft phone
        assert "server/cert/ca.cfg" in by_stem(artifacts)  # the CA certificate
    else:
        assert any(name.endswith("/sip.cfg") and a.link for name, a in artifacts.items())


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
