"""``mipc explain PHONE [INVENTORY]`` on the bundled lab.

The golden files in tests/golden are the exact text output; ``MIPC_REGEN=1`` rewrites them
(review the diff before committing).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mipc.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN = ROOT / "tests" / "golden"
LAB = "examples/lab"
LAB_SECRET = (ROOT / LAB / "secrets" / "partner-pbx.txt").read_text(encoding="utf-8").strip()
REGEN = os.environ.get("MIPC_REGEN") == "1"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NO_COLOR", raising=False)


def explain(*args: str) -> Result:
    return CliRunner().invoke(main, ["explain", *args])


def _lab_warnings(lines: list[str]) -> None:
    """The lab's only diagnostics: its two ISS templates keep the factory admin login (mipc
    cannot write an admin password for that family)."""
    assert len(lines) == 2, lines
    assert all("factory-admin-password" in x and "(family iss)" in x for x in lines)


def _ok(result: Result) -> str:
    assert result.exception is None, result.output
    assert result.exit_code == 0, result.output
    if result.stdout.startswith("{"):  # JSON: the diagnostics are in the document
        assert result.stderr == ""
        doc = json.loads(result.stdout)
        _lab_warnings([f"{d['code']} {d['message']}" for d in doc["diagnostics"]])
    else:
        _lab_warnings(result.stderr.splitlines())
    return result.stdout


def _rows(text: str) -> list[list[str]]:
    """The settings rows of the text output: key, value, [layer], source."""
    rows = []
    for line in text.splitlines()[2:]:
        if not line:
            break
        key, rest = line.strip().split(None, 1)
        value, _, tail = rest.rpartition("  [")
        layer, _, source = tail.partition("] ")
        rows.append([key, value.strip(), layer, source])
    return rows


@pytest.mark.parametrize("phone", ["PolycomAgent", "PolycomLobby"])
def test_explain_golden(phone: str) -> None:
    out = _ok(explain(phone, LAB))
    golden = GOLDEN / f"explain-{phone}.txt"
    if REGEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_golden_shows_each_layer_with_its_source() -> None:
    rows = {r[0]: r for r in _rows(_ok(explain("PolycomAgent", LAB)))}
    assert rows["time_zone"][1:] == ['"America/Chicago"', "location Branch", "mipc.yaml:46:16"]
    assert rows["model"][2] == "template My Polycom Agent Template"
    assert rows["registration_group"][2] == "phone"
    assert rows["qos.rtp_dscp"][2] == "defaults"
    assert rows["options.media_port_start"][2:] == ["catalog", "built-in"]
    assert rows["sntp_server"][2] == "location <Default Location>"


@pytest.mark.parametrize(
    "ident", ["PolycomAgent", "00:04:f2:00:10:02", "00-04-F2-00-10-02", "0004.f200.1002"]
)
def test_lookup_by_name_or_mac_in_any_notation(ident: str) -> None:
    out = _ok(explain(ident, LAB))
    assert out.splitlines()[0] == "PolycomAgent  VVX 450  0004f2001002"
    assert out == _ok(explain("PolycomAgent", LAB))


@pytest.mark.parametrize("ident", ["AgentPC9.lab.local", "agentpc9.lab.local"])
def test_lookup_by_computer_name(ident: str) -> None:
    out = _ok(explain(ident, LAB))
    assert out.splitlines()[0].split() == ["AgentSSP-Lab", "Soft", "Phone", "AgentPC9.lab.local"]


def test_only_filters_keys() -> None:
    out = _ok(explain("PolycomAgent", LAB, "--only", "options.*"))
    rows = _rows(out)
    assert rows and all(r[0].startswith("options.") for r in rows)
    assert "options.volume_persistence" in {r[0] for r in rows}
    assert "computed:" not in out


def test_layer_filters_by_layer() -> None:
    out = _ok(explain("PolycomAgent", LAB, "--layer", "template*"))
    rows = _rows(out)
    assert {r[2] for r in rows} == {"template My Polycom Agent Template"}
    assert {r[0] for r in rows} >= {"model", "manufacturer", "options.volume_persistence"}
    assert "computed:" not in out


def test_json_output() -> None:
    doc = json.loads(_ok(explain("PolycomAgent", LAB, "--format", "json")))
    assert doc["phone"] == "PolycomAgent"
    settings = {s["key"]: s for s in doc["settings"]}
    assert settings["time_zone"] == {
        "key": "time_zone",
        "value": "America/Chicago",
        "layer": "location Branch",
        "source": "mipc.yaml:46:16",
    }
    assert settings["options.media_port_start"]["source"] == "built-in"
    computed = doc["computed"]
    assert computed["registration_group"] == "Branch Survivable"
    assert computed["firmware"] == "6.4.5.1251"
    assert [a["kind"] for a in computed["appearances"]] == ["private", "shared", "external"]


def test_json_with_filters_has_no_computed_values() -> None:
    doc = json.loads(_ok(explain("PolycomAgent", LAB, "--format", "json", "--only", "qos.*")))
    assert [s["key"] for s in doc["settings"]] == ["qos.rtp_dscp", "qos.sip_dscp"]
    assert doc["computed"] == {}


def test_secrets_are_redacted() -> None:
    text = _ok(explain("PolycomAgent", LAB))
    assert "auth_password=<redacted>" in text
    assert LAB_SECRET not in text
    doc = json.loads(_ok(explain("PolycomAgent", LAB, "--format", "json")))
    assert doc["computed"]["appearances"][2]["auth_password"] == "<redacted>"
    assert LAB_SECRET not in json.dumps(doc)


def test_show_secrets() -> None:
    text = _ok(explain("PolycomAgent", LAB, "--show-secrets"))
    assert f"auth_password={LAB_SECRET}" in text
    assert "<redacted>" not in text
    doc = json.loads(_ok(explain("PolycomAgent", LAB, "--format", "json", "--show-secrets")))
    assert doc["computed"]["appearances"][2]["auth_password"] == LAB_SECRET


def test_unknown_phone_is_one_line_and_exit_1() -> None:
    result = explain("NoSuchPhone", LAB)
    assert result.exit_code == 1
    assert result.stdout == ""
    *warnings, last = result.stderr.splitlines()
    _lab_warnings(warnings)
    assert "'NoSuchPhone'" in last and last.startswith("mipc explain: ")


def test_explain_on_an_invalid_inventory_reports_and_exits_1() -> None:
    result = explain("Phone1", "tests/cases/invalid/unknown-template")
    assert result.exit_code == 1
    assert "error[unknown-template]" in result.stderr
    assert "Traceback" not in result.output


def test_a_firmware_pin_is_shown_where_the_setting_says_latest() -> None:
    campus = str(ROOT / "examples" / "campus")
    result = CliRunner().invoke(
        main, ["explain", "Lobby SoundPoint", campus], catch_exceptions=False
    )
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith("firmware "))
    assert '"latest"' in line and "pinned to 4.0.15.1009 by firmware.pins (site.yaml:32" in line
    data = json.loads(
        CliRunner().invoke(main, ["explain", "Lobby SoundPoint", campus, "--format", "json"]).stdout
    )
    row = next(r for r in data["settings"] if r["key"] == "firmware")
    assert row["note"].startswith("pinned to 4.0.15.1009")
    # a model without a pin has no note
    other = CliRunner().invoke(main, ["explain", "PolycomAgent", str(LAB)]).stdout
    line = next(x for x in other.splitlines() if x.strip().startswith("firmware "))
    assert "pinned" not in line
