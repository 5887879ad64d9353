"""Each phone of ``examples/polycom-generations`` boots as a Polycom phone does, and every
parameter it receives is one its firmware generation reads.

Plays the golden tree: fetch ``<mac>.cfg``, read ``CONFIG_FILES`` left to right, keep the
first value of each parameter; the per-generation names come from
``tests/data/polycom_generations.yaml``, whose entries cite their public sources. Also
checks the masters' stock files, the generation folders and the warnings of that build.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from mipc.catalog.models import version_key
from mipc.render.polycom import PolycomError, PolycomRenderer
from mipc.render.polycom.params import iter_params
from tests.builders import by_stem, tree

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "tests" / "golden" / "trees" / "polycom-generations" / "www"
DATA: dict[str, Any] = yaml.safe_load(
    (ROOT / "tests" / "data" / "polycom_generations.yaml").read_text(encoding="utf-8")
)
MASTERS = sorted(p.name for p in TREE.glob("*.cfg") if re.fullmatch(r"[0-9a-f]{12}\.cfg", p.name))


def _generation(version: str) -> str:
    key = version_key(version)
    for name, span in DATA["generations"].items():
        if version_key(span["from"]) <= key and (
            "until" not in span or key < version_key(span["until"])
        ):
            return str(name)
    raise AssertionError(f"no generation for {version}")


def _reads(generation: str) -> set[str]:
    return {n for entry in DATA["params"] if generation in entry["read_by"] for n in entry["names"]}


def boot(mac_file: str) -> tuple[str, list[str], dict[str, str]]:
    """(firmware version, CONFIG_FILES, what the phone ends up with: first file wins)."""
    master = ET.fromstring((TREE / mac_file).read_bytes()).attrib
    version = master["APP_FILE_PATH"].split("/")[2]
    files = [f.strip() for f in master["CONFIG_FILES"].split(",")]
    effective: dict[str, str] = {}
    for name in files:
        if name.startswith("firmware/"):
            continue  # Polycom's own stock files, linked from the firmware store
        for key, value in iter_params((TREE / name).read_bytes()):
            effective.setdefault(key, value)
    return version, files, effective


def test_the_example_has_every_generation() -> None:
    versions = {boot(m)[0] for m in MASTERS if m != "000000000000.cfg"}
    assert {_generation(v) for v in versions} == set(DATA["generations"])


@pytest.mark.parametrize("mac_file", [m for m in MASTERS if m != "000000000000.cfg"])
def test_every_parameter_is_one_the_generation_reads(mac_file: str) -> None:
    version, files, effective = boot(mac_file)
    generation = _generation(version)
    names = {re.sub(r"\.\d+(?=\.|$)", ".N", k) for k in effective}
    assert names - _reads(generation) == set(), f"{mac_file} ({version}, {generation})"
    stock = [f for f in files if f.startswith("firmware/")]
    if generation == "UCS 4+":
        assert stock == []
    else:
        assert stock == [
            f"firmware/polycom/{version}/phone1.cfg",
            f"firmware/polycom/{version}/sip.cfg",
        ]
    assert all((TREE / f).is_file() for f in files if f not in stock)  # nothing answers 404


def test_a_dns_srv_entry_keeps_its_tls_transport() -> None:
    params = dict(iter_params(by_stem(tree(TREE))["proxy/Secure-Agents.cfg"]))
    assert params["voIpProt.server.1.transport"] == "TLS"
    assert params["voIpProt.server.1.port"] == "0"


def test_the_d60_handset_is_refused() -> None:
    from mipc.pipeline import validate

    plan = validate(ROOT / "examples" / "polycom-generations").plan
    assert plan is not None
    phone = next(p for p in plan.phones if p.name == "Gen-VVX410")
    import dataclasses

    from mipc.catalog.models import load_catalog

    d60 = dataclasses.replace(phone, model=load_catalog().models["VVXD60"])
    with pytest.raises(PolycomError, match="Gen-VVX410: the VVX D60 is a DECT handset"):
        PolycomRenderer().render_phone(d60, plan)
