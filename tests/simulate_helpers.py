"""Shared by the simulate tests: build an example into tmp, play every phone as the
test-suite players do (straight from the tree), and run ``mipc simulate``."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from mipc.cli import main
from mipc.diff.decode import decode_settings
from mipc.render.polycom.params import iter_params

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("lab", "polycom-generations")


#: How the examples choose who may read the release (the last lines of their site file).
EXAMPLE_SERVING = (
    "\n# Who may read the release (docs/serving.md): only the locations' networks.\n"
    "serving: {access: networks}\n"
)


def open_site(source: str) -> str:
    """An example's site file without its ``serving:`` section: an ``open`` site, which the
    tests reach from 127.0.0.1 (outside the examples' networks) and may give a section of
    their own."""
    assert source.count(EXAMPLE_SERVING) == 1, "the example's serving section moved"
    return source.replace(EXAMPLE_SERVING, "")


def copy_example(example: str, inventory: Path) -> Path:
    """``examples/<example>`` copied to ``inventory`` as an open site; its site file."""
    shutil.copytree(ROOT / "examples" / example, inventory, dirs_exist_ok=True)
    site = inventory / ("site.yaml" if (inventory / "site.yaml").exists() else "mipc.yaml")
    site.write_text(open_site(site.read_text(encoding="utf-8")), encoding="utf-8")
    return site


def build(example: str, base: Path) -> Path:
    """``mipc build`` of ``examples/<example>`` (as an open site) into ``base/out``; OUT."""
    inventory = base / example
    copy_example(example, inventory)
    return build_into(inventory, base / "out")


def build_into(inventory: Path, out: Path) -> Path:
    """``mipc build INVENTORY -o OUT -q``, which must succeed; OUT."""
    result = CliRunner().invoke(
        main, ["build", str(inventory), "-o", str(out), "-q"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return out


def phones(out: Path) -> dict[str, Any]:
    """The manifest's phones."""
    manifest: dict[str, Any] = json.loads((out / "current" / "manifest.json").read_bytes())
    return dict(manifest["phones"])


def expected(out: Path, entry: dict[str, Any]) -> dict[str, str]:
    """What the phone ends up with, derived as the test-suite players do."""
    www = out / "current" / "www"
    if entry["family"] == "polycom":
        master = ET.fromstring((www / f"{entry['mac']}.cfg").read_bytes()).attrib
        effective: dict[str, str] = {}
        for name in (f.strip() for f in master["CONFIG_FILES"].split(",")):
            if name and not name.startswith("firmware/"):
                for key, value in iter_params((www / name).read_bytes()):
                    effective.setdefault(key, value)  # first file wins
        return effective
    name = f"{entry['computer_name']}.i3sipcfg" if entry["mac"] is None else f"{entry['mac']}.cfg"
    decoded = decode_settings(name, (www / name).read_bytes())
    assert decoded is not None
    return decoded


def simulate(*args: str) -> Result:
    """``mipc simulate ARGS``."""
    return CliRunner().invoke(main, ["simulate", *args], catch_exceptions=False)


def settings(result: Result) -> dict[str, str]:
    """The settings of a ``--format json`` run."""
    return {s["key"]: s["value"] for s in json.loads(result.stdout)["settings"]}
